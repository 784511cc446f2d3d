// monitor/notify.h — where alarm notifications go besides the store (which the API and the
// dashboard read): the service log, and an HTTP(S) webhook.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "metrics/cart_stats.h"
#include "monitor/alarms.h"

namespace cw::monitor {

// The JSON an alarm notification travels as (webhook body; docs/observability.md):
// {"kind":"alarm","alarm","subject","state":"firing|resolved","severity":"page|notify","at",
//  "value","threshold","summary"}
std::string AlarmEventJson(const store::AlarmEvent& e);

// The hourly digest of errors by device (webhook body):
// {"kind":"error_digest","at","window_s","items":[{"cart_id","code","count"}]}
std::string ErrorDigestJson(Time at, Duration window, const std::vector<metrics::CartStatsTable::ErrorCount>& items);

// One line per notification: warn when firing, info when resolved.
class LogAlarmSink final : public AlarmSink {
 public:
  void Notify(const store::AlarmEvent& e) override;
};

// POSTs JSON documents to one URL from a thread of its own, in order, retrying each with backoff
// (1 s doubling, `attempts` tries) before giving up on it with an error in the log. The queue is
// bounded: when the receiver is away that long, the oldest documents are dropped (and logged).
class Webhook {
 public:
  // InvalidArgument unless `url` is http(s)://host[:port][/path].
  static Result<std::unique_ptr<Webhook>> Create(const std::string& url, int attempts = 5, size_t max_queue = 1000);
  ~Webhook();
  void Post(std::string json);
  // Waits until the queue is empty (tests, shutdown); false on timeout.
  bool Drain(std::chrono::milliseconds timeout);
  uint64_t delivered() const;
  uint64_t failed() const;

 private:
  Webhook(std::string origin, std::string path, int attempts, size_t max_queue);
  void Run();
  const std::string origin_, path_;
  const int attempts_;
  const size_t max_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;  // guarded by mu_
  bool busy_ = false, quit_ = false;
  uint64_t delivered_ = 0, failed_ = 0;
  std::thread thread_;
};

class WebhookAlarmSink final : public AlarmSink {
 public:
  explicit WebhookAlarmSink(Webhook& webhook) : webhook_(webhook) {}
  void Notify(const store::AlarmEvent& e) override { webhook_.Post(AlarmEventJson(e)); }

 private:
  Webhook& webhook_;
};

}  // namespace cw::monitor
