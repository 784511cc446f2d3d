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

struct Sha256Stream::Ctx {
  EVP_MD_CTX* md = EVP_MD_CTX_new();
  ~Ctx() { EVP_MD_CTX_free(md); }
};

Sha256Stream::Sha256Stream() : ctx_(std::make_unique<Ctx>()) {
  if (!ctx_->md || EVP_DigestInit_ex(ctx_->md, EVP_sha256(), nullptr) != 1) std::abort();
}

Sha256Stream::~Sha256Stream() = default;

void Sha256Stream::Update(std::string_view data) {
  if (EVP_DigestUpdate(ctx_->md, data.data(), data.size()) != 1) std::abort();
}

std::string Sha256Stream::FinishHex() {
  Digest d;
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx_->md, d.data(), &len) != 1) std::abort();
  return ToHex(d);
}

}  // namespace cw::crypto
