// store/entity_store.h — entity state: the relational, transactional store (DESIGN.md §3).
//
// The model, with DESIGN.md §3's cardinalities:
//   Store 1→N Cart · Cart 1→N Session · Account 1→N Session · Session 0..1→Account (guest sessions
//   are first-class) · Session 1→N Scan · Scan N→1 Item (the store's catalog, synced from its POS;
//   never edited here) · Session 0..1→Payment (an auth token, never card data).
// Accounts here are Tier 2: a random customer UUID, loyalty numbers, session history. Names,
// e-mails, phones and payment tokens of a person are Tier 3 and live only in the PII vault.
//
// The interface is split by who uses it, so a module depends on the slice it needs:
//   DeviceRegistry (provisioning, the ingest's cart directory, fleet views), Catalog (catalog sync,
//   weight checks), SessionLedger (the event projection; its writes are idempotent facts),
//   AccountDirectory (the identity service), UserDirectory and the audit log (the API), FleetHealthLog
//   (the fleet monitor), RolloutLedger (OTA rollouts).
// EntityStore is all of them over one database; backends are chosen by URI (sqlite:PATH,
// postgresql://…) and pass one conformance suite.
//
// Contract for every method of every backend:
//  - Thread-safe: may be called from any thread concurrently.
//  - Not-found is reported as Code::kNotFound, never as an empty record.
//  - Add* calls are not idempotent: a second Add of the same key is kAlreadyExists and changes
//    nothing. Record* calls (facts from events) are idempotent: the same fact twice, or facts in
//    any order, leave the same state. Updates of a missing key are kNotFound.
//  - Returned records are copies owned by the caller.
//  - Backend trouble (disk, connection) is kUnavailable (retryable) or kInternal/kCorruption.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/status.h"

