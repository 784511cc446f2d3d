#include "sim/session_poller.h"

#include <sys/epoll.h>
#include <unistd.h>

namespace cw::sim {

Result<std::unique_ptr<SessionPoller>> SessionPoller::Create() {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return Internal("epoll_create1 failed");
  return std::unique_ptr<SessionPoller>(new SessionPoller(fd));
}

SessionPoller::~SessionPoller() { ::close(epoll_); }

int64_t& SessionPoller::OwnerOf(int fd) {
  if (static_cast<size_t>(fd) >= fd_owner_.size()) fd_owner_.resize(static_cast<size_t>(fd) + 1024, -1);
  return fd_owner_[static_cast<size_t>(fd)];
}

void SessionPoller::Sync(size_t index, const MqttSession& session) {
  if (index >= registrations_.size()) registrations_.resize(index + 1);
  Registration& reg = registrations_[index];
  int fd = session.fd();
  bool out = fd >= 0 && session.wants_write();
  epoll_event ev{};
  ev.events = EPOLLIN | (out ? uint32_t{EPOLLOUT} : 0u);
  ev.data.u64 = index;
  if (fd != reg.fd) {
    if (reg.fd >= 0 && OwnerOf(reg.fd) == static_cast<int64_t>(index)) {
      ::epoll_ctl(epoll_, EPOLL_CTL_DEL, reg.fd, nullptr);
      OwnerOf(reg.fd) = -1;
    }
    reg.fd = -1;
    if (fd >= 0) {
      int64_t& prev = OwnerOf(fd);
      if (prev >= 0 && prev != static_cast<int64_t>(index)) registrations_[static_cast<size_t>(prev)].fd = -1;
      int op = ::epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : ::epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &ev);
      if (op == 0) {
        prev = static_cast<int64_t>(index);
        reg.fd = fd;
        reg.out = out;
      }
    }
  } else if (fd >= 0 && out != reg.out) {
    ::epoll_ctl(epoll_, EPOLL_CTL_MOD, fd, &ev);
    reg.out = out;
  }
}

int SessionPoller::Poll(std::chrono::milliseconds timeout, const std::function<MqttSession&(size_t)>& session_at) {
  epoll_event events[1024];
  int n = ::epoll_wait(epoll_, events, 1024, static_cast<int>(timeout.count()));
  for (int k = 0; k < n; ++k) {
    size_t i = events[k].data.u64;
    uint32_t ev = events[k].events;
    MqttSession& s = session_at(i);
    if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) s.OnReadable();
    if (ev & EPOLLOUT) s.OnWritable();
    Sync(i, s);
  }
  return n < 0 ? 0 : n;
}

}  // namespace cw::sim
