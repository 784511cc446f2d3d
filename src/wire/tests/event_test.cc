#include "wire/event.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "wire/examples.h"

namespace cw::wire {
namespace {

const CartId kCart = CartId::FromNumber(1);
const Signature kSig = [] {
  Signature s;
  s.fill(0xAB);
  return s;
}();

std::string Payload(std::string_view json) { return JoinEnvelope(json, kSig); }

RejectReason ReasonOf(std::string_view topic, std::string_view payload) {
  auto r = CheckEvent(topic, payload);
  EXPECT_FALSE(r.ok()) << topic;
  return r.ok() ? RejectReason::kInternalError : r.error().reason;
}

TEST(Event, ValidExamplesPassAllStages) {
  for (EventType t : kAllEventTypes) {
    auto r = CheckEvent(EventTopic(kCart, t), Payload(ExampleEventJson(t, kCart, 42)));
    ASSERT_TRUE(r.ok()) << Name(t) << ": " << r.error().ToStatus().ToString();
    EXPECT_EQ(r->seq, 42u);
    EXPECT_EQ(FormatTimeMillis(r->ts), "2026-11-22T10:15:30.123Z");
    EXPECT_FALSE(r->late);
  }
}

TEST(Event, StagesExposeTheSignedBytes) {
  std::string json = ExampleEventJson(EventType::kScan, kCart, 3);
  std::string payload = Payload(json);
  auto raw = SplitEvent(EventTopic(kCart, EventType::kScan), payload);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->json, json);
  EXPECT_EQ(raw->signature, kSig);
  EXPECT_EQ(raw->topic.cart, kCart);
}

TEST(Event, EachStageHasItsReason) {
  std::string topic = EventTopic(kCart, EventType::kScan);
  std::string good = ExampleEventJson(EventType::kScan, kCart, 3);
  EXPECT_EQ(ReasonOf(topic, std::string(4097, '{')), RejectReason::kOversize);
  EXPECT_EQ(ReasonOf("carts/CART-000001/events/nope", Payload(good)), RejectReason::kTopicMismatch);
  EXPECT_EQ(ReasonOf(topic, good), RejectReason::kMalformedEnvelope);  // unsigned: JSON eaten as signature
  EXPECT_EQ(ReasonOf(topic, Payload("{\"v\":1,")), RejectReason::kMalformedEnvelope);
  EXPECT_EQ(ReasonOf(EventTopic(CartId::FromNumber(2), EventType::kScan), Payload(good)),
            RejectReason::kTopicMismatch);
  EXPECT_EQ(ReasonOf(EventTopic(kCart, EventType::kHealth), Payload(good)), RejectReason::kTopicMismatch);
  std::string bad_qty = good;
  bad_qty.replace(bad_qty.find("\"qty\":1"), 7, "\"qty\":100");
  auto r = CheckEvent(topic, Payload(bad_qty));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, RejectReason::kSchemaViolation);
  EXPECT_EQ(r.error().seq, 3u);  // readable seq travels with the rejection
}

TEST(Event, StrictJsonRefusesAmbiguity) {
  std::string topic = EventTopic(kCart, EventType::kSessionStart);
  std::string good = ExampleEventJson(EventType::kSessionStart, kCart, 3);
  // Duplicate key: two parsers could disagree about what was signed.
  std::string dup = good;
  dup.insert(1, "\"seq\":99,");
  auto r = CheckEvent(topic, Payload(dup));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, RejectReason::kMalformedEnvelope);
  EXPECT_NE(r.error().detail.find("duplicate key 'seq'"), std::string::npos);
  // Invalid UTF-8 inside a string.
  std::string bad_utf8 = good;
  bad_utf8.replace(bad_utf8.find("2.0.0"), 5, "2.0.\xff");
  EXPECT_EQ(ReasonOf(topic, Payload(bad_utf8)), RejectReason::kMalformedEnvelope);
  // Trailing garbage after the object but before the signature.
  EXPECT_EQ(ReasonOf(topic, Payload(good + " {}")), RejectReason::kMalformedEnvelope);
  // Deep nesting.
  std::string deep = good;
  deep.insert(deep.size() - 1, ",\"x\":" + std::string(20, '[') + std::string(20, ']'));
  EXPECT_EQ(ReasonOf(topic, Payload(deep)), RejectReason::kMalformedEnvelope);
}

TEST(Event, ImpossibleDateIsSchemaViolation) {
  std::string json = ExampleEventJson(EventType::kBoot, kCart, 3);
  json.replace(json.find("2026-11-22"), 10, "2026-02-30");
  auto r = CheckEvent(EventTopic(kCart, EventType::kBoot), Payload(json));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().reason, RejectReason::kSchemaViolation);
  EXPECT_EQ(r.error().detail, "/ts is not a real calendar instant");
}

TEST(Event, LateFlagIsRead) {
  std::string json = ExampleEventJson(EventType::kHealth, kCart, 9);
  json.insert(json.size() - 1, ",\"late\":true");
  auto r = CheckEvent(EventTopic(kCart, EventType::kHealth), Payload(json));
  ASSERT_TRUE(r.ok()) << r.error().detail;
  EXPECT_TRUE(r->late);
}

}  // namespace
}  // namespace cw::wire
