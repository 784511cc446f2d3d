// device/event_builder.h — how the cart firmware builds a signed event.
//
// Writes the common fields (v, type, cart_id, seq from the flash counter, ts from the device
// clock in wire format, fw, and `late` when the event is created while offline), lets the caller
// add the type's fields, then signs the exact bytes with the secure element.
#pragma once

#include <functional>
#include <string>

#include "core/clock.h"
#include "core/ids.h"
#include "crypto/key_store.h"
#include "device/seq_counter.h"
#include "wire/json.h"
#include "wire/types.h"

namespace cw::device {

struct SignedEvent {
  wire::EventType type;
  uint64_t seq = 0;
  std::string topic;
  std::string payload;  // JSON ‖ 64-byte signature
};

class EventBuilder {
 public:
  EventBuilder(CartId cart, std::string firmware, crypto::KeyStore& secure_element, SeqCounter& seq, Clock& clock)
      : cart_(std::move(cart)), firmware_(std::move(firmware)), se_(secure_element), seq_(seq), clock_(clock) {}

  // Builds and signs one event. `late` marks an event created while offline (replayed later).
  Result<SignedEvent> Build(wire::EventType type, const std::function<void(wire::JsonBuilder&)>& fields,
                            bool late = false);

  const CartId& cart() const { return cart_; }
  void set_firmware(std::string fw) { firmware_ = std::move(fw); }

 private:
  CartId cart_;
  std::string firmware_;
  crypto::KeyStore& se_;
  SeqCounter& seq_;
  Clock& clock_;
};

}  // namespace cw::device
