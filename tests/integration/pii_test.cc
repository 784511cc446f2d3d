// PII lives in exactly one place (DESIGN.md §1 rule 3). A simulated trading day with enrolled
// loyalty and card customers runs through the real broker, `cartwright serve` and cartsim; then
// the telemetry store, the dead letters, the blobs, the entity store and every log file are
// searched for each customer's e-mail, name, phone, loyalty number and payment token. None may
// be there — except loyalty numbers in Tier 2, which is where they belong.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/files.h"
#include "core/time_format.h"
#include "crypto/ecdsa.h"
#include "identity/vault.h"
#include "retail/receipts.h"
#include "store/registry.h"
#include "testing/harness.h"
#include "wire/json.h"
#include "wire/topic.h"

namespace cw {
namespace {

namespace fs = std::filesystem;

struct Customer {
  std::string email, name, phone, loyalty, token;
};

std::vector<Customer> MakeCustomers() {
  const char* first[] = {"Greta", "Jonas", "Amira", "Mateo", "Yuki", "Olu"};
  const char* last[] = {"Lindqvist", "Achterberg", "Haddad", "Ferreira", "Tanabe", "Adeyemi"};
  std::vector<Customer> out;
  for (int i = 0; i < 6; ++i) {
    Customer c;
    c.name = std::string(first[i]) + " " + last[i];
    c.email = std::string(first[i]) + "." + last[i] + "@mail.example";
    c.phone = "+49 151 5550" + std::to_string(1000 + i);
    c.loyalty = "7300" + std::to_string(100000000000LL + i * 7919);
    c.token = "TOK" + std::string(20, static_cast<char>('a' + i)) + "Z";
    out.push_back(c);
  }
  return out;
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(PiiPlacement, NoCustomerDataOutsideTheVaultAfterADayOfShopping) {
  testing::BrokerFleet fleet(12);
  const std::string data = fleet.data_dir();
  std::string bin = testing::BinaryPath("cartwright");
  auto cli = [&](std::vector<std::string> args) {
    args.insert(args.begin(), bin);
    args.insert(args.end(), {"--data-dir", data});
    return testing::RunProcess(args);
  };
  std::vector<Customer> customers = MakeCustomers();
  std::string csv = "loyalty,payment_token\n";
  for (const auto& c : customers) {
    auto r = cli({"account", "add", "--email", c.email, "--name", c.name, "--phone", c.phone, "--loyalty", c.loyalty,
                  "--payment-token", c.token});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    csv += c.loyalty + "," + c.token + "\n";
  }
  ASSERT_TRUE(WriteFileAtomic(data + "/customers.csv", csv).ok());
  auto catalog = testing::RunProcess({testing::BinaryPath("cartsim"), "catalog"});
  ASSERT_TRUE(WriteFileAtomic(data + "/catalog.csv", catalog.out).ok());
  ASSERT_EQ(cli({"catalog", "import", "--store", "STORE-001", data + "/catalog.csv"}).exit_code, 0);
  // Shoppers who nearly all identify, by loyalty card or by tapping their card.
  ASSERT_TRUE(WriteFileAtomic(data + "/day.toml", R"(
[shoppers]
mean_idle_minutes = 3
mean_scan_gap_seconds = 20
min_items = 2
max_items = 6
loyalty = 0.5
payment_token = 0.45
app_qr = 0.0
mid_shop_identify = 0.3
)").ok());

  testing::BackgroundProcess serve({bin, "serve", "--device-api", "127.0.0.1:0", "--api", "127.0.0.1:0", "--data-dir", data, "--broker", "127.0.0.1:" + std::to_string(fleet.port()),
                                    "--log-level", "debug"},
                                   data + "/serve.log");
  for (int i = 0; i < 400; ++i) {
    auto log = ReadFile(data + "/serve.log");
    if (log.ok() && log->find("sessions on mqtts://") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  // A forged identify carrying a real customer's loyalty number: refused, and dead-lettered
  // without the credential.
  {
    auto cart = fleet.ConnectCart(fleet.carts()[0].id);
    wire::JsonBuilder b;
    b.Field("v", 1).Field("type", "identify").Field("cart_id", fleet.carts()[0].id.str()).Field("seq", 999999)
        .Field("ts", FormatTimeMillis(Clock::System().Now())).Field("fw", "1.0.0")
        .Field("session_id", "11111111-1111-4111-8111-111111111111").Field("method", "loyalty")
        .Field("credential", customers[0].loyalty);
    std::string payload = b.Finish() + std::string(64, '\x01');
    ASSERT_TRUE(cart->Publish(wire::EventTopic(fleet.carts()[0].id, wire::EventType::kIdentify), payload, 1).ok());
  }
  auto sim = testing::RunProcess({testing::BinaryPath("cartsim"), "run", "--carts", data + "/carts", "--broker",
                                  "mqtts://127.0.0.1:" + std::to_string(fleet.port()), "--speed", "120", "--duration",
                                  "40m", "--scenario", data + "/day.toml", "--customers", data + "/customers.csv",
                                  "--catalog", data + "/catalog.csv", "--ble-bridge", "off", "--quiet", "--json"});
  ASSERT_EQ(sim.exit_code, 0) << sim.err;
  ASSERT_TRUE(WriteFileAtomic(data + "/cartsim.log", sim.out + sim.err).ok());
  std::this_thread::sleep_for(std::chrono::seconds(2));  // the ingest takes what is in flight
  ASSERT_EQ(serve.Stop(SIGTERM), 0);

  // The day really had identified customers of both kinds, and receipts.
  auto entities = *store::Registry::WithBuiltinBackends().OpenEntity("sqlite:" + data + "/entity.db");
  auto sessions = *entities->ListSessions({.limit = 100000});
  int by_loyalty = 0, by_card = 0;
  for (const auto& s : sessions) {
    by_loyalty += s.identified_by == "loyalty";
    by_card += s.identified_by == "payment_token";
  }
  EXPECT_GT(by_loyalty, 0) << sim.out;
  EXPECT_GT(by_card, 0) << sim.out;
  // The carts got their answers (identify-result, signed): at least one per identified session.
  rapidjson::Document summary;
  summary.Parse(sim.out.c_str());
  ASSERT_TRUE(summary.IsObject()) << sim.out;
  EXPECT_GE(wire::GetInt(summary, "commands_accepted").value_or(0), by_loyalty + by_card) << sim.out;
  auto blobs = *store::Registry::WithBuiltinBackends().OpenBlobs("file:" + data + "/blobs");
  auto receipts = *blobs->List("receipts/");
  EXPECT_FALSE(receipts.empty());
  auto rejects_text = cli({"rejects", "--json", "--limit", "1000"});
  EXPECT_NE(rejects_text.out.find("\"seq\":999999"), std::string::npos) << rejects_text.out;

  // What the platform wrote, read back through the stores' own interfaces (RocksDB compresses its
  // files, so a raw byte search alone could miss something)…
  std::string corpus;
  auto telemetry = *store::Registry::WithBuiltinBackends().OpenTelemetry("rocksdb:" + data + "/telemetry");
  Time since = Clock::System().Now() - std::chrono::hours(24 * 30), until = Clock::System().Now() + std::chrono::hours(1);
  size_t events = 0;
  std::string cursor;
  do {
    auto page = *telemetry->ForStore(*StoreId::Parse("STORE-001"), since, until, 1000, cursor);
    for (const auto& e : page.items) corpus += e.body + "\n";
    events += page.items.size();
    cursor = page.next_cursor;
  } while (!cursor.empty());
  EXPECT_GT(events, 100u);
  cursor.clear();
  do {
    auto page = *telemetry->Rejects({.limit = 1000, .cursor = cursor});
    for (const auto& d : page.items) corpus += d.payload + d.detail + "\n";
    cursor = page.next_cursor;
  } while (!cursor.empty());
  for (const auto& key : receipts) corpus += *blobs->Get(key) + "\n";
  corpus += rejects_text.out;
  // What an operator sees of sessions names the customer only by account id.
  auto listed = cli({"sessions", "list", "--store", "STORE-001", "--limit", "1000", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(static_cast<size_t>(std::count(listed.out.begin(), listed.out.end(), '\n')), sessions.size());
  EXPECT_NE(listed.out.find("\"identified_by\":\"loyalty\""), std::string::npos);
  corpus += listed.out;
  auto shown = cli({"sessions", "show", "--session", sessions.front().id.str()});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_NE(shown.out.find("session   " + sessions.front().id.str()), std::string::npos) << shown.out;
  corpus += shown.out;
  for (const auto& s : sessions) corpus += s.customer_ref + s.identified_by + "\n";
  // …and every byte of every file outside the vault and the device side (the carts' own flash is
  // the device's, not the cloud's).
  std::string files;
  std::vector<std::string> searched;
  for (const auto& entry : fs::recursive_directory_iterator(data)) {
    if (!entry.is_regular_file()) continue;
    std::string rel = fs::relative(entry.path(), data).string();
    if (rel.starts_with("vault.db") || rel.starts_with("keys/") || rel.starts_with("carts/") ||
        rel == "customers.csv") {
      continue;
    }
    searched.push_back(rel);
    files += Slurp(entry.path());
  }
  auto has = [&](const std::string& haystack_name, const std::string& haystack, const std::string& needle) {
    EXPECT_EQ(haystack.find(needle), std::string::npos) << "'" << needle << "' found in " << haystack_name;
  };
  for (const auto& c : customers) {
    for (const std::string& secret : {c.email, c.name, c.phone, c.token}) {
      has("the stores' contents", corpus, secret);
      has("the data directory's files", files, secret);
    }
    // Loyalty numbers are Tier 2 (entity.db holds them); nowhere else.
    has("the stores' contents", corpus, c.loyalty);
    for (const auto& rel : searched) {
      if (rel.starts_with("entity.db")) continue;
      has(rel, Slurp(data + "/" + rel), c.loyalty);
    }
  }
  std::string listing;
  for (const auto& rel : searched) listing += rel + " ";
  EXPECT_NE(listing.find("serve.log"), std::string::npos) << listing;
  EXPECT_NE(listing.find("broker/mosquitto.log"), std::string::npos) << listing;
  // The vault itself holds them, encrypted, and its audit chain is intact.
  auto verify = cli({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
}

}  // namespace
}  // namespace cw
