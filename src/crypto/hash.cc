#include "crypto/hash.h"

#include <openssl/evp.h>

#include <cstdlib>

#include "core/hex.h"

namespace cw::crypto {

Digest Sha256(std::span<const uint8_t> data) {
  Digest d;
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr) != 1) std::abort();
  return d;
}

Digest Sha256(std::string_view data) { return Sha256(AsBytes(data)); }

std::string Sha256Hex(std::string_view data) { return ToHex(Sha256(data)); }

}  // namespace cw::crypto
