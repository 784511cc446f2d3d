#include "device/payment.h"

#include <utility>

namespace cw::device {

Result<std::string> SimEmvModule::Tap() {
  if (!presented_.empty()) return std::exchange(presented_, std::string());
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string token;
  for (int i = 0; i < 24; ++i) token += kChars[random_.Uniform(62)];
  return token;
}

Result<std::string> SimEmvTerminal::Authorise(std::string_view, int64_t amount_cents) {
  if (amount_cents < 0) return InvalidArgument("amount must not be negative");
  if (random_.Bernoulli(decline_rate_)) return FailedPrecondition("declined: insufficient funds");
  return "AUTH-" + random_.Hex(8);
}

}  // namespace cw::device
