#include "retail/catalog_import.h"

#include <charconv>
#include <map>

#include "core/csv.h"

namespace cw::retail {
namespace {

constexpr std::string_view kColumns[] = {"sku", "name", "price_cents", "expected_weight_g", "category"};
constexpr size_t kMaxReported = 50;

bool ValidSku(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::optional<int64_t> WholeNumber(std::string_view s) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

Result<std::vector<store::ItemRecord>> ParseCatalogCsv(const StoreId& store, std::string_view text,
                                                       std::string_view source) {
  std::vector<std::string> errors;
  auto fail = [&](size_t line, const std::string& what) {
    errors.push_back(std::string(source) + ":" + std::to_string(line) + ": " + what);
  };
  CsvReader reader(text);
  auto header = reader.Next();
  if (!header.ok()) return InvalidArgument(std::string(source) + ": " + header.error().message());
  if (!*header) return InvalidArgument(std::string(source) + " is empty (expected a header row: sku,name,price_cents,expected_weight_g,category)");
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < (*header)->fields.size(); ++i) {
    const std::string& name = (*header)->fields[i];
    bool known = false;
    for (auto k : kColumns) known |= name == k;
    if (!known) fail(1, "unknown column '" + name + "' (expected sku, name, price_cents, expected_weight_g, category)");
    else if (!column.emplace(name, i).second) fail(1, "column '" + name + "' appears twice");
  }
  for (auto k : kColumns) {
    if (!column.count(std::string(k))) fail(1, "missing column '" + std::string(k) + "'");
  }
  if (!errors.empty()) {
    std::string msg = std::to_string(errors.size()) + " problem(s) in " + std::string(source) + "; nothing was applied";
    for (const auto& e : errors) msg += "\n  " + e;
    return InvalidArgument(msg);
  }

  std::vector<store::ItemRecord> items;
  std::map<std::string, size_t> first_line;  // sku → line, for duplicates
  size_t bad_rows = 0;
  for (;;) {
    auto next = reader.Next();
    if (!next.ok()) {
      ++bad_rows;
      errors.push_back(std::string(source) + ":" + next.error().message().substr(5));  // "line N: …" → "N: …"
      break;
    }
    if (!*next) break;
    const CsvRecord& row = **next;
    size_t before = errors.size();
    if (row.fields.size() != column.size()) {
      fail(row.line, std::to_string(row.fields.size()) + " fields, expected " + std::to_string(column.size()));
    } else {
      auto get = [&](std::string_view name) -> const std::string& { return row.fields[column.at(std::string(name))]; };
      store::ItemRecord item{.store = store};
      item.sku = get("sku");
      item.name = get("name");
      item.category = get("category");
      if (!ValidSku(item.sku)) fail(row.line, "sku '" + item.sku.substr(0, 40) + "' is not 1-32 of 0-9 A-Z a-z -");
      if (item.name.empty() || item.name.size() > 200) fail(row.line, "name must be 1-200 characters");
      if (item.category.empty() || item.category.size() > 64) fail(row.line, "category must be 1-64 characters");
      auto price = WholeNumber(get("price_cents"));
      if (!price || *price < 0 || *price > 100'000'000) {
        fail(row.line, "price_cents '" + get("price_cents").substr(0, 20) + "' is not a whole number of cents 0-100000000");
      } else {
        item.price_cents = *price;
      }
      const std::string& weight = get("expected_weight_g");
      if (!weight.empty()) {
        auto w = WholeNumber(weight);
        if (!w || *w < 1 || *w > 30000) {
          fail(row.line, "expected_weight_g '" + weight.substr(0, 20) + "' is not empty or a whole number of grams 1-30000");
        } else {
          item.expected_weight_g = static_cast<int>(*w);
        }
      }
      if (errors.size() == before && ValidSku(item.sku)) {
        auto [it, fresh] = first_line.emplace(item.sku, row.line);
        if (!fresh) fail(row.line, "sku " + item.sku + " already appeared on line " + std::to_string(it->second));
      }
      if (errors.size() == before) items.push_back(std::move(item));
    }
    if (errors.size() != before) ++bad_rows;
  }
  if (!errors.empty()) {
    std::string msg = std::to_string(bad_rows) + " bad row(s) in " + std::string(source) + "; nothing was applied";
    for (size_t i = 0; i < errors.size() && i < kMaxReported; ++i) msg += "\n  " + errors[i];
    if (errors.size() > kMaxReported) msg += "\n  … and " + std::to_string(errors.size() - kMaxReported) + " more";
    return InvalidArgument(msg);
  }
  return items;
}

Result<store::CatalogDiff> ImportCatalog(store::Catalog& catalog, const StoreId& store, std::string_view text,
                                         std::string_view source) {
  CW_ASSIGN_OR_RETURN(auto items, ParseCatalogCsv(store, text, source));
  return catalog.ReplaceCatalog(store, items);
}

}  // namespace cw::retail
