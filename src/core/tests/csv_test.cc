#include "core/csv.h"

#include <gtest/gtest.h>

#include <sstream>

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
  auto rows = ReadAll(
      "\xEF\xBB\xBF"
      "a,b\n\"say \"\"hi\"\"\",\"two\nlines\"\n\nlast,x");
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
  EXPECT_EQ(e.error().message().rfind("line 2: a quoted field is never closed", 0), 0u)
      << e.error().message();
  CsvReader stray("ok\nab\"c\n");
  ASSERT_TRUE(stray.Next().ok());
  EXPECT_EQ(stray.Next().error().message().rfind("line 2: a quote inside an unquoted field", 0),
            0u);
  CsvReader after("\"x\"y\n");
  EXPECT_EQ(after.Next().error().message().rfind("line 1: text after the closing quote", 0), 0u);
}

// The streaming reader and the writer underneath (cartmask reads gigabytes with them).

using Records = std::vector<std::vector<std::string>>;

// Every record of `text`, read in chunks of `chunk` bytes (0: from memory, as a masking thread
// reads its block); the error if reading fails.
Result<Records> StreamAll(const std::string& text, size_t chunk) {
  std::istringstream in(text);
  CsvStream streamed(in, chunk), in_memory(text);
  CsvStream& reader = chunk == 0 ? in_memory : streamed;
  Records out;
  std::vector<std::string> fields;
  for (;;) {
    CW_ASSIGN_OR_RETURN(bool more, reader.Next(fields));
    if (!more) return out;
    out.push_back(fields);
  }
}

std::string WriteAll(const Records& records, bool crlf = false) {
  std::string out;
  for (const auto& r : records) AppendCsvRecord(out, r, crlf);
  return out;
}

// Chunk sizes from the smallest the reader takes up, so every quote, CRLF and doubled quote
// falls across a chunk boundary somewhere.
const size_t kChunks[] = {0, 16, 17, 18, 19, 23, 31, 64, 1 << 16};

TEST(CsvStream, QuotingEdgeCasesRoundTripAtEveryChunkBoundary) {
  Records records = {
      {"event_id", "notes", "operator_name"},
      {"1", "plain", "Ana"},
      {"2", "a, comma", "quote \"inside\""},
      {"3", "two\nlines\r\nand CRLF", ""},
      {"4", "", ""},
      {"5", "\"\"", ","},
      {"6", "Zoë Ångström — 東京, ☕", "Ωmega"},
      {"7", "trailing space ", " leading"},
  };
  std::string text = WriteAll(records);
  for (size_t chunk : kChunks) {
    auto got = StreamAll(text, chunk);
    ASSERT_TRUE(got.ok()) << "chunk " << chunk << ": " << got.error().ToString();
    EXPECT_EQ(*got, records) << "chunk " << chunk;
    EXPECT_EQ(WriteAll(*got), text);
  }
}

TEST(CsvStream, APlainFileKeepsItsBytesAndItsLineEndings) {
  std::string lf = "a,b,c\n1,,3\n";
  std::string crlf = "a,b,c\r\n1,,3\r\n";
  for (const std::string& text : {lf, crlf}) {
    std::istringstream in(text);
    CsvStream reader(in);
    std::vector<std::string> fields;
    std::string out;
    while (*reader.Next(fields)) AppendCsvRecord(out, fields, reader.crlf());
    EXPECT_EQ(out, text);
    EXPECT_EQ(reader.bytes_read(), text.size());
  }
}

TEST(CsvStream, TheLastRecordNeedsNoLineEnd) {
  auto got = StreamAll("a,b\n1,\"x\"", 16);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, (Records{{"a", "b"}, {"1", "x"}}));
  EXPECT_EQ(*StreamAll("", 16), Records{});
  EXPECT_EQ(*StreamAll("\n", 16), Records{{""}});  // one record of one empty field
}

TEST(CsvStream, RecordLinesCountQuotedLineBreaks) {
  std::istringstream in("h\n\"one\ntwo\nthree\"\nnext\n");
  CsvStream reader(in, 16);
  std::vector<std::string> fields;
  ASSERT_TRUE(*reader.Next(fields));
  EXPECT_EQ(reader.record_line(), 1u);
  ASSERT_TRUE(*reader.Next(fields));
  EXPECT_EQ(reader.record_line(), 2u);
  ASSERT_TRUE(*reader.Next(fields));
  EXPECT_EQ(reader.record_line(), 5u);
  EXPECT_EQ(fields, std::vector<std::string>{"next"});
}

TEST(CsvStream, MalformedInputIsRefusedNamingTheLineAndWhatIsWrong) {
  struct Case {
    std::string text;
    std::string says;
  };
  const Case cases[] = {
      {"a,b\n1,x\"y\n", "line 2: a quote inside an unquoted field"},
      {"a\n\"closed\"then\n", "line 2: text after the closing quote"},
      {"a\n\"never\nclosed\n", "line 2: a quoted field is never closed"},
      {"a\rb\n", "line 1: a carriage return that is not followed by a line feed"},
  };
  for (const auto& c : cases) {
    for (size_t chunk : kChunks) {
      auto got = StreamAll(c.text, chunk);
      ASSERT_FALSE(got.ok()) << c.text;
      EXPECT_EQ(got.error().code(), Code::kInvalidArgument);
      EXPECT_NE(got.error().message().find(c.says), std::string::npos) << got.error().message();
    }
  }
}

TEST(CsvStream, OnlyFieldsThatNeedItAreQuoted) {
  std::string out;
  AppendCsvRecord(out, std::vector<std::string>{"x", "a,b", "say \"hi\"", "l1\nl2", ""});
  EXPECT_EQ(out, "x,\"a,b\",\"say \"\"hi\"\"\",\"l1\nl2\",\n");
  // A field starting with a byte-order mark survives being the first of a file (found by
  // mask_fuzz).
  std::vector<std::string> bom = {"\xEF\xBB\xBF\x80", "x"};
  std::string text;
  AppendCsvRecord(text, bom);
  auto back = StreamAll(text, 16);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, Records{bom});
}

}  // namespace
}  // namespace cw
