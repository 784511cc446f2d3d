#include "mask/jsonl.h"

#include <set>

namespace cw::mask {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Result<std::vector<JsonMember>> Object() {
    SkipSpace();
    if (Peek() != '{') return Error("a record must be one JSON object");
    ++i_;
    std::vector<JsonMember> members;
    std::set<std::string, std::less<>> keys;
    SkipSpace();
    if (Peek() == '}') {
      ++i_;
    } else {
      for (;;) {
        SkipSpace();
        if (Peek() != '"') return Error("expected a member name in quotes");
        size_t kb = i_;
        CW_RETURN_IF_ERROR(SkipString());
        CW_ASSIGN_OR_RETURN(std::string key, DecodeJsonString(s_.substr(kb, i_ - kb)));
        if (!keys.insert(key).second) return Error("member '" + key + "' appears twice");
        SkipSpace();
        if (Peek() != ':') return Error("expected ':' after a member name");
        ++i_;
        SkipSpace();
        size_t vb = i_;
        CW_ASSIGN_OR_RETURN(JsonKind kind, SkipValue(0));
        members.push_back({std::move(key), s_.substr(vb, i_ - vb), kind});
        SkipSpace();
        if (Peek() == ',') {
          ++i_;
          continue;
        }
        if (Peek() == '}') {
          ++i_;
          break;
        }
        return Error("expected ',' or '}'");
      }
    }
    SkipSpace();
    if (i_ != s_.size()) return Error("text after the object");
    return members;
  }

 private:
  char Peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void SkipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n'))
      ++i_;
  }
  Status Error(const std::string& what) const {
    return InvalidArgument(what + " at byte " + std::to_string(i_ + 1));
  }

  Status SkipString() {  // at the opening quote
    ++i_;
    while (i_ < s_.size()) {
      auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return Status::Ok();
      }
      if (c < 0x20) return Error("control character inside a string");
      if (c == '\\') {
        ++i_;
        char e = Peek();
        if (e == 'u') {
          for (int k = 1; k <= 4; ++k) {
            char h = i_ + k < s_.size() ? s_[i_ + k] : '\0';
            if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) {
              return Error("\\u needs four hex digits");
            }
          }
          i_ += 4;
        } else if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos || e == '\0') {
          return Error("unknown escape");
        }
      }
      ++i_;
    }
    return Error("string never closed");
  }

  Status SkipNumber() {
    size_t b = i_;
    if (Peek() == '-') ++i_;
    if (Peek() == '0') {
      ++i_;
    } else if (Peek() >= '1' && Peek() <= '9') {
      while (Peek() >= '0' && Peek() <= '9') ++i_;
    } else {
      i_ = b;
      return Error("expected a value");
    }
    if (Peek() == '.') {
      ++i_;
      if (!(Peek() >= '0' && Peek() <= '9')) return Error("a digit must follow the decimal point");
      while (Peek() >= '0' && Peek() <= '9') ++i_;
    }
    if (Peek() == 'e' || Peek() == 'E') {
      ++i_;
      if (Peek() == '+' || Peek() == '-') ++i_;
      if (!(Peek() >= '0' && Peek() <= '9')) return Error("a digit must follow the exponent");
      while (Peek() >= '0' && Peek() <= '9') ++i_;
    }
    return Status::Ok();
  }

  Result<JsonKind> SkipValue(int depth) {
    if (depth > 64) return Error("nested deeper than 64 levels");
    switch (Peek()) {
      case '"':
        CW_RETURN_IF_ERROR(SkipString());
        return JsonKind::kString;
      case '{':
      case '[': {
        char close = Peek() == '{' ? '}' : ']';
        bool object = close == '}';
        ++i_;
        SkipSpace();
        if (Peek() == close) {
          ++i_;
          return object ? JsonKind::kObject : JsonKind::kArray;
        }
        for (;;) {
          SkipSpace();
          if (object) {
            if (Peek() != '"') return Error("expected a member name in quotes");
            CW_RETURN_IF_ERROR(SkipString());
            SkipSpace();
            if (Peek() != ':') return Error("expected ':' after a member name");
            ++i_;
            SkipSpace();
          }
          CW_RETURN_IF_ERROR(SkipValue(depth + 1).status());
          SkipSpace();
          if (Peek() == ',') {
            ++i_;
            continue;
          }
          if (Peek() == close) {
            ++i_;
            return object ? JsonKind::kObject : JsonKind::kArray;
          }
          return Error(object ? "expected ',' or '}'" : "expected ',' or ']'");
        }
      }
      case 't':
        if (s_.substr(i_, 4) == "true") return i_ += 4, JsonKind::kTrue;
        return Error("expected a value");
      case 'f':
        if (s_.substr(i_, 5) == "false") return i_ += 5, JsonKind::kFalse;
        return Error("expected a value");
      case 'n':
        if (s_.substr(i_, 4) == "null") return i_ += 4, JsonKind::kNull;
        return Error("expected a value");
      default:
        CW_RETURN_IF_ERROR(SkipNumber());
        return JsonKind::kNumber;
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace

Result<std::vector<JsonMember>> ParseJsonObjectLine(std::string_view line) {
  return Parser(line).Object();
}

Result<std::string> DecodeJsonString(std::string_view raw) {
  if (raw.size() < 2 || raw.front() != '"' || raw.back() != '"')
    return InvalidArgument("not a JSON string");
  std::string out;
  out.reserve(raw.size() - 2);
  for (size_t i = 1; i + 1 < raw.size(); ++i) {
    char c = raw[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i + 2 >= raw.size()) return InvalidArgument("a string ends inside an escape");
    char e = raw[++i];
    switch (e) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        auto read4 = [&](size_t at) -> int {
          if (at + 4 >= raw.size()) return -1;
          int v = 0;
          for (size_t k = at; k < at + 4; ++k) {
            char h = raw[k];
            if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
              return -1;
            v = v * 16 + HexValue(h);
          }
          return v;
        };
        int hi = read4(i + 1);
        if (hi < 0) return InvalidArgument("\\u needs four hex digits");
        i += 4;
        uint32_t cp = static_cast<uint32_t>(hi);
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          int lo =
              (i + 2 < raw.size() && raw[i + 1] == '\\' && raw[i + 2] == 'u') ? read4(i + 3) : -1;
          if (lo < 0xDC00 || lo > 0xDFFF) return InvalidArgument("a lone surrogate in \\u escapes");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (static_cast<uint32_t>(lo) - 0xDC00);
          i += 6;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return InvalidArgument("a lone surrogate in \\u escapes");
        }
        AppendUtf8(out, cp);
        break;
      }
      default:
        return InvalidArgument("unknown escape");
    }
  }
  return out;
}

void AppendJsonString(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      switch (c) {
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          out += "\\u00";
          out += kHex[u >> 4];
          out += kHex[u & 15];
      }
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace cw::mask
