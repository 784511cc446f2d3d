// The in-memory OrderedKv: sorted maps under one mutex. For unit tests and `memory:` URIs.
#include <map>
#include <mutex>

#include "store/ordered_kv.h"

namespace cw::store {

namespace {

uint64_t GetBe64(std::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[i]);
  return v;
}

class MemoryKv final : public OrderedKv {
 public:
  Status Write(const std::vector<Put>& puts) override {
    std::lock_guard lock(mu_);
    for (const auto& p : puts) tables_[p.table][p.key] = p.value;
    return Status::Ok();
  }

  Status Erase(Table table, const std::vector<std::string>& keys) override {
    std::lock_guard lock(mu_);
    for (const auto& k : keys) tables_[table].erase(k);
    return Status::Ok();
  }

  Result<std::optional<std::string>> Get(Table table, const std::string& key) override {
    std::lock_guard lock(mu_);
    auto it = tables_[table].find(key);
    if (it == tables_[table].end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  Status Scan(Table table, const std::string& from, const std::string& to, bool reverse, const Visitor& visit) override {
    // Visits in place under the (recursive) lock: a visitor may read the store, never write it.
    std::lock_guard lock(mu_);
    auto& t = tables_[table];
    if (!to.empty() && to <= from) return Status::Ok();
    auto begin = t.lower_bound(from);
    auto end = to.empty() ? t.end() : t.lower_bound(to);
    if (reverse) {
      for (auto it = end; it != begin;) {
        --it;
        if (!visit(it->first, it->second)) break;
      }
    } else {
      for (auto it = begin; it != end; ++it) {
        if (!visit(it->first, it->second)) break;
      }
    }
    return Status::Ok();
  }

  Status DropExpired(Time now) override {
    std::lock_guard lock(mu_);
    for (auto& t : tables_) {
      for (auto it = t.begin(); it != t.end();) {
        it = ValueExpiry(it->second) <= now ? t.erase(it) : std::next(it);
      }
    }
    return Status::Ok();
  }

 private:
  std::recursive_mutex mu_;
  std::map<std::string, std::string> tables_[kTableCount];  // guarded by mu_
};

}  // namespace

const char* OrderedKv::TableName(Table t) {
  switch (t) {
    case kEvents: return "events";
    case kByStore: return "by_store";
    case kBySeq: return "by_seq";
    case kRejects: return "rejects";
    case kRejectsByCart: return "rejects_by_cart";
    case kUnrouted: return "unrouted";
    case kTableCount: break;
  }
  return "?";
}

Time ValueExpiry(std::string_view value) {
  if (value.size() < 8) return kNever;
  return Time(std::chrono::microseconds(static_cast<int64_t>(GetBe64(value))));
}

Result<std::unique_ptr<OrderedKv>> OpenMemoryKv() { return std::unique_ptr<OrderedKv>(new MemoryKv()); }

}  // namespace cw::store
