#include "ingest/service.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "core/log.h"
#include "ingest/dedup.h"
#include "wire/envelope.h"
#include "wire/json.h"
#include "wire/notice.h"
#include "wire/topic.h"

namespace cw::ingest {

namespace {

// One message from its session thread through the committer to the router. Shared, because the
// session thread returns (and acknowledges) at commit while the router still routes the event.
struct Work {
  std::string topic, payload;
  Time received_at;
  std::optional<Admitted> admitted;
  std::optional<Refused> refused;
  // An identify: its credential is never stored, so the outbox cannot replay it to the identity
  // service after a crash. It is acknowledged only once routed; a crash before that brings a
  // redelivery, which is routed again.
  bool ack_after_route = false;
  bool done = false;  // guarded by Impl::mu: the session thread may acknowledge
  // Its own, so a commit wakes only the sessions it released, not all of them.
  std::condition_variable done_cv;
};
using WorkPtr = std::shared_ptr<Work>;

// One durably committed batch on its way to the sinks.
struct Committed {
  std::vector<WorkPtr> batch;
  std::vector<WorkPtr> admitted;        // the admitted part of `batch`…
  std::vector<DedupVerdict> verdicts;   // …and dedup's verdict on each
  size_t stored = 0;                    // new events written
  Time committed_at{};
  std::vector<const store::TelemetryEvent*> unrouted;  // put in the outbox by the commit
};

// The document a stored event was admitted with, for replaying the outbox: the stored body is the
// signed envelope as received (the signature was checked before it was stored).
Status ParseStored(const store::TelemetryEvent& e, rapidjson::Document& doc) {
  auto envelope = wire::SplitEnvelope(e.body);
  return wire::ParseStrictObject(envelope.ok() ? envelope->json : std::string_view(e.body), doc);
}

// The pipeline's metrics. Event types and reject reasons are closed sets, so these labels stay
// bounded; carts are never a label here.
struct IngestMetrics {
  explicit IngestMetrics(metrics::Registry& r)
      : received(r.AddCounter("cw_ingest_received_total", "Messages taken from the broker, by the event type in their topic",
                              {"type"})),
        stored(r.AddCounter("cw_ingest_stored_total", "Events durably stored, by type", {"type"})),
        duplicates(r.AddCounter("cw_ingest_duplicates_total", "Redeliveries of stored events, dropped by dedup").With()),
        rejects(r.AddCounter("cw_ingest_rejects_total", "Messages dead-lettered, by reject reason", {"reason"})),
        late(r.AddCounter("cw_ingest_late_events_total",
                          "Stored events the cart sent late (replayed from its flash); not in the latency histogram")
                 .With()),
        publish_to_cloud(r.AddHistogram("cw_publish_to_cloud_seconds",
                                        "Server receive time minus device ts of stored live events",
                                        metrics::ExponentialBuckets(0.005, 2, 14))
                             .With()),
        durable(r.AddHistogram("cw_ingest_durable_seconds",
                               "Device ts to durable commit of stored live events (publish to durable, end to end)",
                               metrics::ExponentialBuckets(0.001, 1.25, 48))
                    .With()),
        commit(r.AddHistogram("cw_store_commit_seconds", "Duration of one durable batch write (events and dead letters)",
                              metrics::ExponentialBuckets(0.0005, 2, 14))
                   .With()),
        commit_failures(r.AddCounter("cw_ingest_commit_failures_total", "Batch writes that failed and were retried").With()),
        sink_failures(r.AddCounter("cw_ingest_sink_failures_total", "Sink calls that failed and were retried").With()),
        replayed(r.AddCounter("cw_ingest_replayed_total",
                              "Stored events routed again from the outbox at start (acknowledged before a crash)")
                     .With()) {
    // Every label value exists from the start, so rate() sees a series before its first event,
    // and the per-message path finds its counter without taking the family's lock.
    for (auto t : wire::kAllEventTypes) {
      received_by_type[t] = &received.With({std::string(wire::Name(t))});
      stored_by_type[t] = &stored.With({std::string(wire::Name(t))});
    }
    received_other = &received.With({"other"});
    for (auto reason : wire::kAllRejectReasons) rejects_by_reason[reason] = &rejects.With({std::string(wire::Name(reason))});
  }
  // The counter of the event type named in `topic` ("other" when it names none).
  metrics::Counter& ReceivedOn(std::string_view topic) {
    auto parts = wire::ParseEventTopic(topic);
    return parts.ok() ? *received_by_type.at(parts->type) : *received_other;
  }
  metrics::Family<metrics::Counter>& received;
  metrics::Family<metrics::Counter>& stored;
  metrics::Counter& duplicates;
  metrics::Family<metrics::Counter>& rejects;
  std::map<wire::EventType, metrics::Counter*> received_by_type, stored_by_type;
  metrics::Counter* received_other = nullptr;
  std::map<wire::RejectReason, metrics::Counter*> rejects_by_reason;
  metrics::Counter& late;
  metrics::Histogram& publish_to_cloud;
  metrics::Histogram& durable;
  metrics::Histogram& commit;
  metrics::Counter& commit_failures;
  metrics::Counter& sink_failures;
  metrics::Counter& replayed;
};

double Seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

struct Service::Impl {
  ServiceOptions options;
  CartDirectory& directory;
  Admission admission;
  store::TelemetryStore& telemetry;
  crypto::KeyStore& notice_key;
  Clock& clock;
  Deduper dedup;
  // In the order added, with the types each takes.
  std::vector<std::pair<EventSink*, std::set<wire::EventType>>> sinks;

