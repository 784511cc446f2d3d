#include "crypto/key_store.h"

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/files.h"
#include "core/hex.h"
#include "crypto/openssl_util.h"
#include "crypto/x509.h"

namespace cw::crypto {

using internal::BioPtr;
using internal::MdCtxPtr;
using internal::PkeyCtxPtr;

Result<Signature> KeyStore::Sign(std::string_view message) { return Sign(AsBytes(message)); }

Result<std::unique_ptr<SoftKeyStore>> SoftKeyStore::Wrap(EVP_PKEY* raw) {
  std::shared_ptr<EVP_PKEY> key(raw, EVP_PKEY_free);
  if (!internal::IsP256(raw)) return InvalidArgument("private key is not ECDSA P-256");
  // Derive the public half through DER so PublicKey holds no private material.
  int n = i2d_PUBKEY(raw, nullptr);
  if (n <= 0) return internal::OpensslError("encode public key");
  std::vector<uint8_t> der(static_cast<size_t>(n));
  unsigned char* p = der.data();
  i2d_PUBKEY(raw, &p);
  CW_ASSIGN_OR_RETURN(PublicKey pub, PublicKey::FromDer(der));
  return std::unique_ptr<SoftKeyStore>(new SoftKeyStore(std::move(key), std::move(pub)));
}

Result<std::unique_ptr<SoftKeyStore>> SoftKeyStore::Generate() {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  if (!key) return internal::OpensslError("generate P-256 key");
  return Wrap(key);
}

Result<std::unique_ptr<SoftKeyStore>> SoftKeyStore::CreateFile(const std::string& path) {
  if (PathExists(path)) return AlreadyExists("key file " + path + " already exists");
  CW_ASSIGN_OR_RETURN(auto store, Generate());
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), store->key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return internal::OpensslError("encode private key");
  }
  std::string pem = internal::BioToString(bio.get());
  CW_RETURN_IF_ERROR(WriteFileExclusive(path, pem, 0600));
  OPENSSL_cleanse(pem.data(), pem.size());
  return store;
}

Result<std::unique_ptr<SoftKeyStore>> SoftKeyStore::OpenFile(const std::string& path) {
  CW_ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  BioPtr bio = internal::MemBio(pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  OPENSSL_cleanse(pem.data(), pem.size());
  if (!key) return internal::OpensslBadInput(path + " is not a PEM private key");
  return Wrap(key);
}

Result<Signature> SoftKeyStore::Sign(std::span<const uint8_t> message) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1) {
    return internal::OpensslError("init ECDSA sign");
  }
  unsigned char der[80];
  size_t len = sizeof der;
  if (EVP_DigestSign(ctx.get(), der, &len, message.data(), message.size()) != 1) {
    return internal::OpensslError("ECDSA sign");
  }
  return DerToRawSignature({der, len});
}

Result<std::string> SoftKeyStore::CreateCsrPem(const DistinguishedName& subject) {
  return internal::MakeCsrPem(key_.get(), subject);
}

}  // namespace cw::crypto
