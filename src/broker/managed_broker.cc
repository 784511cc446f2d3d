#include "broker/managed_broker.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "core/files.h"
#include "core/log.h"

namespace cw::broker {

std::string RenderMosquittoConf(const BrokerOptions& o, const std::string& dir) {
  std::string c;
  c += "# Written by `cartwright broker run`; regenerated at every start. Do not edit.\n";
  c += "per_listener_settings false\n";
  c += "allow_anonymous false\n";
  c += "# The ACL: enforced by Cartwright's plugin, which logs each denial (see ./acl for the rules).\n";
  c += "plugin " + dir + "/" + std::string(kAclPluginFile) + "\n";
  c += "plugin_opt_service_user " + std::string(pki::kIngestServiceCn) + "\n";
  c += "persistence true\n";
  c += "persistence_location " + dir + "/data/\n";
  c += "autosave_interval 30\n";
  c += "log_dest stderr\n";
  c += "log_type error\nlog_type warning\nlog_type notice\nlog_type information\n";
  c += "log_timestamp_format %Y-%m-%dT%H:%M:%S\n";
  c += "connection_messages true\n";
  c += "max_packet_size " + std::to_string(o.max_packet_size) + "\n";
  c += "max_inflight_messages 1000\n";
  c += "max_queued_messages 100000\n";
  c += "\n# Mutual TLS only: a client without a certificate from the fleet CA never gets a session,\n";
  c += "# and its username is its certificate's CN (a cart id or a service name).\n";
  c += "listener " + std::to_string(o.listen.port) + " " + o.listen.host + "\n";
  c += "cafile " + dir + "/tls/ca.crt\n";
  c += "certfile " + dir + "/tls/server.crt\n";
  c += "keyfile " + dir + "/tls/server.key\n";
  c += "require_certificate true\n";
  c += "use_identity_as_username true\n";
  c += "tls_version tlsv1.2\n";
  return c;
}

bool PortAcceptsConnections(const HostPort& hp) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(hp.host.c_str(), std::to_string(hp.port).c_str(), &hints, &res) != 0) return false;
  bool ok = false;
  for (addrinfo* a = res; a && !ok; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    ok = ::connect(fd, a->ai_addr, a->ai_addrlen) == 0;
    ::close(fd);
  }
  freeaddrinfo(res);
  return ok;
}

namespace {

// Mosquitto started as root switches to this user; its files must be reachable by it.
struct BrokerUser {
  bool drops = false;
  uid_t uid = 0;
  gid_t gid = 0;
};

BrokerUser FindBrokerUser() {
  BrokerUser u;
  if (::geteuid() != 0) return u;
  if (passwd* pw = ::getpwnam("mosquitto")) {
    u.drops = true;
    u.uid = pw->pw_uid;
    u.gid = pw->pw_gid;
  }
  return u;
}

Status CheckTraversable(const std::string& dir) {
  std::filesystem::path p = std::filesystem::absolute(dir);
  for (std::filesystem::path cur = p.parent_path(); !cur.empty(); cur = cur.parent_path()) {
    struct stat st;
    if (::stat(cur.c_str(), &st) == 0 && !(st.st_mode & S_IXOTH)) {
      char mode[8];
      std::snprintf(mode, sizeof mode, "%03o", st.st_mode & 0777);
      return FailedPrecondition("the broker runs as user 'mosquitto', which cannot enter " + cur.string() +
                                " (mode " + mode + "); use a data directory whose parents are traversable (chmod o+x)");
    }
    if (cur == cur.root_path()) break;
  }
  return Status::Ok();
}

Status ChownTree(const std::string& dir, const BrokerUser& u) {
  std::error_code ec;
  if (::chown(dir.c_str(), u.uid, u.gid) != 0) return Internal("chown " + dir);
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (::lchown(e.path().c_str(), u.uid, u.gid) != 0) return Internal("chown " + e.path().string());
  }
  return ec ? Internal("walk " + dir + ": " + ec.message()) : Status::Ok();
}

}  // namespace

