// testing/process.h — child processes and free ports for tests.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace cw::testing {

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it, close).
uint16_t FreePort();

// Runs a command (argv[0] a path, as for execv), capturing stdout and stderr separately; returns
// the exit code, or -1 if it died of a signal or could not start. A command still running after
// `timeout` is killed: exit code -1, and `err` ends with a line saying so.
struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::minutes(5));

// A child process started in the background (stdout and stderr to `log_path`, appended), for
// tests that kill and restart servers. Stop() sends `signal` and reaps it; the destructor kills
// whatever is still running. pid() is -1 if it could not start (the reason is on stderr).
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::string& log_path);
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  // Sends `signal` and waits; returns the exit code, or -signal if it died of a signal.
  int Stop(int signal);
  bool running() const;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

// Waits up to `timeout` for `text` to appear in the file at `path` (a server's "listening" line
// in its log); false on timeout.
bool WaitForLine(const std::string& path, const std::string& text,
                 std::chrono::milliseconds timeout = std::chrono::seconds(15));

// Path to a built binary (bin/NAME under CARTWRIGHT_BIN_DIR, set by CTest).
std::string BinaryPath(const std::string& name);

}  // namespace cw::testing
