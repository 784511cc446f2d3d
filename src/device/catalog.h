// device/catalog.h — the cart's local price cache: the store's top SKUs, so the display can
// acknowledge a scan without asking the cloud.
//
// Source: the store's catalog export, CSV with header `sku,name,price_cents,expected_weight_g,category`,
// rows ranked by sales (most sold first). The cart keeps the first `capacity` rows (2,000 on v2).
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace cw::device {

struct CatalogItem {
  std::string sku;
  std::string name;
  int64_t price_cents = 0;
  std::optional<int> expected_weight_g;  // empty for items sold without a weight check
  std::string category;
};

class Catalog {
 public:
  static constexpr size_t kDefaultCapacity = 2000;

  // Parses the CSV text. InvalidArgument names the line of the first bad row.
  static Result<Catalog> Parse(const std::string& csv, size_t capacity = kDefaultCapacity);
  static Result<Catalog> Load(const std::string& path, size_t capacity = kDefaultCapacity);

  // nullptr when the SKU is not cached.
  const CatalogItem* Find(std::string_view sku) const;
  const std::vector<CatalogItem>& items() const { return items_; }

 private:
  std::vector<CatalogItem> items_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace cw::device
