// `cartwright serve`'s REST API over real HTTPS: the API certificate from the fleet CA, TLS 1.2 as
// the floor, a user created by `cartwright user add`, a login and the locator of a provisioned
// fleet. The routes' behaviour in depth is src/api/tests/routes_test.cc.
#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/ssl.h>
#include <signal.h>

#include <thread>

#include "core/base64.h"
#include "core/files.h"
#include "pki/pki.h"
#include "testing/harness.h"
#include "wire/json.h"

namespace cw {
namespace {

TEST(ApiOverHttps, StaffLogInAndReadTheirStoresLocatorOverTls) {
  signal(SIGPIPE, SIG_IGN);  // a refused TLS handshake may close the socket under a client write
  testing::BrokerFleet fleet(3);
  const std::string data = fleet.data_dir(), bin = testing::BinaryPath("cartwright");
  auto added = testing::RunProcess({bin, "--data-dir", data, "user", "add", "--name", "sam", "--role", "staff",
                                    "--store", "STORE-001", "--json"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  rapidjson::Document user;
  ASSERT_TRUE(wire::ParseStrictObject(added.out, user).ok()) << added.out;
  const std::string password(*wire::GetString(user, "password"));
  EXPECT_TRUE(user["totp_secret"].IsNull());
  auto ops = testing::RunProcess({bin, "--data-dir", data, "user", "add", "--name", "olga", "--role", "ops"});
  ASSERT_EQ(ops.exit_code, 0) << ops.err;
  EXPECT_NE(ops.out.find("totp secret: "), std::string::npos) << ops.out;
  auto code = testing::RunProcess({bin, "--data-dir", data, "user", "totp", "--name", "olga"});
  EXPECT_EQ(code.exit_code, 0) << code.err;
  EXPECT_EQ(code.out.size(), 7u) << code.out;  // six digits and a newline
  EXPECT_EQ(testing::RunProcess({bin, "--data-dir", data, "user", "add", "--name", "x", "--role", "staff"}).exit_code, 2);

  const std::string scrape_token(40, 'p');
  ASSERT_TRUE(WriteFileAtomic(data + "/cartwright.toml", "[api]\nmetrics_token = \"" + scrape_token + "\"\n").ok());
  uint16_t port = testing::FreePort();
  testing::BackgroundProcess serve({bin, "serve", "--device-api", "127.0.0.1:0", "--data-dir", data, "--broker", "127.0.0.1:" + std::to_string(fleet.port()),
                                    "--api", "127.0.0.1:" + std::to_string(port)},
                                   data + "/serve.log");
  ASSERT_TRUE(testing::WaitForLine(data + "/serve.log", "api: https://", std::chrono::seconds(10)))
      << *ReadFile(data + "/serve.log");

  httplib::SSLClient client("127.0.0.1", port);
  client.set_ca_cert_path((data + "/pki/ca.crt").c_str());
  client.enable_server_certificate_verification(true);  // the API certificate chains to the fleet CA
  auto login = client.Post("/api/v1/auth/token", R"({"username":"sam","password":")" + password + "\"}", "application/json");
  ASSERT_TRUE(login) << httplib::to_string(login.error());
  ASSERT_EQ(login->status, 200) << login->body;
  rapidjson::Document tokens;
  ASSERT_TRUE(wire::ParseStrictObject(login->body, tokens).ok());
  const std::string bearer = "Bearer " + std::string(*wire::GetString(tokens, "access_token"));

  auto carts = client.Get("/api/v1/stores/STORE-001/carts", {{"Authorization", bearer}});
  ASSERT_TRUE(carts);
  ASSERT_EQ(carts->status, 200) << carts->body;
  rapidjson::Document rows;
  ASSERT_TRUE(wire::ParseStrictObject(carts->body, rows).ok());
  ASSERT_EQ(rows["items"].Size(), 3u);
  EXPECT_STREQ(rows["items"][0]["state"].GetString(), "offline");  // provisioned, never heard from
  EXPECT_EQ(carts->get_header_value("Cache-Control"), "no-store");
  auto anonymous = client.Get("/api/v1/stores/STORE-001/carts");
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  auto spec = client.Get("/api/v1/openapi.json");
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->status, 200);

  // Prometheus scrapes with the configured token and sees the pipeline count a bad message
  // from a cart: received under its topic's type, rejected with its reason.
  auto cart = fleet.ConnectCart(fleet.carts()[0].id);
  ASSERT_TRUE(cart->Publish("carts/" + fleet.carts()[0].id.str() + "/events/health", "not an envelope", 1).ok());
  std::string exposition;
  for (int i = 0; i < 200; ++i) {
    auto m = client.Get("/metrics", {{"Authorization", "Bearer " + scrape_token}});
    ASSERT_TRUE(m);
    ASSERT_EQ(m->status, 200) << m->body;
    EXPECT_EQ(m->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    exposition = m->body;
    // A scrape is not a snapshot: it can render the received counter just before the ingest
    // counts the message and the rejects just after, so wait until it shows both.
    if (exposition.find("cw_ingest_rejects_total{reason=\"malformed_envelope\"} 1\n") != std::string::npos &&
        exposition.find("cw_ingest_received_total{type=\"health\"} 1\n") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(exposition.find("cw_ingest_rejects_total{reason=\"malformed_envelope\"} 1\n"), std::string::npos) << exposition;
  EXPECT_NE(exposition.find("cw_ingest_received_total{type=\"health\"} 1\n"), std::string::npos) << exposition;
  EXPECT_NE(exposition.find("# TYPE cw_publish_to_cloud_seconds histogram\n"), std::string::npos);
  EXPECT_NE(exposition.find("cw_ingest_queue_depth 0\n"), std::string::npos);
  // The same reject shows in the cart's own statistics.
  auto stats = client.Get("/api/v1/carts/" + fleet.carts()[0].id.str() + "/stats", {{"Authorization", bearer}});
  ASSERT_TRUE(stats);
  ASSERT_EQ(stats->status, 200) << stats->body;
  rapidjson::Document cart_stats;
  ASSERT_TRUE(wire::ParseStrictObject(stats->body, cart_stats).ok());
  EXPECT_EQ(cart_stats["messages"].GetInt64(), 1) << stats->body;
  EXPECT_EQ(cart_stats["rejects"].GetInt64(), 1) << stats->body;
  EXPECT_FALSE(cart_stats["last_seen_at"].IsNull());
  auto staff_scrape = client.Get("/metrics", {{"Authorization", bearer}});
  ASSERT_TRUE(staff_scrape);
  EXPECT_EQ(staff_scrape->status, 403);

  // A client that offers at most TLS 1.1 (and would accept it) gets no connection.
  httplib::SSLClient old("127.0.0.1", port);
  old.enable_server_certificate_verification(false);
  SSL_CTX_set_security_level(old.ssl_context(), 0);
  SSL_CTX_set_min_proto_version(old.ssl_context(), TLS1_VERSION);
  SSL_CTX_set_max_proto_version(old.ssl_context(), TLS1_1_VERSION);
  EXPECT_FALSE(old.Get("/api/v1/openapi.json"));

  EXPECT_EQ(serve.Stop(SIGTERM), 0);
}

// The firmware catalog over HTTPS: ops upload and list; a cart downloads with nothing but its
// fleet client certificate, resuming with Range; anything else presenting a certificate gets
// nothing the certificate does not entitle it to.
TEST(ApiOverHttps, CartsDownloadFirmwareWithTheirCertificateAndResumeWithRange) {
  signal(SIGPIPE, SIG_IGN);
  testing::BrokerFleet fleet(2);
  const std::string data = fleet.data_dir(), bin = testing::BinaryPath("cartwright");
  std::string image(300000, '\0');
  for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<char>((i * 7919) % 251);
  ASSERT_TRUE(WriteFileAtomic(data + "/fw.bin", image).ok());
  ASSERT_EQ(testing::RunProcess({bin, "--data-dir", data, "firmware", "sign", "--image", data + "/fw.bin", "--version", "2.1.0"}).exit_code, 0);
  ASSERT_EQ(testing::RunProcess({bin, "--data-dir", data, "firmware", "upload", "--image", data + "/fw.bin"}).exit_code, 0);
  auto added = testing::RunProcess({bin, "--data-dir", data, "user", "add", "--name", "olga", "--role", "ops", "--json"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  rapidjson::Document user;
  ASSERT_TRUE(wire::ParseStrictObject(added.out, user).ok());
  uint16_t port = testing::FreePort(), device_port = testing::FreePort();
  testing::BackgroundProcess serve({bin, "serve", "--device-api", "127.0.0.1:" + std::to_string(device_port), "--data-dir", data, "--broker", "127.0.0.1:" + std::to_string(fleet.port()),
                                    "--api", "127.0.0.1:" + std::to_string(port)},
                                   data + "/serve.log");
  ASSERT_TRUE(testing::WaitForLine(data + "/serve.log", "api: https://", std::chrono::seconds(10)))
      << *ReadFile(data + "/serve.log");
  const std::string path = "/api/v1/firmware/2.1.0/image";
  ASSERT_TRUE(testing::WaitForLine(data + "/serve.log", "device api: https://", std::chrono::seconds(10)));
  // Carts use the device endpoint, which takes nothing but fleet certificates; people use the API.
  auto client_for = [&](const std::string& crt, const std::string& key) {
    auto c = crt.empty() ? std::make_unique<httplib::SSLClient>("127.0.0.1", port)
                         : std::make_unique<httplib::SSLClient>("127.0.0.1", device_port, crt, key);
    c->set_ca_cert_path((data + "/pki/ca.crt").c_str());
    c->enable_server_certificate_verification(true);
    return c;
  };

  // The cart, by its certificate alone: the whole image, then the rest after byte 100000.
  const auto& cart = fleet.carts()[0];
  auto opts = fleet.CartOptions(cart.id);
  auto as_cart = client_for(opts.cert_file, opts.key_file);
  auto whole = as_cart->Get(path);
  ASSERT_TRUE(whole) << httplib::to_string(whole.error());
  ASSERT_EQ(whole->status, 200) << whole->body;
  EXPECT_TRUE(whole->body == image) << whole->body.size() << " bytes";
  EXPECT_EQ(whole->get_header_value("Accept-Ranges"), "bytes");
  auto rest = as_cart->Get(path, {{"Range", "bytes=100000-"}});
  ASSERT_TRUE(rest);
  ASSERT_EQ(rest->status, 206) << rest->body;
  EXPECT_TRUE(rest->body == image.substr(100000)) << rest->body.size() << " bytes";
  EXPECT_EQ(rest->get_header_value("Content-Range"), "bytes 100000-299999/300000");
  auto past = as_cart->Get(path, {{"Range", "bytes=300000-"}});
  ASSERT_TRUE(past);
  EXPECT_EQ(past->status, 416);
  EXPECT_EQ(past->get_header_value("Content-Range"), "bytes */300000");
  // The certificate is no token for anything else.
  auto fleet_view = as_cart->Get("/api/v1/fleet");
  ASSERT_TRUE(fleet_view);
  EXPECT_EQ(fleet_view->status, 401);

  // On the API port no certificate is asked for: without a token, 401. The device endpoint
  // refuses a handshake without a certificate. A certificate for the cart's id that it was not
  // registered with (a clone issued elsewhere): 403. One from another CA: no handshake at all.
  auto anonymous = client_for("", "")->Get(path);
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401);
  httplib::SSLClient no_cert("127.0.0.1", device_port);
  no_cert.set_ca_cert_path((data + "/pki/ca.crt").c_str());
  EXPECT_FALSE(no_cert.Get(path));
  Clock& clock = Clock::System();
  ASSERT_TRUE(pki::IssueClientIdentity(fleet.layout(), cart.id.str(), data + "/clone.crt", data + "/clone.key", clock).ok());
  auto clone = client_for(data + "/clone.crt", data + "/clone.key")->Get(path);
  ASSERT_TRUE(clone);
  EXPECT_EQ(clone->status, 403) << clone->body;
  EXPECT_NE(clone->body.find("not the one CART-000001 is registered with"), std::string::npos) << clone->body;
  testing::BrokerFleet strangers(1);  // another fleet: another CA
  auto other = strangers.CartOptions(strangers.carts()[0].id);
  EXPECT_FALSE(client_for(other.cert_file, other.key_file)->Get(path));

  // Ops upload a second release over the API, and list both.
  auto code = testing::RunProcess({bin, "--data-dir", data, "user", "totp", "--name", "olga"});
  auto ops = client_for("", "");
  auto login = ops->Post("/api/v1/auth/token",
                         R"({"username":"olga","password":")" + std::string(*wire::GetString(user, "password")) +
                             R"(","totp":")" + code.out.substr(0, 6) + "\"}",
                         "application/json");
  ASSERT_TRUE(login && login->status == 200) << (login ? login->body : "");
  rapidjson::Document tokens;
  ASSERT_TRUE(wire::ParseStrictObject(login->body, tokens).ok());
  httplib::Headers bearer{{"Authorization", "Bearer " + std::string(*wire::GetString(tokens, "access_token"))}};
  ASSERT_TRUE(WriteFileAtomic(data + "/fw2.bin", image.substr(0, 5000)).ok());
  ASSERT_EQ(testing::RunProcess({bin, "--data-dir", data, "firmware", "sign", "--image", data + "/fw2.bin", "--version", "2.2.0"}).exit_code, 0);
  std::string manifest = *ReadFile(data + "/fw2.bin.manifest.json");
  std::string sig = *ReadFile(data + "/fw2.bin.manifest.sig");
  sig.pop_back();  // the newline
  auto upload_body = [&](const std::string& img) {
    wire::JsonBuilder b;
    b.Field("manifest", manifest).Field("manifest_signature", sig).Field("image", Base64UrlEncode(img));
    return b.Finish();
  };
  auto tampered = ops->Post("/api/v1/firmware", bearer, upload_body(image.substr(1, 5000)), "application/json");
  ASSERT_TRUE(tampered);
  EXPECT_EQ(tampered->status, 400) << tampered->body;
  auto uploaded = ops->Post("/api/v1/firmware", bearer, upload_body(image.substr(0, 5000)), "application/json");
  ASSERT_TRUE(uploaded);
  EXPECT_EQ(uploaded->status, 201) << uploaded->body;
  auto list = ops->Get("/api/v1/firmware", bearer);
  ASSERT_TRUE(list && list->status == 200);
  rapidjson::Document releases;
  ASSERT_TRUE(wire::ParseStrictObject(list->body, releases).ok());
  ASSERT_EQ(releases["releases"].Size(), 2u);
  EXPECT_STREQ(releases["releases"][0]["version"].GetString(), "2.2.0");
  // Ops may fetch an image too (with their token).
  auto ops_image = ops->Get("/api/v1/firmware/2.2.0/image", bearer);
  ASSERT_TRUE(ops_image);
  EXPECT_TRUE(ops_image->body == image.substr(0, 5000)) << ops_image->body.size() << " bytes";
  EXPECT_EQ(serve.Stop(SIGTERM), 0);
}

}  // namespace
}  // namespace cw
