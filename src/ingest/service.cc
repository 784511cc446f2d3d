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

// One message between its session thread and the committer.
struct Work {
  std::string topic, payload;
  Time received_at;
  std::optional<Admitted> admitted;
  std::optional<Refused> refused;
  bool done = false;  // guarded by Impl::mu
};

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
        sink_failures(r.AddCounter("cw_ingest_sink_failures_total", "Sink calls that failed and were retried").With()) {
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
  std::thread committer;

  mutable std::mutex mu;
  std::condition_variable work_cv, done_cv;
  std::deque<Work*> queue;  // guarded by mu
  bool quit = false;        // guarded by mu: the committer may exit once the queue is empty
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
  }

  // Session thread: admit, hand over, and return only when the committer has made it durable.
  void OnMessage(const mqtt::Message& m) {
    Work w{m.topic, m.payload, clock.Now(), std::nullopt, std::nullopt, false};
    auto backoff = std::chrono::milliseconds(50);
    for (;;) {
      auto verdict = admission.Check(w.topic, w.payload, w.received_at);
      if (verdict.ok()) {
        w.admitted = std::move(*verdict);
        break;
      }
      if (verdict.error().rejection.reason != wire::RejectReason::kInternalError || stopping) {
        w.refused = std::move(verdict.error());
        break;
      }
      // Our fault, not the cart's (the registry is unreachable): keep the message unacknowledged.
      log::Warn("ingest.admission_retry", {{"topic", w.topic}, {"error", verdict.error().rejection.detail}});
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
    std::unique_lock lock(mu);
    queue.push_back(&w);
    work_cv.notify_one();
    done_cv.wait(lock, [&] { return w.done; });
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

  void CommitLoop() {
    for (;;) {
      std::vector<Work*> batch;
      {
        std::unique_lock lock(mu);
        work_cv.wait(lock, [&] { return !queue.empty() || quit; });
        if (queue.empty() && quit) return;
        while (!queue.empty() && batch.size() < options.max_batch) {
          batch.push_back(queue.front());
          queue.pop_front();
        }
      }
      Process(batch);
      {
        std::lock_guard lock(mu);
        for (Work* w : batch) w->done = true;
      }
      done_cv.notify_all();
    }
  }

  void Process(const std::vector<Work*>& batch) {
    std::vector<const store::TelemetryEvent*> candidates;
    std::vector<Work*> admitted;
    for (Work* w : batch) {
      if (w->admitted) {
        candidates.push_back(&w->admitted->event);
        admitted.push_back(w);
      }
    }
    auto backoff = std::chrono::milliseconds(100);
    Time committed_at{};
    for (;;) {
      store::TelemetryBatch out;
      std::vector<DedupVerdict> verdicts;
      Status st = Status::Ok();
      auto classified = dedup.Classify(candidates);
      if (classified.ok()) {
        verdicts = std::move(*classified);
        for (size_t i = 0; i < admitted.size(); ++i) {
          Work* w = admitted[i];
          if (verdicts[i] == DedupVerdict::kNew) out.events.push_back(w->admitted->event);
          if (verdicts[i] == DedupVerdict::kConflict) {
            wire::Rejection r{wire::RejectReason::kSeqConflict,
                              "seq " + std::to_string(w->admitted->event.seq) + " was already stored with different bytes",
                              w->admitted->event.seq};
            w->refused = Refused{r, admission.DeadLetterFor(w->topic, w->payload, r, w->received_at), w->admitted->event.cart};
          }
        }
        for (Work* w : batch) {
          if (w->refused) out.rejects.push_back(w->refused->dead_letter);
        }
        auto began = std::chrono::steady_clock::now();
        st = telemetry.Commit(out);
        if (st.ok()) metrics.commit.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
        committed_at = clock.Now();
      } else {
        st = classified.error();
      }
      if (st.ok()) {
        Finish(batch, admitted, verdicts, out.events.size(), committed_at);
        return;
      }
      {
        std::lock_guard lock(mu);
        stats.commit_failures++;
      }
      metrics.commit_failures.Inc();
      log::Error("ingest.commit_failed", {{"batch", std::to_string(batch.size())}, {"error", st.ToString()}});
      for (Work* w : admitted) {
        if (w->refused && w->refused->rejection.reason == wire::RejectReason::kSeqConflict) w->refused.reset();
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }

  // Hands each sink its share of the batch; a failing sink is retried until it succeeds, since
  // nothing in the batch may be acknowledged before every sink has it.
  void Route(const std::vector<Work*>& admitted, const std::vector<DedupVerdict>& verdicts) {
    for (auto& [sink, types] : sinks) {
      std::vector<RoutedEvent> share;
      for (size_t i = 0; i < admitted.size(); ++i) {
        if (verdicts[i] == DedupVerdict::kConflict) continue;
        const Admitted& a = *admitted[i]->admitted;
        if (types.count(a.event.type)) {
          share.push_back({&a.event, &a.doc, verdicts[i] == DedupVerdict::kDuplicate, a.credential});
        }
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

  void Observe(const std::vector<Work*>& batch, const std::vector<Work*>& admitted, const std::vector<DedupVerdict>& verdicts,
               Time committed_at) {
    metrics::CartStatsTable* per_cart = options.cart_stats;
    for (Work* w : batch) {
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
    for (size_t i = 0; i < admitted.size(); ++i) {
      const store::TelemetryEvent& e = admitted[i]->admitted->event;
      if (verdicts[i] == DedupVerdict::kDuplicate) {
        metrics.duplicates.Inc();
        if (per_cart) per_cart->RecordDuplicate(e.cart, e.received_at);
      }
      if (verdicts[i] != DedupVerdict::kNew) continue;
      metrics.stored_by_type.at(e.type)->Inc();
      // Late events measure how long the cart was offline, not the pipeline: counted apart.
      std::optional<Duration> latency;
      if (e.late) {
        metrics.late.Inc();
      } else {
        latency = e.received_at - e.ts;
        metrics.publish_to_cloud.Observe(Seconds(*latency));
        metrics.durable.Observe(Seconds(committed_at - e.ts));
      }
      if (per_cart) {
        std::string_view fault_code;
        if (e.type == wire::EventType::kFault) fault_code = wire::GetString(admitted[i]->admitted->doc, "code").value_or("");
        per_cart->RecordStored(e.cart, e.received_at, latency, e.late, fault_code);
      }
    }
  }

  void Finish(const std::vector<Work*>& batch, const std::vector<Work*>& admitted,
              const std::vector<DedupVerdict>& verdicts, size_t stored, Time committed_at) {
    Route(admitted, verdicts);
    for (Work* w : batch) {
      if (w->refused && w->refused->notify) {
        PublishNotice(*w->refused->notify, w->refused->rejection, w->topic, w->received_at);
      }
    }
    Observe(batch, admitted, verdicts, committed_at);
    std::lock_guard lock(mu);
    stats.received += batch.size();
    stats.commits++;
    stats.accepted += stored;
    for (size_t i = 0; i < admitted.size(); ++i) stats.duplicates += verdicts[i] == DedupVerdict::kDuplicate;
    for (Work* w : batch) {
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
  im.committer = std::thread([&im] { im.CommitLoop(); });
  mqtt::ClientOptions notice_options = im.options.broker;
  notice_options.client_id = im.options.broker.client_id + "-notices";
  notice_options.clean_session = true;
  CW_ASSIGN_OR_RETURN(im.notices, mqtt::Client::Create(notice_options));
  CW_RETURN_IF_ERROR(im.notices->Connect());
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