  std::vector<std::unique_ptr<mqtt::Client>> sessions;
  std::unique_ptr<mqtt::Client> notices;
  std::thread committer, router;

  mutable std::mutex mu;
  std::condition_variable work_cv, route_cv, route_space_cv;
  std::deque<WorkPtr> queue;        // guarded by mu: admitted messages for the committer
  std::deque<Committed> to_route;   // guarded by mu: committed batches for the router
  size_t route_backlog = 0;         // guarded by mu: messages in to_route
  bool quit = false;                // guarded by mu: the committer may exit once the queue is empty
  bool route_quit = false;          // guarded by mu: the router may exit once to_route is empty
  std::atomic<bool> stopping{false};
  ServiceStats stats;  // guarded by mu

  std::unique_ptr<metrics::Registry> own_registry;
  IngestMetrics metrics;

  Impl(ServiceOptions o, CartDirectory& d, store::TelemetryStore& t, crypto::KeyStore& k, Clock& c)
      : options(std::move(o)), directory(d), admission(d, options.admission), telemetry(t), notice_key(k), clock(c),
        dedup(t), own_registry(options.metrics ? nullptr : std::make_unique<metrics::Registry>()),
        metrics(options.metrics ? *options.metrics : *own_registry) {
    metrics::Registry& r = options.metrics ? *options.metrics : *own_registry;
    r.AddGaugeFunction("cw_ingest_queue_depth", "Admitted messages waiting for the committer", [this] {
      std::lock_guard lock(mu);
      return static_cast<double>(queue.size());
    });
    r.AddGaugeFunction("cw_ingest_route_backlog", "Committed messages whose sinks (projections, monitor) have not run yet",
                       [this] {
                         std::lock_guard lock(mu);
                         return static_cast<double>(route_backlog);
                       });
  }

