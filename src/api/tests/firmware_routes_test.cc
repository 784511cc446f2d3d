// Range parsing for firmware downloads, and the router's two admissions a download relies on:
// a cart's verified certificate in place of a token (on the routes that allow it only), and the
// per-route body limit.
#include "api/firmware_routes.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "store/registry.h"

namespace cw::api {
namespace {

TEST(ByteRanges, OneRangeFromAnOffsetOrBetweenTwo) {
  auto all = ParseRange("", 1000);
  ASSERT_TRUE(all.ok());
  EXPECT_FALSE(all->has_value());
  auto tail = ParseRange("bytes=400-", 1000);
  ASSERT_TRUE(tail.ok() && tail->has_value());
  EXPECT_EQ((*tail)->first, 400u);
  EXPECT_EQ((*tail)->last, 999u);
  auto mid = ParseRange("bytes=10-19", 1000);
  ASSERT_TRUE(mid.ok() && mid->has_value());
  EXPECT_EQ((*mid)->last, 19u);
  auto clipped = ParseRange("bytes=990-5000", 1000);
  ASSERT_TRUE(clipped.ok() && clipped->has_value());
  EXPECT_EQ((*clipped)->last, 999u);
  for (const char* bad : {"bytes=1000-", "bytes=-100", "bytes=5-1", "bytes=1-2,4-5", "items=1-2", "bytes=x-"}) {
    EXPECT_FALSE(ParseRange(bad, 1000).ok()) << bad;
  }
}

class RouterAdmission : public ::testing::Test {
 protected:
  void SetUp() override {
    entities_ = std::move(store::Registry::WithBuiltinBackends().OpenEntity("sqlite::memory:")).value();
    auth_ = std::make_unique<Authenticator>(*entities_, clock_);
    router_ = std::make_unique<Router>(*auth_, nullptr);
    auto handler = [this](Request& q) -> Result<Response, HttpError> {
      seen_device_ = q.device ? q.device->str() : "";
      return Response{};
    };
    router_->Add({"GET", "/api/v1/download", RolesOrDevice({store::Role::kOps}), handler});
    router_->Add({"GET", "/api/v1/ops-only", Roles({store::Role::kOps}), handler});
    router_->Add({"POST", "/api/v1/big", Roles({store::Role::kOps}), handler, 1 << 20});
  }
  Response Call(const std::string& method, const std::string& path, std::optional<CartId> device = std::nullopt,
                std::string body = "") {
    Request q;
    q.method = method;
    q.path = path;
    q.device = device;
    q.body = std::move(body);
    return router_->Handle(q);
  }
  ManualClock clock_{*ParseWireTime("2026-11-23T10:00:00.000Z")};
  std::unique_ptr<store::EntityStore> entities_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<Router> router_;
  std::string seen_device_;
};

TEST_F(RouterAdmission, ACartCertificateOpensOnlyTheRoutesThatAdmitCarts) {
  const CartId cart = CartId::FromNumber(7);
  EXPECT_EQ(Call("GET", "/api/v1/download", cart).status, 200);
  EXPECT_EQ(seen_device_, "CART-000007");
  EXPECT_EQ(Call("GET", "/api/v1/ops-only", cart).status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/download").status, 401);
  EXPECT_EQ(router_->max_body(), 1u << 20);
}

TEST_F(RouterAdmission, BodiesBeyondTheRoutesLimitAre413BeforeAuthentication) {
  Response r = Call("GET", "/api/v1/ops-only", std::nullopt, std::string(kDefaultMaxBody + 1, 'x'));
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("accepts at most 65536"), std::string::npos) << r.body;
  EXPECT_EQ(Call("POST", "/api/v1/big", std::nullopt, std::string(kDefaultMaxBody + 1, 'x')).status, 401);
}

}  // namespace
}  // namespace cw::api
