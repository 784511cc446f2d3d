#include "core/csv.h"

#include <cstring>

namespace cw {

CsvStream::CsvStream(std::istream& in, size_t chunk_bytes)
    : in_(&in), chunk_bytes_(std::max<size_t>(chunk_bytes, 16)) {}

CsvStream::CsvStream(std::string_view text) : in_(nullptr), chunk_bytes_(0), buf_(text) {}

bool CsvStream::Fill() {
  if (!in_) return false;
  // Keep what is not consumed yet (a lookahead may straddle two chunks).
  base_ += pos_;
  buf_.erase(0, pos_);
  pos_ = 0;
  size_t had = buf_.size();
  buf_.resize(had + chunk_bytes_);
  in_->read(buf_.data() + had, static_cast<std::streamsize>(chunk_bytes_));
  buf_.resize(had + static_cast<size_t>(in_->gcount()));
  return buf_.size() > had;
}

Result<bool> CsvStream::Next(std::vector<std::string>& fields) {
  if (failed_) return FailedPrecondition("the CSV reader stopped at an earlier error");
  auto at_end = [&] {
    fields.clear();
    return false;
  };
  if (pos_ >= buf_.size() && !Fill()) return at_end();
  if (first_ && base_ == 0 && pos_ == 0 && std::string_view(buf_).starts_with("\xEF\xBB\xBF"))
    pos_ = 3;
  if (pos_ >= buf_.size() && !Fill()) return at_end();
  record_line_ = line_;
  auto fail = [&](const std::string& what) -> Result<bool> {
    failed_ = true;
    return InvalidArgument("line " + std::to_string(line_) + ": " + what);
  };
  // The byte after pos_, reading on if it is in the next chunk; -1 at the end of the input.
  auto peek_next = [&]() -> int {
    if (pos_ + 1 >= buf_.size() && !Fill()) return -1;
    return pos_ + 1 < buf_.size() ? static_cast<unsigned char>(buf_[pos_ + 1]) : -1;
  };
  enum class State { kFieldStart, kUnquoted, kQuoted, kAfterQuote } state = State::kFieldStart;
  // Fields are read into the strings `fields` already holds, so a caller that passes the same
  // vector for every record reuses their buffers instead of allocating each field anew.
  size_t count = 0;
  auto next_field = [&]() -> std::string& {
    if (count == fields.size()) fields.emplace_back();
    std::string& f = fields[count++];
    f.clear();
    return f;
  };
  auto finish = [&] {
    fields.resize(count);
    return true;
  };
  std::string* field = &next_field();
  uint64_t quote_line = 0;
  for (;;) {
    if (pos_ >= buf_.size() && !Fill()) {
      if (state == State::kQuoted) {
        line_ = quote_line;  // where the editor should look
        return fail("a quoted field is never closed (the input ends inside it)");
      }
      return finish();
    }
    const char* data = buf_.data();
    switch (state) {
      case State::kFieldStart:
        if (data[pos_] == '"') {
          state = State::kQuoted;
          quote_line = line_;
          ++pos_;
          continue;
        }
        state = State::kUnquoted;
        continue;
      case State::kUnquoted: {
        size_t end = pos_;
        while (end < buf_.size() && data[end] != ',' && data[end] != '\n' && data[end] != '\r' &&
               data[end] != '"')
          ++end;
        field->append(data + pos_, end - pos_);
        pos_ = end;
        if (pos_ == buf_.size()) continue;
        if (data[pos_] == '"')
          return fail(
              "a quote inside an unquoted field (quote the whole field and double the quote)");
        break;  // a delimiter: handled below
      }
      case State::kQuoted: {
        const void* q = std::memchr(data + pos_, '"', buf_.size() - pos_);
        size_t end = q ? static_cast<size_t>(static_cast<const char*>(q) - data) : buf_.size();
        for (size_t i = pos_; i < end; ++i) line_ += data[i] == '\n';
        field->append(data + pos_, end - pos_);
        pos_ = end;
        if (pos_ == buf_.size()) continue;
        int next = peek_next();
        data = buf_.data();
        if (next == '"') {
          field->push_back('"');
          pos_ += 2;
        } else {
          state = State::kAfterQuote;
          ++pos_;
        }
        continue;
      }
      case State::kAfterQuote:
        if (data[pos_] != ',' && data[pos_] != '\n' && data[pos_] != '\r') {
          return fail("text after the closing quote of a field");
        }
        break;
    }
    // At a delimiter outside quotes.
    char c = buf_[pos_];
    if (c == ',') {
      field = &next_field();
      state = State::kFieldStart;
      ++pos_;
      continue;
    }
    bool crlf = false;
    if (c == '\r') {
      if (peek_next() != '\n')
        return fail("a carriage return that is not followed by a line feed, outside quotes");
      crlf = true;
      ++pos_;
    }
    ++pos_;  // the LF
    ++line_;
    if (first_) crlf_ = crlf;
    first_ = false;
    return finish();
  }
}

bool CsvNeedsQuotes(std::string_view field) {
  // A field that starts with a byte-order mark is quoted, or a reader would take the mark for
  // the file's own when the record comes first.
  if (field.starts_with("\xEF\xBB\xBF")) return true;
  // A plain loop: find_first_of calls memchr on the four needles for every byte of the field.
  for (char c : field) {
    if (c == ',' || c == '"' || c == '\n' || c == '\r') return true;
  }
  return false;
}

void AppendCsvField(std::string& out, std::string_view field) {
  if (!CsvNeedsQuotes(field)) {
    out.append(field);
    return;
  }
  out.push_back('"');
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

void AppendCsvRecord(std::string& out, std::span<const std::string> fields, bool crlf) {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out.push_back(',');
    AppendCsvField(out, fields[i]);
  }
  out.append(crlf ? "\r\n" : "\n");
}

Result<std::optional<CsvRecord>> CsvReader::Next() {
  CsvRecord record;
  for (;;) {
    CW_ASSIGN_OR_RETURN(bool more, stream_.Next(record.fields));
    if (!more) return std::optional<CsvRecord>();
    if (record.fields.size() == 1 && record.fields[0].empty()) continue;  // a blank line
    record.line = stream_.record_line();
    return std::optional<CsvRecord>(std::move(record));
  }
}

}  // namespace cw