namespace cw::store {

enum class Region { kUs, kEu };
std::string_view Name(Region r);
std::optional<Region> ParseRegion(std::string_view s);

// A circle around the store's entrance; a cart leaving it raises GEOFENCE_EXIT.
struct Geofence {
  double lat = 0, lon = 0;
  double radius_m = 150;
  bool operator==(const Geofence&) const = default;
};

struct StoreRecord {
  StoreId id;
  std::string name;
  std::string partner;   // the supermarket chain (the platform's tenant)
  Region region = Region::kUs;
  std::string timezone;  // IANA, e.g. Europe/Berlin
  Time created_at;
  std::optional<Geofence> geofence;
  std::string ssid;           // the in-store Wi-Fi carts join
  std::string opening_hours;  // OpenStreetMap syntax, e.g. "Mo-Sa 07:00-22:00; Su 09:00-18:00"
};

enum class CartStatus { kActive, kRevoked, kRetired };
std::string_view Name(CartStatus s);
std::optional<CartStatus> ParseCartStatus(std::string_view s);

struct CartRecord {
  CartId id;
  StoreId store;
  std::string serial;            // factory serial (certificate serialNumber attribute)
  std::string cert_fingerprint;  // SHA-256 of the DER certificate, lowercase hex
  std::string public_key_pem;    // the cart's signing key (also in the certificate)
  std::string certificate_pem;
  CartStatus status = CartStatus::kActive;
  Time registered_at;
};

// A cart's last-known state, kept current from its health and boot events (newest seq wins, so
// a late event from the store-and-forward buffer never overwrites a fresher one).
struct CartState {
  CartId cart;
  uint64_t seq = 0;           // of the health event this state came from
  Time reported_at{};         // that event's device time
  std::string state;          // idle|active|paused|sleep
  int battery_pct = 0;
  int battery_mv = 0;
  bool charging = false;
  std::string link;           // wifi|lte-m
  int rssi_dbm = 0;
  std::string location_json;  // {"x_m","y_m","zone"} in store, {"lat","lon"} outside, as received
  std::string firmware;       // the `fw` of the newest event
};

struct Maintenance {
  bool in_maintenance = false;
  std::string reason;
  Time since{};
};

// What the projection learns from every event of a cart, for the locator: when the cloud last
// heard from it, and its newest fault.
struct CartActivity {
  CartId cart;
  Time last_seen_at{};           // server receive time of the newest event
  std::string fault_code;        // of the newest fault event ("" if none)
  std::string fault_severity;    // info|warn|critical
  std::optional<Time> fault_at;  // that fault's device time
  // The cart's clock minus ours, from its newest live event (device ts − receive time): what the
  // cloud needs to judge times the cart stamps, such as a proximity token's age.
  std::optional<Duration> clock_offset;
  std::optional<Time> clock_offset_at;  // the receive time of the event it came from
};

// What the cloud knows of a cart's connection (monitor/connectivity.h decides it).
enum class LinkState { kOnline, kStale, kOffline };
std::string_view Name(LinkState s);
std::optional<LinkState> ParseLinkState(std::string_view s);

// One change of a cart's link state.
struct ConnectivityTransition {
  CartId cart;
  LinkState from = LinkState::kOffline;  // a cart never seen before counts as offline
  LinkState to = LinkState::kOnline;
  Time at{};          // server time the change was decided
  std::string cause;  // birth|reconnect|will|event|silence|broker_unreachable|birth_replayed
  std::optional<Time> connection;  // the connection's start (device time) when the cause names one
  bool operator==(const ConnectivityTransition&) const = default;
};

// A cart's current link state: its newest transition.
struct CartConnectivity {
  CartId cart;
  LinkState state = LinkState::kOffline;
  Time since{};
  std::string cause;
  std::optional<Time> connection;  // the start of the newest connection the cart announced
};

// One row of the fleet view: a cart with everything known about it, read in one query.
struct CartOverview {
  CartRecord cart;
  Region region = Region::kUs;        // of its store
  std::optional<CartState> state;     // nullopt until its first health event
  Maintenance maintenance;
  std::optional<CartActivity> activity;
  std::optional<CartConnectivity> connectivity;  // nullopt until the monitor first decides
};

struct FleetQuery {
  std::optional<StoreId> store;
  std::optional<Region> region;
  std::optional<std::string> firmware;  // exact version
  std::optional<int> battery_below;     // battery_pct < this (carts that never reported excluded)
  std::optional<CartId> after;          // paging: carts with a greater id
  size_t limit = 100;
};

struct ItemRecord {
  StoreId store;
  std::string sku;
  std::string name;
  int64_t price_cents = 0;
  std::optional<int> expected_weight_g;
  std::string category;
  bool operator==(const ItemRecord&) const = default;
};

// What one catalog sync changed.
struct CatalogDiff {
  std::vector<std::string> added, changed, removed;  // skus
};

enum class SessionStatus { kActive, kPaused, kComplete, kAbandoned, kVoided };
std::string_view Name(SessionStatus s);
std::optional<SessionStatus> ParseSessionStatus(std::string_view s);

// Facts the projection records, one per event (the (cart, seq) of the event makes it idempotent).
struct SessionStartFact {
  SessionId session;
  CartId cart;
  StoreId store;
  uint64_t seq = 0;
  Time ts{};
};

struct ScanFact {
  SessionId session;
  CartId cart;
  StoreId store;
  uint64_t seq = 0;
  Time ts{};
  std::string sku;
  int qty = 1;
  int64_t price_cents = 0;
  int weight_delta_g = 0;
  std::optional<int> expected_weight_g;  // the catalog's (else the cart's) per-unit weight, if known
  bool weight_mismatch = false;          // decided by the projection (never blocks the shopper)
};

struct LineItem {
  std::string sku;
  int qty = 1;
  int64_t price_cents = 0;
  bool operator==(const LineItem&) const = default;
};

struct PaymentRecord {
  std::string auth_token;  // the terminal's authorisation reference (never card data)
  int64_t amount_cents = 0;
  std::string status;      // authorized
  Time ts{};
};

struct SessionEndFact {
  SessionId session;
  CartId cart;
  StoreId store;
  uint64_t seq = 0;
  Time ts{};
  SessionStatus status = SessionStatus::kComplete;  // complete|abandoned|voided
  int item_count = 0;
  int64_t total_cents = 0;
  std::vector<LineItem> items;
  std::optional<PaymentRecord> payment;
};

// A fault event that names a session (BATTERY_CLIFF, EXIT_WITHOUT_PAY, WEIGHT_MISMATCH…).
struct SessionFaultFact {
  SessionId session;
  CartId cart;
  StoreId store;
  uint64_t seq = 0;
  Time ts{};
  std::string code;
};

struct ScanRecord {
  CartId cart;  // the cart that scanned it (differs from the session's after a battery-swap merge)
  uint64_t seq = 0;
  Time ts{};
  std::string sku;
  int qty = 1;
  int64_t price_cents = 0;
  int weight_delta_g = 0;
  std::optional<int> expected_weight_g;
  bool weight_mismatch = false;
  std::optional<SessionId> carried_from;  // set on scans carried over from a merged session
};

struct SessionRecord {
  SessionId id;
  CartId cart;
  StoreId store;
  SessionStatus status = SessionStatus::kActive;
  Time started_at{};             // the session-start's ts, else the earliest scan's
  std::optional<Time> ended_at;  // the session-end's ts
  std::optional<AccountId> account;  // nullopt: a guest session
  std::string customer_ref;      // session-scoped ephemeral reference sent to the cart ("" if none)
  std::string identified_by;     // loyalty|payment_token|app_qr ("" if guest)
  // Derived from the facts, the same whatever order they arrived in:
  int scan_count = 0;             // units scanned (sum of qty), carried-over scans included
  int64_t scan_total_cents = 0;   // sum of qty × price over the scans
  int weight_mismatches = 0;      // scans flagged for loss prevention
  std::optional<int> claimed_item_count;      // from session-end
  std::optional<int64_t> claimed_total_cents;  // from session-end
  bool totals_mismatch = false;   // session-end's totals differ from the scans
  std::vector<std::string> fault_codes;  // codes of faults naming this session, sorted, unique
  std::optional<PaymentRecord> payment;
  std::optional<SessionId> merged_into;  // a battery-swap: this session continued there
};

struct SessionQuery {
  std::optional<StoreId> store;
  std::optional<CartId> cart;
  std::optional<AccountId> account;
  std::optional<SessionStatus> status;
  bool flagged_only = false;  // weight mismatches, totals mismatches or an EXIT_WITHOUT_PAY fault
  size_t limit = 100;
};

enum class AccountKind { kRegistered, kCardHolder };
std::string_view Name(AccountKind k);

// Tier 2: pseudonymous. The person behind a registered account is in the vault under the same id.
struct AccountRecord {
  AccountId id;
  AccountKind kind = AccountKind::kRegistered;
  Time created_at{};
  std::vector<std::string> loyalty_numbers;
};

enum class Role { kOps, kStaff, kAuditor };
std::string_view Name(Role r);
std::optional<Role> ParseRole(std::string_view s);

struct UserRecord {
  std::string name;            // the login
  Role role = Role::kStaff;
  std::optional<StoreId> store;  // staff: the one store they may see
  std::string password_hash;     // encoded by the API's password hasher
  std::string totp_secret;       // ops: base32 RFC 6238 secret ("" for other roles)
  Time created_at{};
  bool disabled = false;
};

// A bearer token of the REST API, kept by its digest (the token itself is never stored).
struct ApiToken {
  std::string digest;  // SHA-256 of the token, lowercase hex
  std::string user;
  std::string kind;    // access|refresh
  Time issued_at{};
  Time expires_at{};
  bool revoked = false;
};

// A staff override of a session, as requested through the API (the cart's reaction arrives as
// events: a paused state, a voided session).
struct OverrideRecord {
  std::string cmd_id;  // of the signed session-override command
  SessionId session;
  CartId cart;
  std::string action;  // pause|cancel|restart
  std::string reason;
  std::string actor;   // the user
  Time requested_at{};
};

// A random value the API hands a staff tablet for the cart to sign into its proximity token as
// the nonce: the token's freshness is then judged by the server's clock, never by the cart's.
struct ProximityChallenge {
  std::string nonce;  // 32 lowercase hex
  CartId cart;
  Time issued_at{};
  Time expires_at{};
};

enum class AlarmSeverity { kPage, kNotify };
std::string_view Name(AlarmSeverity s);

// One notification of an alarm (monitor/alarms.h): it started firing, or it resolved.
struct AlarmEvent {
  std::string alarm;    // the rule: connected_carts_drop|ingest_error_rate|cart_latency|auth_failures
  std::string subject;  // "" for a fleet-wide rule; the cart id for a per-cart one
  bool firing = true;   // false: resolved
  AlarmSeverity severity = AlarmSeverity::kPage;
  Time at{};
  double value = 0;      // what was measured
  double threshold = 0;  // what it was compared with
  std::string summary;   // one line for a human
  bool operator==(const AlarmEvent&) const = default;
};

class DeviceRegistry {
 public:
  virtual ~DeviceRegistry() = default;

