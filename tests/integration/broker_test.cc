// The managed broker against real clients: mutual TLS only, and the per-cart ACL of DESIGN.md §2.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "core/files.h"
#include "crypto/key_store.h"
#include "crypto/x509.h"
#include "testing/harness.h"
#include "testing/process.h"
#include "wire/topic.h"

namespace cw {
namespace {

using testing::BrokerFleet;

// Collects messages delivered to a client.
class Inbox {
 public:
  void Attach(mqtt::Client& c) {
    c.SetMessageHandler([this](const mqtt::Message& m) {
      std::lock_guard lock(mu_);
      messages_.push_back(m);
      cv_.notify_all();
    });
  }
  // Waits until a message on `topic` arrives; false on timeout.
  bool WaitFor(const std::string& topic, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return CountLocked(topic) > 0; });
  }
  int Count(const std::string& topic) {
    std::lock_guard lock(mu_);
    return CountLocked(topic);
  }

 private:
  int CountLocked(const std::string& topic) {
    int n = 0;
    for (const auto& m : messages_) n += m.topic == topic;
    return n;
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<mqtt::Message> messages_;
};

class ManagedBrokerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { fleet_ = new BrokerFleet(2); }
  static void TearDownTestSuite() { delete fleet_; }
  static BrokerFleet* fleet_;
  CartId a() { return fleet_->carts()[0].id; }
  CartId b() { return fleet_->carts()[1].id; }
};
BrokerFleet* ManagedBrokerTest::fleet_ = nullptr;

TEST_F(ManagedBrokerTest, ProvisionedCartPublishesAndIngestReceivesViaSharedSubscription) {
  auto ingest = fleet_->ConnectIngest();
  Inbox inbox;
  inbox.Attach(*ingest);
  ASSERT_TRUE(ingest->Subscribe("$share/ingest/carts/+/events/+", 1).ok());
  auto cart = fleet_->ConnectCart(a());
  std::string topic = wire::EventTopic(a(), wire::EventType::kHealth);
  ASSERT_TRUE(cart->Publish(topic, "payload", 1).ok());
  ASSERT_TRUE(cart->WaitForPublishes().ok());
  EXPECT_TRUE(inbox.WaitFor(topic));
}

TEST_F(ManagedBrokerTest, ClientWithoutCertificateIsRefused) {
  mqtt::ClientOptions o = fleet_->CartOptions(a());
  o.cert_file.clear();
  o.key_file.clear();
  o.client_id = "anonymous";
  auto c = std::move(mqtt::Client::Create(o)).value();
  Status s = c->Connect(std::chrono::seconds(5));
  EXPECT_FALSE(s.ok());
}

TEST_F(ManagedBrokerTest, PlainTcpWithoutTlsIsRefused) {
  mqtt::ClientOptions o;
  o.port = fleet_->port();
  o.client_id = "plain";
  auto c = std::move(mqtt::Client::Create(o)).value();
  EXPECT_FALSE(c->Connect(std::chrono::seconds(5)).ok());
}

// Issues a certificate for `cn` from `ca` with the given validity into DIR/name.{crt,key}.
void IssueInto(const crypto::CertificateAuthority& ca, const std::string& cn, Time nb, Time na,
               const std::string& dir, const std::string& name) {
  auto key = *crypto::SoftKeyStore::CreateFile(dir + "/" + name + ".key");
  auto cert = ca.Issue(key->public_key(), {{cn, "SN-" + name, ""}, crypto::CertUsage::kClient, nb, na, {}, {}});
  ASSERT_TRUE(cert.ok());
  ASSERT_TRUE(WriteFileAtomic(dir + "/" + name + ".crt", cert->ToPem()).ok());
}

// Tries to connect as cart A, but presenting DIR/name.{crt,key}.
Status ConnectWithCertificate(const BrokerFleet& fleet, const CartId& cart, const std::string& dir,
                              const std::string& name) {
  mqtt::ClientOptions o = fleet.CartOptions(cart);
  o.cert_file = dir + "/" + name + ".crt";
  o.key_file = dir + "/" + name + ".key";
  o.client_id = name;
  auto c = std::move(mqtt::Client::Create(o)).value();
  return c->Connect(std::chrono::seconds(5));
}

TEST_F(ManagedBrokerTest, ExpiredCertificateIsRefused) {
  testing::TempDir dir;
  auto ca = *pki::LoadCa(fleet_->layout());
  Time now = Clock::System().Now();
  IssueInto(ca, a().str(), now - std::chrono::hours(48), now - std::chrono::hours(24), dir.path(), "expired");
  EXPECT_FALSE(ConnectWithCertificate(*fleet_, a(), dir.path(), "expired").ok());
  // The same CA, in date: accepted — the refusal above is about the validity period.
  IssueInto(ca, a().str(), now - std::chrono::hours(1), now + std::chrono::hours(24), dir.path(), "current");
  EXPECT_TRUE(ConnectWithCertificate(*fleet_, a(), dir.path(), "current").ok());
}

