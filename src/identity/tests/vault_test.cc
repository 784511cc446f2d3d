// The PII vault on both engines: encryption at rest, rotation, the key file's protection and the
// audit chain.
#include "identity/vault.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "core/files.h"
#include "store/sql.h"
#include "store/tests/conformance.h"
#include "testing/postgres_server.h"
#include "testing/temp_dir.h"

namespace cw::identity {
namespace {

using store::Backend;

const Backend kVaultBackends[] = {
    {"Sqlite", [](const std::string& dir) { return "sqlite:" + dir + "/vault.db"; }},
    {"Postgres", [](const std::string&) { return cw::testing::FreshPostgresUri(); }},
};

const AccountId kAlice = *AccountId::Parse("aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa");
const AccountId kBob = *AccountId::Parse("bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb");
const Access kOps{"olga", "ops", "customer asked for a copy of their data"};
const Person kAlicePerson{"Alice.Meyer@example.com", "Alice Meyer", "+49 30 1234567", "Hauptstr. 1, 10115 Berlin"};

class VaultTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    uri_ = GetParam().uri(tmp_.path());
    key_file_ = tmp_.path() + "/keys/vault.keys";
    vault_ = OpenVault();
    ASSERT_NE(vault_, nullptr);
  }
  std::unique_ptr<Vault> OpenVault() {
    auto v = Vault::Open(uri_, key_file_, Clock::System());
    EXPECT_TRUE(v.ok()) << v.error().ToString();
    return v.ok() ? std::move(v).value() : nullptr;
  }
  std::unique_ptr<store::sql::Database> Raw() {
    auto db = uri_.starts_with("sqlite:") ? store::sql::OpenSqlite(uri_.substr(7)) : store::sql::OpenPostgres(uri_);
    EXPECT_TRUE(db.ok());
    return std::move(db).value();
  }
  // Every stored byte of the vault's PII tables, as text.
  std::string Dump() {
    std::string out;
    auto db = Raw();
    for (auto q : {"SELECT email_index, email, full_name, phone, address FROM people",
                   "SELECT token_index, token FROM payment_methods"}) {
      auto rows = *db->Query(q);
      for (const auto& r : rows) {
        for (size_t i = 0; i < r.size(); ++i) out += r.Text(i) + "|";
      }
    }
    return out;
  }
  cw::testing::TempDir tmp_;
  std::string uri_, key_file_;
  std::unique_ptr<Vault> vault_;
};

TEST_P(VaultTest, PiiIsEncryptedAtRestAndReadBackOnlyWithAPurpose) {
  ASSERT_TRUE(vault_->AddPerson(kAlice, kAlicePerson, kOps).ok());
  ASSERT_TRUE(vault_->AddPaymentToken(kAlice, "TOKabcdefghijklmnopqrstu", kOps).ok());
  std::string dump = Dump();
  for (const char* secret : {"Alice", "Meyer", "example.com", "1234567", "Hauptstr", "TOKabcdefghijklmnopqrstu"}) {
    EXPECT_EQ(dump.find(secret), std::string::npos) << secret << " is stored in the clear";
  }
  EXPECT_NE(dump.find("contact:1:"), std::string::npos);
  EXPECT_NE(dump.find("payment:1:"), std::string::npos);
  auto p = vault_->ReadPerson(kAlice, kOps);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(p->email, kAlicePerson.email);
  EXPECT_EQ(p->address, kAlicePerson.address);
  EXPECT_EQ(*vault_->FirstName(kAlice, {"identity", "service", "greet the customer on the cart"}), "Alice");
  EXPECT_EQ(vault_->ReadPerson(kAlice, {"olga", "ops", ""}).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(vault_->ReadPerson(kBob, kOps).error().code(), Code::kNotFound);
  EXPECT_EQ(*vault_->AccountForPaymentToken("TOKabcdefghijklmnopqrstu", kOps), kAlice);
  EXPECT_FALSE(vault_->AccountForPaymentToken("TOKzzzzzzzzzzzzzzzzzzzzz", kOps)->has_value());
  EXPECT_EQ(*vault_->AccountForEmail("alice.meyer@EXAMPLE.com", kOps), kAlice);
  // One person per e-mail, one account per token.
  EXPECT_EQ(vault_->AddPerson(kBob, {"alice.meyer@example.com", "Other", "", ""}, kOps).code(), Code::kAlreadyExists);
  EXPECT_EQ(vault_->AddPaymentToken(kBob, "TOKabcdefghijklmnopqrstu", kOps).code(), Code::kAlreadyExists);
}

TEST_P(VaultTest, MovingACiphertextToAnotherRowIsDetected) {
  ASSERT_TRUE(vault_->AddPerson(kAlice, kAlicePerson, kOps).ok());
  ASSERT_TRUE(vault_->AddPerson(kBob, {"bob@example.com", "Bob Stone", "", ""}, kOps).ok());
  auto db = Raw();
  auto alice_name = (*db->Query("SELECT full_name FROM people WHERE account_id = $1", {kAlice.str()}))[0].Text(0);
  ASSERT_TRUE(db->Exec("UPDATE people SET full_name = $1 WHERE account_id = $2", {alice_name, kBob.str()}).ok());
  auto read = vault_->FirstName(kBob, kOps);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code(), Code::kCorruption);
}