  // Adds a store. kAlreadyExists if the id is taken.
  virtual Status AddStore(const StoreRecord& store) = 0;
  // kNotFound if no such store.
  virtual Result<StoreRecord> GetStore(const StoreId& id) = 0;
  // All stores ordered by id.
  virtual Result<std::vector<StoreRecord>> ListStores() = 0;

  // Registers a cart. kNotFound if its store does not exist; kAlreadyExists if the cart id, the
  // serial or the certificate fingerprint is already registered (one identity, one cart).
  virtual Status AddCart(const CartRecord& cart) = 0;
  // kNotFound if no such cart.
  virtual Result<CartRecord> GetCart(const CartId& id) = 0;
  // Carts ordered by id, of one store or of all.
  virtual Result<std::vector<CartRecord>> ListCarts(const std::optional<StoreId>& store) = 0;
  // kNotFound if no such cart.
  virtual Status SetCartStatus(const CartId& id, CartStatus status) = 0;
  // The smallest cart number above every registered one (1 for an empty registry). Two
  // provisioners may get the same number; the loser's AddCart fails with kAlreadyExists and retries.
  virtual Result<uint32_t> NextCartNumber() = 0;

  // Keeps `state` if its seq is above the stored one (idempotent, order-tolerant); kNotFound for
  // an unregistered cart.
  virtual Status RecordCartState(const CartState& state) = 0;
  // kNotFound if the cart has never reported.
  virtual Result<CartState> GetCartState(const CartId& cart) = 0;
  // Marks a cart out of (or back in) service. kNotFound if no such cart.
  virtual Status SetMaintenance(const CartId& cart, const Maintenance& maintenance) = 0;
  // Not in maintenance (the default) for a cart never marked; kNotFound if no such cart.
  virtual Result<Maintenance> GetMaintenance(const CartId& cart) = 0;
  // Keeps the later last_seen_at, the fault with the later fault_at and the clock offset with the
  // later clock_offset_at of what is stored and
  // `activity` (idempotent, order-tolerant); kNotFound for an unregistered cart.
  virtual Status RecordCartActivity(const CartActivity& activity) = 0;
  // Carts matching the query ordered by id, each with its state, maintenance and activity.
  virtual Result<std::vector<CartOverview>> ListFleet(const FleetQuery& query) = 0;
};

class Catalog {
 public:
  virtual ~Catalog() = default;

