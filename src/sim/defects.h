// sim/defects.h — faults a scenario puts between a cart's firmware and its radio, so the cloud's
// alarms can be exercised against the real pipeline: a firmware bug that emits malformed (but
// correctly signed) payloads, and a congested link that delays every message.
#pragma once

#include <chrono>
#include <deque>
#include <string>

#include "core/random.h"
#include "crypto/key_store.h"
#include "device/cart.h"

namespace cw::sim {

struct CartDefects {
  // Share of the cart's messages its firmware gets wrong: an unknown field in the JSON, signed
  // as usual, so the cloud rejects it as schema_violation (not bad_signature).
  double malformed_share = 0;
  // Added to every message before it leaves: the event's ts is when the firmware made it, so the
  // cloud measures the delay as publish→cloud latency.
  std::chrono::milliseconds delay{0};
};

class DefectiveUplink final : public device::Uplink {
 public:
  // `inner` (the session) and `secure_element` (re-signs a malformed payload) must outlive this.
  DefectiveUplink(device::Uplink& inner, crypto::KeyStore& secure_element, Random& random, CartDefects defects)
      : inner_(inner), se_(secure_element), random_(random), defects_(defects) {}

  bool connected() const override { return inner_.connected(); }
  std::string_view link() const override { return inner_.link(); }
  // Without a delay: straight to the transport. With one: held, and true (the message is on its
  // way); an undeliverable one waits in the hold until the transport takes it.
  bool Publish(const std::string& topic, const std::string& payload) override;

  // Hands the held messages whose time has come to the transport, in order.
  void Pump(std::chrono::steady_clock::time_point now);
  // Messages held back and not yet handed over.
  size_t held() const { return held_.size(); }
  uint64_t malformed() const { return malformed_; }

 private:
  struct Held {
    std::chrono::steady_clock::time_point due;
    std::string topic, payload;
  };
  device::Uplink& inner_;
  crypto::KeyStore& se_;
  Random& random_;
  CartDefects defects_;
  std::deque<Held> held_;
  uint64_t malformed_ = 0;
};

}  // namespace cw::sim
