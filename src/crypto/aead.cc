#include "crypto/aead.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include <memory>

#include "core/hex.h"
#include "crypto/openssl_util.h"

namespace cw::crypto {
namespace {

constexpr size_t kNonce = 12, kTag = 16;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, internal::Deleter<EVP_CIPHER_CTX_free>>;

}  // namespace

Result<SymmetricKey> RandomKey() {
  SymmetricKey k;
  if (RAND_bytes(k.data(), static_cast<int>(k.size())) != 1) return internal::OpensslError("random key");
  return k;
}

Result<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return internal::OpensslError("random bytes");
  }
  return out;
}

Result<std::string> Seal(const SymmetricKey& key, std::string_view plaintext, std::string_view aad) {
  CW_ASSIGN_OR_RETURN(std::string nonce, RandomBytes(kNonce));
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  std::string out = nonce;
  out.resize(kNonce + plaintext.size() + kTag);
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(),
                                 reinterpret_cast<const unsigned char*>(nonce.data())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), o + kNonce, &len, reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), o + kNonce + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, o + kNonce + plaintext.size()) != 1) {
    return internal::OpensslError("AES-256-GCM seal");
  }
  return out;
}

Result<std::string> Open(const SymmetricKey& key, std::string_view sealed, std::string_view aad) {
  if (sealed.size() < kNonce + kTag) return InvalidArgument("sealed data is too short to be AES-256-GCM output");
  size_t n = sealed.size() - kNonce - kTag;
  const auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
  std::string out(n, '\0');
  std::array<unsigned char, kTag> tag;
  std::copy(in + kNonce + n, in + sealed.size(), tag.begin());
  CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(), in) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, in + kNonce,
                        static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) != 1) {
    return internal::OpensslError("AES-256-GCM open");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &len) != 1) {
    ERR_clear_error();
    return PermissionDenied("AES-256-GCM authentication failed (wrong key, wrong context, or altered data)");
  }
  return out;
}

std::string HmacSha256Hex(std::span<const uint8_t> key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &len);
  return ToHex(std::span<const uint8_t>(mac, len));
}

std::string HmacSha1(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha1(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

Result<std::string> Scrypt(std::string_view password, std::string_view salt, const ScryptCost& cost, size_t out_len) {
  if (cost.log2_n < 1 || cost.log2_n > 24 || cost.r < 1 || cost.p < 1) {
    return InvalidArgument("scrypt cost out of range");
  }
  uint64_t n = uint64_t{1} << cost.log2_n;
  uint64_t max_mem = 256ull * static_cast<uint64_t>(cost.r) * n + (1u << 20);
  std::string out(out_len, '\0');
  if (EVP_PBE_scrypt(password.data(), password.size(), reinterpret_cast<const unsigned char*>(salt.data()),
                     salt.size(), n, static_cast<uint64_t>(cost.r), static_cast<uint64_t>(cost.p), max_mem,
                     reinterpret_cast<unsigned char*>(out.data()), out_len) != 1) {
    return internal::OpensslError("scrypt");
  }
  return out;
}

}  // namespace cw::crypto
