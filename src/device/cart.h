// device/cart.h — the smart cart as its firmware behaves (the v2 reference model).
//
// One Cart is one device: its secure element, flash counter, session state machine, price cache,
// battery and store-and-forward queue. It talks to the world through an Uplink (the MQTT session)
// and is driven by its shopper (StartSession, Scan, Identify, Pay…), by time (Tick) and by the
// cloud (OnMessage). Single-threaded: the fleet's event loop owns it. No cloud code is linked.
//
// Flash (Parts::flash_dir) holds what must outlive a power cycle besides the seq counter: the
// store-and-forward journal (queue.log) and a paused session with its basket (session.json), so
// a cart that sleeps or loses power mid-shop boots back into the same session (PRD golden path 4).
// The shopper's identity is never written to flash.
//
// Flash also holds the firmware: the bootloader's two slots and record (boot/), the trust store of
// firmware-signing keys (trusted-keys/) and the OTA agent's download (ota/). Every boot sends a
// `boot` event saying which slot started and why. A trial boot of a new image runs its self-test
// before anything else and publishes nothing but its boot event until it has marked itself good —
// so an event from the new version after its ota_trial boot is the cloud's proof of success. An
// image that fails its self-test makes the cart reboot at once, into a rollback.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/random.h"
#include "crypto/key_store.h"
#include "device/battery.h"
#include "device/bootloader.h"
#include "device/catalog.h"
#include "device/cloud_messages.h"
#include "device/event_builder.h"
#include "device/forward_queue.h"
#include "device/ota_agent.h"
#include "device/payment.h"
#include "device/seq_counter.h"
#include "device/session.h"
#include "device/trust_store.h"

namespace cw::device {

// The cart's MQTT session as the firmware sees it.
class Uplink {
 public:
  virtual ~Uplink() = default;
  // True while the session with the broker is up.
  virtual bool connected() const = 0;
  // Hands a QoS-1 publish to the transport. False if it could not (the cart then keeps the
  // message in its forward queue and replays it later).
  virtual bool Publish(const std::string& topic, const std::string& payload) = 0;
  // "wifi" or "lte-m": the link the session currently runs over.
  virtual std::string_view link() const { return "wifi"; }
};

struct BasketLine {
  std::string sku;
  int qty = 0;
  int64_t price_cents = 0;
};

struct CartStats {
  std::map<wire::EventType, uint64_t> built;  // events created, by type
  uint64_t published_live = 0;                // handed to the uplink as they happened
  uint64_t queued_offline = 0;                // went to the forward queue
  uint64_t replayed = 0;                      // sent from the forward queue after reconnecting
  uint64_t rejects_received = 0;              // verified reject notices from the cloud
  uint64_t commands_accepted = 0;
  uint64_t flash_errors = 0;                  // events lost because the flash write failed
  std::map<std::string, uint64_t> faults;     // fault events raised, by code
};

class Cart {
 public:
  struct Parts {
    CartId id;
    std::string firmware = "2.0.0";
    crypto::KeyStore* secure_element;
    SeqCounter* seq;
    Clock* clock;
    Random* random;
    const Catalog* catalog;
    Uplink* uplink;
    crypto::PublicKey cloud_key;
    Battery battery{};
    // Empty: nothing but the seq counter survives a power cycle, and the cart cannot take OTA
    // updates (it has no slots).
    std::string flash_dir;
    // The firmware-signing keys provisioning gave the cart: its trust store at first boot.
    std::vector<crypto::PublicKey> firmware_keys = {};
    FirmwareSource* firmware_source = nullptr;  // nullptr: OTA jobs fail
    // Fingerprints of the CA certificates the cart trusts (reported in boot.trusted_keys).
    std::vector<std::string> trusted_cas = {};
  };
  // Powers the cart up: the bootloader picks a slot (the factory image is `firmware`), then the
  // forward queue and any held session come back from flash, the boot event goes out, and a trial
  // image runs its self-test. Afterwards reboot_requested() may already be true (it failed).
  static Result<std::unique_ptr<Cart>> Boot(Parts parts);

  // ---- the shopper ----
  // Takes the cart: IDLE → ACTIVE, emits session-start. Returns the new session id.
  Result<std::string> StartSession();
  struct ScanResult {
    const CatalogItem* item;
    int weight_delta_g;
    bool weight_mismatch;  // platform delta differs from expected by > max(20 g, 5%)
  };
  // Scans `sku` (must be in the price cache): the display shows name and price from the local
  // cache before anything is sent. `weight_delta_g` overrides the platform reading (mismatch
  // injection); by default it is expected weight × qty ± 20 g noise. A mismatch also raises a
  // WEIGHT_MISMATCH fault and asks the shopper on the display to check the item.
  Result<ScanResult> Scan(std::string_view sku, int qty = 1, std::optional<int> weight_delta_g = std::nullopt);
  // loyalty | payment_token | app_qr. The credential goes to the cloud once and is not kept.
  Status Identify(std::string_view method, std::string_view credential);
  // Tap-to-pay on the cart's reader: identifies the shopper by the module's payment token.
  Status TapToPay(EmvModule& reader);
  // ACTIVE → PAUSED; the session and its basket are held in flash until resumed or ended.
  Status Pause();
  Status Resume();
  // Pays at the store's EMV terminal: authorises the basket total and, on approval, ends the
  // session complete with the auth token. A decline raises PAYMENT_FAIL and leaves the session
  // ACTIVE so the shopper can try another card.
  Status PayAtTerminal(EmvTerminal& terminal);
  // Payment handed to the store's EMV terminal, which returned `auth_token`: session-end complete.
  Status CompletePaid(const std::string& auth_token);
  // session-end abandoned or voided.
  Status EndUnpaid(SessionAction how);
  // Emits a fault (code and severity from the wire contract).
  Status Fault(std::string_view code, std::string_view severity, std::string_view detail);
  // Ready for the next shopper after a finished session.
  Status Reset();

