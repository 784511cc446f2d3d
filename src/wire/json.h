// wire/json.h — strict JSON in and out.
//
// The wire is untrusted: ParseStrictObject accepts only what the contract allows (valid UTF-8, one
// top-level object, no duplicate keys — two parsers must never disagree about what was signed — and
// bounded nesting). JsonBuilder writes the compact JSON the contract signs.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace cw::wire {

inline constexpr int kMaxJsonDepth = 8;

// InvalidArgument describes the first problem ("not valid JSON at offset 17: Missing a comma…").
Status ParseStrictObject(std::string_view text, rapidjson::Document& doc);

// Typed member access for already-validated documents: nullopt when absent or of another type.
std::optional<std::string_view> GetString(const rapidjson::Value& obj, std::string_view key);
std::optional<int64_t> GetInt(const rapidjson::Value& obj, std::string_view key);
std::optional<uint64_t> GetUint(const rapidjson::Value& obj, std::string_view key);
std::optional<bool> GetBool(const rapidjson::Value& obj, std::string_view key);

// Compact JSON object writer:
//   JsonBuilder b; b.Field("v", 1).Field("cart_id", id.str()).Null("expected_weight_g"); b.Finish();
class JsonBuilder {
 public:
  JsonBuilder() : w_(buf_) { w_.StartObject(); }

  JsonBuilder& Field(std::string_view key, std::string_view value);
  JsonBuilder& Field(std::string_view key, const char* value) { return Field(key, std::string_view(value)); }
  JsonBuilder& Field(std::string_view key, const std::string& value) { return Field(key, std::string_view(value)); }
  JsonBuilder& Field(std::string_view key, int64_t value);
  JsonBuilder& Field(std::string_view key, int value) { return Field(key, static_cast<int64_t>(value)); }
  JsonBuilder& Field(std::string_view key, uint64_t value);
  JsonBuilder& Field(std::string_view key, double value);
  JsonBuilder& Field(std::string_view key, bool value);
  JsonBuilder& Null(std::string_view key);
  // Nested structures: Key("items").StartArray() ... EndArray(); raw writer for anything else.
  JsonBuilder& Key(std::string_view key);
  rapidjson::Writer<rapidjson::StringBuffer>& writer() { return w_; }

  // Closes the object and returns the bytes. Call once.
  std::string Finish();

 private:
  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> w_;
};

}  // namespace cw::wire
