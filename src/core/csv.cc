#include "core/csv.h"

namespace cw {

CsvReader::CsvReader(std::string_view text) : text_(text) {
  if (text_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
}

Result<std::optional<CsvRecord>> CsvReader::Next() {
  // Blank lines between records carry nothing.
  while (pos_ < text_.size() && (text_[pos_] == '\n' || text_[pos_] == '\r')) {
    if (text_[pos_] == '\n') ++line_;
    ++pos_;
  }
  if (pos_ >= text_.size()) return std::optional<CsvRecord>();
  CsvRecord record;
  record.line = line_;
  std::string field;
  for (;;) {
    if (pos_ < text_.size() && text_[pos_] == '"') {
      size_t opened_on = line_;
      ++pos_;
      for (;;) {
        if (pos_ >= text_.size()) {
          pos_ = text_.size();
          return InvalidArgument("line " + std::to_string(opened_on) + ": a quoted field is never closed");
        }
        char c = text_[pos_++];
        if (c == '"') {
          if (pos_ < text_.size() && text_[pos_] == '"') {
            field += '"';
            ++pos_;
            continue;
          }
          break;
        }
        if (c == '\n') ++line_;
        field += c;
      }
      if (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n' && text_[pos_] != '\r') {
        size_t at = line_;
        pos_ = text_.size();
        return InvalidArgument("line " + std::to_string(at) + ": text after a closing quote");
      }
    } else {
      while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '\n' && text_[pos_] != '\r') {
        if (text_[pos_] == '"') {
          size_t at = line_;
          pos_ = text_.size();
          return InvalidArgument("line " + std::to_string(at) + ": a quote inside an unquoted field");
        }
        field += text_[pos_++];
      }
    }
    record.fields.push_back(std::move(field));
    field.clear();
    if (pos_ < text_.size() && text_[pos_] == ',') {
      ++pos_;
      continue;
    }
    // End of record: CRLF, LF, a lone CR, or the end of the text.
    if (pos_ < text_.size() && text_[pos_] == '\r') ++pos_;
    if (pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
    ++line_;
    return std::optional<CsvRecord>(std::move(record));
  }
}

}  // namespace cw
