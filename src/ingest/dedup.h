// ingest/dedup.h — exactly-once at the data layer over an at-least-once transport.
//
// (cart_id, seq) identifies an event for ever. Within a batch and against the store: the same key
// with the same bytes (same SHA-256 of the payload) is a duplicate — acknowledged, counted, not
// stored again; the same key with different bytes is a seq_conflict reject. Arrival order does not
// matter: whichever copy is seen first is the one kept.
#pragma once

#include <map>
#include <vector>

#include "store/telemetry_store.h"

namespace cw::ingest {

enum class DedupVerdict { kNew, kDuplicate, kConflict };

class Deduper {
 public:
  explicit Deduper(store::TelemetryStore& store) : store_(store) {}

  // Classifies each event of one batch, in order. A store error fails the whole call (the batch is
  // retried; nothing was acknowledged).
  Result<std::vector<DedupVerdict>> Classify(const std::vector<const store::TelemetryEvent*>& batch);

 private:
  store::TelemetryStore& store_;
};

}  // namespace cw::ingest
