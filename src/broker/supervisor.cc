#include "broker/supervisor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/log.h"

namespace cw::broker {

Supervisor::Supervisor(Options options) : options_(std::move(options)) {}

Supervisor::~Supervisor() { Stop(); }

Status Supervisor::Start() {
  if (thread_.joinable()) return FailedPrecondition("supervisor already started");
  if (options_.argv.empty()) return InvalidArgument("no program to supervise");
  if (!options_.log_path.empty()) {
    log_fd_ = ::open(options_.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (log_fd_ < 0) return Internal("open " + options_.log_path + ": " + std::strerror(errno));
  }
  thread_ = std::thread([this] { Run(); });
  // Wait for the first spawn so pid() is meaningful on return.
  for (int i = 0; i < 500 && pid_.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  if (pid_.load() <= 0) return Internal("could not start " + options_.argv[0]);
  return Status::Ok();
}

namespace {
pid_t g_program = 0;  // in the watcher process only
void ForwardToProgram(int sig) { ::kill(g_program, sig); }
}  // namespace

pid_t Supervisor::Spawn(int& out_fd) {
  // Everything the children need is prepared before fork: after it, only async-signal-safe calls.
  std::vector<char*> argv;
  for (auto& a : options_.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return -1;
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    // The watcher. It keeps PR_SET_PDEATHSIG — which the program itself loses when it drops
    // privileges (Mosquitto switching to its own user) — and forwards the signal, so the program
    // never outlives a supervisor killed with -9.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);  // the parent may block signals for sigwait
    pid_t program = ::fork();
    if (program == 0) {
      ::signal(SIGTERM, SIG_DFL);
      ::execvp(argv[0], argv.data());
      static const char kMsg[] = "exec failed\n";
      (void)!::write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
      ::_exit(127);
    }
    if (program < 0) ::_exit(127);
    g_program = program;
    ::signal(SIGTERM, ForwardToProgram);
    ::signal(SIGINT, ForwardToProgram);
    int status = 0;
    while (::waitpid(program, &status, 0) < 0 && errno == EINTR) {
    }
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    return -1;
  }
  out_fd = fds[0];
  return pid;
}

void Supervisor::Pump(int fd) {
  std::string pending;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (log_fd_ >= 0) (void)!::write(log_fd_, buf, static_cast<size_t>(n));
    pending.append(buf, static_cast<size_t>(n));
    size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      if (options_.on_line) options_.on_line(pending.substr(0, nl));
      pending.erase(0, nl + 1);
    }
  }
  if (!pending.empty() && options_.on_line) options_.on_line(pending);
  ::close(fd);
}

void Supervisor::Run() {
  auto backoff = options_.initial_backoff;
  for (;;) {
    int fd = -1;
    auto started = std::chrono::steady_clock::now();
    pid_t pid = Spawn(fd);
    if (pid < 0) {
      log::Error("supervisor.spawn_failed", {{"program", options_.argv[0]}, {"error", std::strerror(errno)}});
      pid_ = -1;
      return;
    }
    pid_ = pid;
    log::Info("supervisor.started", {{"program", options_.argv[0]}, {"pid", pid}});
    std::thread pump([this, fd] { Pump(fd); });
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    // Whatever the child left behind in its process group would keep the pipe open.
    ::kill(-pid, SIGKILL);
    pump.join();
    std::unique_lock lock(mu_);
    if (stopping_) return;
    std::string how = WIFEXITED(status) ? "exit " + std::to_string(WEXITSTATUS(status))
                                        : "signal " + std::to_string(WTERMSIG(status));
    if (std::chrono::steady_clock::now() - started > std::chrono::minutes(1)) backoff = options_.initial_backoff;
    log::Warn("supervisor.child_died", {{"program", options_.argv[0]}, {"pid", pid}, {"how", how},
                                        {"restart_in_ms", static_cast<int64_t>(backoff.count())}});
    if (cv_.wait_for(lock, backoff, [&] { return stopping_; })) return;
    backoff = std::min(backoff * 2, options_.max_backoff);
    restarts_++;
  }
}

void Supervisor::Stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    cv_.notify_all();
  }
  pid_t pid = pid_.load();
  if (pid > 0 && thread_.joinable()) {
    ::kill(-pid, SIGTERM);  // the child leads its own process group
    // The supervision thread reaps the child; wait for that, then escalate.
    auto deadline = std::chrono::steady_clock::now() + grace;
    while (std::chrono::steady_clock::now() < deadline) {
      siginfo_t info{};
      // WNOWAIT: look without reaping, so the supervision thread's waitpid still sees it.
      if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) break;  // reaped
      if (info.si_pid == pid) break;  // exited, not yet reaped
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    ::kill(-pid, SIGKILL);
  }
  if (thread_.joinable()) thread_.join();
  if (log_fd_ >= 0) {
    ::close(log_fd_);
    log_fd_ = -1;
  }
}

}  // namespace cw::broker
