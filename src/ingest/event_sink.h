// ingest/event_sink.h — where accepted events go after they are stored: the seam the entity
// projection, the identity service and observability plug into (Service::AddSink).
#pragma once

#include <rapidjson/document.h>

#include <span>

#include "core/status.h"
#include "store/telemetry_store.h"

namespace cw::ingest {

struct RoutedEvent {
  const store::TelemetryEvent* event;  // as stored (an identify's credential removed)
  const rapidjson::Document* doc;      // the verified payload (an identify's credential removed)
  bool redelivered = false;            // already stored by an earlier delivery
  // An identify's credential (loyalty number, payment token, app code): only the identity
  // service reads it, and nothing may store or log it. "" for other types.
  std::string_view credential = {};
};

// The one rule every sink applies to a failed event: the event itself is at fault (it names
// something that does not exist, contradicts what is stored, or is malformed) — log, count and
// skip it — or else the trouble is the sink's (a store away, disk, corruption) and the batch is
// held by returning the error.
inline bool EventIsAtFault(const Status& st) {
  Code c = st.code();
  return c == Code::kInvalidArgument || c == Code::kNotFound || c == Code::kFailedPrecondition ||
         c == Code::kAlreadyExists;
}

class EventSink {
 public:
  virtual ~EventSink() = default;

  // Called on the ingest's router thread with committed events of the types this sink was added
  // for, in commit order (one call may cover several commits). The events are durable and
  // usually already acknowledged, so a sink's work is not on the carts' latency path. A crash
  // before every sink has them is repaired at the next start, which routes what the telemetry
  // store's outbox still lists (marked redelivered); redeliveries from carts are routed again
  // too (marked). A sink therefore sees every stored event at least once and must be idempotent.
  //
  // An error holds the router: it retries the sink with backoff, the events stay in the outbox,
  // and once `max_route_backlog` messages wait, new commits wait too. So return one only for
  // transient trouble (a database away). A bad event is the sink's to log, count and skip.
  virtual Status OnBatch(std::span<const RoutedEvent> events) = 0;
};

}  // namespace cw::ingest
