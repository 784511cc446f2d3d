#include "device/cart.h"

#include <cmath>

#include "core/log.h"
#include "wire/topic.h"

namespace cw::device {

namespace {
constexpr auto kHealthActive = std::chrono::seconds(60);
constexpr auto kHealthIdle = std::chrono::minutes(5);
const char* kZones[] = {"entrance", "produce", "bakery", "dairy", "frozen", "drinks", "checkout"};
}  // namespace

Cart::Cart(Parts p)
    : builder_(p.id, p.firmware, *p.secure_element, *p.seq, *p.clock),
      clock_(*p.clock),
      random_(*p.random),
      catalog_(*p.catalog),
      uplink_(*p.uplink),
      verifier_(p.id, p.cloud_key, *p.clock),
      battery_(p.battery),
      booted_at_(p.clock->Now()),
      last_tick_(booted_at_),
      last_health_(booted_at_ - kHealthIdle) {}

Status Cart::Emit(wire::EventType type, const std::function<void(wire::JsonBuilder&)>& fields) {
  bool live = uplink_.connected() && queue_.empty();
  CW_ASSIGN_OR_RETURN(SignedEvent ev, builder_.Build(type, fields, /*late=*/!live));
  stats_.built[type]++;
  if (live && uplink_.Publish(ev.topic, ev.payload)) {
    stats_.published_live++;
    return Status::Ok();
  }
  // Offline (or the transport refused): keep it in flash. The bytes already say late=true when
  // the cart knew it was offline; a publish refused while "connected" keeps its live marking.
  stats_.queued_offline++;
  queue_.Push({type, ev.seq, std::move(ev.topic), std::move(ev.payload)});
  return Status::Ok();
}

Status Cart::Require(SessionAction action) { return session_.Apply(action); }

Result<std::string> Cart::StartSession() {
  if (maintenance_) return FailedPrecondition("cart is out of service (maintenance)");
  CW_RETURN_IF_ERROR(Require(SessionAction::kStart));
  session_id_ = random_.UuidV4();
  basket_.clear();
  greeting_.clear();
  CW_RETURN_IF_ERROR(Emit(wire::EventType::kSessionStart, [&](wire::JsonBuilder& b) { b.Field("session_id", session_id_); }));
  return session_id_;
}

Result<Cart::ScanResult> Cart::Scan(std::string_view sku, int qty, std::optional<int> weight_delta_g) {
  if (session_.state() != SessionState::kActive) {
    return FailedPrecondition("cannot scan while the session is " + std::string(Name(session_.state())));
  }
  if (qty < 1 || qty > 99) return InvalidArgument("qty must be 1-99");
  const CatalogItem* item = catalog_.Find(sku);
  if (!item) return NotFound("SKU " + std::string(sku) + " is not in the cart's price cache");
  int expected = item->expected_weight_g ? *item->expected_weight_g * qty : 0;
  int delta = weight_delta_g ? *weight_delta_g : expected + static_cast<int>(random_.Range(-20, 20));
  delta = std::clamp(delta, -30000, 30000);
  bool mismatch = item->expected_weight_g &&
                  std::abs(delta - expected) > std::max(20.0, 0.05 * static_cast<double>(expected));
  basket_.push_back({item->sku, qty, item->price_cents});
  CW_RETURN_IF_ERROR(Emit(wire::EventType::kScan, [&](wire::JsonBuilder& b) {
    b.Field("session_id", session_id_)
        .Field("sku", item->sku)
        .Field("symbology", item->sku.size() == 13 ? "ean13" : item->sku.size() == 12 ? "upca" : "code128")
        .Field("qty", qty)
        .Field("price_cents", item->price_cents)
        .Field("weight_delta_g", delta);
    if (item->expected_weight_g) {
      b.Field("expected_weight_g", *item->expected_weight_g * qty);
    } else {
      b.Null("expected_weight_g");
    }
  }));
  return ScanResult{item, delta, mismatch};
}

Status Cart::Identify(std::string_view method, std::string_view credential) {
  if (session_.state() != SessionState::kActive && session_.state() != SessionState::kPaused) {
    return FailedPrecondition("identify needs a session in progress");
  }
  return Emit(wire::EventType::kIdentify, [&](wire::JsonBuilder& b) {
    b.Field("session_id", session_id_).Field("method", method).Field("credential", credential);
  });
}

Status Cart::Pause() { return Require(SessionAction::kPause); }
Status Cart::Resume() { return Require(SessionAction::kResume); }

Status Cart::EmitSessionEnd(std::string_view status, const std::string* auth_token) {
  int64_t total = 0;
  int count = 0;
  for (const auto& l : basket_) {
    total += l.price_cents * l.qty;
    count += l.qty;
  }
  Status st = Emit(wire::EventType::kSessionEnd, [&](wire::JsonBuilder& b) {
    b.Field("session_id", session_id_).Field("status", status).Field("item_count", count).Field("total_cents", total);
    auto& w = b.Key("items").writer();
    w.StartArray();
    for (const auto& l : basket_) {
      w.StartObject();
      w.Key("sku");
      w.String(l.sku.c_str());
      w.Key("qty");
      w.Int(l.qty);
      w.Key("price_cents");
      w.Int64(l.price_cents);
      w.EndObject();
    }
    w.EndArray();
    if (auth_token) {
      b.Key("payment");
      w.StartObject();
      w.Key("auth_token");
      w.String(auth_token->c_str());
      w.Key("amount_cents");
      w.Int64(total);
      w.EndObject();
    }
  });
  greeting_.clear();  // the customer reference is dropped at session end
  return st;
}

Status Cart::CompletePaid(const std::string& auth_token) {
  CW_RETURN_IF_ERROR(Require(SessionAction::kComplete));
  return EmitSessionEnd("complete", &auth_token);
}

Status Cart::EndUnpaid(SessionAction how) {
  if (how != SessionAction::kAbandon && how != SessionAction::kVoid) {
    return InvalidArgument("an unpaid session ends as abandoned or voided");
  }
  CW_RETURN_IF_ERROR(Require(how));
  return EmitSessionEnd(how == SessionAction::kAbandon ? "abandoned" : "voided", nullptr);
}

Status Cart::Fault(std::string_view code, std::string_view severity, std::string_view detail) {
  return Emit(wire::EventType::kFault, [&](wire::JsonBuilder& b) {
    b.Field("code", code).Field("severity", severity).Field("detail", detail);
    if (!session_id_.empty() && !session_.terminal() && session_.state() != SessionState::kIdle) {
      b.Field("session_id", session_id_);
    }
  });
}

Status Cart::Reset() {
  CW_RETURN_IF_ERROR(Require(SessionAction::kReset));
  session_id_.clear();
  basket_.clear();
  return Status::Ok();
}

void Cart::EmitHealth() {
  bool in_session = session_.state() == SessionState::kActive || session_.state() == SessionState::kPaused;
  double amps = asleep_ ? battery_.spec().sleep_a : battery_.spec().active_a;
  // A shopper wanders; an idle cart stays put.
  if (in_session) {
    x_m_ = std::clamp(x_m_ + random_.Range(-300, 300) / 100.0, 0.0, 60.0);
    y_m_ = std::clamp(y_m_ + random_.Range(-300, 300) / 100.0, 0.0, 40.0);
  }
  const char* zone = kZones[static_cast<size_t>(x_m_ / 60.0 * 6.99)];
  std::string state = asleep_ ? "sleep" : std::string(session_.state() == SessionState::kPaused ? "paused"
                                                      : session_.state() == SessionState::kActive ? "active"
                                                                                                  : "idle");
  Status st = Emit(wire::EventType::kHealth, [&](wire::JsonBuilder& b) {
    b.Field("state", state)
        .Field("battery_pct", battery_.percent())
        .Field("battery_mv", battery_.millivolts(amps))
        .Field("charging", false)
        .Field("link", uplink_.link())
        .Field("rssi_dbm", static_cast<int64_t>(uplink_.link() == "wifi" ? random_.Range(-75, -45) : random_.Range(-110, -85)))
        .Field("scanner_temp_c", 30.0 + random_.Range(-20, 20) / 10.0)
        .Field("weight_drift_g", random_.Range(-15, 15) / 10.0);
    auto& w = b.Key("location").writer();
    w.StartObject();
    w.Key("x_m");
    w.Double(std::round(x_m_ * 100) / 100);
    w.Key("y_m");
    w.Double(std::round(y_m_ * 100) / 100);
    w.Key("zone");
    w.String(zone);
    w.EndObject();
    b.Field("uptime_s", static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(clock_.Now() - booted_at_).count()))
        .Field("buffered", static_cast<int64_t>(queue_.size()));
  });
  if (!st.ok()) log::Warn("cart.health_failed", {{"cart", id().str()}, {"error", st.ToString()}});
  last_health_ = clock_.Now();
}

