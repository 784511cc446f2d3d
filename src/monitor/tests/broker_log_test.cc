#include "monitor/broker_log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "testing/temp_dir.h"

namespace cw::monitor {
namespace {

// Lines as mosquitto 2.0 writes them (captured from the managed broker).
TEST(BrokerLog, RefusedHandshakesAndConnectsAreAuthFailuresAndNothingElseIs) {
  std::string detail;
  EXPECT_EQ(ClassifyBrokerLogLine("2026-11-23T12:11:34: OpenSSL Error[0]: error:0A000086:SSL routines::certificate "
                                  "verify failed",
                                  &detail),
            AuthFailure::kTlsHandshake);
  EXPECT_EQ(detail, "certificate verify failed");
  EXPECT_EQ(ClassifyBrokerLogLine("2026-11-23T12:11:34: OpenSSL Error[0]: error:0A0000C7:SSL routines::peer did not "
                                  "return a certificate",
                                  &detail),
            AuthFailure::kTlsHandshake);
  EXPECT_EQ(detail, "peer did not return a certificate");
  // The same refusal when the handshake fails within accept(): one line or the other, never both.
  EXPECT_EQ(ClassifyBrokerLogLine("2026-11-23T15:02:06: Client connection from 127.0.0.1 failed: error:0A0000C7:SSL "
                                  "routines::peer did not return a certificate.",
                                  &detail),
            AuthFailure::kTlsHandshake);
  EXPECT_EQ(detail, "peer did not return a certificate");
  EXPECT_EQ(ClassifyBrokerLogLine("2026-11-23T12:11:34: Client CART-000009 disconnected, not authorised."),
            AuthFailure::kNotAuthorised);
  EXPECT_EQ(ClassifyBrokerLogLine("2026-11-23T12:11:35: ACL denied publish on 'carts/CART-000002/events/scan' for "
                                  "client CART-000001 (user CART-000001)",
                                  &detail),
            AuthFailure::kAclDenied);
  EXPECT_EQ(detail, "publish on 'carts/CART-000002/events/scan'");
  EXPECT_EQ(ClassifyBrokerLogLine("2026-11-23T12:11:35: ACL denied subscribe on '#' for client c (user CART-000001)"),
            AuthFailure::kAclDenied);
  for (const char* benign : {
           // What a client names itself, or a topic it uses, is quoted inside other lines: not a failure.
           "2026-11-23T12:11:32: New client connected from 127.0.0.1:35190 as OpenSSL Error[0]: x (p2, c1, k60, u'C').",
           "2026-11-23T12:11:32: Client ACL denied x disconnected.",
           "2026-11-23T12:11:32: New client connected from 127.0.0.1:1 as x disconnected, not authorised. (p2, c1).",
           "2026-11-23T12:11:34: OpenSSL Error[1]: error:0A000086:SSL routines::certificate verify failed",
           "2026-11-23T12:11:34: Client <unknown> disconnected: Protocol error.",
           // The supervisor's readiness probe: a TCP connect that never speaks TLS.
           "2026-11-23T12:11:29: Client connection from 127.0.0.1 failed: error:0A000126:SSL routines::unexpected "
           "eof while reading.",
           "2026-11-23T12:11:29: OpenSSL Error[0]: error:0A000126:SSL routines::unexpected eof while reading",
           "2026-11-23T12:11:32: New client connected from 127.0.0.1:35190 as CART-000001 (p2, c1, k60, u'CART-000001').",
           "2026-11-23T12:11:32: Client CART-000001 disconnected.",
           "2026-11-23T12:11:32: Client connection from 127.0.0.1 failed: Too many open files.",
       }) {
    EXPECT_FALSE(ClassifyBrokerLogLine(benign).has_value()) << benign;
  }
}

TEST(BrokerLog, TheFollowerReadsOnlyWhatIsAppendedAndSurvivesTruncationAndReplacement) {
  cw::testing::TempDir dir;
  std::string path = dir.path() + "/mosquitto.log";
  BrokerLogFollower follower(path);
  EXPECT_EQ(follower.ReadNewLines(), "");  // no file yet
  {
    std::ofstream f(path);
    f << "old line\n";
  }
  EXPECT_EQ(follower.ReadNewLines(), "old line\n");  // appeared after start: read whole
  {
    std::ofstream f(path, std::ios::app);
    f << "one\ntwo, half";
  }
  EXPECT_EQ(follower.ReadNewLines(), "one\n");
  {
    std::ofstream f(path, std::ios::app);
    f << " and the rest\n";
  }
  EXPECT_EQ(follower.ReadNewLines(), "two, half and the rest\n");
  {
    std::ofstream f(path, std::ios::trunc);  // truncated by a restart
    f << "fresh\n";
  }
  EXPECT_EQ(follower.ReadNewLines(), "fresh\n");
  std::string moved = dir.path() + "/new.log";
  {
    std::ofstream f(moved);
    f << "replaced, longer than what was there before\n";
  }
  ASSERT_EQ(::rename(moved.c_str(), path.c_str()), 0);
  EXPECT_EQ(follower.ReadNewLines(), "replaced, longer than what was there before\n");

  // A follower started on an existing file skips its past.
  BrokerLogFollower late(path);
  EXPECT_EQ(late.ReadNewLines(), "");
  {
    std::ofstream f(path, std::ios::app);
    f << "new\n";
  }
  EXPECT_EQ(late.ReadNewLines(), "new\n");
}

}  // namespace
}  // namespace cw::monitor
