#include "wire/status.h"

#include <gtest/gtest.h>

#include "core/time_format.h"

namespace cw::wire {
namespace {

TEST(StatusPayload, BirthAndWillRoundTripWithTheirConnectionStart) {
  Time at = *ParseWireTime("2026-11-22T10:15:30.123Z");
  for (Presence p : {Presence::kOnline, Presence::kOffline}) {
    std::string payload = StatusPayload(p, at);
    auto back = ParseStatusPayload(payload);
    ASSERT_TRUE(back.ok()) << back.error().ToString() << " " << payload;
    EXPECT_EQ(back->presence, p);
    EXPECT_EQ(back->connected_at, at);
  }
}

TEST(StatusPayload, BareStringsOfOlderFirmwareCarryNoConnectionStart) {
  auto on = ParseStatusPayload("online");
  ASSERT_TRUE(on.ok());
  EXPECT_EQ(on->presence, Presence::kOnline);
  EXPECT_FALSE(on->connected_at.has_value());
  auto off = ParseStatusPayload("offline");
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(off->presence, Presence::kOffline);
}

TEST(StatusPayload, AnythingElseIsRefusedWithTheReason) {
  struct Case {
    const char* payload;
    const char* says;
  } cases[] = {
      {"", "status payload"},
      {"Online", "status payload"},
      {R"({"v":1,"status":"away","connected_at":"2026-11-22T10:15:30.123Z"})", "status"},
      {R"({"v":1,"status":"online"})", "connected_at"},
      {R"({"v":1,"status":"online","connected_at":"2026-02-30T10:15:30.123Z"})", "2026-02-30"},
      {R"({"v":1,"status":"online","connected_at":"2026-11-22T10:15:30.123Z","x":1})", "x"},
  };
  for (const auto& c : cases) {
    auto r = ParseStatusPayload(c.payload);
    ASSERT_FALSE(r.ok()) << c.payload;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << c.payload;
    EXPECT_NE(r.error().ToString().find(c.says), std::string::npos) << r.error().ToString();
  }
}

}  // namespace
}  // namespace cw::wire