TEST_F(ManagedBrokerTest, CertificateFromAnotherCaIsRefused) {
  testing::TempDir dir;
  Time now = Clock::System().Now();
  auto rogue = *crypto::CertificateAuthority::CreateRoot(*crypto::SoftKeyStore::Generate(),
                                                         {"Cartwright Fleet Root CA", "", "Cartwright"},
                                                         now - std::chrono::hours(1), now + std::chrono::hours(24));
  IssueInto(rogue, a().str(), now - std::chrono::hours(1), now + std::chrono::hours(24), dir.path(), "rogue");
  EXPECT_FALSE(ConnectWithCertificate(*fleet_, a(), dir.path(), "rogue").ok());
}

TEST_F(ManagedBrokerTest, CartCannotPublishUnderAnotherCartsTopics) {
  auto ingest = fleet_->ConnectIngest();
  Inbox inbox;
  inbox.Attach(*ingest);
  ASSERT_TRUE(ingest->Subscribe("carts/+/events/+", 1).ok());
  ASSERT_TRUE(ingest->Subscribe("carts/+/status", 1).ok());
  auto cart_a = fleet_->ConnectCart(a());
  std::string forged_event = wire::EventTopic(b(), wire::EventType::kScan);
  std::string forged_status = wire::StatusTopic(b());
  std::string own = wire::EventTopic(a(), wire::EventType::kFault);
  ASSERT_TRUE(cart_a->Publish(forged_event, "forged", 1).ok());
  ASSERT_TRUE(cart_a->Publish(forged_status, "offline", 1).ok());
  ASSERT_TRUE(cart_a->Publish("carts/" + a().str() + "/commands", "self-command", 1).ok());
  // The broker keeps order per connection: once the own event arrives, the forged ones would have.
  ASSERT_TRUE(cart_a->Publish(own, "genuine", 1).ok());
  ASSERT_TRUE(inbox.WaitFor(own));
  EXPECT_EQ(inbox.Count(forged_event), 0);
  EXPECT_EQ(inbox.Count(forged_status), 0);
}

TEST_F(ManagedBrokerTest, CartReceivesOnlyItsOwnCommandsAndErrors) {
  auto cart_a = fleet_->ConnectCart(a());
  Inbox inbox;
  inbox.Attach(*cart_a);
  ASSERT_TRUE(cart_a->Subscribe(wire::CommandsTopic(a()), 1).ok());
  ASSERT_TRUE(cart_a->Subscribe(wire::ErrorsTopic(a()), 1).ok());
  // Asking for another cart's topics, or everything, is refused in the SUBACK.
  for (const std::string& filter : {wire::CommandsTopic(b()), wire::ErrorsTopic(b()), std::string("#"),
                                    std::string("carts/+/events/+"), "$share/g/" + wire::CommandsTopic(b())}) {
    EXPECT_EQ(cart_a->Subscribe(filter, 1).code(), Code::kPermissionDenied) << filter;
  }

  auto ingest = fleet_->ConnectIngest();
  auto cart_b = fleet_->ConnectCart(b());
  ASSERT_TRUE(cart_b->Publish(wire::EventTopic(b(), wire::EventType::kHealth), "b-health", 1).ok());
  ASSERT_TRUE(ingest->Publish(wire::CommandsTopic(b()), "for-b", 1).ok());
  ASSERT_TRUE(ingest->Publish(wire::ErrorsTopic(b()), "err-b", 1).ok());
  ASSERT_TRUE(ingest->Publish(wire::ErrorsTopic(a()), "err-a", 1).ok());
  ASSERT_TRUE(ingest->Publish(wire::CommandsTopic(a()), "for-a", 1).ok());
  ASSERT_TRUE(inbox.WaitFor(wire::CommandsTopic(a())));
  EXPECT_TRUE(inbox.WaitFor(wire::ErrorsTopic(a())));
  EXPECT_EQ(inbox.Count(wire::CommandsTopic(b())), 0);
  EXPECT_EQ(inbox.Count(wire::ErrorsTopic(b())), 0);
  EXPECT_EQ(inbox.Count(wire::EventTopic(b(), wire::EventType::kHealth)), 0);
}

TEST_F(ManagedBrokerTest, CartsCannotWriteCommandsToOtherCarts) {
  auto cart_b = fleet_->ConnectCart(b());
  Inbox inbox;
  inbox.Attach(*cart_b);
  ASSERT_TRUE(cart_b->Subscribe(wire::CommandsTopic(b()), 1).ok());
  auto cart_a = fleet_->ConnectCart(a());
  ASSERT_TRUE(cart_a->Publish(wire::CommandsTopic(b()), "spoofed", 1).ok());
  ASSERT_TRUE(cart_a->WaitForPublishes().ok());
  auto ingest = fleet_->ConnectIngest();
  ASSERT_TRUE(ingest->Publish(wire::CommandsTopic(b()), "genuine", 1).ok());
  ASSERT_TRUE(inbox.WaitFor(wire::CommandsTopic(b())));
  EXPECT_EQ(inbox.Count(wire::CommandsTopic(b())), 1);
}

