// core/config.h — the service configuration, read once at start-up.
//
// `DIR/cartwright.toml` (optional; every key has a default). Unknown sections or keys, wrong types and
// bad values fail start-up with one line naming the file, line and key — a typo never silently falls
// back to a default.
#pragma once

#include <string>

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
    std::string web_root;                   // built web pages; "" serves the API alone
    std::string metrics_token;              // bearer token for Prometheus at /metrics; "" for none
  } api;

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
