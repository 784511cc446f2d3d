// The `cartwright` CLI contract, exercised through the real binary.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "broker/managed_broker.h"
#include "core/files.h"
#include "crypto/key_store.h"
#include "crypto/x509.h"
#include "store/sql.h"
#include "testing/harness.h"
#include "wire/json.h"

namespace cw {
namespace {

using testing::ProcessResult;
using testing::TempDir;

class CliTest : public ::testing::Test {
 protected:
  ProcessResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), testing::BinaryPath("cartwright"));
    args.push_back("--data-dir");
    args.push_back(dir_.path() + "/data");
    return testing::RunProcess(args);
  }
  static int Lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }
  TempDir dir_;
};

TEST_F(CliTest, HelpAtEveryLevel) {
  for (auto args : std::vector<std::vector<std::string>>{
           {"--help"}, {"pki", "--help"}, {"pki", "init", "--help"}, {"store", "add", "--help"},
           {"provision", "--help"}, {"carts", "list", "--help"}, {"broker", "run", "--help"},
           {"firmware", "sign", "--help"}}) {
    ProcessResult r = Run(args);
    EXPECT_EQ(r.exit_code, 0) << args[0];
    EXPECT_NE(r.out.find("--data-dir"), std::string::npos) << args[0] << ": " << r.out;
  }
  EXPECT_NE(Run({"store", "add", "--help"}).out.find("--timezone"), std::string::npos);
}

TEST_F(CliTest, BadFlagsAndArgumentsAreOneLineAndExit2) {
  for (auto args : std::vector<std::vector<std::string>>{
           {"pki", "init", "--bogus"},
           {"frobnicate"},
           {},
           {"store", "add", "--id", "S1", "--name", "N", "--region", "mars", "--timezone", "Europe/Berlin"},
           {"store", "add", "--id", "S1", "--name", "N", "--region", "eu", "--timezone", "Berlin time"},
           {"store", "add", "--id", "S1", "--name", "N", "--region", "eu", "--timezone", "Europe/Atlantis"},
           {"store", "add", "--id", "S1", "--name", "N", "--region", "eu", "--timezone", "Europe/Berlin",
            "--opening-hours", "Mo-Sa 7-22"},
           {"store", "add", "--id", "../etc", "--name", "N", "--region", "eu", "--timezone", "Europe/Berlin"},
           {"store", "add", "--name", "N"},
           {"provision", "--store", "S1"},
           {"provision", "--store", "S1", "--new-carts", "notanumber", "--out", "x"},
           {"provision", "--store", "S1", "--csr", "/does/not/exist.csr"},
           {"broker", "run", "--listen", "nope"},
           {"--log-level", "loud", "carts", "list"}}) {
    ProcessResult r = Run(args);
    std::string joined;
    for (auto& a : args) joined += a + " ";
    EXPECT_EQ(r.exit_code, 2) << joined << "\n" << r.err;
    EXPECT_EQ(Lines(r.err), 1) << joined << "\n" << r.err;
    EXPECT_EQ(r.err.rfind("cartwright: ", 0), 0u) << r.err;
  }
}

