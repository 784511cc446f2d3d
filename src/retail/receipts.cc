#include "retail/receipts.h"

#include <rapidjson/document.h>

#include <ctime>

#include "core/base64.h"
#include "core/time_format.h"
#include "wire/json.h"

namespace cw::retail {

std::string ReceiptKey(const StoreId& store, const SessionId& session, Time ended_at) {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(ended_at));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[40];
  std::snprintf(date, sizeof date, "%04d/%02d/%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return "receipts/" + store.str() + "/" + date + "/" + session.str() + ".json";
}

Result<std::string> VerifyReceipt(std::string_view blob, const crypto::PublicKey& key) {
  rapidjson::Document doc;
  doc.Parse(blob.data(), blob.size());
  if (doc.HasParseError() || !doc.IsObject()) return InvalidArgument("receipt is not a JSON object");
  auto payload = wire::GetString(doc, "payload");
  auto signature = wire::GetString(doc, "signature");
  if (!payload || !signature || wire::GetString(doc, "alg") != "ES256") {
    return InvalidArgument("receipt needs payload, alg ES256 and signature");
  }
  auto raw = Base64UrlDecode(*signature);
  if (!raw || raw->size() != 64) return InvalidArgument("receipt signature is not 64 bytes of base64url");
  crypto::Signature sig;
  std::copy(raw->begin(), raw->end(), sig.begin());
  if (!key.Verify(*payload, sig)) return PermissionDenied("receipt signature does not verify");
  return std::string(*payload);
}

Status ReceiptWriter::OnBatch(std::span<const ingest::RoutedEvent> events) {
  for (const auto& e : events) {
    if (e.event->type != wire::EventType::kSessionEnd) continue;
    CW_RETURN_IF_ERROR(Write(*e.event, *e.doc));
  }
  return Status::Ok();
}

Status ReceiptWriter::Write(const store::TelemetryEvent& end, const rapidjson::Value& doc) {
  if (wire::GetString(doc, "status") != "complete") return Status::Ok();
  auto session_id = SessionId::Parse(wire::GetString(doc, "session_id").value_or(""));
  if (!session_id.ok()) return Status::Ok();  // schema-checked upstream; nothing to receipt
  auto session = entities_.GetSession(*session_id);
  if (!session.ok()) {
    // The projector refused it (inconsistent); there is no session to receipt.
    return session.error().code() == Code::kNotFound ? Status::Ok() : session.error();
  }
  std::string key = ReceiptKey(session->store, session->id, end.ts);
  auto existing = blobs_.Get(key);
  if (existing.ok()) return Status::Ok();  // written by an earlier delivery
  if (existing.error().code() != Code::kNotFound) return existing.error();
  CW_ASSIGN_OR_RETURN(store::StoreRecord store, entities_.GetStore(session->store));

  wire::JsonBuilder r;
  r.Field("v", 1).Field("receipt_id", session->id.str()).Field("store_id", store.id.str())
      .Field("store_name", store.name).Field("cart_id", session->cart.str())
      .Field("started_at", FormatTimeMillis(session->started_at)).Field("ended_at", FormatTimeMillis(end.ts));
  if (session->account) r.Field("account", session->account->str());
  else r.Null("account");
  auto& w = r.Key("items").writer();
  w.StartArray();
  auto items = doc.FindMember("items");
  if (items != doc.MemberEnd() && items->value.IsArray()) {
    for (const auto& line : items->value.GetArray()) {
      std::string sku(wire::GetString(line, "sku").value_or(""));
      auto item = entities_.GetItem(store.id, sku);
      int64_t qty = wire::GetInt(line, "qty").value_or(0), price = wire::GetInt(line, "price_cents").value_or(0);
      w.StartObject();
      w.Key("sku"); w.String(sku.c_str());
      w.Key("name"); w.String(item.ok() ? item->name.c_str() : sku.c_str());
      w.Key("qty"); w.Int64(qty);
      w.Key("price_cents"); w.Int64(price);
      w.Key("line_total_cents"); w.Int64(qty * price);
      w.EndObject();
    }
  }
  w.EndArray();
  r.Field("item_count", wire::GetInt(doc, "item_count").value_or(0));
  r.Field("total_cents", wire::GetInt(doc, "total_cents").value_or(0));
  auto payment = doc.FindMember("payment");
  if (payment != doc.MemberEnd() && payment->value.IsObject()) {
    r.Key("payment").writer().StartObject();
    w.Key("auth_token"); w.String(std::string(wire::GetString(payment->value, "auth_token").value_or("")).c_str());
    w.Key("amount_cents"); w.Int64(wire::GetInt(payment->value, "amount_cents").value_or(0));
    w.EndObject();
  }
  std::string payload = r.Finish();

  CW_ASSIGN_OR_RETURN(crypto::Signature sig, signer_.Sign(payload));
  wire::JsonBuilder blob;
  blob.Field("v", 1).Field("payload", payload).Field("alg", "ES256")
      .Field("key", signer_fingerprint_)
      .Field("signature", Base64UrlEncode(std::span<const uint8_t>(sig.data(), sig.size())));
  Status st = blobs_.PutIfAbsent(key, blob.Finish());
  return st.code() == Code::kAlreadyExists ? Status::Ok() : st;
}

}  // namespace cw::retail
