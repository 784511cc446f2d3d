#include "sim/firmware_download.h"

#include <httplib.h>

#include <charconv>

namespace cw::sim {

class FirmwareDownloader::CartSource : public device::FirmwareSource {
 public:
  CartSource(FirmwareDownloader& d, CartTlsFiles tls, size_t owner) : d_(d), tls_(std::move(tls)), owner_(owner) {}
  void Fetch(const std::string& url, uint64_t offset, uint64_t max_bytes, Done done) override {
    d_.Enqueue({owner_, tls_, url, offset, max_bytes, std::move(done)});
  }

 private:
  FirmwareDownloader& d_;
  CartTlsFiles tls_;
  size_t owner_;
};

FirmwareDownloader::FirmwareDownloader(double failure_share, uint64_t seed)
    : failure_share_(failure_share), random_(seed), worker_([this] { Work(); }) {}

FirmwareDownloader::~FirmwareDownloader() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

std::unique_ptr<device::FirmwareSource> FirmwareDownloader::SourceFor(CartTlsFiles files, size_t owner) {
  return std::make_unique<CartSource>(*this, std::move(files), owner);
}

void FirmwareDownloader::Enqueue(Request r) {
  {
    std::lock_guard lock(mu_);
    pending_.push_back(std::move(r));
  }
  cv_.notify_one();
}

size_t FirmwareDownloader::DeliverCompleted(const std::function<void(size_t owner)>& touched) {
  std::deque<std::pair<size_t, std::function<void()>>> ready;
  {
    std::lock_guard lock(mu_);
    ready.swap(completed_);
  }
  for (auto& [owner, fn] : ready) {
    fn();
    if (touched) touched(owner);
  }
  return ready.size();
}

void FirmwareDownloader::Work() {
  for (;;) {
    Request r;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !pending_.empty(); });
      if (stopping_) return;
      r = std::move(pending_.front());
      pending_.pop_front();
    }
    Result<std::string> bytes = Unavailable("connection reset by peer (cartsim download_failure)");
    if (random_.Bernoulli(failure_share_)) {
      injected_failures_++;
    } else {
      bytes = FetchRange(r.tls, r.url, r.offset, r.max_bytes);
    }
    fetches_++;
    std::lock_guard lock(mu_);
    completed_.emplace_back(r.owner, [done = std::move(r.done), bytes = std::move(bytes)]() mutable { done(std::move(bytes)); });
  }
}

Result<std::string> FetchRange(const CartTlsFiles& tls, const std::string& url, uint64_t offset, uint64_t max_bytes) {
  constexpr std::string_view kScheme = "https://";
  if (url.rfind(kScheme, 0) != 0) return InvalidArgument("firmware URL must be https: " + url);
  std::string rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash), path = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = authority.rfind(':');
  int port = 443;
  std::string host = authority;
  if (colon != std::string::npos) {
    host = authority.substr(0, colon);
    auto [p, ec] = std::from_chars(authority.data() + colon + 1, authority.data() + authority.size(), port);
    if (ec != std::errc() || p != authority.data() + authority.size()) return InvalidArgument("bad port in " + url);
  }
  if (max_bytes == 0) return InvalidArgument("an empty range");
  httplib::SSLClient client(host, port, tls.cert_file, tls.key_file);
  client.set_ca_cert_path(tls.ca_file.c_str());
  client.enable_server_certificate_verification(true);
  client.set_connection_timeout(5);
  client.set_read_timeout(30);
  std::string range = "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + max_bytes - 1);
  auto res = client.Get(path.c_str(), {{"Range", range}});
  if (!res) return Unavailable("GET " + url + ": " + httplib::to_string(res.error()));
  if (res->status == 206) return std::move(res->body);
  if (res->status == 200) {  // the server ignored the range: take ours from the whole
    if (offset > res->body.size()) return InvalidArgument("range starts past the image's end");
    return res->body.substr(offset, max_bytes);
  }
  std::string what = "GET " + url + ": HTTP " + std::to_string(res->status);
  if (res->status == 404) return NotFound(what);
  if (res->status == 401 || res->status == 403) return PermissionDenied(what);
  if (res->status == 416) return InvalidArgument(what);
  return Unavailable(what);
}

}  // namespace cw::sim
