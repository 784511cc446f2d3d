// sim/firmware_download.h — how simulated carts fetch firmware: HTTPS GETs with Range, each
// authenticated by its cart's own client certificate, run on a worker thread so the fleet's event
// loop never waits on the network. Completions are handed back on the loop's thread
// (DeliverCompleted), which is where device::FirmwareSource promises to call back.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <atomic>

#include "core/random.h"

#include "device/ota_agent.h"

namespace cw::sim {

// The TLS files a cart presents (its directory from `cartwright provision`).
struct CartTlsFiles {
  std::string ca_file, cert_file, key_file;
};

class FirmwareDownloader {
 public:
  // `failure_share`: the share of fetches that fail as a dropped link would (connection reset),
  // so downloads are interrupted and must resume (cartsim's download_failure knob).
  explicit FirmwareDownloader(double failure_share = 0, uint64_t seed = 1);
  ~FirmwareDownloader();  // stops the worker; pending requests are dropped unanswered

  // A FirmwareSource for one cart, fetching with its certificate through this downloader (which
  // must outlive it). `owner` names the cart to DeliverCompleted's `touched`.
  std::unique_ptr<device::FirmwareSource> SourceFor(CartTlsFiles files, size_t owner);

  // Runs the callbacks of finished fetches, then `touched(owner)` for each; call it from the
  // thread that drives the carts. Returns how many ran.
  size_t DeliverCompleted(const std::function<void(size_t owner)>& touched = nullptr);
  // Fetches answered, and those failed on purpose by the failure share.
  uint64_t fetches() const { return fetches_.load(); }
  uint64_t injected_failures() const { return injected_failures_.load(); }

 private:
  class CartSource;
  struct Request {
    size_t owner;
    CartTlsFiles tls;
    std::string url;
    uint64_t offset, max_bytes;
    device::FirmwareSource::Done done;
  };
  void Enqueue(Request r);
  void Work();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request> pending_;                          // guarded by mu_
  std::deque<std::pair<size_t, std::function<void()>>> completed_;  // guarded by mu_; (owner, callback)
  bool stopping_ = false;                                // guarded by mu_
  double failure_share_;
  SeededRandom random_;  // only the worker uses it
  std::atomic<uint64_t> fetches_{0}, injected_failures_{0};
  std::thread worker_;
};

// One ranged GET of `url` (https://HOST:PORT/PATH) with the cart's certificate: bytes
// [offset, offset + max_bytes) or fewer at the end. Unavailable for network trouble, NotFound /
// PermissionDenied / InvalidArgument for what the server refused.
Result<std::string> FetchRange(const CartTlsFiles& tls, const std::string& url, uint64_t offset, uint64_t max_bytes);

}  // namespace cw::sim
