#include "core/config.h"

#include <charconv>
#include <sstream>
#include <toml.hpp>

#include "core/files.h"
#include "core/time_format.h"

namespace cw {
namespace {

// "cartwright.toml:2: unknown key 'listn' in [broker]" — file and line of the offending value.
std::string At(const toml::value& v, const std::string& msg) {
  const auto loc = v.location();
  return loc.file_name() + ":" + std::to_string(loc.line()) + ": " + msg;
}

// Reads string keys of one table, refusing keys it does not know.
class TableReader {
 public:
  TableReader(const toml::value& table, std::string name) : table_(table), name_(std::move(name)) {}

  Status String(const std::string& key, std::string& out) {
    known_.push_back(key);
    if (!table_.contains(key)) return Status::Ok();
    const toml::value& v = table_.at(key);
    if (!v.is_string()) {
      return InvalidArgument(At(v, "[" + name_ + "] " + key + " must be a string"));
    }
    out = v.as_string().str;
    return Status::Ok();
  }

  // An integer in [min, max].
  Status Int(const std::string& key, int64_t min, int64_t max, int64_t& out) {
    known_.push_back(key);
    if (!table_.contains(key)) return Status::Ok();
    const toml::value& v = table_.at(key);
    if (!v.is_integer() || v.as_integer() < min || v.as_integer() > max) {
      return InvalidArgument(At(v, "[" + name_ + "] " + key + " must be a whole number from " + std::to_string(min) +
                                       " to " + std::to_string(max)));
    }
    out = v.as_integer();
    return Status::Ok();
  }

  Status Number(const std::string& key, double min, double max, double& out) {
    known_.push_back(key);
    if (!table_.contains(key)) return Status::Ok();
    const toml::value& v = table_.at(key);
    double x = v.is_integer() ? static_cast<double>(v.as_integer()) : v.is_floating() ? v.as_floating() : min - 1;
    if (x < min || x > max) {
      return InvalidArgument(At(v, "[" + name_ + "] " + key + " must be a number from " + std::to_string(min) + " to " +
                                       std::to_string(max)));
    }
    out = x;
    return Status::Ok();
  }

  // A duration such as "90s", "5m", "1h30m".
  Status Dur(const std::string& key, Duration& out) {
    known_.push_back(key);
    if (!table_.contains(key)) return Status::Ok();
    const toml::value& v = table_.at(key);
    auto d = v.is_string() ? ParseDuration(v.as_string().str) : Result<Duration>(InvalidArgument("not a string"));
    if (!d.ok()) return InvalidArgument(At(v, "[" + name_ + "] " + key + " must be a duration such as \"90s\", \"5m\" or \"1h30m\""));
    out = *d;
    return Status::Ok();
  }

  Status CheckNoUnknownKeys() const {
    for (const auto& [key, value] : table_.as_table()) {
      if (std::find(known_.begin(), known_.end(), key) == known_.end()) {
        return InvalidArgument(At(value, "unknown key '" + key + "' in [" + name_ + "]"));
      }
    }
    return Status::Ok();
  }

