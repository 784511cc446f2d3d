// wire/proximity.h — the proximity token a cart hands a staff tablet over BLE.
//
// Proof that the staff member stands at the cart: claims signed by the cart's own key, short-lived
// (≤ 120 s) and single-use (the cloud remembers nonces). Format: base64url(JSON) "." base64url(sig)
// where sig is the raw r‖s ECDSA P-256 signature over SHA-256 of the JSON bytes — the same signing
// rule as every wire message. Claims: {"v":1,"purpose","cart_id","nonce","issued_at","expires_at"}.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/ids.h"
#include "core/status.h"
#include "wire/envelope.h"

namespace cw::wire {

inline constexpr std::string_view kPurposeStaffOverride = "staff-override";
inline constexpr auto kMaxProximityTokenLifetime = std::chrono::seconds(120);

struct ProximityClaims {
  std::string purpose;
  CartId cart;
  std::string nonce;  // 32 lowercase hex
  Time issued_at;
  Time expires_at;
};

// 32 lowercase hex digits: the only shape a nonce (or the cloud's challenge) may have.
bool IsProximityNonce(std::string_view s);

std::string ProximityClaimsJson(const ProximityClaims& claims);
std::string EncodeProximityToken(std::string_view claims_json, const Signature& signature);

struct DecodedProximityToken {
  ProximityClaims claims;
  std::string json;  // the signed bytes
  Signature signature;
};
// Parses the token and its claims (not the signature: the verifier knows the cart's key).
// InvalidArgument when malformed, or when it claims to live longer than 120 s.
Result<DecodedProximityToken> DecodeProximityToken(std::string_view token);

}  // namespace cw::wire
