// ingest/service.h — `cartwright serve`'s pipeline: broker → admission → dedup → durable batch →
// routing → acknowledgement, with the reject path.
//
// Transport: `connections` MQTT sessions with the ingest service certificate in the shared
// subscription $share/ingest/carts/+/events/+ (QoS 1, persistent sessions with stable client ids,
// so several processes can split the load and a restarted one gets its unacknowledged messages
// back). Each session's network thread runs admission (signature verification in parallel across
// sessions) and then waits for the committer; libmosquitto sends the PUBACK only when the handler
// returns, so **a message is acknowledged only once it is durably stored or durably
// dead-lettered**. A kill -9 at any moment loses nothing; a redelivery is deduplicated.
//
// Committer: one thread gathers what the sessions hand it into batches (up to `max_batch`), runs
// dedup, commits events and dead letters in one synced write, publishes signed reject notices on
// devices/errors/{cart}, and releases the waiting sessions. A failed commit is retried with
// backoff and nothing is acknowledged meanwhile.
//
// Router: a second thread hands committed batches to the registered sinks (ingest/event_sink.h:
// the session projection, identity, receipts, the fleet monitor, rollouts) AFTER their messages
// were acknowledged, so the acknowledgement waits for one fsync, not for every projection. The
// same commit lists the events in the telemetry store's routing outbox (a transactional outbox),
// and the router takes them out once every sink has them; Start() replays whatever a crash left
// there before taking new messages. So a crash still loses nothing: the sinks see every stored
// event at least once (they are idempotent). The one exception is `identify`, whose credential
// is never stored and so cannot be replayed: it is acknowledged only after it has been routed.
//
// Backpressure: at most one message per session is in the committer, and the committer waits
// while the router is `max_route_backlog` messages behind, so memory stays bounded whatever the
// broker holds.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "crypto/key_store.h"
#include "ingest/admission.h"
#include "ingest/command_sender.h"
#include "ingest/event_sink.h"
#include "metrics/cart_stats.h"
#include "metrics/registry.h"
#include "mqtt/client.h"
#include "store/telemetry_store.h"

namespace cw::ingest {

struct ServiceOptions {
  mqtt::ClientOptions broker;  // host, port and the ingest identity's TLS files; client_id is a prefix
  int connections = 16;
  size_t max_batch = 512;
  size_t max_route_backlog = 8192;  // committed messages the router may be behind before commits wait
  size_t max_route_batch = 4096;    // messages the router hands the sinks at most per call
  AdmissionOptions admission;
  // Where the pipeline's metrics go (cw_ingest_*, cw_publish_to_cloud_seconds,
  // cw_store_commit_seconds; see docs/observability.md); nullptr: a registry of its own.
  metrics::Registry* metrics = nullptr;
  // Per-cart counters and latency percentiles (GET /api/v1/carts/{id}/stats); nullptr: not kept.
  metrics::CartStatsTable* cart_stats = nullptr;
};

struct ServiceStats {
  uint64_t received = 0, accepted = 0, duplicates = 0, rejected = 0, commits = 0, commit_failures = 0;
  uint64_t sink_failures = 0;  // OnBatch errors (each retried)
  std::map<wire::RejectReason, uint64_t> rejected_by_reason;
  std::map<std::string, uint64_t> rejected_by_cart;
};

class Service final : public CommandSender {
 public:
  // `notice_key` signs reject notices (the cloud command key the carts pin).
  Service(ServiceOptions options, CartDirectory& directory, store::TelemetryStore& telemetry,
          crypto::KeyStore& notice_key, Clock& clock);
  ~Service() override;

  // Routes accepted events of `type` to `sink` (which must outlive the service). Call before
  // Start. Sinks run in the order they were added; one added for several types gets them all in
  // one OnBatch call.
  void AddSink(wire::EventType type, EventSink* sink);

  // Connects every session and subscribes. Unavailable if the broker cannot be reached.
  Status Start();
  // Stops taking messages, finishes the batch in hand and disconnects.
  void Stop();

  ServiceStats stats() const;

  // Signs and publishes a command over the service's notice session (Unavailable before Start).
  Status Send(const CartId& cart, std::string_view json) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cw::ingest
