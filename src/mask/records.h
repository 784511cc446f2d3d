// mask/records.h — a dataset read one record at a time, whatever its format, for the tools that
// read masked output (verify, eval): CSV with a header, or JSON Lines.
#pragma once

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/csv.h"
#include "mask/masker.h"

namespace cw::mask {

struct Record {
  uint64_t number =
      0;  // 1-based, header excluded, blank lines counted (as the decision log counts)
  uint64_t line = 0;
  std::vector<std::string> columns;
  std::vector<std::string> values;  // text: JSON strings decoded, null as ""
  std::vector<std::string> raw;     // as written: the CSV field, or the JSON value's bytes
};

class RecordReader {
 public:
  // NotFound / Unavailable if the file cannot be read; InvalidArgument for a bad name or header.
  static Result<std::unique_ptr<RecordReader>> Open(const std::string& path);

  // The next non-blank record; false at the end. InvalidArgument naming the line for a record the
  // format cannot be read at.
  Result<bool> Next(Record& record);

 private:
  RecordReader() = default;
  std::string path_;
  DataFormat format_ = DataFormat::kCsv;
  std::ifstream in_;
  std::unique_ptr<CsvStream> csv_;
  std::vector<std::string> header_;
  uint64_t number_ = 0, line_ = 0;
};

}  // namespace cw::mask
