#include "monitor/broker_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace cw::monitor {

std::string_view Name(AuthFailure f) {
  switch (f) {
    case AuthFailure::kTlsHandshake: return "tls_handshake";
    case AuthFailure::kNotAuthorised: return "not_authorised";
    case AuthFailure::kAclDenied: return "acl_denied";
  }
  return "?";
}

namespace {

// "2026-11-23T12:11:34: message" → "message" (the managed broker's log_timestamp_format).
std::string_view MessageOf(std::string_view line) {
  auto sep = line.find(": ");
  if (sep != std::string_view::npos && sep > 0 && line[0] >= '0' && line[0] <= '9') return line.substr(sep + 2);
  return line;
}

}  // namespace

std::optional<AuthFailure> ClassifyBrokerLogLine(std::string_view line, std::string* detail) {
  std::string_view message = MessageOf(line);
  // One handshake can log several OpenSSL errors ([0], [1]…): the first one counts it.
  constexpr std::string_view kTls = "OpenSSL Error[0]: ";
  constexpr std::string_view kAcl = "ACL denied ";  // broker/plugin/acl_plugin.cc
  constexpr std::string_view kRefused = " disconnected, not authorised.";
  // When the handshake fails within accept(), Mosquitto logs it as a failed connection instead.
  constexpr std::string_view kFailedConnection = "Client connection from ";
  bool failed_connection = message.starts_with(kFailedConnection) && message.find(" failed: ") != std::string_view::npos &&
                           message.find("SSL routines::") != std::string_view::npos;
  if (message.starts_with(kTls) || failed_connection) {
    std::string_view rest = failed_connection ? message.substr(message.find(" failed: ") + 9) : message.substr(kTls.size());
    if (rest.ends_with('.')) rest.remove_suffix(1);
    // A client that closes before its ClientHello (a TCP health check, a port scan, the broker
    // supervisor's readiness probe) never tried to authenticate.
    if (rest.find("unexpected eof while reading") != std::string_view::npos) return std::nullopt;
    if (detail) {
      // "error:0A000086:SSL routines::certificate verify failed" → the words after the last ':'.
      auto colon = rest.rfind(':');
      *detail = std::string(colon == std::string_view::npos ? rest : rest.substr(colon + 1));
    }
    return AuthFailure::kTlsHandshake;
  }
  if (message.starts_with(kAcl)) {
    if (detail) {
      // "ACL denied publish on 'carts/X/status' for client …" → "publish on 'carts/X/status'".
      std::string_view rest = message.substr(kAcl.size());
      *detail = std::string(rest.substr(0, rest.rfind(" for client ")));
    }
    return AuthFailure::kAclDenied;
  }
  if (message.starts_with("Client ") && message.ends_with(kRefused)) {
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
