// crypto/hash.h — SHA-256.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace cw::crypto {

using Digest = std::array<uint8_t, 32>;

Digest Sha256(std::span<const uint8_t> data);
Digest Sha256(std::string_view data);
std::string Sha256Hex(std::string_view data);

}  // namespace cw::crypto
