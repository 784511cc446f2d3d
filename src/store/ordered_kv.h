// store/ordered_kv.h — the ordered key-value engine under the embedded telemetry store.
//
// The telemetry store's keys, encodings and queries are written once (kv_telemetry_store.cc) over
// this narrow interface; an engine only has to keep a few sorted tables. RocksDB (column
// families) is the embedded engine, std::map the in-memory one for unit tests.
//
// Every value starts with its expiry time (8 bytes, big-endian microseconds since the epoch), so
// an engine can drop expired items without understanding them (RocksDB: a compaction filter).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace cw::store {

class OrderedKv {
 public:
  enum Table { kEvents, kByStore, kBySeq, kRejects, kRejectsByCart, kUnrouted, kTableCount };
  static const char* TableName(Table t);

  struct Put {
    Table table;
    std::string key;
    std::string value;
  };
  using Visitor = std::function<bool(std::string_view key, std::string_view value)>;

  virtual ~OrderedKv() = default;

  // Applies all puts atomically; durable (synced) when Ok returns.
  virtual Status Write(const std::vector<Put>& puts) = 0;
  // Removes the keys (absent ones are no error), atomically but WITHOUT a sync: a crash may bring
  // back the latest erases, so use it only where redoing what the key stood for is harmless.
  virtual Status Erase(Table table, const std::vector<std::string>& keys) = 0;
  // The value under `key`, nullopt if absent.
  virtual Result<std::optional<std::string>> Get(Table table, const std::string& key) = 0;
  // Visits the keys in [from, to) — ascending, or descending when `reverse` — until `visit`
  // returns false. An empty `to` means "to the end of the table".
  virtual Status Scan(Table table, const std::string& from, const std::string& to, bool reverse,
                      const Visitor& visit) = 0;
  // Drops every item whose expiry is at or before `now`.
  virtual Status DropExpired(Time now) = 0;
};

// Reads the expiry prefix of a value (kNever if the value is too short to carry one).
inline constexpr Time kNever = Time::max();
Time ValueExpiry(std::string_view value);

Result<std::unique_ptr<OrderedKv>> OpenMemoryKv();
// `clock` drives the compaction filter that removes expired items; it must outlive the engine.
// `read_only` opens without the writer's lock (Write and DropExpired then fail).
Result<std::unique_ptr<OrderedKv>> OpenRocksKv(const std::string& path, Clock& clock, bool read_only = false);

}  // namespace cw::store
