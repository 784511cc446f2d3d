#include "retail/projector.h"

#include <map>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdlib>

#include "core/log.h"
#include "wire/json.h"

namespace cw::retail {
namespace {

using wire::GetBool;
using wire::GetInt;
using wire::GetString;

std::string Str(const rapidjson::Value& doc, std::string_view key) {
  return std::string(GetString(doc, key).value_or(""));
}
int Int(const rapidjson::Value& doc, std::string_view key) { return static_cast<int>(GetInt(doc, key).value_or(0)); }

std::string Compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

// Schema-validated events carry a well-formed session id; a failure here is a bug upstream.
Result<SessionId> SessionOf(const rapidjson::Value& doc) { return SessionId::Parse(Str(doc, "session_id")); }

}  // namespace

bool WeightMismatch(int weight_delta_g, std::optional<int> expected_per_unit_g, int qty) {
  if (!expected_per_unit_g) return false;
  int64_t expected = static_cast<int64_t>(*expected_per_unit_g) * qty;
  int64_t tolerance = std::max<int64_t>(20, expected * 5 / 100);
  return std::llabs(weight_delta_g - expected) > tolerance;
}

std::vector<wire::EventType> Projector::Types() {
  using wire::EventType;
  return {EventType::kHealth, EventType::kSessionStart, EventType::kScan, EventType::kSessionEnd, EventType::kFault};
}

Status Projector::OnBatch(std::span<const ingest::RoutedEvent> events) {
  // One activity row write per cart per batch, not per event: the ingest path pays for every
  // statement.
  std::map<CartId, store::CartActivity> activity;
  for (const auto& e : events) {
    auto [it, fresh] = activity.try_emplace(e.event->cart, store::CartActivity{.cart = e.event->cart});
    store::CartActivity& a = it->second;
    a.last_seen_at = std::max(a.last_seen_at, e.event->received_at);
    // A live event tells how far the cart's clock is from ours (a replayed one only how old it is).
    if (!e.event->late && (!a.clock_offset_at || e.event->received_at > *a.clock_offset_at)) {
      a.clock_offset = e.event->ts - e.event->received_at;
      a.clock_offset_at = e.event->received_at;
    }
    if (e.event->type == wire::EventType::kFault && (!a.fault_at || e.event->ts > *a.fault_at)) {
      a.fault_at = e.event->ts;
      a.fault_code = Str(*e.doc, "code");
      a.fault_severity = Str(*e.doc, "severity");
    }
  }
  std::vector<store::ProjectedFact> facts;
  std::vector<const ingest::RoutedEvent*> source;  // the event each fact came from (null: activity)
  facts.reserve(activity.size() + events.size());
  for (auto& [cart, a] : activity) {
    facts.emplace_back(std::move(a));
    source.push_back(nullptr);
  }
  uint64_t skipped = 0;
  auto skip = [&](const ingest::RoutedEvent& e, const Status& why) {
    ++skipped;
    log::Warn("projector.skipped",
              {{"cart", e.event->cart.str()}, {"seq", std::to_string(e.event->seq)}, {"error", why.ToString()}});
  };
  for (const auto& e : events) {
    auto fact = FactOf(*e.event, *e.doc);
    if (!fact.ok()) {
      if (!ingest::EventIsAtFault(fact.error())) return fact.error();
      skip(e, fact.error());
    } else if (*fact) {
      facts.push_back(std::move(**fact));
      source.push_back(&e);
    }
  }
  CW_ASSIGN_OR_RETURN(std::vector<Status> verdicts, entities_.RecordFacts(facts));
  uint64_t applied = events.size() - skipped;
  for (size_t i = 0; i < verdicts.size(); ++i) {
    // An unregistered cart's activity is refused with its events, which say so.
    if (verdicts[i].ok() || !source[i]) continue;
    --applied;
    skip(*source[i], verdicts[i]);
  }
  applied_ += applied;
  skipped_ += skipped;
  return Status::Ok();
}

Status Projector::Apply(const store::TelemetryEvent& e, const rapidjson::Value& doc) {
  CW_ASSIGN_OR_RETURN(std::optional<store::ProjectedFact> fact, FactOf(e, doc));
  if (!fact) return Status::Ok();
  CW_ASSIGN_OR_RETURN(std::vector<Status> verdicts, entities_.RecordFacts(std::span(&*fact, 1)));
  return verdicts[0];
}

Result<std::optional<store::ProjectedFact>> Projector::FactOf(const store::TelemetryEvent& e,
                                                             const rapidjson::Value& doc) {
  using wire::EventType;
  switch (e.type) {
    case EventType::kHealth: {
      store::CartState s{.cart = e.cart};
      s.seq = e.seq;
      s.reported_at = e.ts;
      s.state = Str(doc, "state");
      s.battery_pct = Int(doc, "battery_pct");
      s.battery_mv = Int(doc, "battery_mv");
      s.charging = GetBool(doc, "charging").value_or(false);
      s.link = Str(doc, "link");
      s.rssi_dbm = Int(doc, "rssi_dbm");
      auto location = doc.FindMember("location");
      s.location_json = location != doc.MemberEnd() ? Compact(location->value) : "{}";
      s.firmware = Str(doc, "fw");
      return std::optional<store::ProjectedFact>(std::move(s));
    }
    case EventType::kSessionStart: {
      CW_ASSIGN_OR_RETURN(SessionId session, SessionOf(doc));
      return std::optional<store::ProjectedFact>(store::SessionStartFact{session, e.cart, e.store, e.seq, e.ts});
    }
    case EventType::kScan: {
      CW_ASSIGN_OR_RETURN(SessionId session, SessionOf(doc));
      store::ScanFact f{.session = session, .cart = e.cart, .store = e.store};
      f.seq = e.seq;
      f.ts = e.ts;
      f.sku = Str(doc, "sku");
      f.qty = Int(doc, "qty");
      f.price_cents = GetInt(doc, "price_cents").value_or(0);
      f.weight_delta_g = Int(doc, "weight_delta_g");
      // The store's catalog is the reference; the cart's cached weight stands in for an item the
      // catalog does not know (yet).
      auto item = entities_.GetItem(e.store, f.sku);
      if (item.ok()) {
        f.expected_weight_g = item->expected_weight_g;
      } else if (item.error().code() == Code::kNotFound) {
        if (auto w = GetInt(doc, "expected_weight_g")) f.expected_weight_g = static_cast<int>(*w);
      } else {
        return item.error();
      }
      f.weight_mismatch = WeightMismatch(f.weight_delta_g, f.expected_weight_g, f.qty);
      return std::optional<store::ProjectedFact>(std::move(f));
    }
    case EventType::kSessionEnd: {
      CW_ASSIGN_OR_RETURN(SessionId session, SessionOf(doc));
      store::SessionEndFact f{.session = session, .cart = e.cart, .store = e.store};
      f.seq = e.seq;
      f.ts = e.ts;
      auto status = store::ParseSessionStatus(Str(doc, "status"));
      if (!status) return InvalidArgument("session-end status " + Str(doc, "status"));
      f.status = *status;
      f.item_count = Int(doc, "item_count");
      f.total_cents = GetInt(doc, "total_cents").value_or(0);
      auto items = doc.FindMember("items");
      if (items != doc.MemberEnd() && items->value.IsArray()) {
        for (const auto& line : items->value.GetArray()) {
          f.items.push_back({Str(line, "sku"), Int(line, "qty"), GetInt(line, "price_cents").value_or(0)});
        }
      }
      auto payment = doc.FindMember("payment");
      if (payment != doc.MemberEnd() && payment->value.IsObject()) {
        f.payment = store::PaymentRecord{Str(payment->value, "auth_token"),
                                         GetInt(payment->value, "amount_cents").value_or(0), "authorized", e.ts};
      }
      return std::optional<store::ProjectedFact>(std::move(f));
    }
    case EventType::kFault: {
      if (!GetString(doc, "session_id")) return std::optional<store::ProjectedFact>();  // a cart fault, not a session's
      CW_ASSIGN_OR_RETURN(SessionId session, SessionOf(doc));
      return std::optional<store::ProjectedFact>(store::SessionFaultFact{session, e.cart, e.store, e.seq, e.ts, Str(doc, "code")});
    }
    default:
      return std::optional<store::ProjectedFact>();
  }
}

}  // namespace cw::retail
