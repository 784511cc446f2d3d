// retail/catalog_import.h — a store's catalog from its POS export (CSV).
//
// Cartwright is never the source of truth for items: an import makes the store's catalog exactly
// the file, reports what was added, changed and removed, and is idempotent. A file with any bad
// row applies nothing, and every bad row is reported with its line number.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/ids.h"
#include "core/status.h"
#include "store/entity_store.h"

namespace cw::retail {

// The columns, in any order (a header row names them): sku, name, price_cents,
// expected_weight_g (may be empty: an item sold without a weight check), category.
// InvalidArgument lists every bad row as "SOURCE:LINE: what is wrong" (at most 50, then a count).
Result<std::vector<store::ItemRecord>> ParseCatalogCsv(const StoreId& store, std::string_view text,
                                                       std::string_view source);

// Parses and applies in one transaction.
Result<store::CatalogDiff> ImportCatalog(store::Catalog& catalog, const StoreId& store, std::string_view text,
                                         std::string_view source);

}  // namespace cw::retail
