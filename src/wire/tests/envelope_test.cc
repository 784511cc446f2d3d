#include "wire/envelope.h"

#include <gtest/gtest.h>

namespace cw::wire {
namespace {

TEST(Envelope, SplitsJsonAndSignature) {
  Signature sig;
  for (size_t i = 0; i < sig.size(); ++i) sig[i] = static_cast<uint8_t>(i);
  std::string payload = JoinEnvelope(R"({"a":1})", sig);
  ASSERT_EQ(payload.size(), 7u + 64u);
  auto env = SplitEnvelope(payload);
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->json, R"({"a":1})");
  EXPECT_EQ(env->signature, sig);
}

TEST(Envelope, RejectsShortOrShapeless) {
  Signature sig{};
  EXPECT_FALSE(SplitEnvelope("").ok());
  EXPECT_FALSE(SplitEnvelope(std::string(65, 'x')).ok());
  EXPECT_FALSE(SplitEnvelope(JoinEnvelope("[1]", sig)).ok());
  // JSON without a signature: the last 64 bytes are taken as signature, the rest is no object.
  std::string unsigned_json = R"({"v":1,"type":"scan","cart_id":"CART-000001","seq":1,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxx"})";
  auto r = SplitEnvelope(unsigned_json);
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace cw::wire