  // Makes the store's catalog exactly `items` (all for `store`, skus unique) in one transaction
  // and reports what changed; the same items again change nothing. kNotFound if no such store;
  // InvalidArgument for an item of another store or a repeated sku (nothing applied).
  virtual Result<CatalogDiff> ReplaceCatalog(const StoreId& store, std::span<const ItemRecord> items) = 0;
  // kNotFound if the store has no such sku.
  virtual Result<ItemRecord> GetItem(const StoreId& store, const std::string& sku) = 0;
  // The store's items ordered by sku.
  virtual Result<std::vector<ItemRecord>> ListItems(const StoreId& store) = 0;
};

class SessionLedger {
 public:
  virtual ~SessionLedger() = default;

  // Each Record* keeps one event's fact and re-derives the session's status and totals. A fact
  // for a session not seen yet creates it (events arrive in any order). A fact whose (cart, seq)
  // is already recorded changes nothing.
  virtual Status RecordSessionStart(const SessionStartFact& fact) = 0;
  virtual Status RecordScan(const ScanFact& fact) = 0;
  virtual Status RecordSessionEnd(const SessionEndFact& fact) = 0;
  virtual Status RecordSessionFault(const SessionFaultFact& fact) = 0;
  // Links a session to an account (mid-shop too: the whole session becomes the account's). The
  // first identification of a session wins; a later one for another account is
  // kFailedPrecondition and changes nothing; the same one again is Ok.
  virtual Status IdentifySession(const SessionId& session, const CartId& cart, const StoreId& store,
                                 const AccountId& account, const std::string& method, const std::string& customer_ref,
                                 Time ts) = 0;
  // Battery swap: `from`'s scans are carried over into `into` (which then counts them) and `from`
  // is marked merged. Idempotent; kNotFound if either session is unknown; kFailedPrecondition if
  // `from` was already merged elsewhere.
  virtual Status MergeSessions(const SessionId& from, const SessionId& into) = 0;

