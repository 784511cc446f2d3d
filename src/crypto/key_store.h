// crypto/key_store.h — the "secure element": a private key that signs but never leaves.
//
// KeyStore is what a cart's secure element (or a cloud HSM) offers: generate a key inside, sign,
// make a CSR, hand out the public key. There is deliberately no call that returns the private key.
// SoftKeyStore keeps the key in process memory, optionally persisted in a 0600 PEM file that only
// it reads and writes — the simulator's model of the chip's protected storage.
#pragma once

#include <memory>
#include <span>
#include <string>

#include "core/status.h"
#include "crypto/ecdsa.h"

namespace cw::crypto {

struct DistinguishedName {
  std::string common_name;    // CN: the cart id for carts
  std::string serial_number;  // serialNumber: the factory serial for carts
  std::string organization;   // O
};

class KeyStore {
 public:
  virtual ~KeyStore() = default;

  // ECDSA P-256 signature over SHA-256(message) in raw r‖s form. Thread-safe.
  // Fails only if the underlying device fails (Internal / Unavailable).
  virtual Result<Signature> Sign(std::span<const uint8_t> message) = 0;
  Result<Signature> Sign(std::string_view message);

  // The public half. Valid as long as the store lives.
  virtual const PublicKey& public_key() const = 0;

  // A PEM PKCS#10 request for `subject`, self-signed as proof of possession.
  virtual Result<std::string> CreateCsrPem(const DistinguishedName& subject) = 0;
};

class SoftKeyStore final : public KeyStore {
 public:
  // A fresh key that lives only in memory.
  static Result<std::unique_ptr<SoftKeyStore>> Generate();
  // A fresh key persisted at `path` (mode 0600). AlreadyExists if the file exists: a key is never
  // silently replaced.
  static Result<std::unique_ptr<SoftKeyStore>> CreateFile(const std::string& path);
  // The key persisted at `path`. NotFound if missing; InvalidArgument if not a P-256 private key.
  static Result<std::unique_ptr<SoftKeyStore>> OpenFile(const std::string& path);

  Result<Signature> Sign(std::span<const uint8_t> message) override;
  using KeyStore::Sign;
  const PublicKey& public_key() const override { return public_key_; }
  Result<std::string> CreateCsrPem(const DistinguishedName& subject) override;

 private:
  friend class CertificateAuthority;  // signs certificates with the key, inside this module
  SoftKeyStore(std::shared_ptr<EVP_PKEY> key, PublicKey pub)
      : key_(std::move(key)), public_key_(std::move(pub)) {}
  static Result<std::unique_ptr<SoftKeyStore>> Wrap(EVP_PKEY* key);
  std::shared_ptr<EVP_PKEY> key_;
  PublicKey public_key_;
};

}  // namespace cw::crypto
