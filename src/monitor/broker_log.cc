#include "monitor/broker_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cw::monitor {

std::string_view Name(AuthFailure f) { return f == AuthFailure::kTlsHandshake ? "tls_handshake" : "not_authorised"; }

std::optional<AuthFailure> ClassifyBrokerLogLine(std::string_view line, std::string* detail) {
  // One handshake can log several OpenSSL errors ([0], [1]…): the first one counts it.
  constexpr std::string_view kTls = "OpenSSL Error[0]: ";
  // A client that closes before its ClientHello (a TCP health check, a port scan, the broker
  // supervisor's readiness probe) never tried to authenticate.
  if (line.find("unexpected eof while reading") != std::string_view::npos) return std::nullopt;
  if (auto at = line.find(kTls); at != std::string_view::npos) {
    if (detail) {
      std::string_view rest = line.substr(at + kTls.size());
      // "error:0A000086:SSL routines::certificate verify failed" → the words after the last ':'.
      auto colon = rest.rfind(':');
      *detail = std::string(colon == std::string_view::npos ? rest : rest.substr(colon + 1));
    }
    return AuthFailure::kTlsHandshake;
  }
  if (line.find(" disconnected, not authorised.") != std::string_view::npos) {
    if (detail) *detail = "not authorised";
    return AuthFailure::kNotAuthorised;
  }
  return std::nullopt;
}

BrokerLogFollower::BrokerLogFollower(std::string path) : path_(std::move(path)) {}

std::string BrokerLogFollower::ReadNewLines() {
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    started_ = true;  // a file that appears later is new: read it whole
    return {};
  }
  struct stat st {};
  ::fstat(fd, &st);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (!started_) {
    started_ = true;
    offset_ = size;
    inode_ = st.st_ino;
    ::close(fd);
    return {};
  }
  if (st.st_ino != inode_ || size < offset_) {  // replaced or truncated
    offset_ = 0;
    inode_ = st.st_ino;
    partial_.clear();
  }
  std::string out;
  char buf[65536];
  while (offset_ < size) {
    ssize_t n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(offset_));
    if (n <= 0) break;
    offset_ += static_cast<uint64_t>(n);
    partial_.append(buf, static_cast<size_t>(n));
    auto end = partial_.rfind('\n');
    if (end != std::string::npos) {
      out.append(partial_, 0, end + 1);
      partial_.erase(0, end + 1);
    }
  }
  ::close(fd);
  return out;
}

}  // namespace cw::monitor
