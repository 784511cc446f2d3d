#include "monitor/notify.h"

#include <httplib.h>

#include "core/log.h"
#include "core/time_format.h"
#include "wire/json.h"

namespace cw::monitor {

std::string AlarmEventJson(const store::AlarmEvent& e) {
  wire::JsonBuilder b;
  b.Field("kind", "alarm")
      .Field("alarm", e.alarm)
      .Field("subject", e.subject)
      .Field("state", e.firing ? "firing" : "resolved")
      .Field("severity", store::Name(e.severity))
      .Field("at", FormatTimeMillis(e.at))
      .Field("value", e.value)
      .Field("threshold", e.threshold)
      .Field("summary", e.summary);
  return b.Finish();
}

std::string ErrorDigestJson(Time at, Duration window, const std::vector<metrics::CartStatsTable::ErrorCount>& items) {
  wire::JsonBuilder b;
  b.Field("kind", "error_digest")
      .Field("at", FormatTimeMillis(at))
      .Field("window_s", static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(window).count()));
  auto& w = b.Key("items").writer();
  w.StartArray();
  for (const auto& e : items) {
    w.StartObject();
    w.Key("cart_id");
    w.String(e.cart.str().c_str());
    w.Key("code");
    w.String(e.code.c_str());
    w.Key("count");
    w.Uint64(e.count);
    w.EndObject();
  }
  w.EndArray();
  return b.Finish();
}

void LogAlarmSink::Notify(const store::AlarmEvent& e) {
  std::initializer_list<log::Field> fields = {{"alarm", e.alarm},
                                              {"subject", e.subject},
                                              {"severity", std::string(store::Name(e.severity))},
                                              {"summary", e.summary}};
  if (e.firing) {
    log::Warn("alarm.firing", fields);
  } else {
    log::Info("alarm.resolved", fields);
  }
}

Result<std::unique_ptr<Webhook>> Webhook::Create(const std::string& url, int attempts, size_t max_queue) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos || (url.compare(0, scheme_end, "http") != 0 && url.compare(0, scheme_end, "https") != 0)) {
    return InvalidArgument("webhook '" + url + "' is not an http:// or https:// URL");
  }
  size_t path_at = url.find('/', scheme_end + 3);
  std::string origin = url.substr(0, path_at);
  std::string path = path_at == std::string::npos ? "/" : url.substr(path_at);
  if (origin.size() <= scheme_end + 3) return InvalidArgument("webhook '" + url + "' names no host");
  return std::unique_ptr<Webhook>(new Webhook(origin, path, attempts, max_queue));
}

Webhook::Webhook(std::string origin, std::string path, int attempts, size_t max_queue)
    : origin_(std::move(origin)), path_(std::move(path)), attempts_(attempts), max_queue_(max_queue) {
  thread_ = std::thread([this] { Run(); });
}

Webhook::~Webhook() {
  {
    std::lock_guard lock(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Webhook::Post(std::string json) {
  std::lock_guard lock(mu_);
  if (queue_.size() >= max_queue_) {
    queue_.pop_front();
    failed_++;
    log::Error("webhook.dropped", {{"url", origin_ + path_}, {"reason", "queue full"}});
  }
  queue_.push_back(std::move(json));
  cv_.notify_all();
}

bool Webhook::Drain(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return queue_.empty() && !busy_; });
}

uint64_t Webhook::delivered() const {
  std::lock_guard lock(mu_);
  return delivered_;
}

uint64_t Webhook::failed() const {
  std::lock_guard lock(mu_);
  return failed_;
}

void Webhook::Run() {
  httplib::Client client(origin_);
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(std::chrono::seconds(10));
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return quit_ || !queue_.empty(); });
    if (queue_.empty()) return;  // quit, with everything delivered or given up
    std::string body = queue_.front();
    busy_ = true;
    lock.unlock();
    bool ok = false;
    std::string error;
    auto backoff = std::chrono::milliseconds(1000);
    for (int attempt = 1; attempt <= attempts_ && !ok; ++attempt) {
      auto res = client.Post(path_, body, "application/json");
      ok = res && res->status >= 200 && res->status < 300;
      if (ok) break;
      error = res ? "HTTP " + std::to_string(res->status) : httplib::to_string(res.error());
      if (attempt == attempts_) break;
      std::unique_lock wait(mu_);
      if (cv_.wait_for(wait, backoff, [this] { return quit_; })) break;  // shutting down: no more retries
      backoff *= 2;
    }
    if (!ok) log::Error("webhook.failed", {{"url", origin_ + path_}, {"error", error}});
    lock.lock();
    queue_.pop_front();
    busy_ = false;
    (ok ? delivered_ : failed_)++;
    cv_.notify_all();
  }
}

}  // namespace cw::monitor
