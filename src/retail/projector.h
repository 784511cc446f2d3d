// retail/projector.h — cart events → entity state: sessions, scans, payments, session faults and
// each cart's last-known state. Plugged into the ingest as an EventSink.
//
// Every event becomes one fact in the entity store (SessionLedger::Record*, keyed by the event's
// (cart, seq)), and the store re-derives what readers see from the facts, so any arrival order
// and any duplicates give the same state. The projector decides only what is a property of one
// event: whether a scan's weight is off.
#pragma once

#include <atomic>
#include <optional>

#include "ingest/event_sink.h"
#include "store/entity_store.h"

namespace cw::retail {

// Loss prevention: the platform's weight change for a scan of `qty` units differs from their
// expected weight by more than max(20 g, 5%). Unknown expected weight: not checked (false).
bool WeightMismatch(int weight_delta_g, std::optional<int> expected_per_unit_g, int qty);

struct ProjectorStats {
  uint64_t applied = 0;
  uint64_t skipped = 0;  // events refused by the store as inconsistent (logged)
};

class Projector final : public ingest::EventSink {
 public:
  explicit Projector(store::EntityStore& entities) : entities_(entities) {}

  // The event types it consumes (health, session-start, scan, session-end, fault).
  static std::vector<wire::EventType> Types();

  // Writes the whole share of a batch with one EntityStore::RecordFacts (one transaction, each
  // session re-derived once), with each cart's activity (last seen, newest fault) for the
  // locator. Transient store trouble is returned (the ingest retries); an event the store refuses
  // as inconsistent — a session id used by two carts — is logged and skipped.
  Status OnBatch(std::span<const ingest::RoutedEvent> events) override;

  // One event (outside a batch): Ok, or why the store refused it.
  Status Apply(const store::TelemetryEvent& event, const rapidjson::Value& doc);

  ProjectorStats stats() const { return {applied_.load(), skipped_.load()}; }

 private:
  // The fact an event projects to (none for a cart fault or a type it does not consume). A
  // scan's weight is judged here, against the store's catalog.
  Result<std::optional<store::ProjectedFact>> FactOf(const store::TelemetryEvent& e, const rapidjson::Value& doc);

  store::EntityStore& entities_;
  std::atomic<uint64_t> applied_{0}, skipped_{0};
};

}  // namespace cw::retail
