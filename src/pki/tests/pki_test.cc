#include "pki/pki.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "core/files.h"
#include "core/time_format.h"
#include "crypto/key_store.h"
#include "store/entity_store.h"
#include "testing/temp_dir.h"

namespace cw::pki {
namespace {

class PkiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    entities_ = std::move(store::OpenSqliteEntityStore(":memory:")).value();
    ASSERT_TRUE(entities_->AddStore({*StoreId::Parse("STORE-001"), "Markt", "freshco", store::Region::kEu,
                                     "Europe/Berlin", clock_.Now()}).ok());
  }
  Provisioner MakeProvisioner() {
    return Provisioner(Layout(dir_), *LoadCa(Layout(dir_)), *entities_, clock_, random_);
  }

  cw::testing::TempDir tmp_;
  const std::string& dir_ = tmp_.path();
  ManualClock clock_{*ParseWireTime("2026-11-22T10:00:00.000Z")};
  SeededRandom random_{42};
  std::unique_ptr<store::EntityStore> entities_;
};

TEST_F(PkiTest, InitCreatesEveryPieceWithPrivateKeys) {
  Layout l(dir_);
  ASSERT_TRUE(InitPki(l, {}, clock_).ok());
  for (const auto& p : {l.ca_crt, l.ca_key, l.broker_crt, l.broker_key, l.api_crt, l.api_key, l.ingest_crt,
                        l.ingest_key, l.command_key, l.command_pub, l.firmware_key, l.firmware_pub}) {
    EXPECT_TRUE(PathExists(p)) << p;
  }
  for (const auto& key : {l.ca_key, l.broker_key, l.api_key, l.ingest_key, l.command_key, l.firmware_key}) {
    struct stat st;
    ASSERT_EQ(stat(key.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << key;
  }
  auto ca = *crypto::Certificate::FromPem(*ReadFile(l.ca_crt));
  auto broker = *crypto::Certificate::FromPem(*ReadFile(l.broker_crt));
  auto ingest = *crypto::Certificate::FromPem(*ReadFile(l.ingest_crt));
  EXPECT_TRUE(broker.IssuedBy(ca));
  EXPECT_TRUE(ingest.IssuedBy(ca));
  EXPECT_EQ(ingest.subject().common_name, kIngestServiceCn);
  // The command and firmware keys are separate from each other and from the CA.
  auto cmd = (*crypto::SoftKeyStore::OpenFile(l.command_key))->public_key().Fingerprint();
  auto fw = (*crypto::SoftKeyStore::OpenFile(l.firmware_key))->public_key().Fingerprint();
  EXPECT_NE(cmd, fw);
  EXPECT_NE(cmd, ca.public_key().Fingerprint());
}

TEST_F(PkiTest, InitRefusesToOverwriteWithoutForce) {
  Layout l(dir_);
  ASSERT_TRUE(InitPki(l, {}, clock_).ok());
  std::string before = *ReadFile(l.ca_crt);
  Status again = InitPki(l, {}, clock_);
  EXPECT_EQ(again.code(), Code::kFailedPrecondition);
  EXPECT_NE(again.message().find("--force"), std::string::npos);
  EXPECT_EQ(*ReadFile(l.ca_crt), before);
  InitOptions force;
  force.force = true;
  ASSERT_TRUE(InitPki(l, force, clock_).ok());
  EXPECT_NE(*ReadFile(l.ca_crt), before);
}

TEST_F(PkiTest, NewCartsGetKeysCertsAndRegistryRows) {
  ASSERT_TRUE(InitPki(Layout(dir_), {}, clock_).ok());
  auto prov = MakeProvisioner();
  auto carts = prov.NewCarts(*StoreId::Parse("STORE-001"), 3, dir_ + "/out");
  ASSERT_TRUE(carts.ok()) << carts.error().ToString();
  ASSERT_EQ(carts->size(), 3u);
  EXPECT_EQ((*carts)[0].id.str(), "CART-000001");
  EXPECT_EQ((*carts)[2].id.str(), "CART-000003");
  auto ca = *crypto::Certificate::FromPem(*ReadFile(Layout(dir_).ca_crt));
  for (const auto& c : *carts) {
    std::string d = dir_ + "/out/" + c.id.str();
    for (const char* f : {"device.key", "device.crt", "ca.crt", "cloud-command.pub"}) {
      EXPECT_TRUE(PathExists(d + "/" + f)) << d << "/" << f;
    }
    auto cert = *crypto::Certificate::FromPem(*ReadFile(d + "/device.crt"));
    EXPECT_EQ(cert.subject().common_name, c.id.str());
    EXPECT_EQ(cert.subject().serial_number, c.serial);
    EXPECT_TRUE(cert.IssuedBy(ca));
    auto key = *crypto::SoftKeyStore::OpenFile(d + "/device.key");
    EXPECT_EQ(key->public_key().Fingerprint(), cert.public_key().Fingerprint());

    auto rec = *entities_->GetCart(c.id);
    EXPECT_EQ(rec.store.str(), "STORE-001");
    EXPECT_EQ(rec.serial, c.serial);
    EXPECT_EQ(rec.cert_fingerprint, cert.Fingerprint());
    EXPECT_EQ(rec.status, store::CartStatus::kActive);
    EXPECT_EQ(crypto::PublicKey::FromPem(rec.public_key_pem)->Fingerprint(), cert.public_key().Fingerprint());
  }
  // No staging directories are left behind.
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_ + "/out")) {
    EXPECT_EQ(e.path().filename().string().rfind("CART-", 0), 0u) << e.path();
    ++entries;
  }
  EXPECT_EQ(entries, 3);
  // More carts continue the numbering.
  auto more = *prov.NewCarts(*StoreId::Parse("STORE-001"), 1, dir_ + "/out");
  EXPECT_EQ(more[0].id.str(), "CART-000004");
}

