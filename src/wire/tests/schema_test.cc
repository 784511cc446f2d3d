#include "wire/schema.h"

#include <gtest/gtest.h>

// GCC 12 warns falsely inside std::regex's own code at -O1 (GCC bug 105562); clang has no such
// warning (and no such flag).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <regex>

#include "wire/examples.h"
#include "wire/json.h"
#include "wire/schema_files.h"

namespace cw::wire {
namespace {

const CartId kCart = CartId::FromNumber(1);

// Parses the example for `type`, lets `edit` change it, and returns the validation status.
Status ValidateEdited(EventType type, const std::function<void(rapidjson::Document&)>& edit) {
  rapidjson::Document doc;
  EXPECT_TRUE(ParseStrictObject(ExampleEventJson(type, kCart, 5), doc).ok());
  edit(doc);
  return SchemaSet::Get().ValidateEvent(type, doc);
}

void Set(rapidjson::Document& d, const char* key, rapidjson::Value v) {
  if (d.HasMember(key)) d.RemoveMember(key);
  d.AddMember(rapidjson::StringRef(key), v, d.GetAllocator());
}

// Patterns go through std::regex (ECMAScript); one it cannot compile would be dropped by
// RapidJSON without a word and its field left unchecked, so every pattern must compile here.
void CollectPatterns(const rapidjson::Value& v, std::vector<std::string>& out) {
  if (v.IsObject()) {
    for (const auto& m : v.GetObject()) {
      if (std::string_view(m.name.GetString()) == "pattern" && m.value.IsString()) out.emplace_back(m.value.GetString());
      CollectPatterns(m.value, out);
    }
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) CollectPatterns(e, out);
  }
}

TEST(Schema, EveryPatternCompilesAsAnEcmaScriptRegex) {
  std::vector<std::string> patterns;
  for (const auto& f : SchemaFiles()) {
    rapidjson::Document doc;
    doc.Parse(f.text.data(), f.text.size());
    ASSERT_FALSE(doc.HasParseError()) << f.path;
    CollectPatterns(doc, patterns);
  }
  ASSERT_GT(patterns.size(), 5u);
  for (const auto& p : patterns) {
    EXPECT_NO_THROW(std::regex(p, std::regex_constants::ECMAScript)) << p;
  }
}

TEST(Schema, EveryExampleIsValid) {
  for (EventType t : kAllEventTypes) {
    Status st = ValidateEdited(t, [](rapidjson::Document&) {});
    EXPECT_TRUE(st.ok()) << Name(t) << ": " << st.ToString();
  }
}

TEST(Schema, UnknownFieldIsNamedForEveryType) {
  for (EventType t : kAllEventTypes) {
    Status st = ValidateEdited(t, [](rapidjson::Document& d) { Set(d, "colour", rapidjson::Value("red")); });
    EXPECT_EQ(st.message(), "unknown field 'colour'") << Name(t);
  }
}

TEST(Schema, MissingCommonFieldIsNamedForEveryType) {
  for (const char* field : {"v", "seq", "ts", "fw"}) {
    for (EventType t : kAllEventTypes) {
      Status st = ValidateEdited(t, [&](rapidjson::Document& d) { d.RemoveMember(field); });
      EXPECT_EQ(st.message(), std::string("missing required field '") + field + "'") << Name(t);
    }
  }
}

TEST(Schema, RangeTypeEnumAndPatternFailuresNameFieldAndRule) {
  EXPECT_EQ(ValidateEdited(EventType::kScan, [](auto& d) { Set(d, "qty", rapidjson::Value(120)); }).message(),
            "/qty = 120 violates maximum 99");
  EXPECT_EQ(ValidateEdited(EventType::kScan, [](auto& d) { Set(d, "qty", rapidjson::Value(0)); }).message(),
            "/qty = 0 violates minimum 1");
  EXPECT_EQ(ValidateEdited(EventType::kScan, [](auto& d) { Set(d, "seq", rapidjson::Value(0)); }).message(),
            "/seq = 0 violates minimum 1");
  EXPECT_EQ(ValidateEdited(EventType::kScan, [](auto& d) { Set(d, "symbology", rapidjson::Value("morse")); }).message(),
            "/symbology violates enum (ean13|upca|code128|qr|datamatrix)");
  EXPECT_EQ(ValidateEdited(EventType::kScan, [](auto& d) { Set(d, "sku", rapidjson::Value("a b")); }).message(),
            "/sku violates pattern ^[0-9A-Za-z-]{1,32}$");
  EXPECT_EQ(ValidateEdited(EventType::kHealth, [](auto& d) { Set(d, "charging", rapidjson::Value("yes")); }).message(),
            "/charging violates type (got string)");
  EXPECT_EQ(ValidateEdited(EventType::kHealth, [](auto& d) { Set(d, "v", rapidjson::Value(2)); }).message(),
            "/v = 2 violates enum (1)");
  EXPECT_EQ(ValidateEdited(EventType::kFault, [](auto& d) {
              Set(d, "detail", rapidjson::Value(std::string(257, 'x').c_str(), d.GetAllocator()));
            }).message(),
            "/detail violates maxLength 256");
  EXPECT_EQ(ValidateEdited(EventType::kScan, [](auto& d) { Set(d, "ts", rapidjson::Value("2026-11-22T10:15:30Z")); }).message(),
            "/ts violates pattern ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$");
}

TEST(Schema, NestedObjectsAreClosedToo) {
  Status st = ValidateEdited(EventType::kSessionEnd, [](rapidjson::Document& d) {
    d["items"][0].AddMember("discount", 5, d.GetAllocator());
  });
  EXPECT_EQ(st.message(), "unknown field 'discount' in /items/0");
}

TEST(Schema, IdentifyCredentialFormatDependsOnMethod) {
  auto with = [](const char* method, const char* cred) {
    return ValidateEdited(EventType::kIdentify, [&](rapidjson::Document& d) {
      Set(d, "method", rapidjson::Value(rapidjson::StringRef(method)));
      Set(d, "credential", rapidjson::Value(rapidjson::StringRef(cred)));
    });
  };
  EXPECT_TRUE(with("loyalty", "6012345678901234").ok());
  EXPECT_FALSE(with("loyalty", "601234567890123").ok());
  EXPECT_TRUE(with("payment_token", "Ab3dEf6hIj9lMn2pQr5tUv8x").ok());
  EXPECT_FALSE(with("payment_token", "6012345678901234").ok());
  EXPECT_TRUE(with("app_qr", "qr_7Hk-29xZ").ok());
  EXPECT_FALSE(with("app_qr", "short").ok());
  // A failure never echoes the credential.
  EXPECT_EQ(with("loyalty", "601234567890123").message().find("601234567890123"), std::string::npos);
}

TEST(Schema, CompletedSessionNeedsPayment) {
  EXPECT_FALSE(ValidateEdited(EventType::kSessionEnd, [](auto& d) { d.RemoveMember("payment"); }).ok());
  EXPECT_EQ(ValidateEdited(EventType::kSessionEnd, [](auto& d) { d.RemoveMember("payment"); }).message(),
            "a complete session-end needs payment {auth_token, amount_cents}");
  EXPECT_TRUE(ValidateEdited(EventType::kSessionEnd, [](auto& d) {
                d.RemoveMember("payment");
                Set(d, "status", rapidjson::Value("abandoned"));
              }).ok());
}

TEST(Schema, HealthLocationIsStoreOrGps) {
  EXPECT_TRUE(ValidateEdited(EventType::kHealth, [](rapidjson::Document& d) {
                rapidjson::Value loc(rapidjson::kObjectType);
                loc.AddMember("lat", 52.52, d.GetAllocator());
                loc.AddMember("lon", 13.40, d.GetAllocator());
                Set(d, "location", std::move(loc));
              }).ok());
  EXPECT_FALSE(ValidateEdited(EventType::kHealth, [](rapidjson::Document& d) {
                 rapidjson::Value loc(rapidjson::kObjectType);
                 loc.AddMember("lat", 52.52, d.GetAllocator());
                 loc.AddMember("zone", "dairy", d.GetAllocator());
                 Set(d, "location", std::move(loc));
               }).ok());
}

}  // namespace
}  // namespace cw::wire
