// store/telemetry_store.h — accepted device events and the ingest's dead letters.
//
// Shaped for DESIGN.md §3's access patterns, the same way on every engine (RocksDB here, the
// DynamoDB API in production):
//   - partition key cart_id, sort key (event ts, seq): newest-first events of one cart is a
//     single-partition range read;
//   - a secondary index by (store_id, ts): one store's events in a time window;
//   - (cart_id, seq) → digest: the ingest's dedup check;
//   - every item carries `expires_at` (event ts + the hot retention), and the engine removes expired
//     items itself (RocksDB: a compaction filter; DynamoDB: TTL) — there is no cron job. Like
//     DynamoDB's TTL, removal is lazy, so reads never return an expired item either.
//
// Thread-safety: every method may be called from any thread. Commit is atomic and durable.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/status.h"
#include "wire/types.h"

namespace cw::store {

using Digest = std::array<uint8_t, 32>;  // SHA-256

// Ids have no empty value, so build these with designated initialisers.
struct TelemetryEvent {
  CartId cart;
  StoreId store;               // the cart's store when the event was accepted
  uint64_t seq = 0;
  Time ts{};                   // device time
  Time received_at{};          // server receive time; ts - received_at is the cart's clock skew
  Time expires_at{};           // removed by the engine after this
  wire::EventType type = wire::EventType::kHealth;
  bool late = false;
  Digest digest{};             // SHA-256 of the payload as received: a redelivery vs a seq conflict
  // What is kept: the signed envelope exactly as received, except `identify`, whose credential is
  // removed (the JSON without it, and no signature, since it no longer covers these bytes).
  std::string body;
};

struct DeadLetter {
  Time received_at{};
  Time expires_at{};
  std::string topic;
  std::optional<CartId> cart;  // when the topic named a well-formed cart id
  std::optional<uint64_t> seq;  // when it could be read
  wire::RejectReason reason = wire::RejectReason::kInternalError;
  std::string detail;
  std::string payload;  // the raw bytes (an identify credential is removed before this point)
};

// What one ingest batch writes: all of it or none of it.
struct TelemetryBatch {
  std::vector<TelemetryEvent> events;
  std::vector<DeadLetter> rejects;
  // Indexes into `events` of those the ingest acknowledges before its sinks have them: the same
  // commit lists them in the routing outbox (Unrouted) until MarkRouted.
  std::vector<size_t> unrouted;
  bool empty() const { return events.empty() && rejects.empty(); }
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_cursor;  // empty when there is nothing more
};

struct RejectQuery {
  std::optional<CartId> cart;
  std::optional<wire::RejectReason> reason;
  size_t limit = 100;
  std::string cursor;
};

class TelemetryStore {
 public:
  virtual ~TelemetryStore() = default;

  // Stores the whole batch atomically and durably: when Ok returns, all of it survives a crash
  // (kill -9 or power loss); on an error none of it is visible. An event whose (cart, seq) is
  // already stored replaces it (the caller dedups first; replaying a committed batch is harmless).
  virtual Status Commit(const TelemetryBatch& batch) = 0;

  // The digest stored for (cart, seq), or nullopt if none (or expired).
  virtual Result<std::optional<Digest>> FindSeq(const CartId& cart, uint64_t seq) = 0;

  // One cart's events, newest first by (ts, seq). `cursor` is "" for the first page, then the
  // previous page's next_cursor; an unreadable cursor is InvalidArgument.
  virtual Result<Page<TelemetryEvent>> NewestForCart(const CartId& cart, size_t limit, const std::string& cursor) = 0;

  // One store's events with since <= ts < until, oldest first.
  virtual Result<Page<TelemetryEvent>> ForStore(const StoreId& store, Time since, Time until, size_t limit,
                                                const std::string& cursor) = 0;

  // Dead letters, newest first, optionally for one cart and/or one reason.
  virtual Result<Page<DeadLetter>> Rejects(const RejectQuery& query) = 0;

  // The routing outbox (a transactional outbox): up to `limit` events committed as `unrouted` and
  // not yet marked routed, in the order they were received (so in commit order). After a crash
  // this is what the ingest's sinks have still to see. An event that expired meanwhile is skipped.
  virtual Result<std::vector<TelemetryEvent>> Unrouted(size_t limit) = 0;

  // Takes events out of the outbox. Not synced: after a crash the latest ones may be listed again,
  // which costs only a repeat of idempotent work. Events not in the outbox are ignored.
  virtual Status MarkRouted(const std::vector<const TelemetryEvent*>& events) = 0;

  // Removes expired items now rather than whenever the engine gets to them (tests, and an
  // operator reclaiming space). Reads already ignore expired items.
  virtual Status CompactExpired() = 0;
};

// A cursor for NewestForCart that starts at `cart`'s events older than `before` (device time):
// "the newest 50 before 10:00" without reading what came after.
std::string CartCursorBefore(const CartId& cart, Time before);
// A cursor for NewestForCart that continues after `event` (with the cart's older events).
std::string CartCursorAfter(const TelemetryEvent& event);

// kReadOnly: a second process (an operator command) reading while `cartwright serve` writes; it
// sees what was committed when it opened, and Commit/CompactExpired fail with FailedPrecondition.
enum class OpenMode { kReadWrite, kReadOnly };

// Backends, also reachable through store::Registry ("memory:", "rocksdb:PATH").
Result<std::unique_ptr<TelemetryStore>> OpenMemoryTelemetryStore(Clock& clock);
Result<std::unique_ptr<TelemetryStore>> OpenRocksTelemetryStore(const std::string& path, Clock& clock,
                                                                OpenMode mode = OpenMode::kReadWrite);

}  // namespace cw::store
