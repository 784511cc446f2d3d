// Passwords and one-time codes against their RFCs' test vectors.
#include "api/credentials.h"

#include <gtest/gtest.h>

namespace cw::api {
namespace {

Time At(int64_t unix_seconds) { return Time(std::chrono::seconds(unix_seconds)); }

TEST(Base32, MatchesRfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""}, {"f", "MY"}, {"fo", "MZXQ"}, {"foo", "MZXW6"}, {"foob", "MZXW6YQ"}, {"fooba", "MZXW6YTB"}, {"foobar", "MZXW6YTBOI"}};
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(Base32Encode(plain), encoded);
    EXPECT_EQ(*Base32Decode(encoded), plain);
  }
  EXPECT_EQ(*Base32Decode("mzxw 6ytb oi=="), "foobar");  // as people type it from an app
  EXPECT_EQ(Base32Decode("MZXW1").error().code(), Code::kInvalidArgument);
}

TEST(Totp, MatchesRfc6238Sha1Vectors) {
  // RFC 6238 appendix B, SHA-1, 8 digits, the ASCII secret "12345678901234567890".
  const std::string secret = Base32Encode("12345678901234567890");
  TotpParams eight{.digits = 8};
  const std::pair<int64_t, const char*> vectors[] = {{59, "94287082"},         {1111111109, "07081804"},
                                                     {1111111111, "14050471"}, {1234567890, "89005924"},
                                                     {2000000000, "69279037"}, {20000000000, "65353130"}};
  for (auto [t, code] : vectors) EXPECT_EQ(*TotpCode(secret, At(t), eight), code) << t;
  EXPECT_EQ(*TotpCode(secret, At(59)), "287082");  // six digits: the low six
}

TEST(Totp, AcceptsOneStepOfDriftAndNoMore) {
  auto secret = *NewTotpSecret();
  EXPECT_EQ(secret.size(), 32u);  // 160 bits
  Time now = At(1800000000);
  std::string code = *TotpCode(secret, now);
  EXPECT_EQ(*VerifyTotp(secret, code, now), 1800000000 / 30);
  EXPECT_TRUE(VerifyTotp(secret, code, now + std::chrono::seconds(30)).ok());
  EXPECT_TRUE(VerifyTotp(secret, code, now - std::chrono::seconds(30)).ok());
  EXPECT_EQ(VerifyTotp(secret, code, now + std::chrono::seconds(61)).error().code(), Code::kUnauthenticated);
  EXPECT_EQ(VerifyTotp(secret, "12345", now).error().code(), Code::kUnauthenticated);
  std::string wrong = code;
  wrong[0] = wrong[0] == '9' ? '0' : static_cast<char>(wrong[0] + 1);
  EXPECT_EQ(VerifyTotp(secret, wrong, now).error().code(), Code::kUnauthenticated);
  EXPECT_NE(TotpUri("Cartwright", "olga@ops", secret).find("otpauth://totp/Cartwright:olga%40ops?secret=" + secret),
            std::string::npos);
}

TEST(Password, HashesAreSaltedAndVerify) {
  auto h1 = *HashPassword("correct horse battery staple");
  auto h2 = *HashPassword("correct horse battery staple");
  EXPECT_NE(h1, h2);  // salted
  EXPECT_TRUE(h1.starts_with("$scrypt$ln=15,r=8,p=1$")) << h1;
  EXPECT_TRUE(*VerifyPassword("correct horse battery staple", h1));
  EXPECT_FALSE(*VerifyPassword("correct horse battery stapl", h1));
  EXPECT_FALSE(*VerifyPassword("", h1));
  // The cost travels with the hash: a cheaper old hash still verifies.
  auto cheap = *HashPassword("pw", {.log2_n = 10});
  EXPECT_TRUE(cheap.starts_with("$scrypt$ln=10,"));
  EXPECT_TRUE(*VerifyPassword("pw", cheap));
  EXPECT_EQ(VerifyPassword("pw", "plain-text").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(VerifyPassword("pw", "$scrypt$ln=99,r=8,p=1$AAAA$AAAA").error().code(), Code::kInvalidArgument);
  auto generated = *GeneratePassword();
  EXPECT_EQ(generated.size(), 20u);
  EXPECT_NE(generated, *GeneratePassword());
}

}  // namespace
}  // namespace cw::api
