#include "device/cart.h"

#include <cstdio>
#include <cmath>

#include "core/files.h"
#include "core/log.h"
#include "core/time_format.h"
#include "wire/json.h"
#include "wire/topic.h"

namespace cw::device {

namespace {
wire::SimulatedDefect DeclaredDefect(const SlotImage& image) {
  if (image.manifest.empty()) return wire::SimulatedDefect::kNone;
  auto m = wire::ParseFirmwareManifest(image.manifest);
  return m.ok() ? m->defect : wire::SimulatedDefect::kNone;
}

constexpr auto kHealthActive = std::chrono::seconds(60);
constexpr auto kHealthIdle = std::chrono::minutes(5);
constexpr auto kHealthOutside = std::chrono::hours(1);  // the parking-lot location ping
const char* kZones[] = {"entrance", "produce", "bakery", "dairy", "frozen", "drinks", "checkout"};
}  // namespace

Result<std::unique_ptr<Cart>> Cart::Boot(Parts parts) {
  ForwardQueue queue;
  BootInfo boot;
  boot.image.version = parts.firmware;
  boot.boot_count = 1;
  std::optional<Bootloader> bootloader;
  std::optional<TrustStore> trust;
  if (!parts.flash_dir.empty()) {
    CW_ASSIGN_OR_RETURN(queue, ForwardQueue::Open(parts.flash_dir + "/queue.log"));
    CW_ASSIGN_OR_RETURN(trust, TrustStore::Open(parts.flash_dir + "/trusted-keys", parts.firmware_keys));
    CW_ASSIGN_OR_RETURN(bootloader, Bootloader::Open(parts.flash_dir + "/boot", parts.firmware));
    CW_ASSIGN_OR_RETURN(boot, bootloader->Boot());
    if (boot.on_trial && DeclaredDefect(boot.image) == wire::SimulatedDefect::kCrashesOnBoot) {
      // The new image resets before it can say anything; the bootloader's next decision is the
      // rollback.
      log::Warn("cart.trial_crashed", {{"cart", parts.id.str()}, {"version", boot.image.version}});
      CW_ASSIGN_OR_RETURN(boot, bootloader->Boot(/*watchdog=*/true));
    }
    parts.firmware = boot.image.version;
  }
  std::string flash_dir = parts.flash_dir;
  FirmwareSource* source = parts.firmware_source;
  std::unique_ptr<Cart> cart(new Cart(std::move(parts), std::move(queue)));
  cart->boot_ = std::move(boot);
  cart->bootloader_ = std::move(bootloader);
  cart->trust_ = std::move(trust);
  CW_RETURN_IF_ERROR(cart->RestoreHeldSession());
  cart->EmitBoot();
  if (cart->boot_.on_trial) cart->RunSelfTest();
  if (cart->bootloader_) {
    Cart* c = cart.get();
    CW_ASSIGN_OR_RETURN(cart->ota_, OtaAgent::Open(OtaAgent::Parts{
                                        flash_dir + "/ota", &*cart->bootloader_, &*cart->trust_, source, &cart->clock_,
                                        [c](const std::string& job, const std::string& version, const std::string& why) {
                                          std::string detail = "ota job " + job + " " + version + ": " + why;
                                          if (detail.size() > 256) detail.resize(256);
                                          c->Fault("OTA_VERIFY_FAIL", "warn", detail).IgnoreError();
                                        }}));
  }
  return cart;
}

Cart::Cart(Parts p, ForwardQueue queue)
    : trusted_cas_(std::move(p.trusted_cas)),
      builder_(p.id, p.firmware, *p.secure_element, *p.seq, *p.clock),
      clock_(*p.clock),
      random_(*p.random),
      catalog_(*p.catalog),
      uplink_(*p.uplink),
      verifier_(p.id, p.cloud_key, *p.clock),
      battery_(p.battery),
      queue_(std::move(queue)),
      flash_dir_(std::move(p.flash_dir)),
      booted_at_(p.clock->Now()),
      last_tick_(booted_at_),
      last_health_(booted_at_ - kHealthIdle) {
  // Carts wait in the corral along the entrance wall, in rows of 25 a cart's width apart, until a
  // shopper takes one.
  uint64_t slot = (p.id.number() + 99) % 100;  // CART-000001 takes the first slot
  x_m_ = 2.0 + static_cast<double>(slot % 25) * 2.3;
  y_m_ = 1.5 + static_cast<double>(slot / 25) * 2.6;
}

Status Cart::Emit(wire::EventType type, const std::function<void(wire::JsonBuilder&)>& fields) {
  if (powered_off_) return FailedPrecondition("the cart is powered off");
  bool live = uplink_.connected() && queue_.empty();
  CW_ASSIGN_OR_RETURN(SignedEvent ev, builder_.Build(type, fields, /*late=*/!live));
  stats_.built[type]++;
  if (live && uplink_.Publish(ev.topic, ev.payload)) {
    stats_.published_live++;
    return Status::Ok();
  }
  // Offline (or the transport refused): keep it in flash. The bytes already say late=true when
  // the cart knew it was offline; a publish refused while "connected" keeps its live marking.
  auto kept = queue_.Push({type, ev.seq, std::move(ev.topic), std::move(ev.payload)});
  if (!kept.ok()) {
    stats_.flash_errors++;
    return kept.error();
  }
  stats_.queued_offline++;
  return Status::Ok();
}

Status Cart::Require(SessionAction action) { return session_.Apply(action); }

Result<std::string> Cart::StartSession() {
  if (maintenance_) return FailedPrecondition("cart is out of service (maintenance)");
  if (powered_off_) return FailedPrecondition("the cart is powered off");
  CW_RETURN_IF_ERROR(Require(SessionAction::kStart));
  staff_hold_ = false;
  asleep_ = false;  // taking the handle wakes the cart
  session_id_ = random_.UuidV4();
  basket_.clear();
  greeting_.clear();
  carried_from_.clear();
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
  // The display acknowledges from the local cache; nothing here waits for the network.
  char line[96];
  std::snprintf(line, sizeof line, "%d x %s %lld.%02lld", qty, item->name.c_str(),
                static_cast<long long>(item->price_cents / 100), static_cast<long long>(item->price_cents % 100));
  display_ = mismatch ? "Please check the item in the basket: " + item->name : line;
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
  if (mismatch) {
    CW_RETURN_IF_ERROR(Fault("WEIGHT_MISMATCH", "warn",
                             "platform " + std::to_string(delta) + " g, expected " + std::to_string(expected) + " g for " + item->sku));
  }
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

Status Cart::TapToPay(EmvModule& reader) {
  CW_ASSIGN_OR_RETURN(std::string token, reader.Tap());
  return Identify("payment_token", token);
}

Status Cart::Pause() {
  CW_RETURN_IF_ERROR(Require(SessionAction::kPause));
  return HoldSession();
}

Status Cart::Resume() {
  // A session staff paused (loss prevention, a dispute) waits for staff, not for the shopper.
  if (staff_hold_) return FailedPrecondition("the session was paused by staff; staff resume it (restart)");
  CW_RETURN_IF_ERROR(Require(SessionAction::kResume));
  asleep_ = false;
  ReleaseHeldSession();
  return Status::Ok();
}

Status Cart::PayAtTerminal(EmvTerminal& terminal) {
  if (session_.state() != SessionState::kActive) {
    return FailedPrecondition("cannot pay while the session is " + std::string(Name(session_.state())));
  }
  auto auth = terminal.Authorise(session_id_, BasketTotal());
  if (!auth.ok()) {
    display_ = "Payment not approved - please try another card";
    CW_RETURN_IF_ERROR(Fault("PAYMENT_FAIL", "warn", auth.error().message()));
    return auth.error();
  }
  return CompletePaid(*auth);
}

void Cart::WriteBasketItems(wire::JsonBuilder& b) const {
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
}

int64_t Cart::BasketTotal() const {
  int64_t total = 0;
  for (const auto& l : basket_) total += l.price_cents * l.qty;
  return total;
}

std::string Cart::HeldSessionPath() const { return flash_dir_ + "/session.json"; }

Status Cart::HoldSession() {
  if (flash_dir_.empty()) return Status::Ok();
  wire::JsonBuilder b;
  b.Field("session_id", session_id_);
  WriteBasketItems(b);
  return WriteFileAtomic(HeldSessionPath(), b.Finish(), 0600);
}

void Cart::ReleaseHeldSession() {
  if (!flash_dir_.empty()) std::remove(HeldSessionPath().c_str());
}

Status Cart::RestoreHeldSession() {
  if (flash_dir_.empty()) return Status::Ok();
  auto text = ReadFile(HeldSessionPath());
  if (!text.ok()) return text.error().code() == Code::kNotFound ? Status::Ok() : text.error();
  rapidjson::Document d;
  auto bad = [&](const std::string& why) { return Corruption(HeldSessionPath() + ": " + why); };
  if (!wire::ParseStrictObject(*text, d).ok()) return bad("not a JSON object");
  auto id = wire::GetString(d, "session_id");
  if (!id || !d.HasMember("items") || !d["items"].IsArray()) return bad("missing session_id or items");
  std::vector<BasketLine> basket;
  for (const auto& line : d["items"].GetArray()) {
    if (!line.IsObject() || !line.HasMember("sku") || !line["sku"].IsString() || !line.HasMember("qty") ||
        !line["qty"].IsInt() || !line.HasMember("price_cents") || !line["price_cents"].IsInt64()) {
      return bad("malformed basket line");
    }
    basket.push_back({line["sku"].GetString(), line["qty"].GetInt(), line["price_cents"].GetInt64()});
  }
  CW_RETURN_IF_ERROR(session_.RestoreHeld());
  session_id_ = std::string(*id);
  basket_ = std::move(basket);
  display_ = "Welcome back - touch to continue shopping";
  return Status::Ok();
}

Status Cart::Sleep() {
  if (session_.state() == SessionState::kActive) {
    return FailedPrecondition("cannot sleep during an active session; pause it first");
  }
  if (asleep_) return Status::Ok();
  asleep_ = true;
  EmitHealth();
  return Status::Ok();
}

void Cart::Wake() {
  asleep_ = false;
  wake_at_.reset();
}

Status Cart::LeaveStore(double lat, double lon) {
  outside_ = GeoPoint{lat, lon};
  char detail[96];
  std::snprintf(detail, sizeof detail, "left the store geofence at %.5f,%.5f", lat, lon);
  CW_RETURN_IF_ERROR(Fault("GEOFENCE_EXIT", "warn", detail));
  last_health_ = clock_.Now();  // the first location ping follows an hour later
  return Status::Ok();
}

void Cart::ReturnToStore() { outside_.reset(); }

Status Cart::EmitSessionEnd(std::string_view status, const std::string* auth_token) {
  int64_t total = BasketTotal();
  int count = 0;
  for (const auto& l : basket_) count += l.qty;
  Status st = Emit(wire::EventType::kSessionEnd, [&](wire::JsonBuilder& b) {
    b.Field("session_id", session_id_).Field("status", status).Field("item_count", count).Field("total_cents", total);
    WriteBasketItems(b);
    auto& w = b.writer();
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
  carried_from_.clear();
  ReleaseHeldSession();
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
  stats_.faults[std::string(code)]++;
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
    if (outside_) {
      w.Key("lat");
      w.Double(std::round(outside_->lat * 1e5) / 1e5);
      w.Key("lon");
      w.Double(std::round(outside_->lon * 1e5) / 1e5);
    } else {
      w.Key("x_m");
      w.Double(std::round(x_m_ * 100) / 100);
      w.Key("y_m");
      w.Double(std::round(y_m_ * 100) / 100);
      w.Key("zone");
      w.String(zone);
    }
    w.EndObject();
    b.Field("uptime_s", static_cast<int64_t>(std::chrono::duration_cast<std::chrono::seconds>(clock_.Now() - booted_at_).count()))
        .Field("buffered", static_cast<int64_t>(queue_.size()));
  });
  if (!st.ok()) log::Warn("cart.health_failed", {{"cart", id().str()}, {"error", st.ToString()}});
  last_health_ = clock_.Now();
}

void Cart::EmitBoot() {
  std::vector<std::string> trusted = trust_ ? trust_->Fingerprints() : std::vector<std::string>{};
  trusted.insert(trusted.end(), trusted_cas_.begin(), trusted_cas_.end());
  if (trusted.size() > 16) trusted.resize(16);  // the schema's bound; the firmware keys come first
  Status st = Emit(wire::EventType::kBoot, [&](wire::JsonBuilder& b) {
    b.Field("slot", Name(boot_.slot)).Field("reason", Name(boot_.reason));
    if (boot_.previous_fw) {
      b.Field("previous_fw", *boot_.previous_fw);
    } else {
      b.Null("previous_fw");
    }
    b.Field("boot_count", boot_.boot_count);
    auto& w = b.Key("trusted_keys").writer();
    w.StartArray();
    for (const auto& fp : trusted) w.String(fp.c_str());
    w.EndArray();
  });
  if (!st.ok()) log::Warn("cart.boot_event_failed", {{"cart", id().str()}, {"error", st.ToString()}});
}

void Cart::RunSelfTest() {
  if (DeclaredDefect(boot_.image) == wire::SimulatedDefect::kFailsSelfTest) {
    log::Warn("cart.self_test_failed", {{"cart", id().str()}, {"version", boot_.image.version}});
    self_test_failed_ = true;  // never marked good: the restart rolls back
    return;
  }
  if (Status st = bootloader_->MarkGood(); !st.ok()) {
    log::Warn("cart.mark_good_failed", {{"cart", id().str()}, {"error", st.ToString()}});
    self_test_failed_ = true;
    return;
  }
  boot_.on_trial = false;
  auto manifest = wire::ParseFirmwareManifest(boot_.image.manifest);
  for (const auto& pem : manifest.ok() ? manifest->adds_keys : std::vector<std::string>{}) {
    auto key = crypto::PublicKey::FromPem(pem);
    Status st = key.ok() ? trust_->Add(*key) : key.error();
    if (!st.ok()) log::Warn("cart.trust_key_not_added", {{"cart", id().str()}, {"error", st.ToString()}});
  }
  log::Info("cart.update_confirmed", {{"cart", id().str()}, {"version", boot_.image.version}});
  EmitHealth();  // the new version's first event after its trial boot: the cloud's proof of success
}

bool Cart::reboot_requested() const {
  if (self_test_failed_) return true;
  return ota_ && ota_->update_ready() && !powered_off_ && session_.state() == SessionState::kIdle;
}

void Cart::Tick() {
  if (powered_off_) return;
  if (ota_) ota_->Poll();
  Time now = clock_.Now();
  if (asleep_ && wake_at_ && now >= *wake_at_) Wake();
  battery_.Draw(asleep_ ? battery_.spec().sleep_a : battery_.spec().active_a, now - last_tick_);
  last_tick_ = now;
  bool in_session = session_.state() == SessionState::kActive || session_.state() == SessionState::kPaused;
  int pct = battery_.percent();
  if (pct <= kBatteryCliffPercent) {
    // The last watts: say why, close the session so the cloud does not wait for it, then power off.
    // The events go out live if the link is up; otherwise they wait in flash for the next boot.
    std::string mv = std::to_string(battery_.millivolts(battery_.spec().active_a));
    Fault("BATTERY_CLIFF", "critical", "battery at " + std::to_string(pct) + "% (" + mv + " mV), powering off").IgnoreError();
    if (in_session) EndUnpaid(SessionAction::kAbandon).IgnoreError();
    display_.clear();
    powered_off_ = true;
    return;
  }
  if (pct <= kBatteryLowPercent && !warned_low_) {
    warned_low_ = true;
    display_ = "Battery low - please finish your shop soon";
    Fault("BATTERY_LOW", "warn", "battery at " + std::to_string(pct) + "%").IgnoreError();
  }
  auto cadence = outside_ ? Duration(kHealthOutside) : in_session ? Duration(kHealthActive) : Duration(kHealthIdle);
  if (now - last_health_ >= cadence) EmitHealth();
}

void Cart::OnConnected() {
  // Replay in order; stop at the first message the transport will not take.
  while (!queue_.empty() && uplink_.connected()) {
    const QueuedMessage& m = queue_.front();
    if (!uplink_.Publish(m.topic, m.payload)) break;
    stats_.replayed++;
    if (Status st = queue_.PopFront(); !st.ok()) {
      // The message went out but flash still lists it: it is sent again after the next boot,
      // which the cloud counts as an identical redelivery, not an error.
      stats_.flash_errors++;
      log::Warn("cart.flash_error", {{"cart", id().str()}, {"error", st.ToString()}});
    }
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
  if (!cmd.ok()) {  // ignored, counted by the verifier, and said once here for whoever debugs it
    log::Warn("cart.command_refused", {{"cart", id().str()}, {"reason", Name(cmd.error())}});
    return;
  }
  stats_.commands_accepted++;
  HandleCommand(*cmd);
}

void Cart::HandleCommand(const wire::ParsedCommand& cmd) {
  using wire::CommandKind;
  switch (cmd.header.kind) {
    case CommandKind::kIdentifyResult:
      if (wire::GetString(cmd.doc, "session_id") == std::optional<std::string_view>(session_id_)) {
        greeting_ = std::string(wire::GetString(cmd.doc, "first_name").value_or(""));
        if (!greeting_.empty()) display_ = "Hello " + greeting_;
        // Battery swap: the basket the customer left on a dead cart joins this session, once.
        auto carried = cmd.doc.FindMember("carried_over");
        if (carried != cmd.doc.MemberEnd() && carried_from_.empty()) {
          carried_from_ = std::string(wire::GetString(carried->value, "session_id").value_or(""));
          for (const auto& line : carried->value["items"].GetArray()) {
            basket_.push_back({std::string(wire::GetString(line, "sku").value_or("")),
                               static_cast<int>(wire::GetInt(line, "qty").value_or(1)),
                               wire::GetInt(line, "price_cents").value_or(0)});
          }
          display_ += (display_.empty() ? "" : " - ") + std::string("your basket from the other cart is here");
        }
      }
      break;
    case CommandKind::kSessionOverride: {
      if (wire::GetString(cmd.doc, "session_id") != std::optional<std::string_view>(session_id_)) break;
      auto action = wire::GetString(cmd.doc, "action").value_or("");
      if (action == "pause") {
        if (session_.state() == SessionState::kActive) Pause().IgnoreError();
        staff_hold_ = session_.state() == SessionState::kPaused;
      } else if (action == "cancel") {
        staff_hold_ = false;
        EndUnpaid(SessionAction::kVoid).IgnoreError();
      } else if (action == "restart") {
        staff_hold_ = false;
        if (session_.state() == SessionState::kPaused) Resume().IgnoreError();
        basket_.clear();
      }
      // Confirm at once: the cloud sees the new state without waiting for the next health.
      EmitHealth();
      break;
    }
    case CommandKind::kMaintenance:
      maintenance_ = wire::GetBool(cmd.doc, "enabled").value_or(false);
      break;
    case CommandKind::kSleep: {
      // Refused during an active session: the shopper comes first.
      if (!Sleep().ok()) break;
      auto until = wire::GetString(cmd.doc, "until");
      auto when = until ? ParseWireTime(*until) : Result<Time>(NotFound("no until"));
      wake_at_ = when.ok() ? std::optional<Time>(*when) : std::nullopt;
      break;
    }
    case CommandKind::kWake:
      Wake();
      break;
    case CommandKind::kLocate: {
      // Beep and flash for duration_s, and report where the cart is now rather than at the next
      // scheduled health.
      locating_until_ = clock_.Now() + std::chrono::seconds(wire::GetInt(cmd.doc, "duration_s").value_or(30));
      Wake();
      EmitHealth();
      break;
    }
    case CommandKind::kOtaJob:
      if (!ota_) {
        Fault("OTA_VERIFY_FAIL", "warn", "this cart has no flash slots for an update").IgnoreError();
        break;
      }
      ota_->Accept(cmd, firmware()).IgnoreError();  // a refusal is reported as a fault by the agent
      break;
  }
}

}  // namespace cw::device
