// The entity-store conformance suite: every backend must pass every case (rocksdb env_basic_test
// style). Adding a backend means adding one line to kBackends.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "core/time_format.h"
#include "store/registry.h"
#include "store/tests/conformance.h"
#include "testing/temp_dir.h"

namespace cw::store {
namespace {

const Backend kBackends[] = {
    {"SqliteMemory", [](const std::string&) { return std::string("sqlite::memory:"); }, false},
    {"SqliteFile", [](const std::string& dir) { return "sqlite:" + dir + "/entity.db"; }},
};

const Time kT0 = *ParseWireTime("2026-11-22T10:00:00.000Z");

StoreRecord MakeStore(const std::string& id, Region region = Region::kEu) {
  return {*StoreId::Parse(id), "Markt " + id, "freshco", region, "Europe/Berlin", kT0};
}

CartRecord MakeCart(uint32_t n, const std::string& store) {
  std::string s = std::to_string(n);
  return {CartId::FromNumber(n), *StoreId::Parse(store), "SN" + s, "fp" + s, "pub" + s, "cert" + s,
          CartStatus::kActive, kT0 + std::chrono::seconds(n)};
}

class EntityStoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    uri_ = GetParam().uri(tmp_.path());
    auto s = Registry::WithBuiltinBackends().OpenEntity(uri_);
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    store_ = std::move(s).value();
  }
  cw::testing::TempDir tmp_;
  std::string uri_;
  std::unique_ptr<EntityStore> store_;
};

TEST_P(EntityStoreConformance, StoresRoundTripAndListInOrder) {
  ASSERT_TRUE(store_->AddStore(MakeStore("STORE-002", Region::kUs)).ok());
  ASSERT_TRUE(store_->AddStore(MakeStore("STORE-001")).ok());
  auto got = store_->GetStore(*StoreId::Parse("STORE-001"));
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->name, "Markt STORE-001");
  EXPECT_EQ(got->partner, "freshco");
  EXPECT_EQ(got->region, Region::kEu);
  EXPECT_EQ(got->timezone, "Europe/Berlin");
  EXPECT_EQ(got->created_at, kT0);
  auto all = *store_->ListStores();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id.str(), "STORE-001");
  EXPECT_EQ(all[1].region, Region::kUs);
}

TEST_P(EntityStoreConformance, DuplicateStoreIsAlreadyExistsAndChangesNothing) {
  ASSERT_TRUE(store_->AddStore(MakeStore("STORE-001")).ok());
  StoreRecord again = MakeStore("STORE-001");
  again.name = "Other";
  EXPECT_EQ(store_->AddStore(again).code(), Code::kAlreadyExists);
  EXPECT_EQ(store_->GetStore(again.id)->name, "Markt STORE-001");
}

TEST_P(EntityStoreConformance, MissingThingsAreNotFound) {
  EXPECT_EQ(store_->GetStore(*StoreId::Parse("NOPE")).error().code(), Code::kNotFound);
  EXPECT_EQ(store_->GetCart(CartId::FromNumber(9)).error().code(), Code::kNotFound);
  EXPECT_EQ(store_->SetCartStatus(CartId::FromNumber(9), CartStatus::kRevoked).code(), Code::kNotFound);
  EXPECT_EQ(store_->AddCart(MakeCart(1, "NOPE")).code(), Code::kNotFound);
}

