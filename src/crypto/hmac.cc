#include "crypto/hmac.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace cw::crypto {

struct HmacSha256::State {
  EVP_MD_CTX* inner = nullptr;  // SHA-256 after absorbing key ⊕ ipad
  EVP_MD_CTX* outer = nullptr;  // SHA-256 after absorbing key ⊕ opad
  EVP_MD_CTX* work = nullptr;
  EVP_MD* md = nullptr;
};

HmacSha256::HmacSha256(std::span<const uint8_t> key) : s_(std::make_unique<State>()) {
  s_->md =
      EVP_MD_fetch(nullptr, "SHA256", nullptr);  // fetched once: EVP_sha256() looks it up per init
  s_->inner = EVP_MD_CTX_new();
  s_->outer = EVP_MD_CTX_new();
  s_->work = EVP_MD_CTX_new();
  if (!s_->md || !s_->inner || !s_->outer || !s_->work) std::abort();
  uint8_t block[64] = {};
  if (key.size() > sizeof block) {
    unsigned int len = 0;
    EVP_Digest(key.data(), key.size(), block, &len, s_->md, nullptr);
  } else {
    std::copy(key.begin(), key.end(), block);
  }
  uint8_t pad[64];
  for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x36;
  EVP_DigestInit_ex(s_->inner, s_->md, nullptr);
  EVP_DigestUpdate(s_->inner, pad, sizeof pad);
  for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ 0x5c;
  EVP_DigestInit_ex(s_->outer, s_->md, nullptr);
  EVP_DigestUpdate(s_->outer, pad, sizeof pad);
}

HmacSha256::~HmacSha256() {
  EVP_MD_CTX_free(s_->work);
  EVP_MD_CTX_free(s_->outer);
  EVP_MD_CTX_free(s_->inner);
  EVP_MD_free(s_->md);
}

std::array<uint8_t, 32> HmacSha256::Mac(std::string_view data) {
  std::array<uint8_t, 32> inner_hash{}, out{};
  unsigned int len = 0;
  EVP_MD_CTX_copy_ex(s_->work, s_->inner);
  EVP_DigestUpdate(s_->work, data.data(), data.size());
  EVP_DigestFinal_ex(s_->work, inner_hash.data(), &len);
  EVP_MD_CTX_copy_ex(s_->work, s_->outer);
  EVP_DigestUpdate(s_->work, inner_hash.data(), inner_hash.size());
  EVP_DigestFinal_ex(s_->work, out.data(), &len);
  return out;
}

std::string HmacSha256::Hex(std::string_view data) {
  static constexpr char kDigits[] = "0123456789abcdef";
  auto mac = Mac(data);
  std::string out(64, '0');
  for (size_t i = 0; i < mac.size(); ++i) {
    out[2 * i] = kDigits[mac[i] >> 4];
    out[2 * i + 1] = kDigits[mac[i] & 15];
  }
  return out;
}

}  // namespace cw::crypto
