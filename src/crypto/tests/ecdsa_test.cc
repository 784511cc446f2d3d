#include "crypto/ecdsa.h"

#include <gtest/gtest.h>

#include "core/hex.h"
#include "crypto/hash.h"
#include "crypto/key_store.h"

namespace cw::crypto {
namespace {

Signature FromHex64(std::string_view hex) {
  auto bytes = *FromHex(hex);
  Signature s;
  std::copy(bytes.begin(), bytes.end(), s.begin());
  return s;
}

TEST(Sha256, KnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// RFC 6979 A.2.5: P-256, SHA-256, message "sample" — a signature made by another implementation
// must verify in the wire's raw r‖s form.
TEST(Ecdsa, VerifiesRfc6979Vector) {
  std::string spki_hex =
      "3059301306072a8648ce3d020106082a8648ce3d030107034200"
      "04"
      "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6"
      "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299";
  auto key = PublicKey::FromDer(*FromHex(spki_hex));
  ASSERT_TRUE(key.ok()) << key.error().ToString();
  Signature sig = FromHex64(
      "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716"
      "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8");
  EXPECT_TRUE(key->Verify("sample", sig));
  EXPECT_FALSE(key->Verify("samplf", sig));
  sig[63] ^= 1;
  EXPECT_FALSE(key->Verify("sample", sig));
}

TEST(Ecdsa, SignVerifyRoundTripAndTamper) {
  auto store = *SoftKeyStore::Generate();
  auto other = *SoftKeyStore::Generate();
  std::string msg = R"({"v":1,"type":"scan"})";
  Signature sig = *store->Sign(msg);
  EXPECT_TRUE(store->public_key().Verify(msg, sig));
  EXPECT_FALSE(other->public_key().Verify(msg, sig));
  std::string tampered = msg;
  tampered[5] = '2';
  EXPECT_FALSE(store->public_key().Verify(tampered, sig));
  Signature zero{};
  EXPECT_FALSE(store->public_key().Verify(msg, zero));
  Signature ones;
  ones.fill(0xff);  // r, s ≥ n
  EXPECT_FALSE(store->public_key().Verify(msg, ones));
}

TEST(Ecdsa, RawDerConversionRoundTrips) {
  auto store = *SoftKeyStore::Generate();
  for (int i = 0; i < 50; ++i) {  // covers r/s with leading zero bytes
    Signature sig = *store->Sign("m" + std::to_string(i));
    auto der = RawToDerSignature(sig);
    ASSERT_TRUE(der.ok());
    EXPECT_EQ(*DerToRawSignature(*der), sig);
  }
  EXPECT_FALSE(DerToRawSignature(std::vector<uint8_t>{1, 2, 3}).ok());
}

TEST(PublicKey, PemDerAndFingerprint) {
  auto store = *SoftKeyStore::Generate();
  const PublicKey& pub = store->public_key();
  auto again = PublicKey::FromPem(pub.ToPem());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ToDer(), pub.ToDer());
  EXPECT_EQ(pub.Fingerprint(), ToHex(Sha256(pub.ToDer())));
  EXPECT_EQ(pub.Fingerprint().size(), 64u);
  EXPECT_FALSE(PublicKey::FromPem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").ok());
}

}  // namespace
}  // namespace cw::crypto
