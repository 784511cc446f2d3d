// device/payment.h — the two payment components the cart talks to, as narrow interfaces.
//
// EmvModule is the tap-to-pay reader built into the cart's handle. It tokenises the card inside
// the module (PCI scope stays there): the cart only ever sees a 24-character payment-method token,
// which it sends as an `identify` credential. EmvTerminal is the store's payment terminal at the
// exit (also the fallback when the cart is offline): it authorises the basket total and returns an
// auth token that session-end carries. Card numbers never enter the cart model.
//
// The Sim* implementations are stubs with the real shapes, for the simulator and tests.
#pragma once

#include <string>
#include <string_view>

#include "core/random.h"
#include "core/status.h"

namespace cw::device {

class EmvModule {
 public:
  virtual ~EmvModule() = default;
  // A card was tapped: its payment-method token (24 of [A-Za-z0-9]). Unavailable if the read
  // failed (the shopper taps again).
  virtual Result<std::string> Tap() = 0;
};

class EmvTerminal {
 public:
  virtual ~EmvTerminal() = default;
  // Authorises `amount_cents` for the cart session `session_id`. The auth token on approval;
  // FailedPrecondition("declined: …") on a decline; Unavailable if the terminal cannot reach its
  // acquirer.
  virtual Result<std::string> Authorise(std::string_view session_id, int64_t amount_cents) = 0;
};

class SimEmvModule final : public EmvModule {
 public:
  explicit SimEmvModule(Random& random) : random_(random) {}
  // The next tap reads this card (a known customer's); later taps read random cards again.
  void Present(std::string token) { presented_ = std::move(token); }
  Result<std::string> Tap() override;

 private:
  Random& random_;
  std::string presented_;
};

class SimEmvTerminal final : public EmvTerminal {
 public:
  // Declines `decline_rate` of authorisations (insufficient funds, expired card…).
  SimEmvTerminal(Random& random, double decline_rate = 0.0) : random_(random), decline_rate_(decline_rate) {}
  Result<std::string> Authorise(std::string_view session_id, int64_t amount_cents) override;

 private:
  Random& random_;
  double decline_rate_;
};

}  // namespace cw::device
