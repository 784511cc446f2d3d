#include "identity/identity_service.h"

#include "core/base64.h"
#include "core/log.h"
#include "crypto/aead.h"
#include "crypto/hash.h"
#include "wire/json.h"
#include "wire/notice.h"

namespace cw::identity {
namespace {

const Access kService{"identity", "service", "identify a shopper and greet them on their cart"};

bool AllDigits(std::string_view s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool AllAlnum(std::string_view s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return false;
  }
  return true;
}

// A secret token from the system DRBG, base64url (the schema's `token` alphabet).
Result<std::string> SecretToken(size_t bytes) {
  CW_ASSIGN_OR_RETURN(std::string raw, crypto::RandomBytes(bytes));
  return Base64UrlEncode(raw);
}

}  // namespace

std::string_view Name(IdentifyResult r) {
  switch (r) {
    case IdentifyResult::kMatched: return "matched";
    case IdentifyResult::kUnknown: return "unknown";
    case IdentifyResult::kRejected: return "rejected";
  }
  return "?";
}

IdentityStats IdentityService::stats() const {
  return {matched_.load(), unknown_.load(), rejected_.load(), merged_.load(), commands_failed_.load()};
}

Status IdentityService::OnBatch(std::span<const ingest::RoutedEvent> events) {
  for (const auto& e : events) {
    if (e.event->type != wire::EventType::kIdentify) continue;
    auto id = Identify(*e.event, *e.doc, e.credential);
    if (!id.ok()) {
      if (!ingest::EventIsAtFault(id.error())) return id.error();  // held and retried by the ingest
      log::Warn("identity.skipped", {{"cart", e.event->cart.str()}, {"seq", std::to_string(e.event->seq)},
                                     {"error", id.error().ToString()}});
    }
  }
  return Status::Ok();
}

Result<Identification> IdentityService::Identify(const store::TelemetryEvent& event, const rapidjson::Value& doc,
                                                 std::string_view credential_view) {
  CW_ASSIGN_OR_RETURN(SessionId session, SessionId::Parse(wire::GetString(doc, "session_id").value_or("")));
  std::string method(wire::GetString(doc, "method").value_or(""));
  std::string credential(credential_view);

  Identification id;
  // A redelivery (or a second identification) of a session already linked: answer as before.
  auto existing = entities_.GetSession(session);
  if (existing.ok() && existing->account) {
    id.result = IdentifyResult::kMatched;
    id.account = existing->account;
    id.customer_ref = existing->customer_ref;
  } else {
    if (!existing.ok() && existing.error().code() != Code::kNotFound) return existing.error();
    CW_ASSIGN_OR_RETURN(id, Resolve(method, credential));
    if (id.result == IdentifyResult::kMatched) {
      CW_ASSIGN_OR_RETURN(id.customer_ref, SecretToken(12));
      Status linked = entities_.IdentifySession(session, event.cart, event.store, *id.account, method, id.customer_ref,
                                                event.ts);
      if (linked.code() == Code::kFailedPrecondition) {
        // Raced with another identification of the same session: the first one stands.
        auto now = entities_.GetSession(session);
        if (!now.ok()) return now.error();
        id.account = now->account;
        id.customer_ref = now->customer_ref;
      } else if (!linked.ok()) {
        return linked;
      }
    }
  }

  if (id.result == IdentifyResult::kMatched) {
    // Battery swap: this customer's session that died with its cart shortly before.
    auto theirs = entities_.ListSessions({.account = id.account, .status = store::SessionStatus::kAbandoned, .limit = 20});
    if (!theirs.ok()) return theirs.error();
    for (const auto& s : *theirs) {
      if (s.id == session || !s.ended_at) continue;
      bool cliff = std::find(s.fault_codes.begin(), s.fault_codes.end(), "BATTERY_CLIFF") != s.fault_codes.end();
      bool recent = *s.ended_at <= event.ts && event.ts - *s.ended_at <= kBatterySwapWindow;
      if (!cliff || !recent || (s.merged_into && *s.merged_into != session)) continue;
      CW_RETURN_IF_ERROR(entities_.MergeSessions(s.id, session));
      if (!s.merged_into) merged_++;
      id.merged_from = s.id;
      break;
    }
    auto account = entities_.GetAccount(*id.account);
    if (!account.ok()) return account.error();
    if (account->kind == store::AccountKind::kRegistered) {
      auto first = vault_.FirstName(*id.account, kService);
      if (first.ok()) id.first_name = *first;
      else if (first.error().code() != Code::kNotFound) return first.error();
    }
  }
  (id.result == IdentifyResult::kMatched ? matched_ : id.result == IdentifyResult::kUnknown ? unknown_ : rejected_)++;
  log::Info("identity.identified", {{"cart", event.cart.str()}, {"session", session.str()}, {"method", method},
                                    {"result", std::string(Name(id.result))}, {"reason", id.reason}});
  Status sent = Answer(event.cart, session, id, event.ts);
  if (!sent.ok()) {
    // The link is recorded; the greeting is a courtesy the cart can live without.
    commands_failed_++;
    log::Warn("identity.answer_failed", {{"cart", event.cart.str()}, {"error", sent.ToString()}});
  }
  return id;
}

Result<Identification> IdentityService::Resolve(std::string_view method, const std::string& credential) {
  Identification id;
  if (method == "loyalty") {
    auto account = entities_.FindByLoyalty(credential);
    if (account.ok()) {
      id.result = IdentifyResult::kMatched;
      id.account = *account;
    } else if (account.error().code() == Code::kNotFound) {
      id.reason = "loyalty number not enrolled";
    } else {
      return account.error();
    }
  } else if (method == "payment_token") {
    CW_ASSIGN_OR_RETURN(auto registered, vault_.AccountForPaymentToken(credential, kService));
    id.result = IdentifyResult::kMatched;
    if (registered) {
      id.account = *registered;
    } else {
      // Not registered: the same card always meets the same anonymous card holder.
      CW_ASSIGN_OR_RETURN(AccountId fresh, AccountId::Parse(random_.UuidV4()));
      CW_ASSIGN_OR_RETURN(id.account, entities_.CardHolderFor(vault_.PaymentTokenIndex(credential), fresh, clock_.Now()));
    }
  } else if (method == "app_qr") {
    auto account = entities_.RedeemAppCode(crypto::Sha256Hex(credential), clock_.Now());
    if (account.ok()) {
      id.result = IdentifyResult::kMatched;
      id.account = *account;
    } else if (account.error().code() == Code::kNotFound) {
      id.reason = "unknown app code";
    } else if (account.error().code() == Code::kDeadlineExceeded || account.error().code() == Code::kFailedPrecondition) {
      id.result = IdentifyResult::kRejected;
      id.reason = account.error().message();
    } else {
      return account.error();
    }
  } else {
    id.result = IdentifyResult::kRejected;
    id.reason = "unknown method";
  }
  return id;
}

Status IdentityService::Answer(const CartId& cart, const SessionId& session, const Identification& id, Time asked_at) {
  // The answer is valid for 5 minutes from when the cart asked, by the cart's clock if that is
  // behind ours: the cart judges validity by its own clock, and an answer must never look
  // issued in its future. (The ingest refuses events from carts whose clocks run ahead.)
  Time issued = std::min(clock_.Now(), asked_at);
  wire::JsonBuilder b;
  wire::WriteCommandHeader({wire::CommandKind::kIdentifyResult, random_.UuidV4(), cart, issued,
                            issued + std::chrono::minutes(5)},
                           b);
  b.Field("session_id", session.str()).Field("result", std::string(Name(id.result)));
  if (id.customer_ref.empty()) b.Null("customer_ref");
  else b.Field("customer_ref", id.customer_ref);
  if (id.first_name.empty()) b.Null("first_name");
  else b.Field("first_name", id.first_name.substr(0, 64));
  if (id.merged_from) {
    CW_ASSIGN_OR_RETURN(auto scans, entities_.ListScans(*id.merged_from));
    auto& w = b.Key("carried_over").writer();
    w.StartObject();
    w.Key("session_id");
    w.String(id.merged_from->str().c_str());
    w.Key("items");
    w.StartArray();
    size_t n = 0;
    for (const auto& s : scans) {
      if (s.carried_from || ++n > 200) continue;
      w.StartObject();
      w.Key("sku"); w.String(s.sku.c_str());
      w.Key("qty"); w.Int(s.qty);
      w.Key("price_cents"); w.Int64(s.price_cents);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  return commands_.Send(cart, b.Finish());
}

Result<AccountId> IdentityService::Register(const NewAccount& a, const Access& access) {
  for (const auto& n : a.loyalty_numbers) {
    if (!AllDigits(n, 16)) return InvalidArgument("loyalty number '" + n + "' is not 16 digits");
  }
  for (const auto& t : a.payment_tokens) {
    if (!AllAlnum(t, 24)) return InvalidArgument("payment token must be 24 of A-Z a-z 0-9");
  }
  CW_ASSIGN_OR_RETURN(auto taken, vault_.AccountForEmail(a.person.email, access));
  if (taken) return AlreadyExists("an account with that e-mail exists: " + taken->str());
  CW_ASSIGN_OR_RETURN(AccountId id, AccountId::Parse(random_.UuidV4()));
  // Tier 2 first: if the vault write fails, a person-less account is harmless (and invisible);
  // the reverse would leave PII with no account.
  CW_RETURN_IF_ERROR(entities_.AddAccount({id, store::AccountKind::kRegistered, clock_.Now(), a.loyalty_numbers}));
  CW_RETURN_IF_ERROR(vault_.AddPerson(id, a.person, access));
  for (const auto& t : a.payment_tokens) CW_RETURN_IF_ERROR(vault_.AddPaymentToken(id, t, access));
  return id;
}

Result<std::string> IdentityService::IssueAppCode(const AccountId& account) {
  CW_ASSIGN_OR_RETURN(auto record, entities_.GetAccount(account));
  if (record.kind != store::AccountKind::kRegistered) return FailedPrecondition("only registered accounts use the app");
  CW_ASSIGN_OR_RETURN(std::string code, SecretToken(24));  // 32 characters of [A-Za-z0-9_-]
  Time now = clock_.Now();
  CW_RETURN_IF_ERROR(entities_.AddAppCode(crypto::Sha256Hex(code), account, now, now + kAppCodeLifetime));
  return code;
}

}  // namespace cw::identity
