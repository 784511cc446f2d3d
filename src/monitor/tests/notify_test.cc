#include "monitor/notify.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <rapidjson/document.h>

#include <thread>

#include "core/time_format.h"

namespace cw::monitor {
namespace {

TEST(Webhook, DeliversInOrderAndRetriesAReceiverThatFailed) {
  httplib::Server server;
  std::mutex mu;
  std::vector<std::string> bodies;
  int calls = 0;
  server.Post("/hook", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(mu);
    if (++calls == 1) {
      res.status = 503;  // the receiver is briefly away
      return;
    }
    bodies.push_back(req.body);
    res.status = 204;
  });
  int port = server.bind_to_any_port("127.0.0.1");
  std::thread serving([&] { server.listen_after_bind(); });
  while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  auto hook = Webhook::Create("http://127.0.0.1:" + std::to_string(port) + "/hook");
  ASSERT_TRUE(hook.ok()) << hook.error().ToString();
  WebhookAlarmSink sink(**hook);
  store::AlarmEvent e{"auth_failures", "", true, store::AlarmSeverity::kPage, *ParseWireTime("2026-11-22T10:00:00.000Z"),
                      134, 100, "134 authentication failures in the last 5m"};
  sink.Notify(e);
  e.firing = false;
  sink.Notify(e);
  ASSERT_TRUE((*hook)->Drain(std::chrono::seconds(20)));
  server.stop();
  serving.join();
  EXPECT_EQ((*hook)->delivered(), 2u);
  std::lock_guard lock(mu);
  ASSERT_EQ(bodies.size(), 2u);
  rapidjson::Document first;
  first.Parse(bodies[0].c_str());
  ASSERT_TRUE(first.IsObject()) << bodies[0];
  EXPECT_STREQ(first["alarm"].GetString(), "auth_failures");
  EXPECT_STREQ(first["state"].GetString(), "firing");
  EXPECT_STREQ(first["severity"].GetString(), "page");
  EXPECT_STREQ(first["at"].GetString(), "2026-11-22T10:00:00.000Z");
  EXPECT_EQ(first["value"].GetDouble(), 134);
  EXPECT_NE(bodies[1].find("\"state\":\"resolved\""), std::string::npos);
}

TEST(Webhook, OnlyHttpUrlsWithAHost) {
  EXPECT_FALSE(Webhook::Create("ftp://x/y").ok());
  EXPECT_FALSE(Webhook::Create("https://").ok());
  EXPECT_FALSE(Webhook::Create("hooks.example").ok());
  EXPECT_TRUE(Webhook::Create("https://hooks.example").ok());
}

}  // namespace
}  // namespace cw::monitor
