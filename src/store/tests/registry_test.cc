#include "store/registry.h"

#include <gtest/gtest.h>

namespace cw::store {
namespace {

TEST(Registry, UnknownSchemeListsKnownOnes) {
  auto r = Registry::WithBuiltinBackends().OpenEntity("mysql://x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find("unknown scheme 'mysql'"), std::string::npos);
  EXPECT_NE(r.error().message().find("sqlite:"), std::string::npos);
}

TEST(Registry, MalformedUriAndEmptyPath) {
  EXPECT_EQ(Registry::WithBuiltinBackends().OpenEntity("entity.db").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(Registry::WithBuiltinBackends().OpenEntity("sqlite:").error().code(), Code::kInvalidArgument);
}

TEST(Registry, UnwritablePathIsAClearError) {
  auto r = Registry::WithBuiltinBackends().OpenEntity("sqlite:/nonexistent-dir/x/entity.db");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("/nonexistent-dir/x/entity.db"), std::string::npos);
}

TEST(Registry, ForksAddBackendsExplicitly) {
  Registry r;
  bool called = false;
  r.entity.Register("mem", [&](const std::string& rest, Clock&) -> Result<std::unique_ptr<EntityStore>> {
    called = true;
    EXPECT_EQ(rest, "//x");
    return Unsupported("test");
  });
  EXPECT_EQ(r.OpenEntity("mem://x").error().code(), Code::kUnsupported);
  EXPECT_TRUE(called);
}

}  // namespace
}  // namespace cw::store
