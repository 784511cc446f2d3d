#include "crypto/x509.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "core/hex.h"
#include "crypto/hash.h"
#include "crypto/openssl_util.h"

namespace cw::crypto {

using internal::BioPtr;
using internal::OpensslError;
using internal::ReqPtr;
using internal::X509Ptr;

namespace {

std::shared_ptr<X509> Share(X509* x) { return std::shared_ptr<X509>(x, X509_free); }

Status SetName(X509_NAME* name, const DistinguishedName& dn) {
  auto add = [&](const char* field, const std::string& value) -> Status {
    if (value.empty()) return Status::Ok();
    if (X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.data()),
                                   static_cast<int>(value.size()), -1, 0) != 1) {
      return OpensslError(std::string("set ") + field);
    }
    return Status::Ok();
  };
  CW_RETURN_IF_ERROR(add("O", dn.organization));
  CW_RETURN_IF_ERROR(add("serialNumber", dn.serial_number));
  return add("CN", dn.common_name);
}

std::string NameEntry(const X509_NAME* name, int nid) {
  int idx = X509_NAME_get_index_by_NID(name, nid, -1);
  if (idx < 0) return "";
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

DistinguishedName ReadName(const X509_NAME* name) {
  return {NameEntry(name, NID_commonName), NameEntry(name, NID_serialNumber),
          NameEntry(name, NID_organizationName)};
}

Time FromAsn1(const ASN1_TIME* t) {
  struct tm tm = {};
  ASN1_TIME_to_tm(t, &tm);
  return Time(std::chrono::seconds(timegm(&tm)));
}

Status AddExt(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str());
  if (!ext) return OpensslError("build extension " + value);
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  if (ok != 1) return OpensslError("add extension " + value);
  return Status::Ok();
}

// Fills and signs `cert` for `spec`; `issuer` is null for a self-signed root.
Status Build(X509* cert, const CertSpec& spec, EVP_PKEY* subject_key, X509* issuer, EVP_PKEY* signing_key) {
  X509_set_version(cert, 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return OpensslError("random serial");
  serial[0] &= 0x7f;  // positive
  serial[0] |= 0x01;  // and never zero-led, so it is always 16 bytes
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  bool serial_ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
  BN_free(bn);
  if (!serial_ok) return OpensslError("set serial");

  CW_RETURN_IF_ERROR(SetName(X509_get_subject_name(cert), spec.subject));
  X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(cert));
  auto secs = [](Time t) {
    return static_cast<time_t>(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
  };
  if (!ASN1_TIME_set(X509_getm_notBefore(cert), secs(spec.not_before)) ||
      !ASN1_TIME_set(X509_getm_notAfter(cert), secs(spec.not_after))) {
    return OpensslError("set validity");
  }
  if (X509_set_pubkey(cert, subject_key) != 1) return OpensslError("set public key");

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, nullptr, nullptr, 0);
  CW_RETURN_IF_ERROR(AddExt(cert, &ctx, NID_subject_key_identifier, "hash"));
  CW_RETURN_IF_ERROR(AddExt(cert, &ctx, NID_authority_key_identifier, "keyid:always"));
  switch (spec.usage) {
    case CertUsage::kCa:
      CW_RETURN_IF_ERROR(AddExt(cert, &ctx, NID_basic_constraints, "critical,CA:TRUE"));
      CW_RETURN_IF_ERROR(AddExt(cert, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign"));
      break;
    case CertUsage::kServer:
    case CertUsage::kClient: {
      CW_RETURN_IF_ERROR(AddExt(cert, &ctx, NID_basic_constraints, "critical,CA:FALSE"));
      CW_RETURN_IF_ERROR(AddExt(cert, &ctx, NID_key_usage, "critical,digitalSignature,keyAgreement"));
      CW_RETURN_IF_ERROR(AddExt(cert, &ctx, NID_ext_key_usage,
                                spec.usage == CertUsage::kServer ? "serverAuth" : "clientAuth"));
      std::string san;
      for (const auto& d : spec.dns_names) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
      for (const auto& ip : spec.ip_addresses) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
      if (!san.empty()) CW_RETURN_IF_ERROR(AddExt(cert, &ctx, NID_subject_alt_name, san));
      break;
    }
  }
  if (X509_sign(cert, signing_key, EVP_sha256()) <= 0) return OpensslError("sign certificate");
  return Status::Ok();
}

}  // namespace

// ---- Certificate ----

Result<Certificate> Certificate::FromPem(std::string_view pem) {
  BioPtr bio = internal::MemBio(pem);
  X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
  if (!x) return internal::OpensslBadInput("not a PEM certificate");
  return Certificate(Share(x));
}

std::string Certificate::ToPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert_.get());
  return internal::BioToString(bio.get());
}

