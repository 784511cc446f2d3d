// sim/session_poller.h — many carts' MQTT sessions on one epoll set, for one thread.
//
// Each session is known by an index the caller chooses (its position in the caller's fleet). A
// session's socket changes on every reconnect, and a closed socket leaves epoll by itself while
// its number may already belong to another session's new socket, so the poller remembers which
// index registered each descriptor and only that owner may remove it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/status.h"
#include "sim/mqtt_session.h"

namespace cw::sim {

class SessionPoller {
 public:
  // Internal if the kernel refuses an epoll set.
  static Result<std::unique_ptr<SessionPoller>> Create();
  ~SessionPoller();
  SessionPoller(const SessionPoller&) = delete;

  // Brings session `index`'s registration in step with its socket and its write interest. Call
  // after anything that may change them: Connect, Publish, OnReadable/OnWritable, Service.
  void Sync(size_t index, const MqttSession& session);

  // Waits up to `timeout` for ready sockets and hands each to its session (`session_at(index)`),
  // then re-syncs that session. Returns how many sockets were ready.
  int Poll(std::chrono::milliseconds timeout, const std::function<MqttSession&(size_t)>& session_at);

 private:
  struct Registration {
    int fd = -1;
    bool out = false;
  };
  explicit SessionPoller(int epoll) : epoll_(epoll) {}
  int64_t& OwnerOf(int fd);
  int epoll_;
  std::vector<int64_t> fd_owner_;             // socket fd → the index registered for it, or -1
  std::vector<Registration> registrations_;  // by index
};

}  // namespace cw::sim
