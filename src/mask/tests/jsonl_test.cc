#include "mask/jsonl.h"

#include <gtest/gtest.h>

namespace cw::mask {
namespace {

TEST(JsonLines, MembersKeepTheirValuesExactlyAsWritten) {
  auto m = ParseJsonObjectLine(
      R"( {"a": 1.50, "b":"x\"y", "c":null, "d":[1,{"e":2}], "f":true, "g":-0e+2} )");
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  ASSERT_EQ(m->size(), 6u);
  EXPECT_EQ((*m)[0].key, "a");
  EXPECT_EQ((*m)[0].raw, "1.50");
  EXPECT_EQ((*m)[0].kind, JsonKind::kNumber);
  EXPECT_EQ((*m)[1].raw, R"("x\"y")");
  EXPECT_EQ(*DecodeJsonString((*m)[1].raw), "x\"y");
  EXPECT_EQ((*m)[2].kind, JsonKind::kNull);
  EXPECT_EQ((*m)[3].raw, R"([1,{"e":2}])");
  EXPECT_EQ((*m)[3].kind, JsonKind::kArray);
  EXPECT_EQ((*m)[4].kind, JsonKind::kTrue);
  EXPECT_EQ((*m)[5].raw, "-0e+2");
}

TEST(JsonLines, StringsDecodeEscapesAndSurrogatePairs) {
  EXPECT_EQ(*DecodeJsonString(R"("caf\u00e9 \ud83d\udc4d \n\t\\\/")"), "café 👍 \n\t\\/");
  EXPECT_FALSE(DecodeJsonString(R"("\ud83d")").ok());
  EXPECT_FALSE(DecodeJsonString(R"("\udc4d")").ok());
  EXPECT_FALSE(DecodeJsonString(R"("\x")").ok());
  std::string out;
  AppendJsonString(out, "a\"b\\c\n\x01 café");
  EXPECT_EQ(out, R"("a\"b\\c\n\u0001 café")");
  EXPECT_EQ(*DecodeJsonString(out), "a\"b\\c\n\x01 café");
}

TEST(JsonLines, AnythingButOneStrictObjectIsRefusedNamingTheByte) {
  for (const char* bad : {"", "[1]", "{\"a\":1", "{\"a\":1,}", "{a:1}", "{\"a\":01}", "{\"a\":1.}",
                          "{\"a\":tru}", "{\"a\":\"x}", "{\"a\":1} {}", "{\"a\":1,\"a\":2}",
                          "{\"a\":\"tab\there\"}", "{\"a\":NaN}"}) {
    auto m = ParseJsonObjectLine(bad);
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_EQ(m.error().code(), Code::kInvalidArgument);
  }
  EXPECT_NE(ParseJsonObjectLine("{\"a\":1,\"a\":2}").error().message().find("appears twice"),
            std::string::npos);
  EXPECT_NE(ParseJsonObjectLine("{\"a\":1,}").error().message().find("at byte 8"),
            std::string::npos);
  std::string deep(100, '[');
  EXPECT_FALSE(ParseJsonObjectLine("{\"a\":" + deep + "}").ok());
  EXPECT_TRUE(ParseJsonObjectLine("{}").ok());
}

}  // namespace
}  // namespace cw::mask
