// core/csv.h — an RFC 4180 reader: comma-separated, fields optionally in double quotes (a quote
// inside is doubled, and a quoted field may span lines), records ended by CRLF or LF. Records are
// reported with the line they start on, so an error can point at the line an editor shows.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cw {

struct CsvRecord {
  size_t line = 0;  // 1-based line where the record starts
  std::vector<std::string> fields;
};

class CsvReader {
 public:
  // `text` must outlive the reader. A UTF-8 byte-order mark at the start is skipped.
  explicit CsvReader(std::string_view text);

  // The next record, or nullopt at the end. A blank line is skipped. InvalidArgument, naming the
  // line, for a quote that is never closed or text after a closing quote; the reader then stops.
  Result<std::optional<CsvRecord>> Next();

 private:
  std::string_view text_;
  size_t pos_ = 0;
  size_t line_ = 1;
};

}  // namespace cw
