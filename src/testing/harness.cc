#include "testing/harness.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "store/registry.h"

namespace cw::testing {

uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

BrokerFleet::BrokerFleet(int carts, const std::string& store) {
  pki::Layout layout(dir_.path());
  auto st = pki::InitPki(layout, {}, Clock::System());
  EXPECT_TRUE(st.ok()) << st.ToString();
  entities_ = std::move(store::Registry::WithBuiltinBackends().OpenEntity("sqlite:" + dir_.path() + "/entity.db")).value();
  EXPECT_TRUE(entities_->AddStore({*StoreId::Parse(store), "Test store", "testco", store::Region::kEu,
                                   "Europe/Berlin", Clock::System().Now()}).ok());
  if (carts > 0) {
    pki::Provisioner prov(layout, *pki::LoadCa(layout), *entities_, Clock::System(), Random::System());
    auto made = prov.NewCarts(*StoreId::Parse(store), carts, dir_.path() + "/carts");
    EXPECT_TRUE(made.ok()) << made.error().ToString();
    if (made.ok()) carts_ = *made;
  }
  // A port can be taken between FreePort() and the broker's bind; try a few.
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = FreePort();
    broker::BrokerOptions o;
    o.data_dir = dir_.path();
    o.listen = {"127.0.0.1", port_};
    broker_ = std::make_unique<broker::ManagedBroker>(o);
    Status s = broker_->Start();
    if (s.ok()) return;
    ADD_FAILURE() << "broker start attempt " << attempt << ": " << s.ToString();
  }
}

BrokerFleet::~BrokerFleet() {
  if (broker_) broker_->Stop();
}

mqtt::ClientOptions BrokerFleet::CartOptions(const CartId& cart) const {
  std::string d = dir_.path() + "/carts/" + cart.str();
  mqtt::ClientOptions o;
  o.port = port_;
  o.client_id = cart.str();
  o.ca_file = d + "/ca.crt";
  o.cert_file = d + "/device.crt";
  o.key_file = d + "/device.key";
  return o;
}

mqtt::ClientOptions BrokerFleet::IngestOptions() const {
  pki::Layout l(dir_.path());
  mqtt::ClientOptions o;
  o.port = port_;
  o.client_id = "ingest-test-" + std::to_string(::getpid());
  o.ca_file = l.ca_crt;
  o.cert_file = l.ingest_crt;
  o.key_file = l.ingest_key;
  return o;
}

std::unique_ptr<mqtt::Client> BrokerFleet::ConnectCart(const CartId& cart) const {
  auto c = std::move(mqtt::Client::Create(CartOptions(cart))).value();
  Status s = c->Connect();
  EXPECT_TRUE(s.ok()) << cart.str() << ": " << s.ToString();
  return c;
}

std::unique_ptr<mqtt::Client> BrokerFleet::ConnectIngest() const {
  auto c = std::move(mqtt::Client::Create(IngestOptions())).value();
  Status s = c->Connect();
  EXPECT_TRUE(s.ok()) << "ingest: " << s.ToString();
  return c;
}

namespace {
std::string Drain(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}
}  // namespace

ProcessResult RunProcess(const std::vector<std::string>& argv) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return {};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    ::execv(a[0], a.data());
    ::_exit(127);
  }
  ::close(out[1]);
  ::close(err[1]);
  ProcessResult r;
  std::thread t([&] { r.err = Drain(err[0]); });
  r.out = Drain(out[0]);
  t.join();
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv, const std::string& log_path) {
  pid_ = ::fork();
  if (pid_ == 0) {
    int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

BackgroundProcess::~BackgroundProcess() {
  if (running()) Stop(SIGKILL);
}

bool BackgroundProcess::running() const { return pid_ > 0 && ::kill(pid_, 0) == 0; }

int BackgroundProcess::Stop(int signal) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, signal);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? -WTERMSIG(status) : -1;
}

std::string BinaryPath(const std::string& name) {
  const char* dir = std::getenv("CARTWRIGHT_BIN_DIR");
  return std::string(dir ? dir : ".") + "/" + name;
}

}  // namespace cw::testing
