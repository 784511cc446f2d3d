#include "crypto/x509.h"

#include <gtest/gtest.h>

#include "core/time_format.h"

namespace cw::crypto {
namespace {

const Time kNow = *ParseWireTime("2026-11-22T10:00:00.000Z");
const Time kInTenYears = kNow + std::chrono::hours(24 * 3650);

CertificateAuthority MakeCa(const std::string& cn) {
  auto ca = CertificateAuthority::CreateRoot(*SoftKeyStore::Generate(), {cn, "", "Cartwright"}, kNow, kInTenYears);
  EXPECT_TRUE(ca.ok()) << ca.error().ToString();
  return std::move(ca).value();
}

TEST(X509, RootIsSelfSignedCa) {
  auto ca = MakeCa("Cartwright Fleet Root CA");
  EXPECT_TRUE(ca.certificate().is_ca());
  EXPECT_TRUE(ca.certificate().IssuedBy(ca.certificate()));
  EXPECT_EQ(ca.certificate().subject().common_name, "Cartwright Fleet Root CA");
  EXPECT_EQ(ca.certificate().not_before(), kNow);
}

TEST(X509, IssuesCartCertificateWithIdAndSerial) {
  auto ca = MakeCa("root");
  auto cart_key = *SoftKeyStore::Generate();
  CertSpec spec{{"CART-000042", "CWS0123456789", "Cartwright"}, CertUsage::kClient, kNow, kInTenYears, {}, {}};
  auto cert = ca.Issue(cart_key->public_key(), spec);
  ASSERT_TRUE(cert.ok()) << cert.error().ToString();
  EXPECT_EQ(cert->subject().common_name, "CART-000042");
  EXPECT_EQ(cert->subject().serial_number, "CWS0123456789");
  EXPECT_EQ(cert->issuer_common_name(), "root");
  EXPECT_FALSE(cert->is_ca());
  EXPECT_TRUE(cert->IssuedBy(ca.certificate()));
  EXPECT_EQ(cert->public_key().Fingerprint(), cart_key->public_key().Fingerprint());
  EXPECT_EQ(cert->not_after(), kInTenYears);

  auto reparsed = Certificate::FromPem(cert->ToPem());
  ASSERT_TRUE(reparsed.ok());
  EXPECT_EQ(reparsed->Fingerprint(), cert->Fingerprint());
}

TEST(X509, AnotherCaIsNotTheIssuer) {
  auto ca = MakeCa("root");
  auto rogue = MakeCa("root");  // same name, different key
  auto key = *SoftKeyStore::Generate();
  auto cert = *rogue.Issue(key->public_key(), {{"CART-000001", "x", ""}, CertUsage::kClient, kNow, kInTenYears, {}, {}});
  EXPECT_FALSE(cert.IssuedBy(ca.certificate()));
  EXPECT_TRUE(cert.IssuedBy(rogue.certificate()));
}

TEST(X509, LoadChecksKeyMatchesCertificate) {
  auto ca = MakeCa("root");
  EXPECT_FALSE(CertificateAuthority::Load(ca.certificate(), *SoftKeyStore::Generate()).ok());
  auto leaf_key = *SoftKeyStore::Generate();
  auto leaf = *ca.Issue(leaf_key->public_key(), {{"svc", "", ""}, CertUsage::kClient, kNow, kInTenYears, {}, {}});
  EXPECT_FALSE(CertificateAuthority::Load(leaf, std::move(leaf_key)).ok());  // not a CA
}

TEST(X509, RefusesInvertedValidity) {
  auto ca = MakeCa("root");
  auto key = *SoftKeyStore::Generate();
  EXPECT_FALSE(ca.Issue(key->public_key(), {{"x", "", ""}, CertUsage::kClient, kNow, kNow, {}, {}}).ok());
}

TEST(X509, BadCsrIsRefused) {
  EXPECT_FALSE(CertificateRequest::FromPem("garbage").ok());
  auto store = *SoftKeyStore::Generate();
  std::string pem = *store->CreateCsrPem({"CART-000001", "SN1", ""});
  // Flip one base64 character in the body: either unparsable or a broken signature.
  size_t pos = pem.find('\n') + 40;
  pem[pos] = pem[pos] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(CertificateRequest::FromPem(pem).ok());
}

}  // namespace
}  // namespace cw::crypto
