// core/csv.h — RFC 4180 CSV, read and written one record at a time in constant memory.
//
// A field may hold commas, doubled quotes and line breaks inside quotes; its bytes pass through as
// they are (UTF-8 stays UTF-8, and so does anything else: judging the encoding is the caller's
// business). Records end at LF or CRLF; a UTF-8 byte-order mark at the start is skipped. The
// writer quotes only the fields that need it, so a field read and written again keeps its value,
// and a plain file keeps its bytes. Errors name the line an editor shows ("line 7: …").
#pragma once

#include <algorithm>
#include <cstdint>
#include <istream>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cw {

class CsvStream {
 public:
  // `in` must outlive the reader. Reads it in chunks of `chunk_bytes`.
  explicit CsvStream(std::istream& in, size_t chunk_bytes = 1 << 16);
  // Reads `text`, all of it in memory already (a block a masking thread was handed).
  explicit CsvStream(std::string_view text);

  // The next record's fields into `fields`, replacing what it held (pass the same vector every
  // time: its strings' buffers are reused). False at the end of the input. InvalidArgument
  // ("line N: …") for a quote inside an unquoted field, text after a closing quote, or input that
  // ends inside quotes; the reader is finished after an error.
  Result<bool> Next(std::vector<std::string>& fields);

  // The line the last record began on, from 1 (a quoted line break makes records span lines).
  uint64_t record_line() const { return record_line_; }
  // Bytes consumed so far, up to the end of the last record.
  uint64_t bytes_read() const { return base_ + pos_; }
  // Whether the first record ended with CRLF (a writer can then keep the input's convention).
  bool crlf() const { return crlf_; }

 private:
  // Refills the buffer; false at the end of the input.
  bool Fill();

  std::istream* in_;  // null: the text is all in buf_
  size_t chunk_bytes_;
  std::string buf_;
  size_t pos_ = 0;
  uint64_t line_ = 1;  // the line pos_ is on
  uint64_t record_line_ = 0;
  uint64_t base_ = 0;  // bytes of the input before buf_
  bool crlf_ = false;
  bool first_ = true;
  bool failed_ = false;
};

// True if `field` must be quoted: it holds a comma, a quote, CR or LF, or starts with a UTF-8
// byte-order mark.
bool CsvNeedsQuotes(std::string_view field);

// Appends `fields` as one record ending in "\r\n" when `crlf`, else "\n".
void AppendCsvRecord(std::string& out, std::span<const std::string> fields, bool crlf = false);
void AppendCsvField(std::string& out, std::string_view field);

// A small file already in memory, record by record with the line each starts on; blank lines are
// skipped (catalog imports, customer lists).
struct CsvRecord {
  size_t line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : stream_(text) {}

  // The next record, or nullopt at the end. InvalidArgument ("line N: …") for broken quoting;
  // the reader then stops.
  Result<std::optional<CsvRecord>> Next();

 private:
  CsvStream stream_;
};

}  // namespace cw
