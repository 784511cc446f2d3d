// testing/harness.h — hermetic test fixtures: temp dirs, free ports, a provisioned fleet behind a
// real managed Mosquitto. Linked only by tests.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

#include "broker/managed_broker.h"
#include "core/clock.h"
#include "core/random.h"
#include "mqtt/client.h"
#include "pki/pki.h"
#include "store/entity_store.h"
#include "testing/temp_dir.h"

namespace cw::testing {

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
uint16_t FreePort();

// PKI + one store + N provisioned carts + a running managed broker, all in a TempDir.
class BrokerFleet {
 public:
  explicit BrokerFleet(int carts, const std::string& store = "STORE-001");
  ~BrokerFleet();

  const std::string& data_dir() const { return dir_.path(); }
  uint16_t port() const { return port_; }
  broker::ManagedBroker& broker() { return *broker_; }
  const std::vector<pki::ProvisionedCart>& carts() const { return carts_; }
  pki::Layout layout() const { return pki::Layout(dir_.path()); }

  // Client options that authenticate as the given cart, or as the ingest service.
  mqtt::ClientOptions CartOptions(const CartId& cart) const;
  mqtt::ClientOptions IngestOptions() const;
  // Connects (asserting success) with those options.
  std::unique_ptr<mqtt::Client> ConnectCart(const CartId& cart) const;
  std::unique_ptr<mqtt::Client> ConnectIngest() const;

 private:
  TempDir dir_;
  uint16_t port_;
  std::unique_ptr<store::EntityStore> entities_;
  std::vector<pki::ProvisionedCart> carts_;
  std::unique_ptr<broker::ManagedBroker> broker_;
};

// Runs a command, capturing stdout and stderr separately; returns the exit code (-1 on signal).
struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
ProcessResult RunProcess(const std::vector<std::string>& argv);

// A child process started in the background (stdout and stderr to `log_path`, appended), for
// tests that kill and restart servers. Stop() sends `signal` and reaps it; the destructor kills
// whatever is still running.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::string& log_path);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  // Sends `signal` and waits; returns the exit code, or -signal if it died of a signal.
  int Stop(int signal);
  bool running() const;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// Path to a built binary (bin/NAME under CARTWRIGHT_BIN_DIR, set by CTest).
std::string BinaryPath(const std::string& name);

}  // namespace cw::testing
