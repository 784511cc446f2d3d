#include "wire/status.h"

#include "core/time_format.h"
#include "wire/json.h"
#include "wire/schema.h"
#include "wire/types.h"

namespace cw::wire {

std::string_view Name(Presence p) { return p == Presence::kOnline ? "online" : "offline"; }

std::string StatusPayload(Presence presence, Time connected_at) {
  JsonBuilder b;
  b.Field("v", kWireVersion).Field("status", Name(presence)).Field("connected_at", FormatTimeMillis(connected_at));
  return b.Finish();
}

Result<StatusMessage> ParseStatusPayload(std::string_view payload) {
  if (payload == "online") return StatusMessage{Presence::kOnline, std::nullopt};
  if (payload == "offline") return StatusMessage{Presence::kOffline, std::nullopt};
  rapidjson::Document doc;
  CW_RETURN_IF_ERROR(ParseStrictObject(payload, doc).WithContext("status payload"));
  CW_RETURN_IF_ERROR(SchemaSet::Get().ValidateStatus(doc).WithContext("status payload"));
  CW_ASSIGN_OR_RETURN(Time at, ParseWireTime(*GetString(doc, "connected_at")));
  return StatusMessage{*GetString(doc, "status") == "online" ? Presence::kOnline : Presence::kOffline, at};
}

}  // namespace cw::wire
