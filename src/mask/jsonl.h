// mask/jsonl.h — JSON Lines records for cartmask: one flat object per line, each member's value
// kept as the exact bytes it was written with, so a kept column stays byte-identical ("1.50" is
// not rewritten as 1.5) and only the treated members are re-encoded.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cw::mask {

enum class JsonKind { kString, kNumber, kTrue, kFalse, kNull, kObject, kArray };

struct JsonMember {
  std::string key;       // decoded
  std::string_view raw;  // the value as written, into the line
  JsonKind kind = JsonKind::kNull;
};

// The members of the object on `line` (surrounding whitespace allowed), in order. InvalidArgument
// naming the byte for anything that is not one strict RFC 8259 object, or a key that appears twice.
Result<std::vector<JsonMember>> ParseJsonObjectLine(std::string_view line);

// The text of a string member's raw value ("\"caf\\u00e9\"" → "café"). InvalidArgument for a bad
// escape or a lone surrogate.
Result<std::string> DecodeJsonString(std::string_view raw);

// Appends `text` as a JSON string literal (quotes, escapes for '"', '\\' and control characters).
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace cw::mask
