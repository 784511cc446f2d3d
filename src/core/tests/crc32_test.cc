#include "core/crc32.h"

#include <gtest/gtest.h>

namespace cw {
namespace {

TEST(Crc32, MatchesTheStandardCheckValue) {
  // The CRC-32/ISO-HDLC check value from the CRC catalogue.
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);
  EXPECT_EQ(Crc32(""), 0u);
}

TEST(Crc32, CanBeComputedInPieces) {
  EXPECT_EQ(Crc32("56789", Crc32("1234")), Crc32("123456789"));
}

TEST(Crc32, DetectsASingleFlippedBit) {
  std::string s = "store-and-forward record";
  uint32_t before = Crc32(s);
  s[3] ^= 0x01;
  EXPECT_NE(Crc32(s), before);
}

}  // namespace
}  // namespace cw
