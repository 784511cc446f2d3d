#include "device/event_builder.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "testing/temp_dir.h"
#include "wire/envelope.h"
#include "wire/event.h"

namespace cw::device {
namespace {

TEST(EventBuilder, BuildsSignedSchemaValidEvents) {
  testing::TempDir dir;
  auto se = *crypto::SoftKeyStore::Generate();
  auto seq = *SeqCounter::Open(dir.path() + "/seq");
  ManualClock clock(*ParseWireTime("2026-11-22T10:15:30.123Z"));
  EventBuilder builder(CartId::FromNumber(42), "2.0.0", *se, *seq, clock);

  auto ev = builder.Build(wire::EventType::kSessionStart,
                          [](wire::JsonBuilder& b) { b.Field("session_id", "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"); });
  ASSERT_TRUE(ev.ok()) << ev.error().ToString();
  EXPECT_EQ(ev->topic, "carts/CART-000042/events/session-start");
  EXPECT_EQ(ev->seq, 1u);
  auto checked = wire::CheckEvent(ev->topic, ev->payload);
  ASSERT_TRUE(checked.ok()) << checked.error().detail;
  EXPECT_EQ(checked->ts, clock.Now());
  EXPECT_FALSE(checked->late);
  auto env = *wire::SplitEnvelope(ev->payload);
  EXPECT_TRUE(se->public_key().Verify(env.json, env.signature));

  clock.Advance(std::chrono::seconds(1));
  auto late = builder.Build(wire::EventType::kSessionStart,
                            [](wire::JsonBuilder& b) { b.Field("session_id", "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"); },
                            /*late=*/true);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->seq, 2u);
  EXPECT_TRUE(wire::CheckEvent(late->topic, late->payload)->late);
}

}  // namespace
}  // namespace cw::device
