#include "testing/harness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "store/registry.h"

namespace cw::testing {

BrokerFleet::BrokerFleet(int carts, const std::string& store) {
  pki::Layout layout(dir_.path());
  auto st = pki::InitPki(layout, {}, Clock::System());
  EXPECT_TRUE(st.ok()) << st.ToString();
  entities_ = std::move(store::Registry::WithBuiltinBackends().OpenEntity("sqlite:" + dir_.path() + "/entity.db")).value();
  EXPECT_TRUE(entities_->AddStore({*StoreId::Parse(store), "Test store", "testco", store::Region::kEu,
                                   "Europe/Berlin", Clock::System().Now()}).ok());
  if (carts > 0) {
    pki::Provisioner prov(layout, *pki::LoadCa(layout), *entities_, Clock::System(), Random::System());
    auto made = prov.NewCarts(*StoreId::Parse(store), carts, dir_.path() + "/carts");
    EXPECT_TRUE(made.ok()) << made.error().ToString();
    if (made.ok()) carts_ = *made;
  }
  // A port can be taken between FreePort() and the broker's bind; try a few.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = FreePort();
    broker::BrokerOptions o;
    o.data_dir = dir_.path();
    o.listen = {"127.0.0.1", port_};
    broker_ = std::make_unique<broker::ManagedBroker>(o);
    Status s = broker_->Start();
    if (s.ok()) return;
    ADD_FAILURE() << "broker start attempt " << attempt << ": " << s.ToString();
  }
}

BrokerFleet::~BrokerFleet() {
  if (broker_) broker_->Stop();
}

mqtt::ClientOptions BrokerFleet::CartOptions(const CartId& cart) const {
  std::string d = dir_.path() + "/carts/" + cart.str();
  mqtt::ClientOptions o;
  o.port = port_;
  o.client_id = cart.str();
  o.ca_file = d + "/ca.crt";
  o.cert_file = d + "/device.crt";
  o.key_file = d + "/device.key";
  return o;
}

mqtt::ClientOptions BrokerFleet::IngestOptions() const {
  pki::Layout l(dir_.path());
  mqtt::ClientOptions o;
  o.port = port_;
  o.client_id = "ingest-test-" + std::to_string(::getpid());
  o.ca_file = l.ca_crt;
  o.cert_file = l.ingest_crt;
  o.key_file = l.ingest_key;
  return o;
}

std::unique_ptr<mqtt::Client> BrokerFleet::ConnectCart(const CartId& cart) const {
  auto c = std::move(mqtt::Client::Create(CartOptions(cart))).value();
  Status s = c->Connect();
  EXPECT_TRUE(s.ok()) << cart.str() << ": " << s.ToString();
  return c;
}

std::unique_ptr<mqtt::Client> BrokerFleet::ConnectIngest() const {
  auto c = std::move(mqtt::Client::Create(IngestOptions())).value();
  Status s = c->Connect();
  EXPECT_TRUE(s.ok()) << "ingest: " << s.ToString();
  return c;
}

}  // namespace cw::testing
