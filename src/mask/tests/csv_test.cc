#include "mask/csv.h"

#include <gtest/gtest.h>

#include <sstream>

namespace cw::mask {
namespace {

using Records = std::vector<std::vector<std::string>>;

// Every record of `text`, read in chunks of `chunk` bytes (0: from memory, as a masking thread
// reads its block); the error if reading fails.
Result<Records> ReadAll(const std::string& text, size_t chunk) {
  std::istringstream in(text);
  CsvReader streamed(in, chunk), in_memory(text);
  CsvReader& reader = chunk == 0 ? in_memory : streamed;
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

TEST(Csv, QuotingEdgeCasesRoundTripAtEveryChunkBoundary) {
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
    auto got = ReadAll(text, chunk);
    ASSERT_TRUE(got.ok()) << "chunk " << chunk << ": " << got.error().ToString();
    EXPECT_EQ(*got, records) << "chunk " << chunk;
    EXPECT_EQ(WriteAll(*got), text);
  }
}

TEST(Csv, APlainFileKeepsItsBytesAndItsLineEndings) {
  std::string lf = "a,b,c\n1,,3\n";
  std::string crlf = "a,b,c\r\n1,,3\r\n";
  for (const std::string& text : {lf, crlf}) {
    std::istringstream in(text);
    CsvReader reader(in);
    std::vector<std::string> fields;
    std::string out;
    while (*reader.Next(fields)) AppendCsvRecord(out, fields, reader.crlf());
    EXPECT_EQ(out, text);
    EXPECT_EQ(reader.bytes_read(), text.size());
  }
}

TEST(Csv, TheLastRecordNeedsNoLineEnd) {
  auto got = ReadAll("a,b\n1,\"x\"", 16);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, (Records{{"a", "b"}, {"1", "x"}}));
  EXPECT_EQ(*ReadAll("", 16), Records{});
  EXPECT_EQ(*ReadAll("\n", 16), Records{{""}});  // one record of one empty field
}

TEST(Csv, RecordLinesCountQuotedLineBreaks) {
  std::istringstream in("h\n\"one\ntwo\nthree\"\nnext\n");
  CsvReader reader(in, 16);
  std::vector<std::string> fields;
  ASSERT_TRUE(*reader.Next(fields));
  EXPECT_EQ(reader.record_line(), 1u);
  ASSERT_TRUE(*reader.Next(fields));
  EXPECT_EQ(reader.record_line(), 2u);
  ASSERT_TRUE(*reader.Next(fields));
  EXPECT_EQ(reader.record_line(), 5u);
  EXPECT_EQ(fields, std::vector<std::string>{"next"});
}

TEST(Csv, MalformedInputIsRefusedNamingTheLineAndWhatIsWrong) {
  struct Case {
    std::string text;
    std::string says;
  };
  const Case cases[] = {
      {"a,b\n1,x\"y\n", "line 2: a quote inside an unquoted field"},
      {"a\n\"closed\"then\n", "line 2: text after the closing quote"},
      {"a\n\"never\nclosed\n", "ends inside the quoted field that began on line 2"},
      {"a\rb\n", "line 1: a carriage return that is not followed by a line feed"},
  };
  for (const auto& c : cases) {
    for (size_t chunk : kChunks) {
      auto got = ReadAll(c.text, chunk);
      ASSERT_FALSE(got.ok()) << c.text;
      EXPECT_EQ(got.error().code(), Code::kInvalidArgument);
      EXPECT_NE(got.error().message().find(c.says), std::string::npos) << got.error().message();
    }
  }
}

TEST(Csv, OnlyFieldsThatNeedItAreQuoted) {
  std::string out;
  AppendCsvRecord(out, std::vector<std::string>{"x", "a,b", "say \"hi\"", "l1\nl2", ""});
  EXPECT_EQ(out, "x,\"a,b\",\"say \"\"hi\"\"\",\"l1\nl2\",\n");
}

}  // namespace
}  // namespace cw::mask
