// core/hex.h — lowercase hex encoding, used for fingerprints, digests and serials.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cw {

std::string ToHex(std::span<const uint8_t> bytes);
// The same into `out`, replacing its contents: a buffer passed again is reused, not reallocated
// (a masking thread hexes a digest per value).
void ToHexInto(std::span<const uint8_t> bytes, std::string& out);
// Upper- or lowercase accepted; nullopt on odd length or a non-hex character.
std::optional<std::vector<uint8_t>> FromHex(std::string_view hex);

inline std::span<const uint8_t> AsBytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
inline std::string_view AsChars(std::span<const uint8_t> b) {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace cw
