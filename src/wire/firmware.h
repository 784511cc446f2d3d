// wire/firmware.h — the firmware manifest and the ota-job command (schemas/firmware-manifest.json,
// schemas/commands/ota-job.json): what a signed image claims about itself, and how the cloud asks
// a cart to install it. Signing and verification use crypto/ (the manifest is signed over its
// exact bytes, like every message on the wire); this file only writes and reads the JSON.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "wire/json.h"
#include "wire/notice.h"

namespace cw::wire {

// Semver precedence (2.10.0 > 2.9.1 > 2.9.1-rc.1); versions that do not parse compare as strings.
// The cloud orders releases by it and the cart refuses a downgrade by it.
bool VersionLess(std::string_view a, std::string_view b);
// MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD].
bool IsSemver(std::string_view v);

// What a test image may declare so that the simulated cart behaves as a broken build would.
enum class SimulatedDefect {
  kNone,
  kFailsSelfTest,  // boots, then fails its self-test: the cart never marks it good
  kCrashesOnBoot,  // resets before its self-test can run
};
std::string_view Name(SimulatedDefect d);  // "", fails_self_test, crashes_on_boot
Result<SimulatedDefect> ParseSimulatedDefect(std::string_view name);

struct FirmwareManifest {
  std::string version;  // semver
  std::string sha256;   // of the image, lowercase hex
  uint64_t size = 0;
  Time issued_at{};
  Time not_before{};
  Time expires_at{};
  std::string signing_key;                 // fingerprint of the key that signs this manifest
  std::vector<std::string> required_keys;  // fingerprints the cart must trust (signing_key among them)
  std::vector<std::string> adds_keys;      // PEM public keys trusted once this image is confirmed good
  SimulatedDefect defect = SimulatedDefect::kNone;
};

// Schema-valid JSON: the exact bytes that are signed.
std::string FirmwareManifestJson(const FirmwareManifest& m);
// The manifest's fields without "v", into an object being built (the API describes a release with
// them).
void WriteFirmwareManifestFields(const FirmwareManifest& m, JsonBuilder& b);
// InvalidArgument naming what is wrong (not JSON, schema violation, bad time).
Result<FirmwareManifest> ParseFirmwareManifest(std::string_view json);

// The fields of an ota-job beyond the common command header.
struct OtaJob {
  std::string job_id;  // UUID v4
  std::string version;
  std::string url;  // https://…/api/v1/firmware/{version}/image
  std::string sha256;
  uint64_t size = 0;
  std::string manifest;            // the manifest JSON, verbatim
  std::string manifest_signature;  // 128 lowercase hex
  Time server_time{};              // the cloud's clock when it issued the job (signed with the command)
};
// The whole command (header kind must be kOtaJob), schema-valid.
std::string OtaJobCommandJson(const CommandHeader& header, const OtaJob& job);
// The ota-job fields of a parsed, schema-valid command.
Result<OtaJob> ReadOtaJob(const ParsedCommand& command);

}  // namespace cw::wire