void Cart::Tick() {
  Time now = clock_.Now();
  battery_.Draw(asleep_ ? battery_.spec().sleep_a : battery_.spec().active_a, now - last_tick_);
  last_tick_ = now;
  bool in_session = session_.state() == SessionState::kActive || session_.state() == SessionState::kPaused;
  auto cadence = in_session ? Duration(kHealthActive) : Duration(kHealthIdle);
  if (now - last_health_ >= cadence) EmitHealth();
}

void Cart::OnConnected() {
  // Replay in order; stop at the first message the transport will not take.
  while (!queue_.empty() && uplink_.connected()) {
    const QueuedMessage& m = queue_.front();
    if (!uplink_.Publish(m.topic, m.payload)) break;
    stats_.replayed++;
    queue_.PopFront();
  }
}

void Cart::OnMessage(const std::string& topic, const std::string& payload) {
  if (topic == wire::ErrorsTopic(id())) {
    auto notice = verifier_.AcceptRejectNotice(payload);
    if (notice.ok()) {
      stats_.rejects_received++;
      log::Warn("cart.rejected", {{"cart", id().str()}, {"reason", wire::Name(notice->reason)}, {"detail", notice->detail}});
    }
    return;
  }
  if (topic != wire::CommandsTopic(id())) return;
  auto cmd = verifier_.Accept(payload);
  if (!cmd.ok()) return;  // ignored and counted by the verifier
  stats_.commands_accepted++;
  HandleCommand(*cmd);
}

