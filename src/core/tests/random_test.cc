#include "core/random.h"

#include <gtest/gtest.h>

#include "core/ids.h"

namespace cw {
namespace {

TEST(SeededRandom, SameSeedSameSequence) {
  SeededRandom a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    EXPECT_NE(x, c.Next());
  }
}

TEST(Random, UniformStaysInRange) {
  SeededRandom r(1);
  int counts[6] = {};
  for (int i = 0; i < 60000; ++i) {
    auto v = r.Range(1, 6);
    ASSERT_GE(v, 1);
    ASSERT_LE(v, 6);
    counts[v - 1]++;
  }
  for (int c : counts) EXPECT_NEAR(c, 10000, 600);
}

TEST(Random, UuidIsValidV4) {
  SeededRandom r(7);
  for (int i = 0; i < 200; ++i) {
    std::string u = r.UuidV4();
    EXPECT_TRUE(SessionId::Parse(u).ok()) << u;
  }
  EXPECT_NE(Random::System().UuidV4(), Random::System().UuidV4());
}

}  // namespace
}  // namespace cw