  // kNotFound if no such session.
  virtual Result<SessionRecord> GetSession(const SessionId& id) = 0;
  // The session's scans (its own and carried-over ones) ordered by (ts, cart, seq).
  virtual Result<std::vector<ScanRecord>> ListScans(const SessionId& id) = 0;
  // Newest first by started_at.
  virtual Result<std::vector<SessionRecord>> ListSessions(const SessionQuery& query) = 0;

  // Proximity tokens are single-use: Ok the first time `nonce` is presented, kAlreadyExists
  // after. Nonces are kept until `expires_at` has passed (older ones may be forgotten, since an
  // expired token is refused anyway).
  virtual Status ConsumeProximityNonce(const std::string& nonce, const CartId& cart, Time now, Time expires_at) = 0;
  // Remembers a challenge until it expires (expired ones may be forgotten here). kAlreadyExists if
  // the nonce was issued before.
  virtual Status IssueProximityChallenge(const ProximityChallenge& challenge) = 0;
  // The challenge issued as `nonce`, if it has not expired at `now`; kNotFound otherwise.
  virtual Result<ProximityChallenge> GetProximityChallenge(const std::string& nonce, Time now) = 0;
  // kNotFound if the session does not exist; kAlreadyExists for a repeated cmd_id.
  virtual Status RecordOverride(const OverrideRecord& record) = 0;
  // Oldest first.
  virtual Result<std::vector<OverrideRecord>> ListOverrides(const SessionId& session) = 0;
};

class AccountDirectory {
 public:
  virtual ~AccountDirectory() = default;

  // kAlreadyExists if the id or one of the loyalty numbers is taken (nothing is added).
  virtual Status AddAccount(const AccountRecord& account) = 0;
  // kNotFound if no such account.
  virtual Result<AccountRecord> GetAccount(const AccountId& id) = 0;
  // The account holding a loyalty number; kNotFound if none.
  virtual Result<AccountId> FindByLoyalty(const std::string& loyalty_number) = 0;
  // The anonymous card-holder account for a payment token's blind index, created on first sight
  // with `new_id` (a caller-made random id) at `now`. The same index always gives the same account.
  virtual Result<AccountId> CardHolderFor(const std::string& token_index, const AccountId& new_id, Time now) = 0;
  // Keeps a single-use app code (by its digest) for an account until `expires_at`.
  virtual Status AddAppCode(const std::string& code_digest, const AccountId& account, Time issued_at,
                            Time expires_at) = 0;
  // Consumes an app code: the account if the code exists, is unexpired at `now` and unused, and
  // marks it used. kNotFound for an unknown code, kDeadlineExceeded for an expired one,
  // kFailedPrecondition for one already used.
  virtual Result<AccountId> RedeemAppCode(const std::string& code_digest, Time now) = 0;
};

class UserDirectory {
 public:
  virtual ~UserDirectory() = default;
  // kAlreadyExists if the name is taken; InvalidArgument if a staff user has no store or an
  // ops/auditor user has one; kNotFound if the store does not exist.
  virtual Status AddUser(const UserRecord& user) = 0;
  // kNotFound if no such user.
  virtual Result<UserRecord> GetUser(const std::string& name) = 0;
  virtual Result<std::vector<UserRecord>> ListUsers() = 0;

  // kNotFound if the user does not exist; kAlreadyExists for a repeated digest.
  virtual Status AddToken(const ApiToken& token) = 0;
  // kNotFound for an unknown digest (expired and revoked tokens are returned as they are).
  virtual Result<ApiToken> GetToken(const std::string& digest) = 0;
  // Marks one token revoked (kNotFound if unknown); revoking twice is Ok.
  virtual Status RevokeToken(const std::string& digest) = 0;
  // Revokes every token of a user (a stolen refresh token was replayed; a password change).
  virtual Status RevokeTokensOf(const std::string& user) = 0;
  // Drops tokens that expired before `now`; returns how many.
  virtual Result<int64_t> PurgeExpiredTokens(Time now) = 0;
};

// The fleet monitor's memory: connectivity transitions and alarm history.
class FleetHealthLog {
 public:
  virtual ~FleetHealthLog() = default;

