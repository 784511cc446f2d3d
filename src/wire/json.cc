#include "wire/json.h"

#include <rapidjson/error/en.h>

#include <algorithm>
#include <vector>

namespace cw::wire {
namespace {

// Walks the parsed tree once: nesting depth and duplicate keys.
Status CheckTree(const rapidjson::Value& v, int depth) {
  if (depth > kMaxJsonDepth) return InvalidArgument("JSON nested deeper than " + std::to_string(kMaxJsonDepth));
  if (v.IsObject()) {
    if (v.MemberCount() > 1) {
      std::vector<std::string_view> keys;
      keys.reserve(v.MemberCount());
      for (const auto& m : v.GetObject()) keys.emplace_back(m.name.GetString(), m.name.GetStringLength());
      std::sort(keys.begin(), keys.end());
      auto dup = std::adjacent_find(keys.begin(), keys.end());
      if (dup != keys.end()) {
        return InvalidArgument("duplicate key '" + std::string(dup->substr(0, 40)) + "'");
      }
    }
    for (const auto& m : v.GetObject()) CW_RETURN_IF_ERROR(CheckTree(m.value, depth + 1));
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) CW_RETURN_IF_ERROR(CheckTree(e, depth + 1));
  }
  return Status::Ok();
}

rapidjson::Value::ConstMemberIterator Find(const rapidjson::Value& obj, std::string_view key) {
  if (!obj.IsObject()) return {};
  return obj.FindMember(rapidjson::Value(rapidjson::StringRef(key.data(), key.size())));
}

}  // namespace

Status ParseStrictObject(std::string_view text, rapidjson::Document& doc) {
  // Iterative parsing: attacker-chosen nesting cannot exhaust the stack.
  constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag;
  doc.Parse<kFlags>(text.data(), text.size());
  if (doc.HasParseError()) {
    return InvalidArgument("not valid JSON at offset " + std::to_string(doc.GetErrorOffset()) + ": " +
                           rapidjson::GetParseError_En(doc.GetParseError()));
  }
  if (!doc.IsObject()) return InvalidArgument("JSON payload is not an object");
  return CheckTree(doc, 1);
}

std::optional<std::string_view> GetString(const rapidjson::Value& obj, std::string_view key) {
  auto it = Find(obj, key);
  if (!obj.IsObject() || it == obj.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string_view(it->value.GetString(), it->value.GetStringLength());
}
std::optional<int64_t> GetInt(const rapidjson::Value& obj, std::string_view key) {
  auto it = Find(obj, key);
  if (!obj.IsObject() || it == obj.MemberEnd() || !it->value.IsInt64()) return std::nullopt;
  return it->value.GetInt64();
}
std::optional<uint64_t> GetUint(const rapidjson::Value& obj, std::string_view key) {
  auto it = Find(obj, key);
  if (!obj.IsObject() || it == obj.MemberEnd() || !it->value.IsUint64()) return std::nullopt;
  return it->value.GetUint64();
}
std::optional<bool> GetBool(const rapidjson::Value& obj, std::string_view key) {
  auto it = Find(obj, key);
  if (!obj.IsObject() || it == obj.MemberEnd() || !it->value.IsBool()) return std::nullopt;
  return it->value.GetBool();
}

JsonBuilder& JsonBuilder::Key(std::string_view key) {
  w_.Key(key.data(), static_cast<rapidjson::SizeType>(key.size()));
  return *this;
}
JsonBuilder& JsonBuilder::Field(std::string_view key, std::string_view value) {
  Key(key);
  w_.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
  return *this;
}
JsonBuilder& JsonBuilder::Field(std::string_view key, int64_t value) {
  Key(key);
  w_.Int64(value);
  return *this;
}
JsonBuilder& JsonBuilder::Field(std::string_view key, uint64_t value) {
  Key(key);
  w_.Uint64(value);
  return *this;
}
JsonBuilder& JsonBuilder::Field(std::string_view key, double value) {
  Key(key);
  w_.Double(value);
  return *this;
}
JsonBuilder& JsonBuilder::Field(std::string_view key, bool value) {
  Key(key);
  w_.Bool(value);
  return *this;
}
JsonBuilder& JsonBuilder::Null(std::string_view key) {
  Key(key);
  w_.Null();
  return *this;
}
std::string JsonBuilder::Finish() {
  w_.EndObject();
  return std::string(buf_.GetString(), buf_.GetSize());
}

}  // namespace cw::wire
