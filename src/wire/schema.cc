#include "wire/schema.h"

// `pattern` keywords through std::regex, compiled once per schema. RapidJSON's own regex engine
// expands a counted repetition such as {8,128} into that many NFA states and walks them per
// character: 300 µs to validate one session-end (docs/benchmarks.md), six times a P-256 verify.
// Only this file includes rapidjson/schema.h, so the choice cannot differ between translation units.
// GCC 12 warns falsely inside std::regex's own code at -O1 (GCC bug 105562); clang has no such
// warning (and no such flag).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// RapidJSON 1.1.0 reads these oddly: defining INTERNALREGEX at all turns its engine off, and then
// std::regex is used only if STDREGEX is left undefined (defining it, even to 1, turns patterns off).
#define RAPIDJSON_SCHEMA_USE_INTERNALREGEX 0
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#if !RAPIDJSON_SCHEMA_USE_STDREGEX
#error "rapidjson/schema.h must validate patterns with std::regex"
#endif

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string_view>

#include "wire/schema_files.h"

namespace cw::wire {

namespace {

using rapidjson::Document;
using rapidjson::SchemaDocument;
using rapidjson::Value;

struct Compiled {
  Document source;  // kept to explain failures (required lists, enums, limits)
  std::unique_ptr<SchemaDocument> schema;
};

// Resolves "common.json#/…" references. RapidJSON 1.1.0 passes the name one character short, so a
// prefix of a known file name (at least 6 characters) is accepted.
class CommonProvider : public rapidjson::IRemoteSchemaDocumentProvider {
 public:
  explicit CommonProvider(const SchemaDocument* common) : common_(common) {}
  const SchemaDocument* GetRemoteDocument(const char* uri, rapidjson::SizeType length) override {
    std::string_view want(uri, length);
    constexpr std::string_view kName = "common.json";
    if (want.size() >= 6 && kName.substr(0, want.size()) == want) return common_;
    return nullptr;
  }

 private:
  const SchemaDocument* common_;
};

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "FATAL: embedded wire schemas are broken: %s\n", why.c_str());
  std::abort();
}

std::string PointerString(const rapidjson::Pointer& p) {
  rapidjson::StringBuffer sb;
  p.StringifyUriFragment(sb);
  std::string s(sb.GetString(), sb.GetSize());
  if (!s.empty() && s[0] == '#') s.erase(0, 1);
  return s.empty() ? "/" : s;
}

std::string Scalar(const Value& v) {
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsUint64()) return std::to_string(v.GetUint64());
  if (v.IsDouble()) return std::to_string(v.GetDouble());
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsNull()) return "null";
  if (v.IsString()) return v.GetString();
  return "?";
}

const char* TypeName(const Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "boolean";
    case rapidjson::kObjectType: return "object";
    case rapidjson::kArrayType: return "array";
    case rapidjson::kStringType: return "string";
    case rapidjson::kNumberType: return v.IsDouble() ? "number" : "integer";
  }
  return "?";
}

// Follows "$ref"s (local or into common.json) until a concrete schema object.
const Value* Resolve(const Value* s, const Document& root, const Document& common) {
  for (int hops = 0; s && s->IsObject() && hops < 8; ++hops) {
    auto ref = s->FindMember("$ref");
    if (ref == s->MemberEnd() || !ref->value.IsString()) return s;
    std::string_view r(ref->value.GetString(), ref->value.GetStringLength());
    size_t hash = r.find('#');
    if (hash == std::string_view::npos) return nullptr;
    rapidjson::Pointer p(r.data() + hash + 1, r.size() - hash - 1);
    s = p.Get(hash == 0 ? static_cast<const Value&>(root) : static_cast<const Value&>(common));
  }
  return s;
}

// The schema that governs the instance at `where`, by walking properties/items from the root.
// (RapidJSON 1.1.0 cannot report pointers into referenced documents, so we find the rule ourselves.)
const Value* RuleAt(const rapidjson::Pointer& where, const Document& root, const Document& common) {
  const Value* s = Resolve(&root, root, common);
  for (size_t i = 0; s && i < where.GetTokenCount(); ++i) {
    const auto& token = where.GetTokens()[i];
    auto props = s->FindMember("properties");
    if (props != s->MemberEnd() && props->value.HasMember(token.name)) {
      s = Resolve(&props->value[token.name], root, common);
      continue;
    }
    auto items = s->FindMember("items");
    if (items != s->MemberEnd() && token.index != rapidjson::kPointerInvalidIndex) {
      s = Resolve(&items->value, root, common);
      continue;
    }
    return nullptr;
  }
  return s;
}

