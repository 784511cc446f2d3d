#include "crypto/aead.h"

#include <gtest/gtest.h>

namespace cw::crypto {
namespace {

TEST(Aead, SealedDataOpensOnlyWithTheSameKeyAndContext) {
  auto key = *RandomKey();
  auto sealed = *Seal(key, "alice@example.com", "account=a1;column=email");
  EXPECT_EQ(sealed.size(), 12 + 17 + 16u);
  EXPECT_EQ(sealed.find("alice"), std::string::npos);
  EXPECT_EQ(*Open(key, sealed, "account=a1;column=email"), "alice@example.com");
  EXPECT_NE(*Seal(key, "alice@example.com", "x"), *Seal(key, "alice@example.com", "x"));  // fresh nonces
  // Moved to another row, another key, or one bit flipped: refused.
  EXPECT_EQ(Open(key, sealed, "account=a2;column=email").error().code(), Code::kPermissionDenied);
  EXPECT_EQ(Open(*RandomKey(), sealed, "account=a1;column=email").error().code(), Code::kPermissionDenied);
  std::string flipped = sealed;
  flipped[14] ^= 1;
  EXPECT_EQ(Open(key, flipped, "account=a1;column=email").error().code(), Code::kPermissionDenied);
  EXPECT_EQ(Open(key, "short", "").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(*Open(key, *Seal(key, "", ""), ""), "");
}

TEST(Aead, HmacMatchesRfc4231TestCase2) {
  std::string key = "Jefe";
  EXPECT_EQ(HmacSha256Hex({reinterpret_cast<const uint8_t*>(key.data()), key.size()}, "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

}  // namespace
}  // namespace cw::crypto
