// crypto/aead.h — symmetric primitives for data at rest: AES-256-GCM, HMAC-SHA256 and random keys
// from OpenSSL's DRBG (never from cw::Random, which is for simulations).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace cw::crypto {

using SymmetricKey = std::array<uint8_t, 32>;

// A fresh 256-bit key from the system DRBG.
Result<SymmetricKey> RandomKey();
// `n` random bytes from the system DRBG.
Result<std::string> RandomBytes(size_t n);

// AES-256-GCM with a random 96-bit nonce. Returns nonce(12) ‖ ciphertext ‖ tag(16). `aad` is
// authenticated, not encrypted: bind a ciphertext to where it belongs (row id, column) so it
// cannot be moved elsewhere undetected.
Result<std::string> Seal(const SymmetricKey& key, std::string_view plaintext, std::string_view aad);
// The plaintext; PermissionDenied when the key, the aad or any byte is wrong (tampering and a
// wrong key look the same, by design); InvalidArgument when the input is too short to be sealed.
Result<std::string> Open(const SymmetricKey& key, std::string_view sealed, std::string_view aad);

// HMAC-SHA256 of `data` under `key`, lowercase hex.
std::string HmacSha256Hex(std::span<const uint8_t> key, std::string_view data);
// HMAC-SHA1 of `data` under `key`, raw 20 bytes (RFC 4226/6238 one-time passwords need SHA-1;
// nothing else should use it).
std::string HmacSha1(std::string_view key, std::string_view data);

// scrypt (RFC 7914): a memory-hard password hash. N = 2^log2_n; memory is 128·r·N bytes.
struct ScryptCost {
  int log2_n = 15;  // 32 MiB with r = 8: about 0.1 s of one core
  int r = 8;
  int p = 1;
};
Result<std::string> Scrypt(std::string_view password, std::string_view salt, const ScryptCost& cost, size_t out_len);

}  // namespace cw::crypto
