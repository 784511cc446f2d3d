#include "wire/notice.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "wire/schema.h"

namespace cw::wire {
namespace {

const CartId kCart = CartId::FromNumber(3);

TEST(RejectNotice, RoundTripsEveryReason) {
  for (RejectReason reason : kAllRejectReasons) {
    RejectNotice n{kCart, 17, reason, "detail with \"quotes\"", "carts/CART-000003/events/scan",
                   *ParseWireTime("2026-11-22T10:15:30.123Z")};
    std::string json = RejectNoticeJson(n);
    auto back = ParseRejectNotice(json);
    ASSERT_TRUE(back.ok()) << back.error().ToString() << " " << json;
    EXPECT_EQ(back->reason, reason);
    EXPECT_EQ(back->seq, 17u);
    EXPECT_EQ(back->detail, n.detail);
    EXPECT_EQ(back->received_at, n.received_at);
  }
}

TEST(RejectNotice, SeqIsOmittedWhenUnreadableAndLongDetailIsCut) {
  RejectNotice n{kCart, std::nullopt, RejectReason::kMalformedEnvelope, std::string(600, 'x') + "é",
                 "t", Time{}};
  auto back = ParseRejectNotice(RejectNoticeJson(n));
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_FALSE(back->seq.has_value());
  EXPECT_EQ(back->detail.size(), 512u);
}

TEST(Command, EveryKindBuildsSchemaValidJson) {
  auto t0 = *ParseWireTime("2026-11-22T10:00:00.000Z");
  for (CommandKind kind : kAllCommandKinds) {
    CommandHeader h{kind, "0f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", kCart, t0, t0 + std::chrono::minutes(5)};
    JsonBuilder b;
    WriteCommandHeader(h, b);
    switch (kind) {
      case CommandKind::kIdentifyResult:
        b.Field("session_id", "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f").Field("result", "matched")
            .Field("customer_ref", "ref_8c1f2a9b").Field("first_name", "Ada");
        break;
      case CommandKind::kSessionOverride:
        b.Field("session_id", "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f").Field("action", "pause");
        break;
      case CommandKind::kMaintenance: b.Field("enabled", true); break;
      case CommandKind::kSleep:
      case CommandKind::kWake: break;
      case CommandKind::kLocate: b.Field("duration_s", 30); break;
      case CommandKind::kOtaJob:
        b.Field("job_id", "1f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f").Field("version", "2.1.0")
            .Field("url", "https://127.0.0.1:8443/api/v1/firmware/2.1.0/image")
            .Field("sha256", std::string(64, 'a')).Field("size", 1024).Field("manifest", "{}")
            .Field("manifest_signature", std::string(128, '0')).Field("server_time", "2026-11-22T10:00:00.000Z");
        break;
    }
    std::string json = b.Finish();
    auto parsed = ParseCommand(json);
    ASSERT_TRUE(parsed.ok()) << Name(kind) << ": " << parsed.error().ToString();
    EXPECT_EQ(parsed->header.kind, kind);
    EXPECT_EQ(parsed->header.cart, kCart);
    EXPECT_EQ(parsed->header.expires_at - parsed->header.issued_at, std::chrono::minutes(5));
  }
}

TEST(Command, RejectsUnknownKindAndMissingFields) {
  EXPECT_FALSE(ParseCommand(R"({"v":1,"cmd":"self-destruct"})").ok());
  auto t0 = *ParseWireTime("2026-11-22T10:00:00.000Z");
  JsonBuilder b;
  WriteCommandHeader({CommandKind::kLocate, "0f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", kCart, t0, t0}, b);
  auto r = ParseCommand(b.Finish());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "missing required field 'duration_s'");
}

}  // namespace
}  // namespace cw::wire
