// testing/postgres_server.h — a private PostgreSQL server for tests, as DESIGN.md §5 asks: initdb
// into a temp dir, pg_ctl start on a free port on 127.0.0.1 (Unix socket in the same dir), trust
// authentication for the one local user, fsync off. PostgreSQL refuses to run as root, so when
// the test runs as root the server runs as the `postgres` system user (made by Debian's package)
// through runuser.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "testing/temp_dir.h"

namespace cw::testing {

class PostgresServer {
 public:
  // FailedPrecondition naming what is missing when PostgreSQL's binaries are not installed
  // (./run setup installs them); Unavailable when the server does not come up (its log is quoted).
  static Result<std::unique_ptr<PostgresServer>> Start();
  ~PostgresServer();  // pg_ctl stop -m immediate

  // A fresh, empty database; returns its URI (postgresql://cartwright@127.0.0.1:PORT/NAME).
  Result<std::string> CreateDatabase();
  uint16_t port() const { return port_; }

  // One server per test process, started on first use and stopped at exit.
  static Result<PostgresServer*> Shared();

  // The CTest fixture (`cw_test_postgres start|stop FILE`): one server for a whole test run, so
  // each test process does not pay for an initdb. Detach() leaves this server running and its
  // directory in place, and returns what FILE records about it.
  std::string Detach();
  // Stops a detached server recorded in FILE and removes its directory (no error if there is none).
  static void StopDetached(const std::string& record);

 private:
  PostgresServer() = default;
  TempDir dir_;
  std::string bin_dir_;
  std::string data_dir_;
  uint16_t port_ = 0;
};

// A fresh database as a URI: on the test run's fixture server when CTest started one
// (CARTWRIGHT_BIN_DIR/test-postgres.conf), else on this process's own server;
// "unavailable:<why>" when there is none, so a store opened with it fails with the reason.
std::string FreshPostgresUri();

}  // namespace cw::testing
