// crypto/ecdsa.h — ECDSA P-256 public keys and verification in the wire's raw r‖s form.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace cw::crypto {

using Signature = std::array<uint8_t, 64>;  // r‖s, each 32 bytes big-endian

class PublicKey {
 public:
  // PEM "PUBLIC KEY" (SubjectPublicKeyInfo). InvalidArgument unless it is a P-256 key.
  static Result<PublicKey> FromPem(std::string_view pem);
  static Result<PublicKey> FromDer(std::span<const uint8_t> der);

  std::string ToPem() const;
  std::vector<uint8_t> ToDer() const;
  // Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo: how keys are named in the registry,
  // in trust stores and in boot.trusted_keys.
  std::string Fingerprint() const;

  // True iff `sig` is a valid signature by this key over SHA-256(message). Thread-safe.
  bool Verify(std::span<const uint8_t> message, const Signature& sig) const;
  bool Verify(std::string_view message, const Signature& sig) const;

  EVP_PKEY* handle() const { return key_.get(); }  // for crypto internals (X.509)

 private:
  explicit PublicKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}
  friend class SoftKeyStore;
  friend class Certificate;
  friend class CertificateRequest;
  std::shared_ptr<EVP_PKEY> key_;
};

// Raw r‖s as 128 lowercase hex characters (how detached signatures travel inside JSON, e.g. a
// firmware manifest's), and back: InvalidArgument unless exactly 128 hex characters.
std::string SignatureHex(const Signature& sig);
Result<Signature> SignatureFromHex(std::string_view hex);

// DER ECDSA-Sig-Value ⇄ raw r‖s. Exposed for tests and for code that talks to DER-only APIs.
Result<Signature> DerToRawSignature(std::span<const uint8_t> der);
Result<std::vector<uint8_t>> RawToDerSignature(const Signature& sig);

}  // namespace cw::crypto
