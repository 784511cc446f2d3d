// libFuzzer target: the parsers cartmask runs on untrusted datasets — the streaming CSV reader,
// the JSON Lines record parser and string decoder — and the free-text redactor.
//
// Input layout: byte 0 picks the parser (and, for CSV, the read chunk size, so quotes and CRLFs
// land on chunk boundaries); the rest is the data.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "core/csv.h"
#include "mask/jsonl.h"
#include "mask/redact.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint8_t selector = data[0];
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (selector % 3) {
    case 0: {
      std::istringstream in{std::string(input)};
      cw::CsvStream reader(in, 16 + (selector >> 2));
      std::vector<std::string> fields;
      uint64_t last = 0;
      for (int i = 0; i < 10000; ++i) {
        auto more = reader.Next(fields);
        if (!more.ok()) {
          if (more.error().message().find("line") == std::string::npos)
            __builtin_trap();  // errors name the line
          break;
        }
        if (!*more) break;
        if (reader.bytes_read() < last || reader.bytes_read() > input.size()) __builtin_trap();
        last = reader.bytes_read();
        // What is read and written again reads back the same.
        std::string again;
        cw::AppendCsvRecord(again, fields);
        std::istringstream in2(again);
        cw::CsvStream reread(in2);
        std::vector<std::string> back;
        auto ok = reread.Next(back);
        if (!ok.ok() || !*ok || back != fields) __builtin_trap();
      }
      break;
    }
    case 1: {
      auto members = cw::mask::ParseJsonObjectLine(input);
      if (!members.ok()) break;
      for (const auto& m : *members) {
        if (m.kind != cw::mask::JsonKind::kString) continue;
        auto text = cw::mask::DecodeJsonString(m.raw);
        if (!text.ok()) continue;
        std::string again;
        cw::mask::AppendJsonString(again, *text);
        auto back = cw::mask::DecodeJsonString(again);
        if (!back.ok() || *back != *text) __builtin_trap();
      }
      break;
    }
    case 2: {
      static const cw::mask::Redactor redactor;
      auto spans = redactor.Find(input);
      if (!spans.ok()) break;
      size_t end = 0;
      for (const auto& s : *spans) {
        if (s.begin < end || s.end <= s.begin || s.end > input.size())
          __builtin_trap();  // ordered, disjoint
        end = s.end;
      }
      break;
    }
  }
  return 0;
}
