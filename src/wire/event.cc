#include "wire/event.h"

#include "core/time_format.h"
#include "wire/json.h"
#include "wire/schema.h"

namespace cw::wire {

Status Rejection::ToStatus() const {
  return InvalidArgument(std::string(Name(reason)) + ": " + detail);
}

namespace {
Rejection Reject(RejectReason r, std::string detail, std::optional<uint64_t> seq = std::nullopt) {
  return Rejection{r, std::move(detail), seq};
}
}  // namespace

Result<RawEvent, Rejection> SplitEvent(std::string_view topic, std::string_view payload) {
  if (payload.size() > kMaxPayloadSize) {
    return Reject(RejectReason::kOversize, "payload is " + std::to_string(payload.size()) +
                                               " bytes; the limit is " + std::to_string(kMaxPayloadSize));
  }
  auto parts = ParseEventTopic(topic);
  if (!parts.ok()) return Reject(RejectReason::kTopicMismatch, parts.error().message());
  auto env = SplitEnvelope(payload);
  if (!env.ok()) return Reject(RejectReason::kMalformedEnvelope, env.error().message());
  return RawEvent{*parts, env->json, env->signature};
}

Result<ParsedEvent, Rejection> ParseEvent(const RawEvent& raw) {
  ParsedEvent ev{raw, rapidjson::Document(), std::nullopt};
  Status st = ParseStrictObject(raw.json, ev.doc);
  if (!st.ok()) return Reject(RejectReason::kMalformedEnvelope, st.message());
  if (auto seq = GetUint(ev.doc, "seq"); seq && *seq >= 1) ev.seq = *seq;

  auto cart = GetString(ev.doc, "cart_id");
  if (!cart) return Reject(RejectReason::kSchemaViolation, "missing required field 'cart_id'", ev.seq);
  if (*cart != raw.topic.cart.str()) {
    return Reject(RejectReason::kTopicMismatch,
                  "payload cart_id does not match topic cart " + raw.topic.cart.str(), ev.seq);
  }
  auto type = GetString(ev.doc, "type");
  if (!type) return Reject(RejectReason::kSchemaViolation, "missing required field 'type'", ev.seq);
  if (*type != Name(raw.topic.type)) {
    return Reject(RejectReason::kTopicMismatch,
                  "payload type does not match topic type " + std::string(Name(raw.topic.type)), ev.seq);
  }
  return ev;
}

Result<EventFields, Rejection> ValidateEvent(const ParsedEvent& event) {
  Status st = SchemaSet::Get().ValidateEvent(event.raw.topic.type, event.doc);
  if (!st.ok()) return Reject(RejectReason::kSchemaViolation, st.message(), event.seq);
  EventFields f;
  f.seq = *GetUint(event.doc, "seq");
  auto ts = ParseWireTime(*GetString(event.doc, "ts"));
  if (!ts.ok()) return Reject(RejectReason::kSchemaViolation, "/ts is not a real calendar instant", f.seq);
  f.ts = *ts;
  f.late = GetBool(event.doc, "late").value_or(false);
  return f;
}

Result<EventFields, Rejection> CheckEvent(std::string_view topic, std::string_view payload) {
  auto raw = SplitEvent(topic, payload);
  if (!raw.ok()) return std::move(raw).error();
  auto parsed = ParseEvent(*raw);
  if (!parsed.ok()) return std::move(parsed).error();
  return ValidateEvent(*parsed);
}

}  // namespace cw::wire
