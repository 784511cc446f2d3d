#include "core/csv.h"

#include <gtest/gtest.h>

namespace cw {
namespace {

std::vector<CsvRecord> ReadAll(std::string_view text) {
  CsvReader r(text);
  std::vector<CsvRecord> out;
  for (;;) {
    auto next = r.Next();
    EXPECT_TRUE(next.ok()) << next.error().ToString();
    if (!next.ok() || !*next) return out;
    out.push_back(**next);
  }
}

TEST(Csv, PlainQuotedAndEmptyFields) {
  auto rows = ReadAll("sku,name,price\r\n4001,\"Milk, 1l\",119\n4002,,\"\"\n");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1].fields, (std::vector<std::string>{"4001", "Milk, 1l", "119"}));
  EXPECT_EQ(rows[2].fields, (std::vector<std::string>{"4002", "", ""}));
  EXPECT_EQ(rows[2].line, 3u);
}

TEST(Csv, DoubledQuotesAndMultiLineFieldsKeepLineNumbers) {
  auto rows = ReadAll("\xEF\xBB\xBF" "a,b\n\"say \"\"hi\"\"\",\"two\nlines\"\n\nlast,x");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].fields[0], "a");  // the BOM is not part of the first field
  EXPECT_EQ(rows[1].fields, (std::vector<std::string>{"say \"hi\"", "two\nlines"}));
  EXPECT_EQ(rows[2].line, 5u);  // after the two-line record and a blank line
  EXPECT_EQ(rows[2].fields, (std::vector<std::string>{"last", "x"}));
}

TEST(Csv, BrokenQuotingIsAnErrorNamingTheLine) {
  CsvReader open("a\n\"never closed\nmore");
  auto e = open.Next();
  ASSERT_TRUE(e.ok());
  e = open.Next();
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().message(), "line 2: a quoted field is never closed");
  CsvReader stray("ok\nab\"c\n");
  ASSERT_TRUE(stray.Next().ok());
  EXPECT_EQ(stray.Next().error().message(), "line 2: a quote inside an unquoted field");
  CsvReader after("\"x\"y\n");
  EXPECT_EQ(after.Next().error().message(), "line 1: text after a closing quote");
}

}  // namespace
}  // namespace cw