  // Appends the transitions (in order) and makes each cart's last one its current state, in one
  // transaction. A transition already stored (same cart, at, from and to) is skipped, so a retry
  // is harmless. kNotFound for an unregistered cart (nothing applied).
  virtual Status RecordConnectivity(std::span<const ConnectivityTransition> transitions) = 0;
  // Every cart's current state, ordered by cart id (carts with no transition yet are absent).
  virtual Result<std::vector<CartConnectivity>> ListConnectivity() = 0;
  // One cart's transitions, newest first, at most `limit`, those before `before` if given.
  virtual Result<std::vector<ConnectivityTransition>> ListConnectivityTransitions(const CartId& cart, size_t limit,
                                                                                  std::optional<Time> before) = 0;

  // Keeps one alarm notification. The same event again (alarm, subject, at, firing) is Ok and
  // changes nothing.
  virtual Status RecordAlarmEvent(const AlarmEvent& event) = 0;
  // Newest first (ties by alarm, subject), at most `limit`, those before `before` if given.
  virtual Result<std::vector<AlarmEvent>> ListAlarmEvents(size_t limit, std::optional<Time> before) = 0;
  // The firing events not followed by a resolution of the same (alarm, subject), ordered by
  // (alarm, subject): what is firing now.
  virtual Result<std::vector<AlarmEvent>> ListFiringAlarms() = 0;
};

// ---- OTA rollouts (ota/rollout.h decides; this is what it remembers) ----

enum class RolloutState { kRunning, kHalted, kCompleted, kAborted };
std::string_view Name(RolloutState s);  // running|halted|completed|aborted
std::optional<RolloutState> ParseRolloutState(std::string_view s);

// A per-device job's state. QUEUED until its command is sent; IN_PROGRESS while the cart
// downloads, installs and boots on trial; the rest are decided from the cart's own events (its
// boot events above all), which is what a job protocol alone cannot see.
enum class JobState { kQueued, kInProgress, kSucceeded, kFailed, kRolledBack };
std::string_view Name(JobState s);  // QUEUED|IN_PROGRESS|SUCCEEDED|FAILED|ROLLED_BACK
std::optional<JobState> ParseJobState(std::string_view s);
inline bool IsTerminal(JobState s) { return s == JobState::kSucceeded || s == JobState::kFailed || s == JobState::kRolledBack; }

struct RolloutStage {
  std::string name;           // "canary", "1%"…
  std::optional<int> carts;   // a fixed number of carts (the canary), or
  double percent = 0;         // a share of the targets, cumulative
  Duration bake{};            // how long it runs before the next stage may start (zero: the last)
  bool operator==(const RolloutStage&) const = default;
};

struct RolloutRecord {
  std::string id;       // UUID v4
  std::string version;  // the target firmware
  RolloutState state = RolloutState::kRunning;
  std::vector<RolloutStage> stages;
  int stage = 0;              // the current stage's index
  Time stage_started_at{};
  std::vector<StoreId> stores;  // targets as asked (both empty: the whole fleet)
  std::vector<CartId> carts;
  int pace_per_minute = 60;   // job commands sent per minute at most
  Duration jitter{};          // each send is delayed by a random share of this
  std::string created_by;
  Time created_at{};
  Time updated_at{};
  std::string halt_reason;          // why it is (or was last) halted
  std::optional<Time> released_at;  // the last human release: the halt rule looks only after it
  int acknowledged_rollbacks = 0;   // rollbacks a release accepted
};

struct RolloutJob {
  std::string rollout;
  CartId cart;
  std::string job_id;        // UUID v4, in the ota-job command
  int stage = 0;             // the stage that takes the cart
  int position = 0;          // in the rollout's cohort order
  JobState state = JobState::kQueued;
  std::string from_version;  // what the cart ran when the rollout started
  std::optional<Time> send_at;  // paced: when its command goes out (nullopt: stage not reached)
  std::optional<Time> sent_at;  // the last time it was sent
  Time updated_at{};
  uint64_t decided_seq = 0;  // the cart's event that decided the state (0: none yet)
  std::string detail;        // a failure's reason, from the cart
  bool operator==(const RolloutJob&) const = default;
};

// The firmware-signing keys (and CAs) a cart reported trusting in its newest boot event.
struct CartTrust {
  CartId cart;
  uint64_t seq = 0;
  std::vector<std::string> keys;  // fingerprints
};

// A store or a cart that takes no OTA rollout until the opt-out is lifted.
struct OtaOptOut {
  std::string subject;  // STORE-xxx or CART-xxxxxx
  std::string reason;
  std::string actor;
  Time at{};
};

class RolloutLedger {
 public:
  virtual ~RolloutLedger() = default;

