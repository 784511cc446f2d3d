#include "wire/firmware.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "wire/types.h"

namespace cw::wire {
namespace {

FirmwareManifest Example() {
  FirmwareManifest m;
  m.version = "2.1.0";
  m.sha256 = std::string(64, 'a');
  m.size = 262144;
  m.issued_at = *ParseWireTime("2026-11-22T10:00:00.000Z");
  m.not_before = m.issued_at;
  m.expires_at = m.issued_at + std::chrono::hours(24 * 365);
  m.signing_key = std::string(64, 'b');
  m.required_keys = {m.signing_key};
  return m;
}

TEST(FirmwareManifest, RoundTripsWithEveryField) {
  FirmwareManifest m = Example();
  m.adds_keys = {"-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n"};
  m.defect = SimulatedDefect::kFailsSelfTest;
  std::string json = FirmwareManifestJson(m);
  auto back = ParseFirmwareManifest(json);
  ASSERT_TRUE(back.ok()) << back.error().ToString() << "\n" << json;
  EXPECT_EQ(back->version, "2.1.0");
  EXPECT_EQ(back->size, 262144u);
  EXPECT_EQ(back->expires_at, m.expires_at);
  EXPECT_EQ(back->required_keys, m.required_keys);
  EXPECT_EQ(back->adds_keys, m.adds_keys);
  EXPECT_EQ(back->defect, SimulatedDefect::kFailsSelfTest);
  // The same fields give the same bytes: what was signed can be rebuilt and compared.
  EXPECT_EQ(FirmwareManifestJson(*back), json);
}

TEST(FirmwareManifest, RefusesWhatACartCouldNotTrust) {
  auto refuse = [](FirmwareManifest m, const std::string& why) {
    auto r = ParseFirmwareManifest(FirmwareManifestJson(m));
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_NE(r.error().message().find(why), std::string::npos) << r.error().message();
  };
  FirmwareManifest m = Example();
  m.version = "latest";
  refuse(m, "version");
  m = Example();
  m.required_keys.clear();
  refuse(m, "required_keys");
  m = Example();
  m.expires_at = m.not_before;
  refuse(m, "expires_at is not after not_before");
  m = Example();
  m.sha256 = "ABC";
  refuse(m, "sha256");
  EXPECT_FALSE(ParseFirmwareManifest(R"({"v":1})").ok());
  EXPECT_FALSE(ParseFirmwareManifest("not json").ok());
}

TEST(OtaJob, BuildsASchemaValidCommandAndReadsItBack) {
  auto t0 = *ParseWireTime("2026-11-22T10:00:00.000Z");
  CommandHeader h{CommandKind::kOtaJob, "0f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", CartId::FromNumber(1), t0,
                  t0 + std::chrono::hours(1)};
  OtaJob job{"1f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", "2.1.0", "https://127.0.0.1:8443/api/v1/firmware/2.1.0/image",
             std::string(64, 'a'), 262144, FirmwareManifestJson(Example()), std::string(128, '0'), t0};
  auto parsed = ParseCommand(OtaJobCommandJson(h, job));
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  auto back = ReadOtaJob(*parsed);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->job_id, job.job_id);
  EXPECT_EQ(back->manifest, job.manifest);
  EXPECT_EQ(back->size, 262144u);
  EXPECT_EQ(back->server_time, t0);
}

}  // namespace
}  // namespace cw::wire
