// broker/supervisor.h — runs one child process, restarts it when it dies, stops it cleanly.
//
// The child's stdout and stderr go, line by line, to a log file and to a callback. A crash is
// followed by a restart after a backoff (1 s doubling to 30 s; reset once the child has run for a
// minute). A small watcher process sits between the supervisor and the program: it holds
// PR_SET_PDEATHSIG (which a program that drops privileges loses) and forwards the signal, so the
// program never outlives a supervisor killed with -9. pid() is the watcher's; it leads the
// program's process group, and stopping or restarting signals the whole group.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace cw::broker {

class Supervisor {
 public:
  struct Options {
    std::vector<std::string> argv;  // argv[0] is the program, looked up in PATH
    std::string log_path;           // appended to; empty for none
    std::function<void(const std::string& line)> on_line;  // may be empty
    std::chrono::milliseconds initial_backoff{1000};
    std::chrono::milliseconds max_backoff{30000};
  };

  explicit Supervisor(Options options);
  ~Supervisor();  // Stop()s

  // Starts the child (and the supervision thread). FailedPrecondition if already started.
  Status Start();
  // SIGTERM, up to `grace` to exit, then SIGKILL. No restart afterwards. Idempotent.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  pid_t pid() const { return pid_.load(); }
  int restarts() const { return restarts_.load(); }

 private:
  void Run();
  pid_t Spawn(int& out_fd);
  void Pump(int fd);

  Options options_;
  std::thread thread_;
  std::atomic<pid_t> pid_{0};
  std::atomic<int> restarts_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
  int log_fd_ = -1;
};

}  // namespace cw::broker
