#include "device/event_builder.h"

#include "core/time_format.h"
#include "wire/envelope.h"
#include "wire/topic.h"

namespace cw::device {

Result<SignedEvent> EventBuilder::Build(wire::EventType type, const std::function<void(wire::JsonBuilder&)>& fields,
                                        bool late) {
  CW_ASSIGN_OR_RETURN(uint64_t seq, seq_.Next());
  wire::JsonBuilder b;
  b.Field("v", wire::kWireVersion)
      .Field("type", wire::Name(type))
      .Field("cart_id", cart_.str())
      .Field("seq", seq)
      .Field("ts", FormatTimeMillis(clock_.Now()))
      .Field("fw", firmware_);
  if (late) b.Field("late", true);
  if (fields) fields(b);
  std::string json = b.Finish();
  CW_ASSIGN_OR_RETURN(crypto::Signature sig, se_.Sign(json));
  return SignedEvent{type, seq, wire::EventTopic(cart_, type), wire::JoinEnvelope(json, sig)};
}

}  // namespace cw::device