TEST_F(CliTest, ProvisioningFlow) {
  ProcessResult init = Run({"pki", "init"});
  ASSERT_EQ(init.exit_code, 0) << init.err;
  ProcessResult again = Run({"pki", "init"});
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("--force"), std::string::npos);
  EXPECT_EQ(Lines(again.err), 1);

  ASSERT_EQ(Run({"store", "add", "--id", "STORE-001", "--name", "Markt Mitte", "--region", "eu", "--timezone",
                 "Europe/Berlin"}).exit_code, 0);
  ASSERT_EQ(Run({"store", "add", "--id", "STORE-002", "--name", "Uptown", "--region", "us", "--timezone",
                 "America/Chicago", "--partner", "bigmart"}).exit_code, 0);
  ProcessResult dup = Run({"store", "add", "--id", "STORE-001", "--name", "X", "--region", "eu", "--timezone", "UTC"});
  EXPECT_EQ(dup.exit_code, 1);
  EXPECT_NE(dup.err.find("already exists"), std::string::npos);

  std::string out = dir_.path() + "/factory";
  ProcessResult prov = Run({"provision", "--store", "STORE-001", "--new-carts", "3", "--out", out});
  ASSERT_EQ(prov.exit_code, 0) << prov.err;
  EXPECT_EQ(prov.out, "CART-000001\nCART-000002\nCART-000003\n");
  for (const char* f : {"device.key", "device.crt", "ca.crt", "cloud-command.pub"}) {
    EXPECT_TRUE(PathExists(out + "/CART-000002/" + f)) << f;
  }
  ASSERT_EQ(Run({"provision", "--store", "STORE-002", "--new-carts", "1", "--out", out}).out, "CART-000004\n");

  // A CSR made elsewhere: the cloud never sees the key.
  auto key = *crypto::SoftKeyStore::Generate();
  ASSERT_TRUE(WriteFileAtomic(dir_.path() + "/cart.csr", *key->CreateCsrPem({"", "CW2EXTERNAL1", ""})).ok());
  ProcessResult csr = Run({"provision", "--store", "STORE-002", "--csr", dir_.path() + "/cart.csr"});
  ASSERT_EQ(csr.exit_code, 0) << csr.err;
  EXPECT_EQ(csr.out, "CART-000005\n");
  auto cert = *crypto::Certificate::FromPem(*ReadFile(dir_.path() + "/CART-000005/device.crt"));
  EXPECT_EQ(cert.public_key().Fingerprint(), key->public_key().Fingerprint());

  ProcessResult list = Run({"carts", "list", "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  rapidjson::Document doc;
  doc.Parse(list.out.c_str());
  ASSERT_TRUE(doc.IsArray());
  ASSERT_EQ(doc.Size(), 5u);
  EXPECT_STREQ(doc[4]["cart_id"].GetString(), "CART-000005");
  EXPECT_STREQ(doc[4]["serial"].GetString(), "CW2EXTERNAL1");
  EXPECT_STREQ(doc[0]["status"].GetString(), "active");
  EXPECT_EQ(std::string(doc[0]["cert_fingerprint"].GetString()).size(), 64u);

  ProcessResult by_store = Run({"carts", "list", "--store", "STORE-002"});
  EXPECT_EQ(by_store.exit_code, 0);
  EXPECT_EQ(Lines(by_store.out), 3);  // header + 2 carts
  EXPECT_NE(by_store.out.find("CART-000004"), std::string::npos);
  EXPECT_EQ(by_store.out.find("CART-000001"), std::string::npos);

  ProcessResult unknown = Run({"provision", "--store", "STORE-404", "--new-carts", "1", "--out", out});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("cartwright store add"), std::string::npos);
  EXPECT_EQ(Run({"carts", "list", "--store", "STORE-404"}).exit_code, 1);
}

