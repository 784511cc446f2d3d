// cw_test_postgres start|stop FILE — the CTest fixture that gives a whole test run one PostgreSQL
// server (tests find it through FILE; see testing/postgres_server.h).
#include <cstdio>
#include <fstream>
#include <string>

#include "testing/postgres_server.h"

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[1]) != "start" && std::string(argv[1]) != "stop")) {
    std::fprintf(stderr, "usage: cw_test_postgres start|stop FILE\n");
    return 2;
  }
  std::string file = argv[2];
  // A run that crashed left its server: stop it either way.
  cw::testing::PostgresServer::StopDetached(file);
  if (std::string(argv[1]) == "stop") return 0;
  auto server = cw::testing::PostgresServer::Start();
  if (!server.ok()) {
    std::fprintf(stderr, "cw_test_postgres: %s\n", server.error().ToString().c_str());
    return 1;
  }
  std::ofstream(file) << (*server)->Detach();
  std::printf("PostgreSQL for this test run: %s\n", file.c_str());
  return 0;
}
