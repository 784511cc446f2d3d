#include "crypto/ecdsa.h"

#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>

#include "core/hex.h"
#include "crypto/hash.h"
#include "crypto/openssl_util.h"

namespace cw::crypto {

using internal::BioPtr;
using internal::MdCtxPtr;

namespace {
std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* k) { return std::shared_ptr<EVP_PKEY>(k, EVP_PKEY_free); }
using SigPtr = std::unique_ptr<ECDSA_SIG, internal::Deleter<ECDSA_SIG_free>>;
}  // namespace

Result<PublicKey> PublicKey::FromPem(std::string_view pem) {
  BioPtr bio = internal::MemBio(pem);
  EVP_PKEY* k = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  if (!k) return internal::OpensslBadInput("not a PEM public key");
  auto key = Share(k);
  if (!internal::IsP256(k)) return InvalidArgument("public key is not ECDSA P-256");
  return PublicKey(key);
}

Result<PublicKey> PublicKey::FromDer(std::span<const uint8_t> der) {
  const unsigned char* p = der.data();
  EVP_PKEY* k = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  if (!k) return internal::OpensslBadInput("not a DER public key");
  auto key = Share(k);
  if (!internal::IsP256(k)) return InvalidArgument("public key is not ECDSA P-256");
  return PublicKey(key);
}

std::string PublicKey::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key_.get());
  return internal::BioToString(bio.get());
}

std::vector<uint8_t> PublicKey::ToDer() const {
  int n = i2d_PUBKEY(key_.get(), nullptr);
  std::vector<uint8_t> out(static_cast<size_t>(n));
  unsigned char* p = out.data();
  i2d_PUBKEY(key_.get(), &p);
  return out;
}

std::string PublicKey::Fingerprint() const { return ToHex(Sha256(ToDer())); }

bool PublicKey::Verify(std::span<const uint8_t> message, const Signature& sig) const {
  auto der = RawToDerSignature(sig);
  if (!der.ok()) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1) {
    ERR_clear_error();
    return false;
  }
  int rc = EVP_DigestVerify(ctx.get(), der->data(), der->size(), message.data(), message.size());
  if (rc != 1) ERR_clear_error();
  return rc == 1;
}

bool PublicKey::Verify(std::string_view message, const Signature& sig) const {
  return Verify(AsBytes(message), sig);
}

std::string SignatureHex(const Signature& sig) { return ToHex(sig); }

Result<Signature> SignatureFromHex(std::string_view hex) {
  auto bytes = hex.size() == 128 ? FromHex(hex) : std::nullopt;
  if (!bytes) return InvalidArgument("a signature is 128 hex characters (raw r||s)");
  Signature sig;
  std::copy(bytes->begin(), bytes->end(), sig.begin());
  return sig;
}

Result<Signature> DerToRawSignature(std::span<const uint8_t> der) {
  const unsigned char* p = der.data();
  SigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return internal::OpensslBadInput("not a DER ECDSA signature");
  Signature raw;
  const BIGNUM* r = ECDSA_SIG_get0_r(sig.get());
  const BIGNUM* s = ECDSA_SIG_get0_s(sig.get());
  if (BN_bn2binpad(r, raw.data(), 32) != 32 || BN_bn2binpad(s, raw.data() + 32, 32) != 32) {
    return InvalidArgument("ECDSA signature component longer than 32 bytes");
  }
  return raw;
}

Result<std::vector<uint8_t>> RawToDerSignature(const Signature& raw) {
  SigPtr sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw.data(), 32, nullptr);
  BIGNUM* s = BN_bin2bn(raw.data() + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return internal::OpensslError("build ECDSA signature");
  }
  int n = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (n <= 0) return internal::OpensslError("encode ECDSA signature");
  std::vector<uint8_t> der(static_cast<size_t>(n));
  unsigned char* p = der.data();
  i2d_ECDSA_SIG(sig.get(), &p);
  return der;
}

}  // namespace cw::crypto
