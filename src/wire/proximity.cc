#include "wire/proximity.h"

#include <cstring>

#include "core/base64.h"
#include "core/time_format.h"
#include "wire/json.h"

namespace cw::wire {

bool IsProximityNonce(std::string_view s) {
  return s.size() == 32 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string ProximityClaimsJson(const ProximityClaims& c) {
  JsonBuilder b;
  b.Field("v", kWireVersion)
      .Field("purpose", c.purpose)
      .Field("cart_id", c.cart.str())
      .Field("nonce", c.nonce)
      .Field("issued_at", FormatTimeMillis(c.issued_at))
      .Field("expires_at", FormatTimeMillis(c.expires_at));
  return b.Finish();
}

std::string EncodeProximityToken(std::string_view json, const Signature& sig) {
  return Base64UrlEncode(json) + "." + Base64UrlEncode(std::span<const uint8_t>(sig.data(), sig.size()));
}

Result<DecodedProximityToken> DecodeProximityToken(std::string_view token) {
  if (token.size() > 1024) return InvalidArgument("proximity token is too long");
  size_t dot = token.find('.');
  if (dot == std::string_view::npos) return InvalidArgument("proximity token is not claims.signature");
  auto json = Base64UrlDecode(token.substr(0, dot));
  auto sig = Base64UrlDecode(token.substr(dot + 1));
  if (!json || !sig) return InvalidArgument("proximity token is not base64url");
  if (sig->size() != kSignatureSize) return InvalidArgument("proximity token signature is not 64 bytes");
  DecodedProximityToken t{{"", CartId::FromNumber(0), "", Time{}, Time{}}, *json, {}};
  std::memcpy(t.signature.data(), sig->data(), kSignatureSize);
  rapidjson::Document doc;
  CW_RETURN_IF_ERROR(ParseStrictObject(t.json, doc).WithContext("proximity token claims"));
  auto v = GetInt(doc, "v");
  auto purpose = GetString(doc, "purpose");
  auto cart = GetString(doc, "cart_id");
  auto nonce = GetString(doc, "nonce");
  auto issued = GetString(doc, "issued_at");
  auto expires = GetString(doc, "expires_at");
  if (doc.MemberCount() != 6 || v != kWireVersion || !purpose || !cart || !nonce || !issued || !expires) {
    return InvalidArgument("proximity token claims must be exactly v, purpose, cart_id, nonce, issued_at, expires_at");
  }
  if (!IsProximityNonce(*nonce)) {
    return InvalidArgument("proximity token nonce must be 32 lowercase hex digits");
  }
  CW_ASSIGN_OR_RETURN(t.claims.cart, CartId::Parse(*cart));
  CW_ASSIGN_OR_RETURN(t.claims.issued_at, ParseWireTime(*issued));
  CW_ASSIGN_OR_RETURN(t.claims.expires_at, ParseWireTime(*expires));
  if (t.claims.expires_at <= t.claims.issued_at ||
      t.claims.expires_at - t.claims.issued_at > kMaxProximityTokenLifetime) {
    return InvalidArgument("proximity token lifetime must be positive and at most 120 s");
  }
  t.claims.purpose = std::string(*purpose);
  t.claims.nonce = std::string(*nonce);
  return t;
}

}  // namespace cw::wire