  // ---- power and place ----
  // Low-power sleep (the `sleep` command, or an unattended paused cart). Allowed when IDLE or
  // PAUSED — a paused session stays held in flash; refused while ACTIVE. Sends a last health with
  // state `sleep`.
  Status Sleep();
  // Back to full power (the `wake` command, or the shopper touching the cart). A held session
  // stays PAUSED until Resume.
  void Wake();
  // The cart was pushed out of the store's geofence (to `lat`, `lon`): GEOFENCE_EXIT fault, and
  // from then on an hourly location ping (health with {lat, lon}) until ReturnToStore.
  Status LeaveStore(double lat, double lon);
  void ReturnToStore();

  // ---- time ----
  // Drains the battery for the time since the last tick and emits health when it is due
  // (every 60 s in a session, every 5 min otherwise, hourly outside the store). On the battery
  // thresholds: at 10% a BATTERY_LOW warning on the display and to the cloud; at 2% (the last
  // watts) a BATTERY_CLIFF fault, any session abandoned, and the cart powers off.
  void Tick();
  static constexpr int kBatteryLowPercent = 10;
  static constexpr int kBatteryCliffPercent = 2;

  // ---- the cloud ----
  // The session came (back) up: replay the forward queue in order, before any live traffic.
  void OnConnected();
  // A message on carts/{id}/commands or devices/errors/{id}.
  void OnMessage(const std::string& topic, const std::string& payload);

  // ---- firmware ----
  // The cart wants to restart: an update is installed and no shopper is using the cart, or a trial
  // image failed its self-test. Its owner then powers it down and Boot()s it from flash again.
  bool reboot_requested() const;
  const std::string& firmware() const { return boot_.image.version; }
  const BootInfo& boot_info() const { return boot_; }
  const OtaAgent* ota() const { return ota_.get(); }
  const TrustStore* trust_store() const { return trust_ ? &*trust_ : nullptr; }

  // ---- inspection ----
  const CartId& id() const { return builder_.cart(); }
  SessionState session_state() const { return session_.state(); }
  const std::string& session_id() const { return session_id_; }
  const std::vector<BasketLine>& basket() const { return basket_; }
  const ForwardQueue& forward_queue() const { return queue_; }
  const Battery& battery() const { return battery_; }
  const CartStats& stats() const { return stats_; }
  const CommandVerifier& verifier() const { return verifier_; }
  const std::string& greeting() const { return greeting_; }
  bool in_maintenance() const { return maintenance_; }
  bool asleep() const { return asleep_; }
  bool powered_off() const { return powered_off_; }
  bool outside_store() const { return outside_.has_value(); }
  // Beeping and flashing after a `locate` command.
  bool locating() const { return clock_.Now() < locating_until_; }
  // What the cart's screen shows now.
  const std::string& display() const { return display_; }

 private:
  Cart(Parts parts, ForwardQueue queue);
  // "items": [{sku, qty, price_cents}…] — the basket as session-end and the held session write it.
  void WriteBasketItems(wire::JsonBuilder& b) const;
  int64_t BasketTotal() const;
  std::string HeldSessionPath() const;
  // Writes the paused session and its basket to flash (atomically), or removes it.
  Status HoldSession();
  void ReleaseHeldSession();
  Status RestoreHeldSession();
  // Builds, signs and sends one event — live when connected and nothing is waiting, otherwise
  // into the forward queue with late=true.
  Status Emit(wire::EventType type, const std::function<void(wire::JsonBuilder&)>& fields);
  void EmitHealth();
  // session-end with the basket; `auth_token` only for a paid (complete) session.
  Status EmitSessionEnd(std::string_view status, const std::string* auth_token);
  void HandleCommand(const wire::ParsedCommand& cmd);
  void EmitBoot();
  // A trial image checks itself: good, it confirms its slot (and trusts the keys it adds); bad,
  // the cart must restart into the previous slot.
  void RunSelfTest();
  Status Require(SessionAction action);

  BootInfo boot_;
  std::optional<Bootloader> bootloader_;  // nullopt without flash
  std::optional<TrustStore> trust_;
  std::vector<std::string> trusted_cas_;
  std::unique_ptr<OtaAgent> ota_;
  bool self_test_failed_ = false;
  EventBuilder builder_;
  Clock& clock_;
  Random& random_;
  const Catalog& catalog_;
  Uplink& uplink_;
  CommandVerifier verifier_;
  Battery battery_;
  SessionMachine session_;
  ForwardQueue queue_;
  CartStats stats_;
  std::string session_id_;
  std::vector<BasketLine> basket_;
  std::string greeting_;  // first name from identify-result, cleared at session end
  std::string carried_from_;  // the session whose basket a battery swap carried over ("" if none)
  std::string display_;
  std::string flash_dir_;
  bool maintenance_ = false;
  bool staff_hold_ = false;  // paused by a staff override: only another override resumes it
  bool asleep_ = false;
  bool powered_off_ = false;
  bool warned_low_ = false;
  struct GeoPoint {
    double lat, lon;
  };
  std::optional<GeoPoint> outside_;
  Time locating_until_{};
  std::optional<Time> wake_at_;  // from a sleep command's `until`
  Time booted_at_;
  Time last_tick_;
  Time last_health_;
  double x_m_, y_m_;  // in the store, metres from the entrance corner (60 × 40 m)
};

}  // namespace cw::device