  // Adds a rollout and all its jobs in one transaction. kAlreadyExists if the id is taken;
  // kFailedPrecondition if another rollout is running or halted (one at a time per fleet).
  virtual Status AddRollout(const RolloutRecord& rollout, std::span<const RolloutJob> jobs) = 0;
  // kNotFound if no such rollout.
  virtual Result<RolloutRecord> GetRollout(const std::string& id) = 0;
  // Newest first, at most `limit`.
  virtual Result<std::vector<RolloutRecord>> ListRollouts(size_t limit) = 0;
  // Stores the rollout's changing fields (state, stage, stage_started_at, updated_at,
  // halt_reason, released_at, acknowledged_rollbacks). kNotFound if no such rollout.
  virtual Status UpdateRollout(const RolloutRecord& rollout) = 0;
  // Ordered by position.
  virtual Result<std::vector<RolloutJob>> ListJobs(const std::string& rollout) = 0;
  // Stores the jobs' changing fields (state, send_at, sent_at, updated_at, decided_seq, detail),
  // in one transaction. kNotFound (nothing applied) if one does not exist.
  virtual Status UpdateJobs(std::span<const RolloutJob> jobs) = 0;
  // Removes the rollout's jobs that were never sent (an abort); returns how many.
  virtual Result<int64_t> DeleteUnsentJobs(const std::string& rollout) = 0;

  // Keeps `trust` if its seq is above the stored one (idempotent, order-tolerant). kNotFound for
  // an unregistered cart.
  virtual Status RecordCartTrust(const CartTrust& trust) = 0;
  // Every cart that reported, ordered by cart id.
  virtual Result<std::vector<CartTrust>> ListCartTrust() = 0;

  // Sets (or replaces) an opt-out. kNotFound if the subject is not a registered store or cart.
  virtual Status SetOtaOptOut(const OtaOptOut& opt_out) = 0;
  // kNotFound if there was none.
  virtual Status ClearOtaOptOut(const std::string& subject) = 0;
  // Ordered by subject.
  virtual Result<std::vector<OtaOptOut>> ListOtaOptOuts() = 0;
};

class AuditLog;  // store/audit_log.h

// What the ingest's projection writes: one event's fact, or one cart's activity over a batch.
using ProjectedFact =
    std::variant<CartActivity, CartState, SessionStartFact, ScanFact, SessionEndFact, SessionFaultFact>;

class EntityStore : public DeviceRegistry,
                    public Catalog,
                    public SessionLedger,
                    public AccountDirectory,
                    public UserDirectory,
                    public FleetHealthLog,
                    public RolloutLedger {
 public:
  // The API's request audit log (hash-chained), kept in the same database.
  virtual AuditLog& audit() = 0;

  // Runs `fn` as one transaction with one commit (one fsync): the calls it makes on this store
  // from this thread join it, each in a savepoint of its own, so a call that fails is undone alone
  // and `fn` decides whether to go on. If `fn` returns an error nothing of it is kept. Other
  // threads' calls wait until it ends. (The ingest's projection has its own batch call, RecordFacts.)
  virtual Status Batch(const std::function<Status()>& fn) = 0;

  // The projection's batch write: records `facts` in order as one transaction (one commit), and
  // re-derives each session they touch once, at the end, instead of after every fact. The state
  // it leaves is what RecordCartActivity, RecordCartState and the Record* calls would leave one
  // by one, and so are the statuses it returns, one per fact: a fact the store refuses (its cart
  // is not registered, its session is another cart's, a value the schema rejects) changes
  // nothing and its error is at its index; the others are Ok. Backend trouble undoes the whole
  // call and is returned instead.
  virtual Result<std::vector<Status>> RecordFacts(std::span<const ProjectedFact> facts) = 0;
};

// The backends, also reachable through store::Registry ("sqlite:PATH", "postgresql://…").
// `clock` stamps migrations and audit records.
Result<std::unique_ptr<EntityStore>> OpenSqliteEntityStore(const std::string& path, Clock& clock = Clock::System());
Result<std::unique_ptr<EntityStore>> OpenPostgresEntityStore(const std::string& conninfo,
                                                             Clock& clock = Clock::System());

}  // namespace cw::store