// Every denial is one notice line in the broker's log — what the fleet monitor counts as an
// authentication failure of kind acl_denied — naming the access, the topic and the identity.
TEST_F(ManagedBrokerTest, AclDenialsAreLoggedForTheMonitor) {
  auto cart_a = fleet_->ConnectCart(a());
  std::string forged = wire::EventTopic(b(), wire::EventType::kScan);
  ASSERT_TRUE(cart_a->Publish(forged, "forged", 1).ok());
  ASSERT_TRUE(cart_a->WaitForPublishes().ok());
  EXPECT_FALSE(cart_a->Subscribe(wire::CommandsTopic(b()), 1).ok());
  std::string who = "for client " + a().str() + " (user " + a().str() + ")";
  EXPECT_TRUE(testing::WaitForLine(fleet_->broker().log_path(), "ACL denied publish on '" + forged + "' " + who,
                                   std::chrono::seconds(10)));
  EXPECT_TRUE(testing::WaitForLine(fleet_->broker().log_path(),
                                   "ACL denied subscribe on '" + wire::CommandsTopic(b()) + "' " + who,
                                   std::chrono::seconds(10)));
}

TEST_F(ManagedBrokerTest, SupervisorRestartsACrashedBroker) {
  pid_t before = fleet_->broker().pid();
  ASSERT_GT(before, 0);
  ::kill(before, SIGKILL);
  for (int i = 0; i < 300 && (fleet_->broker().pid() == before ||
                              !broker::PortAcceptsConnections({"127.0.0.1", fleet_->port()}));
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(fleet_->broker().pid(), before);
  auto cart = fleet_->ConnectCart(a());
  EXPECT_TRUE(cart->connected());
}

// mqtt::Client's own network loop, against a broker each test may stop.
class MqttClientLifecycle : public ::testing::Test {
 protected:
  BrokerFleet fleet_{1};
  CartId cart() { return fleet_.carts()[0].id; }
};

TEST_F(MqttClientLifecycle, DisconnectIsCleanSoTheBrokerDoesNotPublishTheWill) {
  auto observer = fleet_.ConnectIngest();
  Inbox inbox;
  inbox.Attach(*observer);
  ASSERT_TRUE(observer->Subscribe(wire::StatusTopic(cart()), 1).ok());
  mqtt::ClientOptions o = fleet_.CartOptions(cart());
  o.will = mqtt::Will{wire::StatusTopic(cart()), "will", 1, false};
  auto client = mqtt::Client::Create(o);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE((*client)->Connect().ok());
  auto began = std::chrono::steady_clock::now();
  (*client)->Disconnect();
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(2));
  EXPECT_FALSE(inbox.WaitFor(wire::StatusTopic(cart()), std::chrono::milliseconds(1500)))
      << "the broker published the will: the client closed without a DISCONNECT";
}

TEST_F(MqttClientLifecycle, ReconnectsWhenTheBrokerComesBackAndResubscribes) {
  auto ingest = fleet_.ConnectIngest();
  Inbox inbox;
  inbox.Attach(*ingest);
  std::string topic = wire::EventTopic(cart(), wire::EventType::kHealth);
  ASSERT_TRUE(ingest->Subscribe(topic, 1).ok());
  fleet_.broker().Stop();
  for (int i = 0; i < 200 && ingest->connected(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_FALSE(ingest->connected());
  ASSERT_TRUE(fleet_.broker().Start().ok());
  for (int i = 0; i < 500 && !ingest->connected(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(ingest->connected()) << "no reconnect within 10 s of the broker's return";
  // The subscription is restored without waiting for its SUBACK: publish until one arrives.
  auto cart_client = fleet_.ConnectCart(cart());
  bool arrived = false;
  for (int i = 0; i < 20 && !arrived; ++i) {
    ASSERT_TRUE(cart_client->Publish(topic, "payload", 1).ok());
    arrived = inbox.WaitFor(topic, std::chrono::milliseconds(250));
  }
  EXPECT_TRUE(arrived);
}

TEST_F(MqttClientLifecycle, DisconnectReturnsPromptlyWhileTheBrokerIsDown) {
  auto client = fleet_.ConnectIngest();
  fleet_.broker().Stop();
  for (int i = 0; i < 200 && client->connected(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_FALSE(client->connected());
  // Long enough to be inside a reconnect attempt's pause (the first is 1 s, then 2 s).
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  auto began = std::chrono::steady_clock::now();
  client->Disconnect();
  EXPECT_LT(std::chrono::steady_clock::now() - began, std::chrono::seconds(2));
}

}  // namespace
}  // namespace cw
