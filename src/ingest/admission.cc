#include "ingest/admission.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "crypto/hash.h"
#include "wire/envelope.h"
#include "wire/json.h"

namespace cw::ingest {

namespace {

// The cart a topic names, even when the rest of the topic is wrong: carts/{id}/...
std::optional<CartId> TopicCart(std::string_view topic) {
  if (!topic.starts_with("carts/")) return std::nullopt;
  std::string_view rest = topic.substr(6);
  auto id = CartId::Parse(rest.substr(0, rest.find('/')));
  if (!id.ok()) return std::nullopt;
  return *id;
}

std::optional<std::string> StripCredential(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  d.RemoveMember("credential");
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  d.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

}  // namespace

std::string WithoutCredential(std::string_view payload) {
  if (payload.find("credential") == std::string_view::npos) return std::string(payload);
  // Signed envelope first (JSON ‖ 64-byte signature), then a bare JSON object.
  if (payload.size() > wire::kSignatureSize) {
    if (auto s = StripCredential(payload.substr(0, payload.size() - wire::kSignatureSize))) return *s;
  }
  if (auto s = StripCredential(payload)) return *s;
  return "";  // cannot tell where the credential is: keep nothing
}

store::DeadLetter Admission::DeadLetterFor(std::string_view topic, std::string_view payload, const wire::Rejection& r,
                                           Time received_at) const {
  store::DeadLetter d;
  d.received_at = received_at;
  d.expires_at = received_at + options_.hot_retention;
  d.topic = std::string(topic.substr(0, 1024));
  d.cart = TopicCart(topic);
  d.seq = r.seq;
  d.reason = r.reason;
  d.detail = r.detail;
  d.payload = WithoutCredential(payload.substr(0, 64 * 1024));
  return d;
}

Result<Admitted, Refused> Admission::Check(std::string_view topic, std::string_view payload, Time received_at) const {
  auto refuse = [&](wire::Rejection r) -> Refused {
    return Refused{r, DeadLetterFor(topic, payload, r, received_at), TopicCart(topic)};
  };
  auto raw = wire::SplitEvent(topic, payload);
  if (!raw.ok()) return refuse(raw.error());

  auto entry = directory_.Lookup(raw->topic.cart);
  if (!entry.ok()) {
    if (entry.error().code() == Code::kNotFound) {
      return refuse({wire::RejectReason::kUnknownCart, raw->topic.cart.str() + " is not registered", std::nullopt});
    }
    return refuse({wire::RejectReason::kInternalError, "registry lookup failed: " + entry.error().message(), std::nullopt});
  }
  const CartEntry& cart = **entry;
  if (cart.status != store::CartStatus::kActive) {
    return refuse({wire::RejectReason::kRevokedCart,
                   cart.id.str() + " is " + std::string(store::Name(cart.status)), std::nullopt});
  }

  auto parsed = wire::ParseEvent(*raw);
  if (!parsed.ok()) return refuse(parsed.error());
  if (!cart.key.Verify(raw->json, raw->signature)) {
    return refuse({wire::RejectReason::kBadSignature,
                   "signature does not verify with the key registered for " + cart.id.str(), parsed->seq});
  }
  auto fields = wire::ValidateEvent(*parsed);
  if (!fields.ok()) return refuse(fields.error());
  if (fields->ts > received_at + options_.max_future_skew) {
    auto ahead = std::chrono::duration_cast<std::chrono::hours>(fields->ts - received_at).count();
    return refuse({wire::RejectReason::kClockSkew,
                   "ts is " + std::to_string(ahead) + " h ahead of the server clock (limit 24 h)", fields->seq});
  }

  wire::EventType type = raw->topic.type;
  Admitted a{store::TelemetryEvent{
                 .cart = cart.id,
                 .store = cart.store,
                 .seq = fields->seq,
                 .ts = fields->ts,
                 .received_at = received_at,
                 // From the later of device and server time: a cart whose clock fell back to 1970
                 // must not have its events expire on arrival (found by ingest_fuzz).
                 .expires_at = std::max(fields->ts, received_at) + options_.hot_retention,
                 .type = type,
                 .late = fields->late,
                 .digest = crypto::Sha256(payload),
                 .body = type == wire::EventType::kIdentify ? WithoutCredential(payload) : std::string(payload)},
             std::move(parsed->doc)};
  if (type == wire::EventType::kIdentify) {
    a.credential = std::string(wire::GetString(a.doc, "credential").value_or(""));
    a.doc.RemoveMember("credential");
  }
  return a;
}

}  // namespace cw::ingest
