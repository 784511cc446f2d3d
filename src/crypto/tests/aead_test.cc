#include "crypto/aead.h"
#include "crypto/hmac.h"

#include <gtest/gtest.h>

#include <span>
#include <string>
#include <vector>

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

// The keyed-once HMAC the masking kit uses, against RFC 4231's vectors: a short key, a key of
// exactly a block, and keys longer than a block (hashed first); each MAC computed twice in a row,
// so a state left over from the last call would show.
TEST(HmacSha256, MatchesRfc4231AndCarriesNothingBetweenCalls) {
  auto bytes = [](const std::string& s) { return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()); };
  struct Case {
    std::string key, data, mac;
  };
  std::vector<Case> cases = {
      {std::string(20, '\x0b'), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"Jefe", "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
      {std::string(20, '\xaa'), std::string(50, '\xdd'), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
      {std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First",
       "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
      {std::string(131, '\xaa'),
       "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be "
       "hashed before being used by the HMAC algorithm.",
       "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
  };
  for (const auto& c : cases) {
    HmacSha256 mac(bytes(c.key));
    EXPECT_EQ(mac.Hex(c.data), c.mac) << c.data;
    EXPECT_EQ(mac.Hex(c.data), c.mac) << "second call: " << c.data;
    EXPECT_EQ(mac.Hex(c.data), HmacSha256Hex(bytes(c.key), c.data));
  }
  std::string block_key(64, 'k');
  HmacSha256 mac(bytes(block_key));
  for (const std::string& data : std::vector<std::string>{"", "a", std::string(55, 'x'), std::string(56, 'x'),
                                                          std::string(64, 'x'), std::string(1000, 'y')}) {
    EXPECT_EQ(mac.Hex(data), HmacSha256Hex(bytes(block_key), data)) << data.size() << " bytes";
  }
}

}  // namespace
}  // namespace cw::crypto