TEST_P(EntityStoreConformance, CartsRoundTripAndFilterByStore) {
  ASSERT_TRUE(store_->AddStore(MakeStore("A")).ok());
  ASSERT_TRUE(store_->AddStore(MakeStore("B")).ok());
  ASSERT_TRUE(store_->AddCart(MakeCart(3, "A")).ok());
  ASSERT_TRUE(store_->AddCart(MakeCart(1, "A")).ok());
  ASSERT_TRUE(store_->AddCart(MakeCart(2, "B")).ok());
  auto c = *store_->GetCart(CartId::FromNumber(3));
  EXPECT_EQ(c.store.str(), "A");
  EXPECT_EQ(c.serial, "SN3");
  EXPECT_EQ(c.cert_fingerprint, "fp3");
  EXPECT_EQ(c.public_key_pem, "pub3");
  EXPECT_EQ(c.certificate_pem, "cert3");
  EXPECT_EQ(c.status, CartStatus::kActive);
  EXPECT_EQ(c.registered_at, kT0 + std::chrono::seconds(3));
  auto in_a = *store_->ListCarts(*StoreId::Parse("A"));
  ASSERT_EQ(in_a.size(), 2u);
  EXPECT_EQ(in_a[0].id, CartId::FromNumber(1));
  EXPECT_EQ(in_a[1].id, CartId::FromNumber(3));
  EXPECT_EQ(store_->ListCarts(std::nullopt)->size(), 3u);
}

TEST_P(EntityStoreConformance, OneIdentityOneCart) {
  ASSERT_TRUE(store_->AddStore(MakeStore("A")).ok());
  ASSERT_TRUE(store_->AddCart(MakeCart(1, "A")).ok());
  CartRecord same_id = MakeCart(1, "A");
  same_id.serial = "other";
  same_id.cert_fingerprint = "other";
  EXPECT_EQ(store_->AddCart(same_id).code(), Code::kAlreadyExists);
  CartRecord same_serial = MakeCart(2, "A");
  same_serial.serial = "SN1";
  EXPECT_EQ(store_->AddCart(same_serial).code(), Code::kAlreadyExists);
  CartRecord same_cert = MakeCart(3, "A");
  same_cert.cert_fingerprint = "fp1";
  EXPECT_EQ(store_->AddCart(same_cert).code(), Code::kAlreadyExists);
  EXPECT_EQ(store_->ListCarts(std::nullopt)->size(), 1u);
}

TEST_P(EntityStoreConformance, StatusChangesStick) {
  ASSERT_TRUE(store_->AddStore(MakeStore("A")).ok());
  ASSERT_TRUE(store_->AddCart(MakeCart(1, "A")).ok());
  ASSERT_TRUE(store_->SetCartStatus(CartId::FromNumber(1), CartStatus::kRevoked).ok());
  EXPECT_EQ(store_->GetCart(CartId::FromNumber(1))->status, CartStatus::kRevoked);
}

TEST_P(EntityStoreConformance, NextCartNumberFollowsTheHighest) {
  EXPECT_EQ(*store_->NextCartNumber(), 1u);
  ASSERT_TRUE(store_->AddStore(MakeStore("A")).ok());
  ASSERT_TRUE(store_->AddCart(MakeCart(41, "A")).ok());
  ASSERT_TRUE(store_->AddCart(MakeCart(7, "A")).ok());
  EXPECT_EQ(*store_->NextCartNumber(), 42u);
}

TEST_P(EntityStoreConformance, ConcurrentWritersDoNotLoseOrDuplicate) {
  ASSERT_TRUE(store_->AddStore(MakeStore("A")).ok());
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (uint32_t i = 0; i < 25; ++i) {
        if (store_->AddCart(MakeCart(1 + (i * 4 + t) % 60, "A")).ok()) ok++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 60);
  EXPECT_EQ(store_->ListCarts(std::nullopt)->size(), 60u);
}

TEST(SqliteEntityStore, PersistsAcrossReopen) {
  cw::testing::TempDir tmp;
  std::string uri = "sqlite:" + tmp.path() + "/e.db";
  {
    auto s = *Registry::WithBuiltinBackends().OpenEntity(uri);
    ASSERT_TRUE(s->AddStore(MakeStore("A")).ok());
    ASSERT_TRUE(s->AddCart(MakeCart(5, "A")).ok());
  }
  auto s = *Registry::WithBuiltinBackends().OpenEntity(uri);
  EXPECT_EQ(s->GetCart(CartId::FromNumber(5))->serial, "SN5");
}

INSTANTIATE_TEST_SUITE_P(Backends, EntityStoreConformance, ::testing::ValuesIn(kBackends),
                         BackendName);

}  // namespace
}  // namespace cw::store