DistinguishedName Certificate::subject() const { return ReadName(X509_get_subject_name(cert_.get())); }
std::string Certificate::issuer_common_name() const {
  return NameEntry(X509_get_issuer_name(cert_.get()), NID_commonName);
}
Time Certificate::not_before() const { return FromAsn1(X509_get0_notBefore(cert_.get())); }
Time Certificate::not_after() const { return FromAsn1(X509_get0_notAfter(cert_.get())); }
bool Certificate::is_ca() const { return X509_check_ca(cert_.get()) >= 1; }

PublicKey Certificate::public_key() const {
  EVP_PKEY* k = X509_get_pubkey(cert_.get());  // +1 reference
  return PublicKey(std::shared_ptr<EVP_PKEY>(k, EVP_PKEY_free));
}

std::string Certificate::Fingerprint() const {
  int n = i2d_X509(cert_.get(), nullptr);
  std::vector<uint8_t> der(static_cast<size_t>(n));
  unsigned char* p = der.data();
  i2d_X509(cert_.get(), &p);
  return ToHex(Sha256(der));
}

bool Certificate::IssuedBy(const Certificate& issuer) const {
  bool ok = X509_check_issued(issuer.cert_.get(), cert_.get()) == X509_V_OK &&
            X509_verify(cert_.get(), X509_get0_pubkey(issuer.cert_.get())) == 1;
  ERR_clear_error();
  return ok;
}

// ---- CertificateRequest ----

Result<CertificateRequest> CertificateRequest::FromPem(std::string_view pem) {
  BioPtr bio = internal::MemBio(pem);
  ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  if (!req) return internal::OpensslBadInput("not a PEM certificate signing request");
  EVP_PKEY* k = X509_REQ_get_pubkey(req.get());  // +1 reference
  if (!k) return internal::OpensslBadInput("CSR has no readable public key");
  PublicKey key(std::shared_ptr<EVP_PKEY>(k, EVP_PKEY_free));
  if (!internal::IsP256(k)) return InvalidArgument("CSR key is not ECDSA P-256");
  if (X509_REQ_verify(req.get(), k) != 1) {
    return internal::OpensslBadInput("CSR signature does not verify (no proof of key possession)");
  }
  return CertificateRequest(ReadName(X509_REQ_get_subject_name(req.get())), key);
}

Result<std::string> internal::MakeCsrPem(EVP_PKEY* key, const DistinguishedName& subject) {
  ReqPtr req(X509_REQ_new());
  if (!req) return OpensslError("new CSR");
  X509_REQ_set_version(req.get(), 0);
  CW_RETURN_IF_ERROR(SetName(X509_REQ_get_subject_name(req.get()), subject));
  if (X509_REQ_set_pubkey(req.get(), key) != 1) return OpensslError("CSR public key");
  if (X509_REQ_sign(req.get(), key, EVP_sha256()) <= 0) return OpensslError("sign CSR");
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  return BioToString(bio.get());
}

// ---- CertificateAuthority ----

Result<CertificateAuthority> CertificateAuthority::CreateRoot(std::unique_ptr<SoftKeyStore> key,
                                                              const DistinguishedName& subject,
                                                              Time not_before, Time not_after) {
  X509Ptr cert(X509_new());
  CertSpec spec{subject, CertUsage::kCa, not_before, not_after, {}, {}};
  CW_RETURN_IF_ERROR(Build(cert.get(), spec, key->key_.get(), nullptr, key->key_.get()));
  return CertificateAuthority(Certificate(Share(cert.release())), std::move(key));
}

Result<CertificateAuthority> CertificateAuthority::Load(const Certificate& cert,
                                                        std::unique_ptr<SoftKeyStore> key) {
  if (!cert.is_ca()) return InvalidArgument("certificate " + cert.subject().common_name + " is not a CA");
  if (cert.public_key().Fingerprint() != key->public_key().Fingerprint()) {
    return InvalidArgument("CA key does not match the CA certificate");
  }
  return CertificateAuthority(cert, std::move(key));
}

Result<Certificate> CertificateAuthority::Issue(const PublicKey& subject_key, const CertSpec& spec) const {
  if (spec.not_after <= spec.not_before) return InvalidArgument("certificate validity ends before it starts");
  X509Ptr cert(X509_new());
  CW_RETURN_IF_ERROR(Build(cert.get(), spec, subject_key.handle(), cert_.handle(), key_->key_.get()));
  return Certificate(Share(cert.release()));
}

}  // namespace cw::crypto