// Turns RapidJSON's (keyword, document pointer) into one specific sentence.
std::string Explain(const rapidjson::SchemaValidator& validator, const Document& schema_source,
                    const Document& common_source, const Value& doc) {
  std::string keyword = validator.GetInvalidSchemaKeyword();
  rapidjson::Pointer ptr = validator.GetInvalidDocumentPointer();
  std::string where = PointerString(ptr);
  const Value* instance = ptr.Get(doc);

  if (keyword == "additionalProperties" && ptr.GetTokenCount() > 0) {
    // The pointer names the extra member itself.
    const auto& last = ptr.GetTokens()[ptr.GetTokenCount() - 1];
    std::string parent = PointerString(rapidjson::Pointer(ptr.GetTokens(), ptr.GetTokenCount() - 1));
    return "unknown field '" + std::string(last.name, std::min<size_t>(last.length, 40)) + "'" +
           (parent == "/" ? "" : " in " + parent);
  }
  const Value* rule = RuleAt(ptr, schema_source, common_source);
  if (keyword == "required" && instance && instance->IsObject() && rule && rule->IsObject()) {
    auto req = rule->FindMember("required");
    if (req != rule->MemberEnd() && req->value.IsArray()) {
      for (const auto& name : req->value.GetArray()) {
        if (!instance->HasMember(name)) {
          return "missing required field '" + std::string(name.GetString()) + "'" +
                 (where == "/" ? "" : " in " + where);
        }
      }
    }
  }
  if (keyword == "oneOf" && rule && rule->IsObject() && rule->HasMember("x-oneOf-error")) {
    // Schemas explain their own variants; RapidJSON cannot say which branch was meant.
    return rule->FindMember("x-oneOf-error")->value.GetString();
  }
  std::string out = where;
  if (instance && !instance->IsString() && !instance->IsObject() && !instance->IsArray()) {
    out += " = " + Scalar(*instance);
  }
  out += " violates " + keyword;
  if (rule && rule->IsObject()) {
    auto limit = rule->FindMember(keyword.c_str());
    if (limit != rule->MemberEnd()) {
      if (keyword == "enum" && limit->value.IsArray()) {
        std::string opts;
        for (const auto& e : limit->value.GetArray()) opts += (opts.empty() ? "" : "|") + Scalar(e);
        out += " (" + opts + ")";
      } else if (keyword == "type" && instance) {
        out += std::string(" (got ") + TypeName(*instance) + ")";
      } else if (!limit->value.IsObject() && !limit->value.IsArray()) {
        out += " " + Scalar(limit->value);
      }
    }
  }
  return out;
}

}  // namespace

struct SchemaSet::Impl {
  Compiled common;
  std::map<std::string, Compiled, std::less<>> by_path;  // "events/scan.json" → compiled

  Status Validate(std::string_view path, const Value& doc) const {
    auto it = by_path.find(path);
    if (it == by_path.end()) return Internal("no schema " + std::string(path));
    rapidjson::SchemaValidator validator(*it->second.schema);
    if (doc.Accept(validator)) return Status::Ok();
    return InvalidArgument(Explain(validator, it->second.source, common.source, doc));
  }
};

SchemaSet::SchemaSet() : impl_(std::make_unique<Impl>()) {
  auto parse = [](const EmbeddedFile& f, Compiled& c) {
    c.source.Parse(f.text.data(), f.text.size());
    if (c.source.HasParseError()) Die(std::string(f.path) + " is not valid JSON");
  };
  for (const auto& f : SchemaFiles()) {
    if (f.path == "common.json") {
      parse(f, impl_->common);
      impl_->common.schema = std::make_unique<SchemaDocument>(impl_->common.source);
    }
  }
  if (!impl_->common.schema) Die("common.json missing");
  CommonProvider provider(impl_->common.schema.get());
  for (const auto& f : SchemaFiles()) {
    if (f.path == "common.json") continue;
    Compiled& c = impl_->by_path[std::string(f.path)];
    parse(f, c);
    c.schema = std::make_unique<SchemaDocument>(c.source, &provider);
  }
  for (EventType t : kAllEventTypes) {
    if (!impl_->by_path.count("events/" + std::string(Name(t)) + ".json")) Die("no schema for " + std::string(Name(t)));
  }
  for (CommandKind k : kAllCommandKinds) {
    if (!impl_->by_path.count("commands/" + std::string(Name(k)) + ".json")) Die("no schema for " + std::string(Name(k)));
  }
}

SchemaSet::~SchemaSet() = default;

const SchemaSet& SchemaSet::Get() {
  // Shared by every thread: a SchemaDocument is immutable once built, and std::regex matching is
  // const. (RapidJSON's internal regex kept match state in the regex object, which needed one set
  // per thread.)
  static const SchemaSet* set = new SchemaSet();
  return *set;
}

Status SchemaSet::ValidateEvent(EventType type, const Value& doc) const {
  return impl_->Validate("events/" + std::string(Name(type)) + ".json", doc);
}
Status SchemaSet::ValidateCommand(CommandKind kind, const Value& doc) const {
  return impl_->Validate("commands/" + std::string(Name(kind)) + ".json", doc);
}
Status SchemaSet::ValidateRejectNotice(const Value& doc) const {
  return impl_->Validate("reject-notice.json", doc);
}

Status SchemaSet::ValidateStatus(const Value& doc) const { return impl_->Validate("status.json", doc); }
Status SchemaSet::ValidateFirmwareManifest(const Value& doc) const {
  return impl_->Validate("firmware-manifest.json", doc);
}

}  // namespace cw::wire
