// crypto/x509.h — the fleet PKI: certificates, CSRs and a certificate authority.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/ecdsa.h"
#include "crypto/key_store.h"

typedef struct x509_st X509;

namespace cw::crypto {

enum class CertUsage {
  kCa,      // may issue certificates
  kServer,  // TLS server (broker, API): serverAuth, SANs
  kClient,  // TLS client (carts, cloud services): clientAuth
};

struct CertSpec {
  DistinguishedName subject;
  CertUsage usage = CertUsage::kClient;
  Time not_before;
  Time not_after;
  std::vector<std::string> dns_names;     // subjectAltName DNS entries (servers)
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries (servers)
};

class Certificate {
 public:
  // InvalidArgument if `pem` holds no certificate.
  static Result<Certificate> FromPem(std::string_view pem);
  std::string ToPem() const;

  DistinguishedName subject() const;
  std::string issuer_common_name() const;
  Time not_before() const;
  Time not_after() const;
  bool is_ca() const;
  PublicKey public_key() const;
  // Lowercase hex SHA-256 of the DER certificate (the registry's certificate fingerprint).
  std::string Fingerprint() const;
  // True iff this certificate's signature verifies under `issuer`'s key and names it as issuer.
  bool IssuedBy(const Certificate& issuer) const;

  X509* handle() const { return cert_.get(); }

 private:
  explicit Certificate(std::shared_ptr<X509> c) : cert_(std::move(c)) {}
  friend class CertificateAuthority;
  std::shared_ptr<X509> cert_;
};

class CertificateRequest {
 public:
  // Parses a PEM CSR and checks its self-signature (proof of possession). InvalidArgument if the
  // PEM is not a CSR, the signature does not verify, or the key is not P-256.
  static Result<CertificateRequest> FromPem(std::string_view pem);
  const DistinguishedName& subject() const { return subject_; }
  const PublicKey& public_key() const { return key_; }

 private:
  CertificateRequest(DistinguishedName s, PublicKey k) : subject_(std::move(s)), key_(std::move(k)) {}
  DistinguishedName subject_;
  PublicKey key_;
};

class CertificateAuthority {
 public:
  // A new self-signed root whose key stays in `key`.
  static Result<CertificateAuthority> CreateRoot(std::unique_ptr<SoftKeyStore> key,
                                                 const DistinguishedName& subject, Time not_before,
                                                 Time not_after);
  // An existing CA; InvalidArgument if `key` is not the certificate's key or it is no CA.
  static Result<CertificateAuthority> Load(const Certificate& cert, std::unique_ptr<SoftKeyStore> key);

  // Issues a certificate for `subject_key` as described by `spec`, with a random 128-bit serial.
  Result<Certificate> Issue(const PublicKey& subject_key, const CertSpec& spec) const;

  const Certificate& certificate() const { return cert_; }

 private:
  CertificateAuthority(Certificate cert, std::shared_ptr<SoftKeyStore> key)
      : cert_(std::move(cert)), key_(std::move(key)) {}
  Certificate cert_;
  std::shared_ptr<SoftKeyStore> key_;
};

namespace internal {
Result<std::string> MakeCsrPem(EVP_PKEY* key, const DistinguishedName& subject);
}  // namespace internal

}  // namespace cw::crypto
