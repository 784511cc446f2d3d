// core/config.h — the service configuration, read once at start-up.
//
// `DIR/cartwright.toml` (optional; every key has a default). Unknown sections or keys, wrong types and
// bad values fail start-up with one line naming the file, line and key — a typo never silently falls
// back to a default.
#pragma once

#include <string>

#include "core/clock.h"
#include "core/status.h"

namespace cw {

struct Config {
  std::string data_dir;  // every relative path below is resolved against it

  struct Broker {
    std::string listen = "127.0.0.1:8883";  // host:port the managed Mosquitto listens on
  } broker;

  struct Stores {
    std::string entity;     // URI; default sqlite:DATA_DIR/entity.db
    std::string telemetry;  // URI; default rocksdb:DATA_DIR/telemetry
    std::string blobs;      // URI; default file:DATA_DIR/blobs
    std::string vault;      // URI of the PII vault's own database; default sqlite:DATA_DIR/vault.db
    std::string vault_key_file;  // the vault's master keys (0600); default DATA_DIR/keys/vault.keys
  } stores;

  struct Ingest {
    int64_t connections = 16;  // MQTT sessions in the shared subscription (= messages in flight)
    int64_t max_batch = 512;   // messages per durable commit
    int64_t hot_days = 90;     // telemetry retention before the engine expires it
  } ingest;

  struct Api {
    std::string listen = "127.0.0.1:8443";  // host:port of the HTTPS API and web pages (port 0: any)
    // host:port where carts download firmware with their client certificates (required there; the
    // API port above never asks browsers for one). Port 0: any.
    std::string device_listen = "127.0.0.1:8444";
    // The origin carts reach that endpoint at, put in their ota-job URLs (e.g.
    // https://ota.example.net:8444). "": https://HOST:PORT of the listener (localhost for 0.0.0.0).
    std::string device_url;
    std::string web_root;                   // built web pages; "" serves the API alone
    std::string metrics_token;              // bearer token for Prometheus at /metrics; "" for none
  } api;

  // The fleet monitor (docs/observability.md). Alarm thresholds are fixed; their durations are
  // here so that a test rig can run a 15-minute rule in seconds.
  struct Monitor {
    Duration tick = std::chrono::seconds(5);  // how often silence and the alarms are evaluated
    std::string webhook;     // http(s) URL alarm notifications and the error digest are POSTed to
    std::string broker_log;  // the managed broker's log; default DATA_DIR/broker/mosquitto.log, "off": none
    Duration active_cadence = std::chrono::seconds(60);
    Duration idle_cadence = std::chrono::minutes(5);
    Duration outside_cadence = std::chrono::hours(1);
    Duration offline_after = std::chrono::minutes(15);
    Duration connected_drop_window = std::chrono::minutes(5);
    Duration error_rate_window = std::chrono::minutes(1);
    Duration error_rate_for = std::chrono::minutes(10);
    Duration latency_window = std::chrono::minutes(5);  // also the slice of per-cart statistics
    Duration latency_for = std::chrono::minutes(15);
    Duration latency_baseline_warmup = std::chrono::minutes(15);
    int64_t latency_floor_ms = 50;
    Duration auth_failures_window = std::chrono::minutes(5);
    Duration fleet_diff_every = std::chrono::minutes(5);  // expected online versus connected
  } monitor;
  // OTA rollouts (docs/ota.md). Stage durations are per rollout; these are the engine's.
  struct Ota {
    Duration tick = std::chrono::seconds(1);          // how often jobs are sent and the halt rule runs
    Duration resend_after = std::chrono::hours(1);   // an unanswered job is sent again
    Duration error_window = std::chrono::minutes(30);  // the halt rule's error-rate window
    double min_cart_hours = 0.5;  // exposure of the new version before its error rate counts
  } ota;

  struct Log {
    std::string level = "info";
  } log;
};

// Loads DATA_DIR/cartwright.toml if it exists, else returns the defaults for `data_dir`.
Result<Config> LoadConfig(const std::string& data_dir);

// Parses a TOML document (the file's text); `origin` names it in errors.
Result<Config> ParseConfig(const std::string& data_dir, const std::string& text,
                           const std::string& origin);

// Splits "host:port"; InvalidArgument names the text when it is not one.
struct HostPort {
  std::string host;
  uint16_t port = 0;
};
Result<HostPort> ParseHostPort(const std::string& text);

}  // namespace cw