TEST_F(PkiTest, ProvisioningNeedsPkiAndStore) {
  EXPECT_EQ(LoadCa(Layout(dir_)).error().code(), Code::kFailedPrecondition);
  ASSERT_TRUE(InitPki(Layout(dir_), {}, clock_).ok());
  auto r = MakeProvisioner().NewCarts(*StoreId::Parse("STORE-404"), 1, dir_ + "/out");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kNotFound);
  EXPECT_NE(r.error().message().find("cartwright store add"), std::string::npos);
}

TEST_F(PkiTest, CsrPathNeverSeesTheKey) {
  ASSERT_TRUE(InitPki(Layout(dir_), {}, clock_).ok());
  auto prov = MakeProvisioner();
  auto device_key = *crypto::SoftKeyStore::Generate();  // lives on the "device"
  auto csr = *device_key->CreateCsrPem({"", "CW2FACTORY01", ""});
  auto cart = prov.SignCsr(*StoreId::Parse("STORE-001"), csr, dir_ + "/csr-out");
  ASSERT_TRUE(cart.ok()) << cart.error().ToString();
  EXPECT_EQ(cart->serial, "CW2FACTORY01");
  std::string d = dir_ + "/csr-out/" + cart->id.str();
  EXPECT_FALSE(PathExists(d + "/device.key"));
  auto cert = *crypto::Certificate::FromPem(*ReadFile(d + "/device.crt"));
  EXPECT_EQ(cert.public_key().Fingerprint(), device_key->public_key().Fingerprint());
  EXPECT_EQ(cert.subject().common_name, cart->id.str());

  // A CN naming a cart id is honoured; a taken one is refused; a missing serial is refused.
  auto k2 = *crypto::SoftKeyStore::Generate();
  auto named = prov.SignCsr(*StoreId::Parse("STORE-001"), *k2->CreateCsrPem({"CART-000500", "SN500", ""}), dir_ + "/csr-out");
  ASSERT_TRUE(named.ok()) << named.error().ToString();
  EXPECT_EQ(named->id.str(), "CART-000500");
  auto k3 = *crypto::SoftKeyStore::Generate();
  auto taken = prov.SignCsr(*StoreId::Parse("STORE-001"), *k3->CreateCsrPem({"CART-000500", "SN501", ""}), dir_ + "/csr-out");
  EXPECT_FALSE(taken.ok());
  auto no_serial = prov.SignCsr(*StoreId::Parse("STORE-001"), *k3->CreateCsrPem({"", "", ""}), dir_ + "/csr-out");
  ASSERT_FALSE(no_serial.ok());
  EXPECT_NE(no_serial.error().message().find("serialNumber"), std::string::npos);
  auto bad_cn = prov.SignCsr(*StoreId::Parse("STORE-001"), *k3->CreateCsrPem({"bob", "SN9", ""}), dir_ + "/csr-out");
  EXPECT_EQ(bad_cn.error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cw::pki
