#include "mask/rubric.h"

#include <gtest/gtest.h>

#include "mask/generate.h"

namespace cw::mask {
namespace {

std::string Column(const std::string& name, const std::string& body) {
  return "[columns." + name + "]\n" + body + "\n";
}

TEST(Rubric, TheExampleRubricParsesAndPutsEveryGeneratedColumnInABucket) {
  auto rubric = Rubric::Parse(ExampleRubric(), "mask/rubric.toml");
  ASSERT_TRUE(rubric.ok()) << rubric.error().ToString();
  EXPECT_FALSE(rubric->version.empty());
  EXPECT_EQ(rubric->sha256.size(), 64u);
  for (const char* c :
       {"event_id", "event_ts", "tool_serial", "tool_model", "tool_model_name", "firmware_version",
        "operator_id", "operator_email", "operator_name", "job_site_id", "job_site_address",
        "gps_lat", "gps_lon", "battery_pct", "torque_nm", "usage_minutes", "error_code", "notes"}) {
    EXPECT_NE(rubric->Find(c), nullptr) << c;
  }
  EXPECT_EQ(rubric->Find("operator_email")->treatment, Treatment::kDigest);
  EXPECT_EQ(rubric->Find("operator_id")->ns, "op");
  EXPECT_EQ(rubric->Find("notes")->bucket, Bucket::kFreeText);
  EXPECT_EQ(rubric->min_k, 5);
}

TEST(Rubric, EachMistakeIsRefusedNamingTheColumnAndLine) {
  const std::string v = "version = \"1\"\n";
  struct Case {
    std::string text, expect;
  } cases[] = {
      {Column("a", "bucket = \"direct\"\ntreatment = \"digest\"\nwhy = \"x\""), "needs a version"},
      {v + Column("a", "treatment = \"digest\"\nwhy = \"x\""), "columns.a has no bucket"},
      {v + Column("a", "bucket = \"direct\"\nwhy = \"x\""), "columns.a has no treatment"},
      {v + Column("a", "bucket = \"direct\"\ntreatment = \"digest\""), "columns.a has no why"},
      {v + Column("a", "bucket = \"direct\"\ntreatment = \"keep\"\nwhy = \"x\""),
       "is not one the direct bucket allows"},
      {v + Column("a", "bucket = \"behavioural\"\ntreatment = \"digest\"\nwhy = \"x\""),
       "not one the behavioural bucket"},
      {v + Column("a", "bucket = \"secret\"\ntreatment = \"digest\"\nwhy = \"x\""),
       "unknown bucket 'secret'"},
      {v + Column("a", "bucket = \"direct\"\ntreatment = \"sha1\"\nwhy = \"x\""),
       "unknown treatment 'sha1'"},
      {v + Column("a", "bucket = \"quasi\"\ntreatment = \"token\"\nwhy = \"x\""),
       "a token needs a namespace"},
      {v + Column("a",
                  "bucket = \"quasi\"\ntreatment = \"token\"\nnamespace = \"Op\"\nwhy = \"x\""),
       "lowercase"},
      {v +
           Column("a",
                  "bucket = \"quasi\"\ntreatment = \"token\"\nnamespace = \"op\"\nwhy = \"x\"") +
           Column("b",
                  "bucket = \"quasi\"\ntreatment = \"token\"\nnamespace = \"op\"\nwhy = \"x\""),
       "is already"},
      {v + Column("a",
                  "bucket = \"sensitive\"\ntreatment = \"quartile\"\nwhy = \"x\"\ncutpoints = [3, "
                  "2, 1]"),
       "ascending"},
      {v + Column(
               "a",
               "bucket = \"sensitive\"\ntreatment = \"quartile\"\nwhy = \"x\"\ncutpoints = [1, 2]"),
       "ascending"},
      {v + Column("a", "bucket = \"direct\"\ntreatment = \"digest\"\nwhy = \"x\"\nsalt = \"y\""),
       "unknown key 'salt'"},
      {v + "[k_anonymity]\ncolumns = [\"b\"]\n" +
           Column("a", "bucket = \"direct\"\ntreatment = \"digest\"\nwhy = \"x\""),
       "k_anonymity column 'b'"},
      {v + "colour = 1\n", "unknown key 'colour'"},
      {v + "[columns.a\n", "rubric"},
  };
  for (const Case& c : cases) {
    auto r = Rubric::Parse(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_NE(r.error().message().find(c.expect), std::string::npos) << r.error().message();
  }
}

TEST(Rubric, APlanFailsClosedOnUnknownColumnsUnlessTheyAreDropped) {
  auto rubric = Rubric::Parse(ExampleRubric());
  ASSERT_TRUE(rubric.ok());
  std::vector<std::string> columns = {"operator_email", "shoe_size", "battery_pct", "home_wifi"};
  auto refused = Plan(*rubric, columns, false);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(refused.error().message().find("shoe_size, home_wifi"), std::string::npos)
      << refused.error().message();
  EXPECT_NE(refused.error().message().find("--drop-unknown"), std::string::npos);

  auto dropped = Plan(*rubric, columns, true);
  ASSERT_TRUE(dropped.ok());
  ASSERT_EQ(dropped->size(), 4u);
  EXPECT_NE((*dropped)[0].rule, nullptr);
  EXPECT_EQ((*dropped)[1].rule, nullptr);
  EXPECT_EQ((*dropped)[3].rule, nullptr);

  EXPECT_EQ(Plan(*rubric, {"battery_pct", "battery_pct"}, true).error().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(Plan(*rubric, {"battery_pct", ""}, true).error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cw::mask
