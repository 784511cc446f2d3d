// The entity-store conformance fixture: the backends every case runs on, and record makers.
#pragma once

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "store/registry.h"
#include "store/sql.h"
#include "store/tests/conformance.h"
#include "testing/postgres_server.h"
#include "testing/temp_dir.h"

namespace cw::store {

inline const Backend kEntityBackends[] = {
    {"SqliteMemory", [](const std::string&) { return std::string("sqlite::memory:"); }, false},
    {"SqliteFile", [](const std::string& dir) { return "sqlite:" + dir + "/entity.db"; }},
    // A real server started by the harness; each case gets its own database.
    {"Postgres", [](const std::string&) { return cw::testing::FreshPostgresUri(); }},
};

inline const Time kT0 = *ParseWireTime("2026-11-22T10:00:00.000Z");

inline StoreRecord MakeStore(const std::string& id, Region region = Region::kEu) {
  return {*StoreId::Parse(id), "Markt " + id, "freshco", region, "Europe/Berlin", kT0};
}

inline CartRecord MakeCart(uint32_t n, const std::string& store) {
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
  // A second, raw connection to the same database (for tampering like an attacker with write
  // access would); nullptr for a store that cannot be reached twice (sqlite::memory:).
  std::unique_ptr<sql::Database> OpenRaw() const {
    if (uri_ == "sqlite::memory:") return nullptr;
    auto db = uri_.starts_with("sqlite:") ? sql::OpenSqlite(uri_.substr(7)) : sql::OpenPostgres(uri_);
    EXPECT_TRUE(db.ok()) << db.error().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }
  // Store "A" with carts 1 and 2.
  void AddStoreWithCarts() {
    ASSERT_TRUE(store_->AddStore(MakeStore("A")).ok());
    ASSERT_TRUE(store_->AddCart(MakeCart(1, "A")).ok());
    ASSERT_TRUE(store_->AddCart(MakeCart(2, "A")).ok());
  }

  cw::testing::TempDir tmp_;
  std::string uri_;
  std::unique_ptr<EntityStore> store_;
};

}  // namespace cw::store