ManagedBroker::ManagedBroker(BrokerOptions options)
    : options_(std::move(options)), dir_(std::filesystem::absolute(options_.data_dir + "/broker").string()) {}

ManagedBroker::~ManagedBroker() { Stop(); }

Status ManagedBroker::WriteFiles() {
  pki::Layout pki(options_.data_dir);
  if (!PathExists(pki.ca_crt) || !PathExists(pki.broker_key)) {
    return FailedPrecondition("no PKI in " + pki.dir + " (run `cartwright pki init` first)");
  }
  BrokerUser user = FindBrokerUser();
  if (user.drops) CW_RETURN_IF_ERROR(CheckTraversable(dir_));
  CW_RETURN_IF_ERROR(MakeDirs(dir_ + "/tls", 0700));
  CW_RETURN_IF_ERROR(MakeDirs(dir_ + "/data", 0700));
  ::chmod(dir_.c_str(), 0711);
  auto copy = [&](const std::string& from, const std::string& to, mode_t mode) -> Status {
    CW_ASSIGN_OR_RETURN(std::string text, ReadFile(from));
    return WriteFileAtomic(dir_ + "/tls/" + to, text, mode);
  };
  CW_RETURN_IF_ERROR(copy(pki.ca_crt, "ca.crt", 0644));
  CW_RETURN_IF_ERROR(copy(pki.broker_crt, "server.crt", 0644));
  CW_RETURN_IF_ERROR(copy(pki.broker_key, "server.key", 0600));
  CW_RETURN_IF_ERROR(WriteFileAtomic(dir_ + "/" + std::string(kAclPluginFile), AclPluginImage(), 0644));
  CW_RETURN_IF_ERROR(WriteFileAtomic(dir_ + "/acl", RenderAcl(pki::kIngestServiceCn), 0644));
  CW_RETURN_IF_ERROR(WriteFileAtomic(dir_ + "/mosquitto.conf", RenderMosquittoConf(options_, dir_), 0644));
  if (user.drops) CW_RETURN_IF_ERROR(ChownTree(dir_, user));
  return Status::Ok();
}

Status ManagedBroker::Start(std::chrono::milliseconds ready_timeout) {
  if (supervisor_) return FailedPrecondition("broker already started");
  CW_RETURN_IF_ERROR(WriteFiles());
  if (PortAcceptsConnections(options_.listen)) {
    return FailedPrecondition(options_.listen.host + ":" + std::to_string(options_.listen.port) +
                              " is already in use (another broker running?)");
  }
  RaiseOpenFileLimit();  // inherited by mosquitto: one socket per connected cart
  Supervisor::Options so;
  so.argv = {options_.program, "-c", dir_ + "/mosquitto.conf"};
  so.log_path = log_path();
  so.on_line = [](const std::string& line) { log::Debug("broker.log", {{"line", line}}); };
  supervisor_ = std::make_unique<Supervisor>(std::move(so));
  CW_RETURN_IF_ERROR(supervisor_->Start());
  auto deadline = std::chrono::steady_clock::now() + ready_timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (PortAcceptsConnections(options_.listen)) {
      log::Info("broker.ready", {{"listen", options_.listen.host + ":" + std::to_string(options_.listen.port)},
                                 {"pid", supervisor_->pid()}, {"dir", dir_}});
      return Status::Ok();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  std::string tail = ReadFile(log_path()).value_or("");
  if (tail.size() > 600) tail = tail.substr(tail.size() - 600);
  Stop();
  return Unavailable("mosquitto did not start listening within " + std::to_string(ready_timeout.count()) +
                     " ms; its log says: " + tail);
}

void ManagedBroker::Stop() {
  if (supervisor_) {
    supervisor_->Stop();
    supervisor_.reset();
    log::Info("broker.stopped", {{"dir", dir_}});
  }
}

}  // namespace cw::broker
