#include "testing/postgres_server.h"

#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <atomic>
#include <map>
#include <mutex>
#include <sstream>

#include "testing/process.h"

namespace cw::testing {
namespace {

namespace fs = std::filesystem;

// Debian keeps the server binaries in /usr/lib/postgresql/<major>/bin, off PATH.
std::string FindBinDir() {
  std::string best;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    fs::path bin = entry.path() / "bin";
    if (fs::exists(bin / "initdb") && fs::exists(bin / "pg_ctl") && bin.string() > best) best = bin.string();
  }
  return best;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> AsPostgresUser(std::vector<std::string> argv) {
  if (::geteuid() == 0) argv.insert(argv.begin(), {"/usr/sbin/runuser", "-u", "postgres", "--"});
  return argv;
}

// A test that crashed (abort, sanitizer, kill) never ran its destructors, so its server is still
// up. Each server's dir records the test's pid; stop the servers whose test is gone.
void StopOrphans(const std::string& bin_dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::temp_directory_path(), ec)) {
    fs::path owner = entry.path() / "owner.pid";
    if (!entry.path().filename().string().starts_with("cw-test-") || !fs::exists(owner, ec)) continue;
    pid_t pid = static_cast<pid_t>(std::atoi(ReadFile(owner.string()).c_str()));
    if (pid <= 0 || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    RunProcess(AsPostgresUser({bin_dir + "/pg_ctl", "-D", (entry.path() / "pgdata").string(), "-m", "immediate", "-w", "stop"}));
    fs::remove_all(entry.path(), ec);
  }
}

}  // namespace

Result<std::unique_ptr<PostgresServer>> PostgresServer::Start() {
  std::unique_ptr<PostgresServer> s(new PostgresServer());
  s->bin_dir_ = FindBinDir();
  if (s->bin_dir_.empty()) {
    return FailedPrecondition("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (run ./run setup)");
  }
  StopOrphans(s->bin_dir_);
  std::ofstream(s->dir_.path() + "/owner.pid") << ::getpid();
  s->data_dir_ = s->dir_.path() + "/pgdata";
  if (::geteuid() == 0) {
    passwd* pw = ::getpwnam("postgres");
    if (!pw) return FailedPrecondition("running as root but there is no `postgres` user to run PostgreSQL as");
    std::error_code ec;
    fs::create_directory(s->data_dir_, ec);
    if (::chown(s->data_dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0 ||
        ::chown(s->dir_.path().c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return Internal("cannot hand " + s->dir_.path() + " to the postgres user");
    }
  }
  auto run = [](std::vector<std::string> argv) { return RunProcess(AsPostgresUser(std::move(argv))); };
  ProcessResult init = run({s->bin_dir_ + "/initdb", "-D", s->data_dir_, "-U", "cartwright", "--auth=trust",
                            "-E", "UTF8", "--no-locale", "--no-sync"});
  if (init.exit_code != 0) return Unavailable("initdb failed: " + init.err + init.out);
  // A free port can be taken between our probe and the server's bind: try a few.
  std::string log = s->dir_.path() + "/postgres.log";
  for (int attempt = 0; attempt < 5; ++attempt) {
    s->port_ = FreePort();
    std::string options = "-p " + std::to_string(s->port_) + " -k " + s->dir_.path() +
                          " -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
                          " -c synchronous_commit=off -c max_connections=200";
    ProcessResult started = run({s->bin_dir_ + "/pg_ctl", "-D", s->data_dir_, "-l", log, "-w", "-t", "60", "-o",
                                 options, "start"});
    if (started.exit_code == 0) return s;
  }
  return Unavailable("PostgreSQL did not start: " + ReadFile(log));
}

PostgresServer::~PostgresServer() {
  if (port_ == 0) return;
  RunProcess(AsPostgresUser({bin_dir_ + "/pg_ctl", "-D", data_dir_, "-m", "immediate", "-w", "stop"}));
}

namespace {

std::atomic<int> next_database{0};

// A new, empty database on the server at `base` ("postgresql://user@host:port/").
Result<std::string> CreateDatabaseAt(const std::string& base) {
  std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(next_database++);
  PGconn* conn = PQconnectdb((base + "postgres").c_str());
  std::unique_ptr<PGconn, decltype(&PQfinish)> guard(conn, PQfinish);
  if (PQstatus(conn) != CONNECTION_OK) return Unavailable(std::string("connect to test postgres: ") + PQerrorMessage(conn));
  PGresult* res = PQexec(conn, ("CREATE DATABASE " + name).c_str());
  bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  std::string error = PQresultErrorMessage(res);
  PQclear(res);
  if (!ok) return Unavailable("CREATE DATABASE " + name + ": " + error);
  return base + name;
}

// key value lines
std::map<std::string, std::string> ReadRecord(const std::string& path) {
  std::map<std::string, std::string> out;
  std::istringstream lines(ReadFile(path));
  std::string key, value;
  while (lines >> key >> value) out[key] = value;
  return out;
}

}  // namespace

Result<std::string> PostgresServer::CreateDatabase() {
  return CreateDatabaseAt("postgresql://cartwright@127.0.0.1:" + std::to_string(port_) + "/");
}

std::string PostgresServer::Detach() {
  std::string record = "uri_base postgresql://cartwright@127.0.0.1:" + std::to_string(port_) + "/\n" +
                       "bin_dir " + bin_dir_ + "\ndata_dir " + data_dir_ + "\ndir " + dir_.path() + "\n";
  ::unlink((dir_.path() + "/owner.pid").c_str());  // owned by the run now, not by this process
  dir_.Keep();
  port_ = 0;
  return record;
}

void PostgresServer::StopDetached(const std::string& path) {
  auto r = ReadRecord(path);
  if (r.count("bin_dir") && r.count("data_dir")) {
    RunProcess(AsPostgresUser({r["bin_dir"] + "/pg_ctl", "-D", r["data_dir"], "-m", "immediate", "-w", "stop"}));
  }
  std::error_code ec;
  if (r.count("dir") && r["dir"].starts_with("/tmp/cw-test-")) fs::remove_all(r["dir"], ec);
  fs::remove(path, ec);
}

Result<PostgresServer*> PostgresServer::Shared() {
  static std::mutex mu;
  static std::unique_ptr<PostgresServer> server;
  static Status failed = Status::Ok();
  std::lock_guard lock(mu);
  if (!server && failed.ok()) {
    auto started = Start();
    if (started.ok()) server = std::move(started).value();
    else failed = started.error();
  }
  if (!failed.ok()) return failed;
  return server.get();
}

}  // namespace cw::testing

namespace cw::testing {

std::string FreshPostgresUri() {
  if (const char* bin = std::getenv("CARTWRIGHT_BIN_DIR")) {
    auto fixture = ReadRecord(std::string(bin) + "/test-postgres.conf");
    if (fixture.count("uri_base")) {
      auto db = CreateDatabaseAt(fixture["uri_base"]);
      if (db.ok()) return *db;
    }
  }
  auto server = PostgresServer::Shared();
  if (!server.ok()) return "unavailable:" + server.error().ToString();
  auto db = (*server)->CreateDatabase();
  return db.ok() ? *db : "unavailable:" + db.error().ToString();
}

}  // namespace cw::testing