  // Session thread: admit, hand over, and return only when the message is durable (and, for an
  // identify, routed).
  void OnMessage(const mqtt::Message& m) {
    auto w = std::make_shared<Work>();
    w->topic = m.topic;
    w->payload = m.payload;
    w->received_at = clock.Now();
    auto backoff = std::chrono::milliseconds(50);
    for (;;) {
      auto verdict = admission.Check(w->topic, w->payload, w->received_at);
      if (verdict.ok()) {
        w->admitted = std::move(*verdict);
        w->ack_after_route = w->admitted->event.type == wire::EventType::kIdentify;
        break;
      }
      if (verdict.error().rejection.reason != wire::RejectReason::kInternalError || stopping) {
        w->refused = std::move(verdict.error());
        break;
      }
      // Our fault, not the cart's (the registry is unreachable): keep the message unacknowledged.
      log::Warn("ingest.admission_retry", {{"topic", w->topic}, {"error", verdict.error().rejection.detail}});
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
    std::unique_lock lock(mu);
    queue.push_back(w);
    work_cv.notify_one();
    w->done_cv.wait(lock, [&] { return w->done; });
  }

  void PublishNotice(const CartId& cart, const wire::Rejection& r, const std::string& topic, Time received_at) {
    wire::RejectNotice n{cart, r.seq, r.reason, r.detail, topic, received_at};
    std::string json = wire::RejectNoticeJson(n);
    auto sig = notice_key.Sign(json);
    if (!sig.ok()) {
      log::Error("ingest.notice_sign_failed", {{"error", sig.error().ToString()}});
      return;
    }
    auto sent = notices->Publish(wire::ErrorsTopic(cart), wire::JoinEnvelope(json, *sig), 1);
    if (!sent.ok()) log::Warn("ingest.notice_publish_failed", {{"cart", cart.str()}, {"error", sent.error().ToString()}});
  }

  // The committer: batches what the sessions hand over, commits each durably, acknowledges, and
  // passes it to the router. It waits while the router is `max_route_backlog` behind, so the
  // sinks' lag (and memory) stays bounded.
  void CommitLoop() {
    for (;;) {
      std::vector<WorkPtr> batch;
      {
        std::unique_lock lock(mu);
        work_cv.wait(lock, [&] { return !queue.empty() || quit; });
        if (queue.empty() && quit) return;
        while (!queue.empty() && batch.size() < options.max_batch) {
          batch.push_back(std::move(queue.front()));
          queue.pop_front();
        }
      }
      Committed c = Commit(std::move(batch));
      for (const WorkPtr& w : c.batch) {
        if (w->refused && w->refused->notify) {
          PublishNotice(*w->refused->notify, w->refused->rejection, w->topic, w->received_at);
        }
      }
      std::vector<WorkPtr> released;
      {
        std::lock_guard lock(mu);
        for (const WorkPtr& w : c.batch) {
          if (w->ack_after_route) continue;
          w->done = true;
          released.push_back(w);
        }
        route_backlog += c.batch.size();
        to_route.push_back(std::move(c));
      }
      route_cv.notify_one();
      for (const WorkPtr& w : released) w->done_cv.notify_one();
      {
        std::unique_lock lock(mu);
        route_space_cv.wait(lock, [&] { return route_backlog < options.max_route_backlog; });
      }
    }
  }

  // Dedup and one durable write of the batch's new events and dead letters, retried until it
  // succeeds: nothing in the batch may be acknowledged before.
  Committed Commit(std::vector<WorkPtr> batch) {
    Committed c;
    c.batch = std::move(batch);
    std::vector<const store::TelemetryEvent*> candidates;
    for (const WorkPtr& w : c.batch) {
      if (w->admitted) {
        candidates.push_back(&w->admitted->event);
        c.admitted.push_back(w);
      }
    }
    auto backoff = std::chrono::milliseconds(100);
    for (;;) {
      store::TelemetryBatch out;
      std::vector<size_t> stored_from;  // index into c.admitted of each out.events entry
      Status st = Status::Ok();
      auto classified = dedup.Classify(candidates);
      if (classified.ok()) {
        c.verdicts = std::move(*classified);
        for (size_t i = 0; i < c.admitted.size(); ++i) {
          Work& w = *c.admitted[i];
          if (c.verdicts[i] == DedupVerdict::kNew) {
            if (!w.ack_after_route) out.unrouted.push_back(out.events.size());
            out.events.push_back(w.admitted->event);
            stored_from.push_back(i);
          }
          if (c.verdicts[i] == DedupVerdict::kConflict) {
            wire::Rejection r{wire::RejectReason::kSeqConflict,
                              "seq " + std::to_string(w.admitted->event.seq) + " was already stored with different bytes",
                              w.admitted->event.seq};
            w.refused = Refused{r, admission.DeadLetterFor(w.topic, w.payload, r, w.received_at), w.admitted->event.cart};
            w.ack_after_route = false;  // dead-lettered, never routed
          }
        }
        for (const WorkPtr& w : c.batch) {
          if (w->refused) out.rejects.push_back(w->refused->dead_letter);
        }
        auto began = std::chrono::steady_clock::now();
        st = telemetry.Commit(out);
        if (st.ok()) metrics.commit.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
        c.committed_at = clock.Now();
      } else {
        st = classified.error();
      }
      if (st.ok()) {
        c.stored = out.events.size();
        for (size_t k : out.unrouted) c.unrouted.push_back(&c.admitted[stored_from[k]]->admitted->event);
        return c;
      }
      {
        std::lock_guard lock(mu);
        stats.commit_failures++;
      }
      metrics.commit_failures.Inc();
      log::Error("ingest.commit_failed", {{"batch", std::to_string(c.batch.size())}, {"error", st.ToString()}});
      for (const WorkPtr& w : c.admitted) {
        if (w->refused && w->refused->rejection.reason == wire::RejectReason::kSeqConflict) {
          w->refused.reset();
          w->ack_after_route = w->admitted->event.type == wire::EventType::kIdentify;
        }
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }

  // The router: hands committed batches to the sinks, several batches per OnBatch call when it
  // has fallen behind (so a sink's fixed cost, such as a transaction, is paid less often), then
  // takes them out of the outbox and releases the identify messages waiting for it.
  void RouteLoop() {
    for (;;) {
      std::vector<Committed> jobs;
      {
        std::unique_lock lock(mu);
        route_cv.wait(lock, [&] { return !to_route.empty() || route_quit; });
        if (to_route.empty() && route_quit) return;
        size_t messages = 0;
        while (!to_route.empty() && (jobs.empty() || messages + to_route.front().batch.size() <= options.max_route_batch)) {
          messages += to_route.front().batch.size();
          jobs.push_back(std::move(to_route.front()));
          to_route.pop_front();
        }
      }
      std::vector<RoutedEvent> events;
      std::vector<const store::TelemetryEvent*> unrouted;
      for (const Committed& c : jobs) {
        for (size_t i = 0; i < c.admitted.size(); ++i) {
          if (c.verdicts[i] == DedupVerdict::kConflict) continue;
          const Admitted& a = *c.admitted[i]->admitted;
          events.push_back({&a.event, &a.doc, c.verdicts[i] == DedupVerdict::kDuplicate, a.credential});
        }
        unrouted.insert(unrouted.end(), c.unrouted.begin(), c.unrouted.end());
      }
      Route(events);
      // Not fatal: what stays in the outbox is routed again at the next start, harmlessly.
      Status marked = telemetry.MarkRouted(unrouted);
      if (!marked.ok()) log::Warn("ingest.outbox_mark_failed", {{"error", marked.ToString()}});
      for (const Committed& c : jobs) Finish(c);
      std::vector<WorkPtr> released;
      {
        std::lock_guard lock(mu);
        for (const Committed& c : jobs) {
          for (const WorkPtr& w : c.batch) {
            if (!w->done) released.push_back(w);
            w->done = true;
          }
          route_backlog -= c.batch.size();
        }
      }
      for (const WorkPtr& w : released) w->done_cv.notify_one();
      route_space_cv.notify_all();
    }
  }

  // Routes what the outbox holds (events acknowledged but perhaps never routed: the process died
  // first) before any new message is taken, so the sinks see them in their original order.
  Status ReplayOutbox() {
    size_t replayed = 0;
    for (;;) {
      CW_ASSIGN_OR_RETURN(std::vector<store::TelemetryEvent> stored, telemetry.Unrouted(options.max_route_batch));
      if (stored.empty()) break;
      std::vector<rapidjson::Document> docs(stored.size());
      std::vector<RoutedEvent> events;
      std::vector<const store::TelemetryEvent*> done;
      for (size_t i = 0; i < stored.size(); ++i) {
        done.push_back(&stored[i]);
        Status parsed = ParseStored(stored[i], docs[i]);
        if (!parsed.ok()) {
          log::Error("ingest.outbox_unreadable",
                     {{"cart", stored[i].cart.str()}, {"seq", std::to_string(stored[i].seq)}, {"error", parsed.ToString()}});
          continue;
        }
        events.push_back({&stored[i], &docs[i], /*redelivered=*/true});
      }
      Route(events);
      CW_RETURN_IF_ERROR(telemetry.MarkRouted(done));
      replayed += events.size();
      metrics.replayed.Inc(events.size());
    }
    if (replayed > 0) log::Info("ingest.outbox_replayed", {{"events", std::to_string(replayed)}});
    return Status::Ok();
  }

  // Hands each sink its share, in order; a failing sink is retried until it succeeds, since the
  // batch leaves the outbox (and an identify is acknowledged) only once every sink has it.
  void Route(const std::vector<RoutedEvent>& events) {
    for (auto& [sink, types] : sinks) {
      std::vector<RoutedEvent> share;
      for (const RoutedEvent& e : events) {
        if (types.count(e.event->type)) share.push_back(e);
      }
      if (share.empty()) continue;
      auto backoff = std::chrono::milliseconds(100);
      for (;;) {
        Status st = sink->OnBatch(share);
        if (st.ok()) break;
        {
          std::lock_guard lock(mu);
          stats.sink_failures++;
        }
        metrics.sink_failures.Inc();
        log::Error("ingest.sink_failed", {{"events", std::to_string(share.size())}, {"error", st.ToString()}});
        std::this_thread::sleep_for(backoff);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
      }
    }
  }

  void Observe(const Committed& c) {
    metrics::CartStatsTable* per_cart = options.cart_stats;
    for (const WorkPtr& w : c.batch) {
      // An admitted message's type is known; only a refused one has its topic read again.
      if (w->admitted && !w->refused) {
        metrics.received_by_type.at(w->admitted->event.type)->Inc();
        continue;
      }
      metrics.ReceivedOn(w->topic).Inc();
      metrics.rejects_by_reason.at(w->refused->rejection.reason)->Inc();
      if (per_cart && w->refused->dead_letter.cart) {
        per_cart->RecordRejected(*w->refused->dead_letter.cart, w->received_at, wire::Name(w->refused->rejection.reason));
      }
    }
    for (size_t i = 0; i < c.admitted.size(); ++i) {
      const store::TelemetryEvent& e = c.admitted[i]->admitted->event;
      if (c.verdicts[i] == DedupVerdict::kDuplicate) {
        metrics.duplicates.Inc();
        if (per_cart) per_cart->RecordDuplicate(e.cart, e.received_at);
      }
      if (c.verdicts[i] != DedupVerdict::kNew) continue;
      metrics.stored_by_type.at(e.type)->Inc();
      // Late events measure how long the cart was offline, not the pipeline: counted apart.
      std::optional<Duration> latency;
      if (e.late) {
        metrics.late.Inc();
      } else {
        latency = e.received_at - e.ts;
        metrics.publish_to_cloud.Observe(Seconds(*latency));
        metrics.durable.Observe(Seconds(c.committed_at - e.ts));
      }
      if (per_cart) {
        std::string_view fault_code;
        if (e.type == wire::EventType::kFault) fault_code = wire::GetString(c.admitted[i]->admitted->doc, "code").value_or("");
        per_cart->RecordStored(e.cart, e.received_at, latency, e.late, fault_code);
      }
    }
  }

  // Counts a batch once its sinks have it, so stats() never runs ahead of what the projections show.
  void Finish(const Committed& c) {
    Observe(c);
    std::lock_guard lock(mu);
    stats.received += c.batch.size();
    stats.commits++;
    stats.accepted += c.stored;
    for (size_t i = 0; i < c.admitted.size(); ++i) stats.duplicates += c.verdicts[i] == DedupVerdict::kDuplicate;
    for (const WorkPtr& w : c.batch) {
      if (!w->refused) continue;
      stats.rejected++;
      stats.rejected_by_reason[w->refused->rejection.reason]++;
      if (w->refused->dead_letter.cart) stats.rejected_by_cart[w->refused->dead_letter.cart->str()]++;
      log::Info("ingest.rejected", {{"topic", w->topic}, {"reason", std::string(wire::Name(w->refused->rejection.reason))},
                                    {"detail", w->refused->rejection.detail}});
    }
  }
};

Service::Service(ServiceOptions options, CartDirectory& directory, store::TelemetryStore& telemetry,
                 crypto::KeyStore& notice_key, Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), directory, telemetry, notice_key, clock)) {}

Service::~Service() { Stop(); }

Status Service::Send(const CartId& cart, std::string_view json) {
  if (!impl_->notices) return Unavailable("the ingest service is not connected to the broker");
  CW_ASSIGN_OR_RETURN(crypto::Signature sig, impl_->notice_key.Sign(json));
  return impl_->notices->Publish(wire::CommandsTopic(cart), wire::JoinEnvelope(json, sig), 1).status();
}

void Service::AddSink(wire::EventType type, EventSink* sink) {
  for (auto& [s, types] : impl_->sinks) {
    if (s == sink) {
      types.insert(type);
      return;
    }
  }
  impl_->sinks.push_back({sink, {type}});
}

Status Service::Start() {
  Impl& im = *impl_;
  mqtt::ClientOptions notice_options = im.options.broker;
  notice_options.client_id = im.options.broker.client_id + "-notices";
  notice_options.clean_session = true;
  CW_ASSIGN_OR_RETURN(im.notices, mqtt::Client::Create(notice_options));
  CW_RETURN_IF_ERROR(im.notices->Connect());
  // After the notice session (a sink may command a cart), before the first new message.
  CW_RETURN_IF_ERROR(im.ReplayOutbox().WithContext("replaying the routing outbox"));
  im.committer = std::thread([&im] { im.CommitLoop(); });
  im.router = std::thread([&im] { im.RouteLoop(); });
  std::string filter = "$share/ingest/" + std::string(wire::kAllEventsFilter);
  for (int i = 0; i < im.options.connections; ++i) {
    mqtt::ClientOptions o = im.options.broker;
    o.client_id = im.options.broker.client_id + "-" + std::to_string(i);
    o.clean_session = false;
    CW_ASSIGN_OR_RETURN(auto client, mqtt::Client::Create(o));
    auto delivered = std::make_shared<std::atomic<uint64_t>>(0);
    client->SetMessageHandler([&im, delivered](const mqtt::Message& m) {
      delivered->fetch_add(1);
      im.OnMessage(m);
    });
    CW_RETURN_IF_ERROR(client->Connect());
    Status subscribed = client->Subscribe(filter, 1);
    if (subscribed.code() == Code::kDeadlineExceeded && delivered->load() > 0) {
      // A resumed session with a backlog: the broker sends the queued messages (each waiting for
      // its commit) ahead of the SUBACK. Messages arriving prove the subscription exists.
      log::Warn("ingest.suback_late", {{"session", o.client_id}});
    } else {
      CW_RETURN_IF_ERROR(subscribed);
    }
    im.sessions.push_back(std::move(client));
  }
  log::Info("ingest.started", {{"connections", std::to_string(im.options.connections)}, {"filter", filter}});
  return Status::Ok();
}

void Service::Stop() {
  Impl& im = *impl_;
  if (im.stopping.exchange(true)) return;
  // Sessions first: a handler in progress still gets its batch committed before its thread ends.
  for (auto& s : im.sessions) s->Disconnect();
  im.sessions.clear();
  {
    std::lock_guard lock(im.mu);
    im.quit = true;
  }
  im.work_cv.notify_all();
  if (im.committer.joinable()) im.committer.join();
  {
    std::lock_guard lock(im.mu);
    im.route_quit = true;
  }
  im.route_cv.notify_all();
  if (im.router.joinable()) im.router.join();
  if (im.notices) {
    im.notices->WaitForPublishes(std::chrono::seconds(2)).IgnoreError();
    im.notices->Disconnect();
  }
}

ServiceStats Service::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

}  // namespace cw::ingest
