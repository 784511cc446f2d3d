#include "device/catalog.h"

#include <charconv>
#include <sstream>

#include "core/files.h"

namespace cw::device {
namespace {
std::vector<std::string> SplitCsvLine(const std::string& line) {
  // The catalog export never quotes (SKUs and prices have no commas); names with commas are
  // refused by the column count check rather than misread.
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else if (c != '\r') {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

bool ToInt(const std::string& s, int64_t& out) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool ValidSku(const std::string& s) {
  if (s.empty() || s.size() > 32) return false;
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}
}  // namespace

Result<Catalog> Catalog::Parse(const std::string& csv, size_t capacity) {
  Catalog cat;
  std::istringstream in(csv);
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (lineno == 1) {
      if (line.rfind("sku,name,price_cents,expected_weight_g,category", 0) != 0) {
        return InvalidArgument("catalog line 1: header must be sku,name,price_cents,expected_weight_g,category");
      }
      continue;
    }
    if (line.empty() || line == "\r") continue;
    auto f = SplitCsvLine(line);
    std::string where = "catalog line " + std::to_string(lineno) + ": ";
    if (f.size() != 5) return InvalidArgument(where + "expected 5 columns, got " + std::to_string(f.size()));
    if (!ValidSku(f[0])) return InvalidArgument(where + "sku must be 1-32 of [0-9A-Za-z-]");
    int64_t price = 0, weight = 0;
    if (!ToInt(f[2], price) || price < 0) return InvalidArgument(where + "price_cents must be a whole number >= 0");
    CatalogItem item{f[0], f[1], price, std::nullopt, f[4]};
    if (!f[3].empty()) {
      if (!ToInt(f[3], weight) || weight < 0 || weight > 100000) {
        return InvalidArgument(where + "expected_weight_g must be empty or 0-100000");
      }
      item.expected_weight_g = static_cast<int>(weight);
    }
    if (cat.items_.size() < capacity && !cat.index_.count(item.sku)) {
      cat.index_[item.sku] = cat.items_.size();
      cat.items_.push_back(std::move(item));
    }
  }
  if (lineno == 0) return InvalidArgument("catalog is empty (no header)");
  return cat;
}

Result<Catalog> Catalog::Load(const std::string& path, size_t capacity) {
  CW_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto cat = Parse(text, capacity);
  if (!cat.ok()) return cat.error().WithContext(path);
  return cat;
}

const CatalogItem* Catalog::Find(std::string_view sku) const {
  auto it = index_.find(std::string(sku));
  return it == index_.end() ? nullptr : &items_[it->second];
}

}  // namespace cw::device
