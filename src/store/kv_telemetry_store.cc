// TelemetryStore over an OrderedKv: the keys, value encodings and queries, written once for the
// embedded engines.
//
// Tables (all integers big-endian, so byte order is numeric order; times are µs since the epoch):
//   events           cart(11) ts(8) seq(8)                       → event value
//   by_store         len(1) store ts(8) cart(11) seq(8)          → expiry(8)
//   by_seq           cart(11) seq(8)                             → expiry(8) ts(8) digest(32)
//   rejects          received(8) n(8)                            → dead-letter value
//   rejects_by_cart  cart(11) received(8) n(8)                   → expiry(8)
// Every value starts with expiry(8) (see ordered_kv.h). Type and reason names are stored as text so
// reordering an enum never reinterprets stored data.
#include <atomic>

#include "core/hex.h"
#include "core/random.h"
#include "store/ordered_kv.h"
#include "store/telemetry_store.h"

namespace cw::store {

namespace {

constexpr size_t kCartLen = 11;  // CART-xxxxxx

void PutBe64(std::string& out, uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
uint64_t Be64(std::string_view s, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(s[at + i]);
  return v;
}
uint64_t Micros(Time t) { return static_cast<uint64_t>(t.time_since_epoch().count()); }
Time FromMicros(uint64_t us) { return Time(std::chrono::microseconds(static_cast<int64_t>(us))); }

// A tiny length-checked reader for values.
struct Reader {
  std::string_view in;
  size_t at = 0;
  bool ok = true;
  uint64_t U64() {
    if (in.size() - at < 8) return ok = false, 0;
    uint64_t v = Be64(in, at);
    at += 8;
    return v;
  }
  uint8_t U8() {
    if (at >= in.size()) return ok = false, 0;
    return static_cast<uint8_t>(in[at++]);
  }
  std::string_view Bytes(size_t n) {
    if (in.size() - at < n) return ok = false, std::string_view();
    auto v = in.substr(at, n);
    at += n;
    return v;
  }
  std::string_view Short() { return Bytes(U8()); }  // 1-byte length prefix
  std::string_view Medium() {                       // 2-byte length prefix
    size_t n = static_cast<size_t>(U8()) << 8;
    n |= U8();
    return Bytes(n);
  }
  std::string_view Rest() { return Bytes(in.size() - at); }
};
void PutShort(std::string& out, std::string_view s) {
  out.push_back(static_cast<char>(s.size()));
  out.append(s);
}
void PutMedium(std::string& out, std::string_view s) {
  out.push_back(static_cast<char>((s.size() >> 8) & 0xFF));
  out.push_back(static_cast<char>(s.size() & 0xFF));
  out.append(s);
}

std::string EventKey(const CartId& cart, Time ts, uint64_t seq) {
  std::string k = cart.str();
  PutBe64(k, Micros(ts));
  PutBe64(k, seq);
  return k;
}
std::string StorePrefix(const StoreId& store) {
  std::string k;
  PutShort(k, store.str());
  return k;
}
// The outbox key: received_at ‖ cart ‖ seq, so the outbox lists in arrival order.
std::string UnroutedKey(const TelemetryEvent& e) {
  std::string key;
  PutBe64(key, Micros(e.received_at));
  key += e.cart.str();
  PutBe64(key, e.seq);
  return key;
}

std::string SeqKey(const CartId& cart, uint64_t seq) {
  std::string k = cart.str();
  PutBe64(k, seq);
  return k;
}
std::string ExpiryValue(Time expires_at) {
  std::string v;
  PutBe64(v, Micros(expires_at));
  return v;
}
// The first key after every key starting with `prefix` (prefixes here never end in 0xFF bytes).
std::string PrefixEnd(std::string prefix) {
  prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

std::string EncodeEvent(const TelemetryEvent& e) {
  std::string v = ExpiryValue(e.expires_at);
  v += e.cart.str();
  PutShort(v, e.store.str());
  PutBe64(v, e.seq);
  PutBe64(v, Micros(e.ts));
  PutBe64(v, Micros(e.received_at));
  PutShort(v, wire::Name(e.type));
  v.push_back(e.late ? 1 : 0);
  v.append(reinterpret_cast<const char*>(e.digest.data()), e.digest.size());
  v += e.body;
  return v;
}

Result<TelemetryEvent> DecodeEvent(std::string_view value) {
  Reader r{value};
  Time expires = FromMicros(r.U64());
  auto cart = CartId::Parse(r.Bytes(kCartLen));
  auto store = StoreId::Parse(r.Short());
  uint64_t seq = r.U64();
  Time ts = FromMicros(r.U64()), received = FromMicros(r.U64());
  auto type = wire::ParseEventType(r.Short());
  bool late = r.U8() != 0;
  auto digest = r.Bytes(32);
  auto body = r.Rest();
  if (!r.ok || !cart.ok() || !store.ok() || !type) return Corruption("telemetry: undecodable event value");
  TelemetryEvent e{.cart = *cart, .store = *store, .seq = seq, .ts = ts, .received_at = received,
                   .expires_at = expires, .type = *type, .late = late, .digest = {}, .body = std::string(body)};
  std::copy(digest.begin(), digest.end(), reinterpret_cast<char*>(e.digest.data()));
  return e;
}

std::string EncodeDeadLetter(const DeadLetter& d) {
  std::string v = ExpiryValue(d.expires_at);
  PutBe64(v, Micros(d.received_at));
  PutShort(v, wire::Name(d.reason));
  PutShort(v, d.cart ? d.cart->str() : "");
  v.push_back(d.seq ? 1 : 0);
  PutBe64(v, d.seq.value_or(0));
  PutMedium(v, d.topic.substr(0, 65535));
  PutMedium(v, d.detail.substr(0, 65535));
  v += d.payload;
  return v;
}

Result<DeadLetter> DecodeDeadLetter(std::string_view value) {
  Reader r{value};
  DeadLetter d;
  d.expires_at = FromMicros(r.U64());
  d.received_at = FromMicros(r.U64());
  auto reason = wire::ParseRejectReason(r.Short());
  auto cart = r.Short();
  bool has_seq = r.U8() != 0;
  uint64_t seq = r.U64();
  d.topic = std::string(r.Medium());
  d.detail = std::string(r.Medium());
  d.payload = std::string(r.Rest());
  if (!r.ok || !reason) return Corruption("telemetry: undecodable dead letter");
  d.reason = *reason;
  if (!cart.empty()) {
    auto id = CartId::Parse(cart);
    if (!id.ok()) return Corruption("telemetry: dead letter with a bad cart id");
    d.cart = *id;
  }
  if (has_seq) d.seq = seq;
  return d;
}

Result<std::string> DecodeCursor(const std::string& cursor) {
  if (cursor.empty()) return std::string();
  auto raw = FromHex(cursor);
  if (!raw || raw->empty()) return InvalidArgument("cursor '" + cursor.substr(0, 40) + "' is not one this store issued");
  return std::string(raw->begin(), raw->end());
}

}  // namespace

std::string CartCursorBefore(const CartId& cart, Time before) {
  // The event key is cart ‖ ts ‖ seq and a NewestForCart cursor is an exclusive upper bound.
  std::string key = cart.str();
  PutBe64(key, Micros(before));
  return ToHex(AsBytes(key));
}

std::string CartCursorAfter(const TelemetryEvent& event) {
  return ToHex(AsBytes(EventKey(event.cart, event.ts, event.seq)));
}

namespace {

class KvTelemetryStore final : public TelemetryStore {
 public:
  KvTelemetryStore(std::unique_ptr<OrderedKv> kv, Clock& clock) : kv_(std::move(kv)), clock_(clock) {
    SystemRandom r;
    reject_counter_ = r.Uniform(uint64_t{1} << 40) << 20;  // distinct per process, ordered within it
  }

  Status Commit(const TelemetryBatch& batch) override {
    std::vector<OrderedKv::Put> puts;
    puts.reserve(batch.events.size() * 3 + batch.unrouted.size() + batch.rejects.size() * 2);
    for (size_t i : batch.unrouted) {
      if (i >= batch.events.size()) return InvalidArgument("telemetry: unrouted index past the batch's events");
      // The value points at the event: its expiry (so the entry expires with it) and its key.
      const TelemetryEvent& e = batch.events[i];
      puts.push_back({OrderedKv::kUnrouted, UnroutedKey(e), ExpiryValue(e.expires_at) + EventKey(e.cart, e.ts, e.seq)});
    }
    for (const auto& e : batch.events) {
      std::string encoded = EncodeEvent(e);
      std::string sk = StorePrefix(e.store);
      PutBe64(sk, Micros(e.ts));
      sk += e.cart.str();
      PutBe64(sk, e.seq);
      // The by-store index carries the whole item (a DynamoDB GSI projecting ALL): a window read
      // is one sequential scan instead of a point read per event.
      puts.push_back({OrderedKv::kByStore, std::move(sk), encoded});
      puts.push_back({OrderedKv::kEvents, EventKey(e.cart, e.ts, e.seq), std::move(encoded)});
      std::string sv = ExpiryValue(e.expires_at);
      PutBe64(sv, Micros(e.ts));
      sv.append(reinterpret_cast<const char*>(e.digest.data()), e.digest.size());
      puts.push_back({OrderedKv::kBySeq, SeqKey(e.cart, e.seq), std::move(sv)});
    }
    for (const auto& d : batch.rejects) {
      std::string rk;
      PutBe64(rk, Micros(d.received_at));
      PutBe64(rk, reject_counter_.fetch_add(1));
      if (d.cart) puts.push_back({OrderedKv::kRejectsByCart, d.cart->str() + rk, ExpiryValue(d.expires_at)});
      puts.push_back({OrderedKv::kRejects, std::move(rk), EncodeDeadLetter(d)});
    }
    if (puts.empty()) return Status::Ok();
    return kv_->Write(puts);
  }

  Result<std::optional<Digest>> FindSeq(const CartId& cart, uint64_t seq) override {
    CW_ASSIGN_OR_RETURN(auto value, kv_->Get(OrderedKv::kBySeq, SeqKey(cart, seq)));
    if (!value || ValueExpiry(*value) <= clock_.Now()) return std::optional<Digest>();
    if (value->size() != 8 + 8 + 32) return Corruption("telemetry: bad seq index entry for " + cart.str());
    Digest d;
    std::copy(value->begin() + 16, value->end(), reinterpret_cast<char*>(d.data()));
    return std::optional<Digest>(d);
  }

  Result<Page<TelemetryEvent>> NewestForCart(const CartId& cart, size_t limit, const std::string& cursor) override {
    CW_ASSIGN_OR_RETURN(std::string after, DecodeCursor(cursor));
    std::string from = cart.str();
    std::string to = after.empty() ? PrefixEnd(from) : after;
    if (!after.empty() && after.compare(0, kCartLen, from) != 0) return InvalidArgument("cursor belongs to another cart");
    return Paged<TelemetryEvent>(OrderedKv::kEvents, from, to, /*reverse=*/true, limit,
                                 [](std::string_view, std::string_view v) -> Result<std::optional<TelemetryEvent>> {
                                   CW_ASSIGN_OR_RETURN(auto e, DecodeEvent(v));
                                   return std::optional<TelemetryEvent>(std::move(e));
                                 });
  }

  Result<Page<TelemetryEvent>> ForStore(const StoreId& store, Time since, Time until, size_t limit,
                                        const std::string& cursor) override {
    CW_ASSIGN_OR_RETURN(std::string after, DecodeCursor(cursor));
    std::string prefix = StorePrefix(store);
    std::string from = prefix;
    PutBe64(from, Micros(since));
    std::string to = prefix;
    PutBe64(to, Micros(until));
    if (!after.empty()) {
      if (after.compare(0, prefix.size(), prefix) != 0) return InvalidArgument("cursor belongs to another store");
      from = after + '\0';  // strictly after the last key returned
    }
    return Paged<TelemetryEvent>(
        OrderedKv::kByStore, from, to, /*reverse=*/false, limit,
        [&](std::string_view k, std::string_view v) -> Result<std::optional<TelemetryEvent>> {
          if (v.size() > 8) {  // a projected entry
            CW_ASSIGN_OR_RETURN(auto e, DecodeEvent(v));
            return std::optional<TelemetryEvent>(std::move(e));
          }
          // An entry written before the index carried the item (its value is the expiry alone):
          // the key ends with ts(8) cart(11) seq(8), the event key rearranged.
          std::string_view tail = k.substr(prefix.size());
          std::string event_key(tail.substr(8, kCartLen));
          event_key.append(tail.substr(0, 8));
          event_key.append(tail.substr(8 + kCartLen, 8));
          CW_ASSIGN_OR_RETURN(auto value, kv_->Get(OrderedKv::kEvents, event_key));
          if (!value) return std::optional<TelemetryEvent>();  // expired and removed between the reads
          CW_ASSIGN_OR_RETURN(auto e, DecodeEvent(*value));
          return std::optional<TelemetryEvent>(std::move(e));
        });
  }

  Result<Page<DeadLetter>> Rejects(const RejectQuery& q) override {
    CW_ASSIGN_OR_RETURN(std::string after, DecodeCursor(q.cursor));
    // The by-cart index keys are cart(11) followed by the rejects table's key.
    size_t skip = q.cart ? kCartLen : 0;
    auto load = [&](std::string_view k, std::string_view) -> Result<std::optional<DeadLetter>> {
      CW_ASSIGN_OR_RETURN(auto value, kv_->Get(OrderedKv::kRejects, std::string(k.substr(skip))));
      if (!value || ValueExpiry(*value) <= clock_.Now()) return std::optional<DeadLetter>();
      CW_ASSIGN_OR_RETURN(auto d, DecodeDeadLetter(*value));
      if (q.reason && d.reason != *q.reason) return std::optional<DeadLetter>();
      return std::optional<DeadLetter>(std::move(d));
    };
    if (!q.cart) return Paged<DeadLetter>(OrderedKv::kRejects, "", after, /*reverse=*/true, q.limit, load);
    std::string from = q.cart->str();
    return Paged<DeadLetter>(OrderedKv::kRejectsByCart, from, after.empty() ? PrefixEnd(from) : after,
                             /*reverse=*/true, q.limit, load);
  }

  Result<std::vector<TelemetryEvent>> Unrouted(size_t limit) override {
    std::vector<TelemetryEvent> events;
    Status inner = Status::Ok();
    Time now = clock_.Now();
    CW_RETURN_IF_ERROR(kv_->Scan(OrderedKv::kUnrouted, "", "", /*reverse=*/false, [&](std::string_view, std::string_view v) {
      if (ValueExpiry(v) <= now) return true;
      auto value = kv_->Get(OrderedKv::kEvents, std::string(v.substr(8)));
      if (!value.ok()) {
        inner = value.error();
        return false;
      }
      if (!*value || ValueExpiry(**value) <= now) return true;
      auto e = DecodeEvent(**value);
      if (!e.ok()) {
        inner = e.error();
        return false;
      }
      events.push_back(std::move(*e));
      return events.size() < limit;
    }));
    CW_RETURN_IF_ERROR(inner);
    return events;
  }

  Status MarkRouted(const std::vector<const TelemetryEvent*>& events) override {
    if (events.empty()) return Status::Ok();
    std::vector<std::string> keys;
    keys.reserve(events.size());
    for (const TelemetryEvent* e : events) keys.push_back(UnroutedKey(*e));
    return kv_->Erase(OrderedKv::kUnrouted, keys);
  }

  Status CompactExpired() override { return kv_->DropExpired(clock_.Now()); }

 private:
  // One page of a scan over `table`: entries whose value has expired are skipped, `load` turns a
  // key and value into an item (nullopt skips it, an error ends the scan), and the cursor is the
  // key of the last item returned.
  template <typename T, typename Load>
  Result<Page<T>> Paged(OrderedKv::Table table, const std::string& from, const std::string& to, bool reverse,
                        size_t limit, Load load) {
    Page<T> page;
    Status inner = Status::Ok();
    Time now = clock_.Now();
    std::string last;
    CW_RETURN_IF_ERROR(kv_->Scan(table, from, to, reverse, [&](std::string_view k, std::string_view v) {
      if (ValueExpiry(v) <= now) return true;
      if (page.items.size() == limit) {
        page.next_cursor = ToHex(AsBytes(last));
        return false;
      }
      auto item = load(k, v);
      if (!item.ok()) {
        inner = item.error();
        return false;
      }
      if (*item) {
        page.items.push_back(std::move(**item));
        last = std::string(k);
      }
      return true;
    }));
    CW_RETURN_IF_ERROR(inner);
    return page;
  }

  std::unique_ptr<OrderedKv> kv_;
  Clock& clock_;
  std::atomic<uint64_t> reject_counter_;
};

}  // namespace

Result<std::unique_ptr<TelemetryStore>> OpenMemoryTelemetryStore(Clock& clock) {
  CW_ASSIGN_OR_RETURN(auto kv, OpenMemoryKv());
  return std::unique_ptr<TelemetryStore>(new KvTelemetryStore(std::move(kv), clock));
}

Result<std::unique_ptr<TelemetryStore>> OpenRocksTelemetryStore(const std::string& path, Clock& clock, OpenMode mode) {
  if (path.empty()) return InvalidArgument("rocksdb: needs a directory, e.g. rocksdb:/var/lib/cartwright/telemetry");
  CW_ASSIGN_OR_RETURN(auto kv, OpenRocksKv(path, clock, mode == OpenMode::kReadOnly));
  return std::unique_ptr<TelemetryStore>(new KvTelemetryStore(std::move(kv), clock));
}

}  // namespace cw::store
