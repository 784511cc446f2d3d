#include "wire/firmware.h"

#include "core/time_format.h"
#include "wire/json.h"
#include "wire/schema.h"
#include "wire/types.h"

namespace cw::wire {

std::string_view Name(SimulatedDefect d) {
  switch (d) {
    case SimulatedDefect::kNone: return "";
    case SimulatedDefect::kFailsSelfTest: return "fails_self_test";
    case SimulatedDefect::kCrashesOnBoot: return "crashes_on_boot";
  }
  return "";
}

Result<SimulatedDefect> ParseSimulatedDefect(std::string_view name) {
  for (auto d : {SimulatedDefect::kNone, SimulatedDefect::kFailsSelfTest, SimulatedDefect::kCrashesOnBoot}) {
    if (Name(d) == name) return d;
  }
  return InvalidArgument("unknown simulated defect '" + std::string(name) + "' (fails_self_test, crashes_on_boot)");
}

namespace {

void StringArray(JsonBuilder& b, std::string_view key, const std::vector<std::string>& items) {
  b.Key(key);
  b.writer().StartArray();
  for (const auto& s : items) b.writer().String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  b.writer().EndArray();
}

std::vector<std::string> ReadStrings(const rapidjson::Value& doc, const char* key) {
  std::vector<std::string> out;
  auto it = doc.FindMember(key);
  if (it == doc.MemberEnd()) return out;
  for (const auto& v : it->value.GetArray()) out.emplace_back(v.GetString(), v.GetStringLength());
  return out;
}

Result<Time> TimeField(const rapidjson::Value& doc, std::string_view key) {
  auto t = ParseWireTime(GetString(doc, key).value_or(""));
  if (!t.ok()) return InvalidArgument(std::string(key) + ": " + t.error().message());
  return *t;
}

}  // namespace

std::string FirmwareManifestJson(const FirmwareManifest& m) {
  JsonBuilder b;
  b.Field("v", kWireVersion);
  WriteFirmwareManifestFields(m, b);
  return b.Finish();
}

void WriteFirmwareManifestFields(const FirmwareManifest& m, JsonBuilder& b) {
  b.Field("version", m.version)
      .Field("sha256", m.sha256)
      .Field("size", m.size)
      .Field("issued_at", FormatTimeMillis(m.issued_at))
      .Field("not_before", FormatTimeMillis(m.not_before))
      .Field("expires_at", FormatTimeMillis(m.expires_at))
      .Field("signing_key", m.signing_key);
  StringArray(b, "required_keys", m.required_keys);
  if (!m.adds_keys.empty()) StringArray(b, "adds_keys", m.adds_keys);
  if (m.defect != SimulatedDefect::kNone) b.Field("simulated_defect", Name(m.defect));
}

Result<FirmwareManifest> ParseFirmwareManifest(std::string_view json) {
  rapidjson::Document doc;
  CW_RETURN_IF_ERROR(ParseStrictObject(json, doc).WithContext("firmware manifest"));
  CW_RETURN_IF_ERROR(SchemaSet::Get().ValidateFirmwareManifest(doc).WithContext("firmware manifest"));
  FirmwareManifest m;
  m.version = std::string(*GetString(doc, "version"));
  m.sha256 = std::string(*GetString(doc, "sha256"));
  m.size = *GetUint(doc, "size");
  CW_ASSIGN_OR_RETURN(m.issued_at, TimeField(doc, "issued_at"));
  CW_ASSIGN_OR_RETURN(m.not_before, TimeField(doc, "not_before"));
  CW_ASSIGN_OR_RETURN(m.expires_at, TimeField(doc, "expires_at"));
  if (m.expires_at <= m.not_before) return InvalidArgument("firmware manifest: expires_at is not after not_before");
  m.signing_key = std::string(*GetString(doc, "signing_key"));
  m.required_keys = ReadStrings(doc, "required_keys");
  m.adds_keys = ReadStrings(doc, "adds_keys");
  CW_ASSIGN_OR_RETURN(m.defect, ParseSimulatedDefect(GetString(doc, "simulated_defect").value_or("")));
  return m;
}

std::string OtaJobCommandJson(const CommandHeader& header, const OtaJob& job) {
  JsonBuilder b;
  WriteCommandHeader(header, b);
  b.Field("job_id", job.job_id)
      .Field("version", job.version)
      .Field("url", job.url)
      .Field("sha256", job.sha256)
      .Field("size", job.size)
      .Field("manifest", job.manifest)
      .Field("manifest_signature", job.manifest_signature)
      .Field("server_time", FormatTimeMillis(job.server_time));
  return b.Finish();
}

Result<OtaJob> ReadOtaJob(const ParsedCommand& command) {
  if (command.header.kind != CommandKind::kOtaJob) return InvalidArgument("not an ota-job command");
  const auto& d = command.doc;
  OtaJob job;
  job.job_id = std::string(GetString(d, "job_id").value_or(""));
  job.version = std::string(GetString(d, "version").value_or(""));
  job.url = std::string(GetString(d, "url").value_or(""));
  job.sha256 = std::string(GetString(d, "sha256").value_or(""));
  job.size = GetUint(d, "size").value_or(0);
  job.manifest = std::string(GetString(d, "manifest").value_or(""));
  job.manifest_signature = std::string(GetString(d, "manifest_signature").value_or(""));
  CW_ASSIGN_OR_RETURN(job.server_time, TimeField(d, "server_time"));
  return job;
}

}  // namespace cw::wire
