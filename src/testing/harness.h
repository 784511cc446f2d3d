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
#include "testing/process.h"
#include "testing/temp_dir.h"

namespace cw::testing {

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

}  // namespace cw::testing