TEST_F(CliTest, StoreProfileAndCatalogImportThatReportsChangesAndRefusesABadFileWhole) {
  ASSERT_EQ(Run({"store", "add", "--id", "S1", "--name", "N", "--region", "eu", "--timezone", "Europe/Berlin",
                 "--geofence", "52.52,13.405,150", "--ssid", "markt-carts", "--opening-hours", "Mo-Sa 07:00-22:00"})
                .exit_code, 0);
  std::string stores = Run({"store", "list", "--json"}).out;
  EXPECT_NE(stores.find("\"geofence\":{\"lat\":52.52,\"lon\":13.405,\"radius_m\":150.0}"), std::string::npos) << stores;
  EXPECT_NE(stores.find("\"opening_hours\":\"Mo-Sa 07:00-22:00\""), std::string::npos) << stores;
  EXPECT_EQ(Run({"store", "add", "--id", "S2", "--name", "N", "--region", "eu", "--timezone", "Europe/Berlin",
                 "--geofence", "95,13,150"}).exit_code, 2);
  std::string v1 = dir_.path() + "/v1.csv", v2 = dir_.path() + "/v2.csv", bad = dir_.path() + "/bad.csv";
  ASSERT_TRUE(WriteFileAtomic(v1, "sku,name,price_cents,expected_weight_g,category\n1,One,100,,x\n2,Two,200,500,y\n", 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(v2, "sku,name,price_cents,expected_weight_g,category\n2,Two,250,500,y\n3,Three,300,,z\n", 0644).ok());
  ASSERT_TRUE(WriteFileAtomic(bad, "sku,name,price_cents,expected_weight_g,category\n9,Nine,lots,,x\n8,Eight,1,2,\n", 0644).ok());
  ProcessResult r = Run({"catalog", "import", "--store", "S1", v1});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "catalog S1: 2 added, 0 changed, 0 removed; 2 items\n");
  EXPECT_EQ(Run({"catalog", "import", "--store", "S1", v1}).out, "catalog S1: 0 added, 0 changed, 0 removed; 2 items\n");
  r = Run({"catalog", "import", "--store", "S1", v2, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"store\":\"S1\",\"items\":2,\"added\":[\"3\"],\"changed\":[\"2\"],\"removed\":[\"1\"]}\n");
  r = Run({"catalog", "import", "--store", "S1", bad});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("2 bad row(s) in " + bad + "; nothing was applied"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(bad + ":2: price_cents 'lots'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(bad + ":3: category must be"), std::string::npos) << r.err;
  EXPECT_EQ(Run({"catalog", "import", "--store", "S1", v2}).out, "catalog S1: 0 added, 0 changed, 0 removed; 2 items\n");
  EXPECT_EQ(Run({"catalog", "import", "--store", "NOPE", v2}).exit_code, 1);
}

TEST_F(CliTest, AccountsKeysAndTheAuditChainFromTheCommandLine) {
  ProcessResult add = Run({"account", "add", "--email", "ada@example.com", "--name", "Ada Lovelace", "--phone",
                           "+44 20 7946 0000", "--loyalty", "4000111122223333", "--payment-token",
                           "TOKccccccccccccccccccccc"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  std::string account = add.out.substr(0, add.out.size() - 1);
  ASSERT_TRUE(AccountId::Parse(account).ok()) << add.out;
  // PII is never stored in the clear.
  std::string vault = *ReadFile(dir_.path() + "/data/vault.db");
  EXPECT_EQ(vault.find("Lovelace"), std::string::npos);
  EXPECT_EQ(vault.find("ada@example.com"), std::string::npos);
  EXPECT_EQ(Run({"account", "add", "--email", "ADA@example.com", "--name", "Again"}).exit_code, 1);
  EXPECT_EQ(Run({"account", "add", "--email", "x@example.com", "--name", "X", "--loyalty", "12"}).exit_code, 2);

  ProcessResult code = Run({"account", "code", "--account", account});
  ASSERT_EQ(code.exit_code, 0) << code.err;
  EXPECT_EQ(code.out.size(), 33u);  // 32 characters and a newline

  EXPECT_EQ(Run({"account", "show", "--account", account}).exit_code, 2);  // --purpose is required
  ProcessResult show = Run({"account", "show", "--account", account, "--purpose", "subject access request 42"});
  ASSERT_EQ(show.exit_code, 0) << show.err;
  EXPECT_NE(show.out.find("Ada Lovelace"), std::string::npos);
  EXPECT_NE(show.out.find("+44 20 7946 0000"), std::string::npos);

  ProcessResult rotated = Run({"keys", "rotate", "--domain", "contact", "--reencrypt"});
  ASSERT_EQ(rotated.exit_code, 0) << rotated.err;
  EXPECT_NE(rotated.out.find("contact  2        1       3"), std::string::npos) << rotated.out;
  EXPECT_EQ(Run({"keys", "rotate"}).exit_code, 2);
  ASSERT_EQ(Run({"keys", "rotate", "--master"}).exit_code, 0);
  EXPECT_NE(Run({"account", "show", "--account", account, "--purpose", "check after rotation"}).out.find("Ada"),
            std::string::npos);

  ProcessResult verify = Run({"audit", "verify"});
  ASSERT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_NE(verify.out.find("vault audit log: "), std::string::npos) << verify.out;
  {
    auto db = *store::sql::OpenSqlite(dir_.path() + "/data/vault.db");
    ASSERT_TRUE(db->Exec("UPDATE vault_audit SET purpose = 'curiosity' WHERE action = 'decrypt'").ok());
  }
  verify = Run({"audit", "verify"});
  EXPECT_EQ(verify.exit_code, 1);
  EXPECT_NE(verify.err.find("was altered"), std::string::npos) << verify.err;
}

TEST_F(CliTest, ProvisionWithoutPkiSaysWhatToDo) {
  ProcessResult r = Run({"provision", "--store", "STORE-001", "--new-carts", "1", "--out", dir_.path() + "/o"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cartwright pki init"), std::string::npos) << r.err;
}

TEST_F(CliTest, BadConfigFileFailsFastWithLocation) {
  ASSERT_TRUE(MakeDirs(dir_.path() + "/data").ok());
  ASSERT_TRUE(WriteFileAtomic(dir_.path() + "/data/cartwright.toml", "[broker]\nlistn = \"x\"\n").ok());
  ProcessResult r = Run({"carts", "list"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("cartwright.toml:2"), std::string::npos) << r.err;
  EXPECT_EQ(Lines(r.err), 1);
}

TEST_F(CliTest, BrokerRunStopsCleanlyOnSigterm) {
  ASSERT_EQ(Run({"pki", "init"}).exit_code, 0);
  uint16_t port = testing::FreePort();
  std::string listen = "127.0.0.1:" + std::to_string(port);
  std::string bin = testing::BinaryPath("cartwright");
  std::string data = dir_.path() + "/data";
  pid_t pid = fork();
  if (pid == 0) {
    execl(bin.c_str(), bin.c_str(), "broker", "run", "--listen", listen.c_str(), "--data-dir", data.c_str(), nullptr);
    _exit(127);
  }
  bool up = false;
  for (int i = 0; i < 300 && !up; ++i) {
    up = broker::PortAcceptsConnections({"127.0.0.1", port});
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(up);
  EXPECT_TRUE(PathExists(data + "/broker/mosquitto.conf"));
  EXPECT_TRUE(PathExists(data + "/broker/acl"));
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // The broker went with it.
  bool down = false;
  for (int i = 0; i < 100 && !down; ++i) {
    down = !broker::PortAcceptsConnections({"127.0.0.1", port});
    if (!down) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(down);
  // The broker's log was captured.
  EXPECT_NE(ReadFile(data + "/broker/mosquitto.log").value_or("").find("mosquitto version"), std::string::npos);
}

}  // namespace
// The release path of a firmware image: signed with the firmware-signing key, verified and stored
// write-once; a tampered image or manifest, or a test defect nobody knows, never enters the catalog.
TEST_F(CliTest, FirmwareIsSignedUploadedWriteOnceAndTamperingIsRefused) {
  ASSERT_EQ(Run({"pki", "init"}).exit_code, 0);
  std::string image = dir_.path() + "/cart-2.1.0.bin";
  ASSERT_TRUE(WriteFileAtomic(image, std::string(200000, 'f')).ok());
  ProcessResult sign = Run({"firmware", "sign", "--image", image, "--version", "2.1.0", "--defect", "fails_self_test"});
  ASSERT_EQ(sign.exit_code, 0) << sign.err;
  EXPECT_NE(sign.out.find("test image: fails_self_test"), std::string::npos) << sign.out;
  std::string manifest = *ReadFile(image + ".manifest.json");
  EXPECT_NE(manifest.find("\"version\":\"2.1.0\""), std::string::npos) << manifest;

  // Tampered copies are refused with the reason, before anything is stored.
  std::string tampered = dir_.path() + "/tampered.bin";
  ASSERT_TRUE(WriteFileAtomic(tampered, std::string(199999, 'f') + "g").ok());
  ProcessResult bad_image = Run({"firmware", "upload", "--image", tampered, "--manifest", image + ".manifest.json",
                                 "--signature", image + ".manifest.sig"});
  EXPECT_EQ(bad_image.exit_code, 2);
  EXPECT_NE(bad_image.err.find("SHA-256 differs"), std::string::npos) << bad_image.err;
  std::string forged_manifest = manifest;
  forged_manifest.replace(forged_manifest.find(",\"simulated_defect\":\"fails_self_test\""),
                          std::string(",\"simulated_defect\":\"fails_self_test\"").size(), "");
  ASSERT_TRUE(WriteFileAtomic(dir_.path() + "/forged.json", forged_manifest).ok());
  ProcessResult bad_manifest = Run({"firmware", "upload", "--image", image, "--manifest", dir_.path() + "/forged.json"});
  EXPECT_EQ(bad_manifest.exit_code, 2);
  EXPECT_NE(bad_manifest.err.find("signature does not verify"), std::string::npos) << bad_manifest.err;
  EXPECT_EQ(Run({"firmware", "list"}).out, "");

  ProcessResult upload = Run({"firmware", "upload", "--image", image});
  ASSERT_EQ(upload.exit_code, 0) << upload.err;
  EXPECT_EQ(upload.out, "firmware 2.1.0 is in the catalog (200000 bytes)\n");
  // Write-once: the same version signed again over other bytes cannot replace it.
  std::string other = dir_.path() + "/other.bin";
  ASSERT_TRUE(WriteFileAtomic(other, std::string(1000, 'o')).ok());
  ASSERT_EQ(Run({"firmware", "sign", "--image", other, "--version", "2.1.0"}).exit_code, 0);
  ProcessResult clash = Run({"firmware", "upload", "--image", other});
  EXPECT_EQ(clash.exit_code, 1);
  EXPECT_NE(clash.err.find("already in the catalog"), std::string::npos) << clash.err;
  ProcessResult list = Run({"firmware", "list"});
  EXPECT_EQ(Lines(list.out), 1) << list.out;
  EXPECT_EQ(list.out.rfind("2.1.0", 0), 0u) << list.out;
  EXPECT_NE(list.out.find("200000 bytes"), std::string::npos) << list.out;

  for (auto args : std::vector<std::vector<std::string>>{
           {"firmware", "sign", "--image", image, "--version", "two"},
           {"firmware", "sign", "--image", image, "--version", "2.2.0", "--defect", "explodes"},
           {"firmware", "sign", "--image", image, "--version", "2.2.0", "--not-before", "soon"},
           {"firmware", "sign", "--image", image, "--version", "2.2.0", "--not-before", "2027-01-01", "--not-after",
            "2026-01-01"}}) {
    ProcessResult r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << args[4] << " " << r.err;
    EXPECT_EQ(Lines(r.err), 1) << r.err;
  }
}

}  // namespace cw
