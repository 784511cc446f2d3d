#include "mask/records.h"

#include <filesystem>

#include "mask/jsonl.h"

namespace cw::mask {

Result<std::unique_ptr<RecordReader>> RecordReader::Open(const std::string& path) {
  CW_ASSIGN_OR_RETURN(DataFormat format, FormatOf(path));
  if (!std::filesystem::exists(path)) return NotFound("no file at " + path);
  std::unique_ptr<RecordReader> r(new RecordReader());
  r->path_ = path;
  r->format_ = format;
  r->in_.open(path, std::ios::binary);
  if (!r->in_) return Unavailable("cannot read " + path);
  if (format == DataFormat::kCsv) {
    r->csv_ = std::make_unique<CsvStream>(r->in_);
    auto got = r->csv_->Next(r->header_);
    if (!got.ok()) return got.error().WithContext(path);
    if (!*got) return InvalidArgument(path + ": empty (a CSV file needs a header row)");
  }
  return r;
}

Result<bool> RecordReader::Next(Record& record) {
  if (format_ == DataFormat::kCsv) {
    for (;;) {
      auto got = csv_->Next(record.values);
      if (!got.ok()) return got.error().WithContext(path_);
      if (!*got) return false;
      ++number_;
      if (record.values.size() == 1 && record.values[0].empty()) continue;
      if (record.values.size() != header_.size()) {
        return InvalidArgument(path_ + ": CSV line " + std::to_string(csv_->record_line()) +
                               " has " + std::to_string(record.values.size()) +
                               " fields, the header " + std::to_string(header_.size()));
      }
      record.number = number_;
      record.line = csv_->record_line();
      record.columns = header_;
      record.raw = record.values;
      return true;
    }
  }
  for (std::string text; std::getline(in_, text);) {
    ++number_;
    ++line_;
    if (text.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto members = ParseJsonObjectLine(text);
    if (!members.ok())
      return members.error().WithContext(path_ + ": JSON Lines line " + std::to_string(line_));
    record.number = number_;
    record.line = line_;
    record.columns.clear();
    record.values.clear();
    record.raw.clear();
    for (const JsonMember& m : *members) {
      record.columns.push_back(m.key);
      record.raw.emplace_back(m.raw);
      if (m.kind == JsonKind::kString) {
        auto v = DecodeJsonString(m.raw);
        if (!v.ok())
          return v.error().WithContext(path_ + ": JSON Lines line " + std::to_string(line_));
        record.values.push_back(std::move(*v));
      } else if (m.kind == JsonKind::kNull) {
        record.values.emplace_back();
      } else {
        record.values.emplace_back(m.raw);
      }
    }
    return true;
  }
  if (in_.bad()) return Unavailable("cannot read " + path_);
  return false;
}

}  // namespace cw::mask
