// The entity-store conformance suite, device-registry part: every backend must pass every case
// (rocksdb env_basic_test style). Adding a backend means adding one line to kEntityBackends
// (entity_fixture.h). The model's other slices are in entity_model_conformance_test.cc.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "core/time_format.h"
#include "store/tests/entity_fixture.h"

namespace cw::store {
namespace {

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

INSTANTIATE_TEST_SUITE_P(Backends, EntityStoreConformance, ::testing::ValuesIn(kEntityBackends),
                         BackendName);

}  // namespace
}  // namespace cw::store