 private:
  const toml::value& table_;
  std::string name_;
  std::vector<std::string> known_;
};

std::string OneLine(std::string s) {
  // toml11 formats multi-line diagnostics; the CLI contract is one readable line.
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

}  // namespace

Result<Config> ParseConfig(const std::string& data_dir, const std::string& text,
                           const std::string& origin) {
  Config config;
  config.data_dir = data_dir;
  try {
    std::istringstream in(text);
    toml::value root = toml::parse(in, origin);
    static const std::vector<std::string> kSections = {"broker", "stores", "ingest", "api", "monitor", "ota", "log"};
    for (const auto& [key, value] : root.as_table()) {
      if (std::find(kSections.begin(), kSections.end(), key) == kSections.end() || !value.is_table()) {
        return InvalidArgument(At(value, "unknown section [" + key + "]"));
      }
    }
    auto read = [&](const char* section, auto&& fill) -> Status {
      if (!root.contains(section)) return Status::Ok();
      TableReader r(root.at(section), section);
      Status st = fill(r);
      if (st.ok()) st = r.CheckNoUnknownKeys();
      return st;
    };
    CW_RETURN_IF_ERROR(read("broker", [&](TableReader& r) { return r.String("listen", config.broker.listen); }));
    CW_RETURN_IF_ERROR(read("stores", [&](TableReader& r) {
      CW_RETURN_IF_ERROR(r.String("entity", config.stores.entity));
      CW_RETURN_IF_ERROR(r.String("telemetry", config.stores.telemetry));
      CW_RETURN_IF_ERROR(r.String("vault", config.stores.vault));
      CW_RETURN_IF_ERROR(r.String("vault_key_file", config.stores.vault_key_file));
      return r.String("blobs", config.stores.blobs);
    }));
    CW_RETURN_IF_ERROR(read("ingest", [&](TableReader& r) {
      CW_RETURN_IF_ERROR(r.Int("connections", 1, 256, config.ingest.connections));
      CW_RETURN_IF_ERROR(r.Int("max_batch", 1, 100000, config.ingest.max_batch));
      return r.Int("hot_days", 1, 3650, config.ingest.hot_days);
    }));
    CW_RETURN_IF_ERROR(read("api", [&](TableReader& r) {
      CW_RETURN_IF_ERROR(r.String("listen", config.api.listen));
      CW_RETURN_IF_ERROR(r.String("device_listen", config.api.device_listen));
      CW_RETURN_IF_ERROR(r.String("device_url", config.api.device_url));
      if (!config.api.device_url.empty() && !config.api.device_url.starts_with("https://")) {
        return InvalidArgument("[api] device_url must be an https:// origin");
      }
      CW_RETURN_IF_ERROR(r.String("metrics_token", config.api.metrics_token));
      if (!config.api.metrics_token.empty() && config.api.metrics_token.size() < 32) {
        return InvalidArgument("[api] metrics_token must be at least 32 characters (it is a password)");
      }
      return r.String("web_root", config.api.web_root);
    }));
    CW_RETURN_IF_ERROR(read("monitor", [&](TableReader& r) {
      Config::Monitor& m = config.monitor;
      CW_RETURN_IF_ERROR(r.Dur("tick", m.tick));
      CW_RETURN_IF_ERROR(r.String("webhook", m.webhook));
      if (!m.webhook.empty() && !m.webhook.starts_with("http://") && !m.webhook.starts_with("https://")) {
        return InvalidArgument("[monitor] webhook must be an http:// or https:// URL");
      }
      CW_RETURN_IF_ERROR(r.String("broker_log", m.broker_log));
      CW_RETURN_IF_ERROR(r.Dur("active_cadence", m.active_cadence));
      CW_RETURN_IF_ERROR(r.Dur("idle_cadence", m.idle_cadence));
      CW_RETURN_IF_ERROR(r.Dur("outside_cadence", m.outside_cadence));
      CW_RETURN_IF_ERROR(r.Dur("offline_after", m.offline_after));
      CW_RETURN_IF_ERROR(r.Dur("connected_drop_window", m.connected_drop_window));
      CW_RETURN_IF_ERROR(r.Dur("error_rate_window", m.error_rate_window));
      CW_RETURN_IF_ERROR(r.Dur("error_rate_for", m.error_rate_for));
      CW_RETURN_IF_ERROR(r.Dur("latency_window", m.latency_window));
      CW_RETURN_IF_ERROR(r.Dur("latency_for", m.latency_for));
      CW_RETURN_IF_ERROR(r.Dur("latency_baseline_warmup", m.latency_baseline_warmup));
      CW_RETURN_IF_ERROR(r.Int("latency_floor_ms", 0, 60000, m.latency_floor_ms));
      CW_RETURN_IF_ERROR(r.Dur("fleet_diff_every", m.fleet_diff_every));
      return r.Dur("auth_failures_window", m.auth_failures_window);
    }));
    CW_RETURN_IF_ERROR(read("ota", [&](TableReader& r) {
      CW_RETURN_IF_ERROR(r.Dur("tick", config.ota.tick));
      CW_RETURN_IF_ERROR(r.Dur("resend_after", config.ota.resend_after));
      CW_RETURN_IF_ERROR(r.Dur("error_window", config.ota.error_window));
      return r.Number("min_cart_hours", 0, 1e6, config.ota.min_cart_hours);
    }));
    CW_RETURN_IF_ERROR(read("log", [&](TableReader& r) { return r.String("level", config.log.level); }));
  } catch (const std::exception& e) {  // start-up only: toml11 reports syntax errors by exception
    return InvalidArgument(OneLine(e.what()));
  }
  if (config.stores.entity.empty()) config.stores.entity = "sqlite:" + data_dir + "/entity.db";
  if (config.stores.telemetry.empty()) config.stores.telemetry = "rocksdb:" + data_dir + "/telemetry";
  if (config.stores.blobs.empty()) config.stores.blobs = "file:" + data_dir + "/blobs";
  if (config.stores.vault.empty()) config.stores.vault = "sqlite:" + data_dir + "/vault.db";
  if (config.monitor.broker_log.empty()) config.monitor.broker_log = data_dir + "/broker/mosquitto.log";
  if (config.monitor.broker_log == "off") config.monitor.broker_log.clear();
  if (config.stores.vault_key_file.empty()) config.stores.vault_key_file = data_dir + "/keys/vault.keys";
  CW_RETURN_IF_ERROR(ParseHostPort(config.broker.listen).status().WithContext(origin + ": [broker] listen"));
  CW_RETURN_IF_ERROR(ParseHostPort(config.api.listen).status().WithContext(origin + ": [api] listen"));
  CW_RETURN_IF_ERROR(ParseHostPort(config.api.device_listen).status().WithContext(origin + ": [api] device_listen"));
  return config;
}

Result<Config> LoadConfig(const std::string& data_dir) {
  std::string path = data_dir + "/cartwright.toml";
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (text.error().code() == Code::kNotFound) return ParseConfig(data_dir, "", path);
    return text.error();
  }
  return ParseConfig(data_dir, *text, path);
}

Result<HostPort> ParseHostPort(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return InvalidArgument("'" + text + "' is not host:port");
  }
  HostPort hp;
  hp.host = text.substr(0, colon);
  unsigned port = 0;
  auto [p, ec] = std::from_chars(text.data() + colon + 1, text.data() + text.size(), port);
  if (ec != std::errc() || p != text.data() + text.size() || port > 65535) {
    return InvalidArgument("'" + text + "' has no valid port (0-65535)");
  }
  hp.port = static_cast<uint16_t>(port);
  return hp;
}

}  // namespace cw
