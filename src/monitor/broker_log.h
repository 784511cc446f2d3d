// monitor/broker_log.h — authentication failures at the managed broker, read from its log.
//
// Mosquitto writes one "OpenSSL Error[0]: …" line for every TLS handshake it refuses (no client
// certificate, one from another CA, an expired one) — or, when the handshake fails within
// accept(), "Client connection from … failed: …SSL routines::…" instead — and "Client … disconnected, not authorised."
// for a CONNECT it refuses; Cartwright's ACL plugin (broker/plugin/) writes "ACL denied …" for
// every publish or subscription it refuses. Those lines are the only record of clients that never
// got a session or probed beyond their own topics, so the monitor follows the log file (DATA_DIR/broker/mosquitto.log) the way `tail -F` does:
// from its end at start-up, through truncation and replacement.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cw::monitor {

enum class AuthFailure { kTlsHandshake, kNotAuthorised, kAclDenied };
inline constexpr std::array<AuthFailure, 3> kAllAuthFailures = {AuthFailure::kTlsHandshake, AuthFailure::kNotAuthorised,
                                                                AuthFailure::kAclDenied};
std::string_view Name(AuthFailure f);  // tls_handshake|not_authorised|acl_denied

// What one log line reports, if it is an authentication failure. The reason (e.g. "certificate
// verify failed", "publish on 'carts/X/status'") goes to `detail` when asked for. Only the start
// of the message counts, so a client id or topic quoted inside another line cannot pose as one.
std::optional<AuthFailure> ClassifyBrokerLogLine(std::string_view line, std::string* detail = nullptr);

class BrokerLogFollower {
 public:
  explicit BrokerLogFollower(std::string path);

  // Reads what was appended since the last call (at the first call: only notes where the file
  // ends) and returns the complete lines. A file that shrank or was replaced is read from its
  // start; a missing file is not an error (the broker may not have started yet).
  std::string ReadNewLines();

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  bool started_ = false;
  uint64_t offset_ = 0;
  uint64_t inode_ = 0;
  std::string partial_;  // a line not yet ended by '\n'
};

}  // namespace cw::monitor
