// libFuzzer target: the ingest's whole per-message path on arbitrary input — admission (size,
// envelope, registry lookup, topic agreement, signature, schema, clock skew), dedup against the
// telemetry store, and the commit of the accepted event or the dead letter (encoding included).
//
// Input layout: byte 0 is the mode; then the topic up to the first '\n'; the rest is the payload.
//   mode bit 0 clear: the payload is used as received (exercises the envelope and signature paths)
//   mode bit 0 set:   the payload is JSON that this harness signs with the registered cart's key
//                     before checking, so mutations reach schema validation, dedup and storage.
#include <cstddef>
#include <cstdint>
#include <string>

#include "crypto/key_store.h"
#include "ingest/admission.h"
#include "ingest/dedup.h"
#include "store/registry.h"
#include "wire/envelope.h"

namespace {

using namespace cw;

struct Rig {
  ManualClock clock{Time(std::chrono::seconds(1795342530))};  // 2026-11-22T10:15:30Z
  std::unique_ptr<store::EntityStore> entities;
  std::unique_ptr<crypto::SoftKeyStore> key;
  std::unique_ptr<ingest::CartDirectory> directory;
  std::unique_ptr<ingest::Admission> admission;
  std::unique_ptr<store::TelemetryStore> telemetry;
  int uses = 0;

  Rig() {
    auto registry = store::Registry::WithBuiltinBackends();
    entities = std::move(registry.OpenEntity("sqlite::memory:")).value();
    key = std::move(crypto::SoftKeyStore::Generate()).value();
    StoreId store = *StoreId::Parse("STORE-001");
    if (!entities->AddStore({store, "Fuzz", "fuzz", store::Region::kEu, "UTC", clock.Now()}).ok()) __builtin_trap();
    if (!entities->AddCart({CartId::FromNumber(1), store, "SN1", "fp1", key->public_key().ToPem(), "cert",
                            store::CartStatus::kActive, clock.Now()}).ok()) {
      __builtin_trap();
    }
    directory = std::make_unique<ingest::CartDirectory>(*entities, clock);
    admission = std::make_unique<ingest::Admission>(*directory);
    Reset();
  }
  // A fresh store now and then, so memory stays flat over millions of inputs.
  void Reset() { telemetry = std::move(store::OpenMemoryTelemetryStore(clock)).value(); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Rig* rig = new Rig();  // lives for the whole fuzzing run
  if (size < 2) return 0;
  if (++rig->uses % 500 == 0) rig->Reset();
  uint8_t mode = data[0];
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  size_t nl = rest.find('\n');
  if (nl == std::string_view::npos) return 0;
  std::string topic(rest.substr(0, nl));
  std::string payload(rest.substr(nl + 1));
  if (mode & 1) {
    auto sig = rig->key->Sign(payload);
    if (!sig.ok()) __builtin_trap();
    payload = wire::JoinEnvelope(payload, *sig);
  }

  auto checked = rig->admission->Check(topic, payload, rig->clock.Now());
  store::TelemetryBatch batch;
  if (checked.ok()) {
    // An identify credential never survives admission.
    if (checked->event.type == wire::EventType::kIdentify && checked->doc.HasMember("credential")) __builtin_trap();
    ingest::Deduper dedup(*rig->telemetry);
    auto verdict = dedup.Classify({&checked->event});
    if (!verdict.ok()) __builtin_trap();
    batch.events.push_back(checked->event);
  } else {
    if (checked.error().rejection.detail.empty()) __builtin_trap();  // every refusal is explained
    batch.rejects.push_back(checked.error().dead_letter);
  }
  if (!rig->telemetry->Commit(batch).ok()) __builtin_trap();
  if (checked.ok()) {
    auto back = rig->telemetry->NewestForCart(checked->event.cart, 1, "");
    if (!back.ok() || back->items.empty()) __builtin_trap();
  } else {
    if (!rig->telemetry->Rejects({.limit = 1}).ok()) __builtin_trap();
  }
  return 0;
}
