// wire/event.h — decoding a cart event, stage by stage.
//
// The ingest interleaves these stages with its own (registry lookup between SplitEvent and
// ParseEvent, signature verification between ParseEvent and ValidateEvent), so each stage is a
// separate call. Every failure is a Rejection carrying the contract's reject reason; nothing here
// throws, and no input can crash it (see fuzz/wire_fuzz.cc).
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/ids.h"
#include "core/status.h"
#include "wire/envelope.h"
#include "wire/topic.h"
#include "wire/types.h"

namespace cw::wire {

struct Rejection {
  RejectReason reason;
  std::string detail;            // specific and value-free for strings (see schema.h)
  std::optional<uint64_t> seq;   // when it could be read from the payload
  // "schema_violation: /qty = 120 violates maximum 99"
  Status ToStatus() const;
};

// Stage 1: size, topic and envelope shape. Cheap; no JSON parsing.
struct RawEvent {
  EventTopicParts topic;
  std::string_view json;  // view into the payload; the bytes the signature covers
  Signature signature;
};
Result<RawEvent, Rejection> SplitEvent(std::string_view topic, std::string_view payload);

// Stage 2: strict JSON parse; the payload's `type` and `cart_id` must equal the topic's.
struct ParsedEvent {
  RawEvent raw;
  rapidjson::Document doc;
  std::optional<uint64_t> seq;  // readable seq, for reject notices
};
Result<ParsedEvent, Rejection> ParseEvent(const RawEvent& raw);

// Stage 3: the type's schema and the rules a schema cannot express (a real calendar instant).
struct EventFields {
  uint64_t seq = 0;
  Time ts;
  bool late = false;
};
Result<EventFields, Rejection> ValidateEvent(const ParsedEvent& event);

// All three stages, for callers that verify nothing in between (tests, fuzzing, tools).
Result<EventFields, Rejection> CheckEvent(std::string_view topic, std::string_view payload);

}  // namespace cw::wire
