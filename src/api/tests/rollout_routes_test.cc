// A rollout's stage list as the API and `cartwright rollout start --stages` read it.
#include "api/rollout_routes.h"

#include <gtest/gtest.h>

namespace cw::api {
namespace {

Result<std::vector<store::RolloutStage>> Parse(const char* json) {
  rapidjson::Document d;
  d.Parse(json);
  return ParseStages(d);
}

TEST(RolloutStages, CartsOrPercentWithADurationThatMayBeZero) {
  auto s = Parse(R"([{"name":"canary","carts":2,"duration":"1h"},{"percent":12.5,"duration":"0s"},{"percent":100}])");
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  ASSERT_EQ(s->size(), 3u);
  EXPECT_EQ((*s)[0], (store::RolloutStage{"canary", 2, 0, std::chrono::hours(1)}));
  EXPECT_EQ((*s)[1].name, "12.5%");
  EXPECT_EQ((*s)[1].bake, Duration::zero());
  EXPECT_EQ((*s)[2].name, "100%");
  for (const char* bad : {R"({"carts":2})", R"([{"carts":2,"percent":5}])", R"([{}])", R"([{"carts":"2"}])",
                          R"([{"percent":5,"duration":"soon"}])", R"([{"percent":5,"wait":"1h"}])", R"([{"percent":5,"duration":60}])"}) {
    EXPECT_FALSE(Parse(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace cw::api
