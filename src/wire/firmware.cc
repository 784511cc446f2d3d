#include "wire/firmware.h"

#include <charconv>
#include <tuple>

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

struct Semver {
  uint64_t major = 0, minor = 0, patch = 0;
  std::vector<std::string_view> pre;  // dot-separated pre-release identifiers; empty for a release
};

std::optional<uint64_t> Number(std::string_view s) {
  uint64_t v = 0;
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return std::nullopt;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == sep) {
      out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::optional<Semver> ParseSemver(std::string_view v) {
  v = v.substr(0, v.find('+'));  // build metadata has no precedence
  Semver s;
  auto dash = v.find('-');
  if (dash != std::string_view::npos) {
    s.pre = Split(v.substr(dash + 1), '.');
    v = v.substr(0, dash);
  }
  auto core = Split(v, '.');
  if (core.size() != 3) return std::nullopt;
  auto a = Number(core[0]), b = Number(core[1]), c = Number(core[2]);
  if (!a || !b || !c) return std::nullopt;
  s.major = *a, s.minor = *b, s.patch = *c;
  return s;
}

}  // namespace

bool IsSemver(std::string_view v) { return ParseSemver(v).has_value(); }

bool VersionLess(std::string_view a, std::string_view b) {
  auto x = ParseSemver(a), y = ParseSemver(b);
  if (!x || !y) return a < b;
  if (std::tie(x->major, x->minor, x->patch) != std::tie(y->major, y->minor, y->patch)) {
    return std::tie(x->major, x->minor, x->patch) < std::tie(y->major, y->minor, y->patch);
  }
  if (x->pre.empty() || y->pre.empty()) return !x->pre.empty() && y->pre.empty();  // 1.0.0-rc < 1.0.0
  for (size_t i = 0; i < std::min(x->pre.size(), y->pre.size()); ++i) {
    auto m = Number(x->pre[i]), n = Number(y->pre[i]);
    if (m && n) {
      if (*m != *n) return *m < *n;
    } else if (m || n) {
      return m.has_value();  // numeric identifiers sort before alphanumeric ones
    } else if (x->pre[i] != y->pre[i]) {
      return x->pre[i] < y->pre[i];
    }
  }
  return x->pre.size() < y->pre.size();
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
