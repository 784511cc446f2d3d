// wire/schema.h — validation against the JSON Schemas in schemas/ (the single source of truth).
//
// The schema set is compiled from the embedded files once per thread (RapidJSON 1.1.0's regex
// matcher is not safe to share between threads), so validation may run on any thread. Errors name the failing field and the rule, never echo string
// values (a rejected identify credential must not end up in a log or a dead letter).
#pragma once

#include <rapidjson/document.h>

#include <memory>
#include <string>

#include "core/status.h"
#include "wire/types.h"

namespace cw::wire {

class SchemaSet {
 public:
  // This thread's set. Broken embedded schemas are a build bug and abort with the reason.
  static const SchemaSet& Get();

  // InvalidArgument such as "/qty = 120 violates maximum 99" or "unknown field 'foo'".
  Status ValidateEvent(EventType type, const rapidjson::Value& doc) const;
  Status ValidateCommand(CommandKind kind, const rapidjson::Value& doc) const;
  Status ValidateRejectNotice(const rapidjson::Value& doc) const;
  Status ValidateStatus(const rapidjson::Value& doc) const;
  Status ValidateFirmwareManifest(const rapidjson::Value& doc) const;

  ~SchemaSet();
  SchemaSet(const SchemaSet&) = delete;
  SchemaSet& operator=(const SchemaSet&) = delete;

 private:
  SchemaSet();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cw::wire
