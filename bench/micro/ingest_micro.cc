// Micro-benchmarks of the ingest's per-message costs (Google Benchmark), the parts that the
// end-to-end figures in docs/benchmarks.md are made of:
//   - one OpenSSL P-256 verify, the physical floor of signed ingest (DESIGN.md §6);
//   - admission of one signed event: envelope split, registry lookup (cached), topic agreement,
//     verify, strict JSON parse, schema and clock checks — so admission minus verify is what the
//     pipeline adds per message before storage;
//   - the wire stages alone: strict JSON parse, and parse + schema validation;
//   - a synced RocksDB batch commit of N events, per event.
// Run by bench/micro.sh (./run bench micro); machine-readable output with --benchmark_format=json.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>

#include "core/time_format.h"
#include "crypto/key_store.h"
#include "ingest/admission.h"
#include "ingest/dedup.h"
#include "store/registry.h"
#include "wire/envelope.h"
#include "wire/event.h"
#include "wire/examples.h"
#include "wire/json.h"
#include "wire/topic.h"

namespace cw {
namespace {

const Time kNow = *ParseWireTime("2026-11-22T10:16:00.000Z");  // the examples are stamped 10:15:30.123
const CartId kCart = CartId::FromNumber(7);
const StoreId kStore = *StoreId::Parse("STORE-001");

// One registered cart with its key, and admission over a real (in-memory SQLite) registry.
struct Rig {
  ManualClock clock{kNow};
  std::unique_ptr<store::EntityStore> entities;
  std::unique_ptr<crypto::SoftKeyStore> key;
  std::unique_ptr<ingest::CartDirectory> directory;
  std::unique_ptr<ingest::Admission> admission;

  Rig() {
    entities = std::move(store::Registry::WithBuiltinBackends().OpenEntity("sqlite::memory:")).value();
    key = std::move(crypto::SoftKeyStore::Generate()).value();
    if (!entities->AddStore({kStore, "Bench", "bench", store::Region::kEu, "UTC", kNow}).ok()) std::abort();
    if (!entities->AddCart({kCart, kStore, "SN7", "fp7", key->public_key().ToPem(), "cert",
                            store::CartStatus::kActive, kNow}).ok()) {
      std::abort();
    }
    directory = std::make_unique<ingest::CartDirectory>(*entities, clock);
    admission = std::make_unique<ingest::Admission>(*directory);
  }
  std::string Signed(wire::EventType type) {
    std::string json = wire::ExampleEventJson(type, kCart, 11);
    return wire::JoinEnvelope(json, *key->Sign(json));
  }
  static Rig& Get() {
    static Rig* rig = new Rig();
    return *rig;
  }
};

// The most frequent messages and the largest; arg 0 picks one.
constexpr wire::EventType kMix[] = {wire::EventType::kScan, wire::EventType::kHealth, wire::EventType::kSessionEnd,
                                    wire::EventType::kFault};

void SetLabel(benchmark::State& state, wire::EventType type, size_t bytes) {
  state.SetLabel(std::string(wire::Name(type)) + ", " + std::to_string(bytes) + " bytes");
}

void BM_P256Verify(benchmark::State& state) {
  Rig& rig = Rig::Get();
  std::string json = wire::ExampleEventJson(wire::EventType::kScan, kCart, 11);
  crypto::Signature sig = *rig.key->Sign(json);
  crypto::PublicKey pub = rig.key->public_key();
  for (auto _ : state) {
    bool ok = pub.Verify(json, sig);
    benchmark::DoNotOptimize(ok);
    if (!ok) state.SkipWithError("verify failed");
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_P256Verify);

void BM_AdmitSignedEvent(benchmark::State& state) {
  Rig& rig = Rig::Get();
  wire::EventType type = kMix[state.range(0)];
  std::string topic = wire::EventTopic(kCart, type), payload = rig.Signed(type);
  SetLabel(state, type, payload.size());
  for (auto _ : state) {
    auto admitted = rig.admission->Check(topic, payload, kNow);
    if (!admitted.ok()) state.SkipWithError(admitted.error().rejection.detail.c_str());
    benchmark::DoNotOptimize(admitted);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_AdmitSignedEvent)->DenseRange(0, 3);

void BM_JsonParseStrict(benchmark::State& state) {
  wire::EventType type = kMix[state.range(0)];
  std::string json = wire::ExampleEventJson(type, kCart, 11);
  SetLabel(state, type, json.size());
  for (auto _ : state) {
    rapidjson::Document doc;
    Status st = wire::ParseStrictObject(json, doc);
    if (!st.ok()) state.SkipWithError(st.ToString().c_str());
    benchmark::DoNotOptimize(doc);
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(json.size()));
}
BENCHMARK(BM_JsonParseStrict)->DenseRange(0, 3);

// Envelope split, strict parse, topic agreement and schema validation: admission without the
// registry and the signature.
void BM_ParseAndValidate(benchmark::State& state) {
  Rig& rig = Rig::Get();
  wire::EventType type = kMix[state.range(0)];
  std::string topic = wire::EventTopic(kCart, type), payload = rig.Signed(type);
  SetLabel(state, type, payload.size());
  for (auto _ : state) {
    auto checked = wire::CheckEvent(topic, payload);
    if (!checked.ok()) state.SkipWithError(checked.error().detail.c_str());
    benchmark::DoNotOptimize(checked);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseAndValidate)->DenseRange(0, 3);

// One synced RocksDB commit of a batch of `range(0)` admitted events (distinct carts and seqs,
// as an ingest batch has), reported per event.
void BM_RocksBatchCommit(benchmark::State& state) {
  Rig& rig = Rig::Get();
  auto dir = std::filesystem::temp_directory_path() / ("cw-micro-rocks-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  ManualClock clock{kNow};
  auto telemetry = store::OpenRocksTelemetryStore(dir.string(), clock);
  if (!telemetry.ok()) {
    state.SkipWithError(telemetry.error().ToString().c_str());
    return;
  }
  std::string topic = wire::EventTopic(kCart, wire::EventType::kScan), payload = rig.Signed(wire::EventType::kScan);
  store::TelemetryEvent proto = std::move(rig.admission->Check(topic, payload, kNow)).value().event;
  const size_t n = static_cast<size_t>(state.range(0));
  uint64_t seq = 0;
  for (auto _ : state) {
    store::TelemetryBatch batch;
    for (size_t i = 0; i < n; ++i) {
      store::TelemetryEvent e = proto;
      e.cart = CartId::FromNumber(1 + i % 2000);
      e.seq = ++seq;
      e.ts = kNow + std::chrono::milliseconds(seq);
      e.digest[0] = static_cast<uint8_t>(seq);
      batch.events.push_back(std::move(e));
    }
    Status st = (*telemetry)->Commit(batch);
    if (!st.ok()) state.SkipWithError(st.ToString().c_str());
  }
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(n));
  telemetry->reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_RocksBatchCommit)->Arg(1)->Arg(16)->Arg(128)->Arg(512)->UseRealTime();

}  // namespace
}  // namespace cw

BENCHMARK_MAIN();