void Cart::HandleCommand(const wire::ParsedCommand& cmd) {
  using wire::CommandKind;
  switch (cmd.header.kind) {
    case CommandKind::kIdentifyResult:
      if (wire::GetString(cmd.doc, "session_id") == std::optional<std::string_view>(session_id_)) {
        greeting_ = std::string(wire::GetString(cmd.doc, "first_name").value_or(""));
      }
      break;
    case CommandKind::kSessionOverride: {
      if (wire::GetString(cmd.doc, "session_id") != std::optional<std::string_view>(session_id_)) break;
      auto action = wire::GetString(cmd.doc, "action").value_or("");
      if (action == "pause") {
        Pause().IgnoreError();
      } else if (action == "cancel") {
        EndUnpaid(SessionAction::kVoid).IgnoreError();
      } else if (action == "restart") {
        if (session_.state() == SessionState::kPaused) Resume().IgnoreError();
        basket_.clear();
      }
      break;
    }
    case CommandKind::kMaintenance:
      maintenance_ = wire::GetBool(cmd.doc, "enabled").value_or(false);
      break;
    case CommandKind::kSleep:
      if (session_.state() == SessionState::kIdle) asleep_ = true;
      break;
    case CommandKind::kWake:
      asleep_ = false;
      break;
    case CommandKind::kLocate:
    case CommandKind::kOtaJob:  // OTA arrives with the OTA module
      break;
  }
}

}  // namespace cw::device