TEST_P(VaultTest, RotationKeepsOldValuesReadableUntilReencrypted) {
  ASSERT_TRUE(vault_->AddPerson(kAlice, kAlicePerson, kOps).ok());
  ASSERT_TRUE(vault_->RotateDomain("contact", false, kOps).ok());
  ASSERT_TRUE(vault_->AddPerson(kBob, {"bob@example.com", "Bob Stone", "", ""}, kOps).ok());
  std::string dump = Dump();
  EXPECT_NE(dump.find("contact:1:"), std::string::npos);  // Alice, still under v1
  EXPECT_NE(dump.find("contact:2:"), std::string::npos);  // Bob, under v2
  EXPECT_EQ(vault_->ReadPerson(kAlice, kOps)->full_name, "Alice Meyer");
  auto keys = *vault_->Keys();
  int contact_versions = 0;
  for (const auto& k : keys) contact_versions += k.domain == "contact";
  EXPECT_EQ(contact_versions, 2);

  ASSERT_TRUE(vault_->RotateDomain("contact", true, kOps).ok());
  dump = Dump();
  EXPECT_EQ(dump.find("contact:1:"), std::string::npos);
  EXPECT_EQ(dump.find("contact:2:"), std::string::npos);
  EXPECT_NE(dump.find("contact:3:"), std::string::npos);
  auto rotated = *vault_->Keys();
  for (const auto& k : rotated) {
    if (k.domain == "contact") {
      EXPECT_EQ(k.version, 3);
      EXPECT_EQ(k.values, 6);  // Alice's four fields, Bob's e-mail and name (he gave no phone or address)
    }
  }
  EXPECT_EQ(vault_->ReadPerson(kBob, kOps)->email, "bob@example.com");
  EXPECT_EQ(vault_->RotateDomain("index", false, kOps).code(), Code::kInvalidArgument);

  // A master rotation re-wraps every data key; a fresh process reads everything with the new file.
  ASSERT_TRUE(vault_->RotateMaster(kOps).ok());
  auto rewrapped = *vault_->Keys();
  for (const auto& k : rewrapped) EXPECT_EQ(k.master_version, 2) << k.domain;
  vault_.reset();
  auto again = OpenVault();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->ReadPerson(kAlice, kOps)->phone, kAlicePerson.phone);
  EXPECT_EQ(*again->AccountForEmail("bob@example.com", kOps), kBob);  // the blind index survived rotations
}

TEST_P(VaultTest, TheKeyFileMustBePrivateAndPresent) {
  struct stat st {};
  ASSERT_EQ(::stat(key_file_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::chmod(key_file_.c_str(), 0644), 0);
  auto open = Vault::Open(uri_, key_file_, Clock::System());
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.error().message().find("chmod 600"), std::string::npos) << open.error().ToString();
  ASSERT_EQ(::chmod(key_file_.c_str(), 0600), 0);
  ASSERT_EQ(::rename(key_file_.c_str(), (key_file_ + ".moved").c_str()), 0);
  open = Vault::Open(uri_, key_file_, Clock::System());
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.error().message().find("is missing; restore it"), std::string::npos) << open.error().ToString();
}

TEST_P(VaultTest, EveryAccessIsAuditedAndTamperingIsDetected) {
  ASSERT_TRUE(vault_->AddPerson(kAlice, kAlicePerson, kOps).ok());
  ASSERT_TRUE(vault_->ReadPerson(kAlice, kOps).ok());
  ASSERT_TRUE(vault_->FirstName(kAlice, {"identity", "service", "greet"}).ok());
  ASSERT_TRUE(vault_->AccountForPaymentToken("TOKzzzzzzzzzzzzzzzzzzzzz", {"identity", "service", "identify"}).ok());
  auto entries = *vault_->audit().List({});
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[1].action, "decrypt");
  EXPECT_EQ(entries[1].actor, "olga");
  EXPECT_EQ(entries[1].purpose, kOps.purpose);
  EXPECT_TRUE(entries[1].pii);
  EXPECT_EQ(entries[1].target.rfind("account=" + kAlice.str(), 0), 0u);
  EXPECT_EQ(entries[3].action, "join:payment_token->account");
  EXPECT_EQ(*vault_->audit().Verify(), 4);
  ASSERT_TRUE(Raw()->Exec("UPDATE vault_audit SET purpose = 'marketing' WHERE seq = 2").ok());
  auto verdict = vault_->audit().Verify();
  ASSERT_FALSE(verdict.ok());
  EXPECT_NE(verdict.error().message().find("vault_audit entry 2 was altered"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Backends, VaultTest, ::testing::ValuesIn(kVaultBackends), store::BackendName);

}  // namespace
}  // namespace cw::identity
