// Admission against a real (in-memory SQLite) registry and real signatures: each check in the
// contract's order produces its reason, and what is kept never includes an identify credential.
#include "ingest/admission.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "crypto/key_store.h"
#include "ingest/dedup.h"
#include "store/registry.h"
#include "wire/envelope.h"
#include "wire/examples.h"
#include "wire/topic.h"

namespace cw::ingest {
namespace {

using wire::EventType;
using wire::RejectReason;

const Time kNow = *ParseWireTime("2026-11-22T10:16:00.000Z");  // the examples are stamped 10:15:30.123
const CartId kCart = CartId::FromNumber(7), kOther = CartId::FromNumber(8), kRevoked = CartId::FromNumber(9);

class AdmissionTest : public ::testing::Test {
 protected:
  AdmissionTest() {
    entities_ = *store::Registry::WithBuiltinBackends().OpenEntity("sqlite::memory:");
    EXPECT_TRUE(entities_->AddStore({*StoreId::Parse("STORE-001"), "Markt", "freshco", store::Region::kEu,
                                     "Europe/Berlin", kNow}).ok());
    for (const auto& [id, key] : {std::pair{kCart, &key_}, {kOther, &other_key_}, {kRevoked, &revoked_key_}}) {
      *key = *crypto::SoftKeyStore::Generate();
      Status added = entities_->AddCart({id, *StoreId::Parse("STORE-001"), "SN" + id.str(), "fp" + id.str(),
                                         (*key)->public_key().ToPem(), "cert", store::CartStatus::kActive, kNow});
      EXPECT_TRUE(added.ok()) << added.ToString();
    }
    EXPECT_TRUE(entities_->SetCartStatus(kRevoked, store::CartStatus::kRevoked).ok());
    directory_ = std::make_unique<CartDirectory>(*entities_, clock_);
    admission_ = std::make_unique<Admission>(*directory_);
  }

  std::string Signed(const std::string& json, crypto::SoftKeyStore& key) { return wire::JoinEnvelope(json, *key.Sign(json)); }
  std::string Example(EventType t, uint64_t seq = 5, const CartId& cart = kCart) {
    return Signed(wire::ExampleEventJson(t, cart, seq), *key_);
  }
  RejectReason ReasonOf(const std::string& topic, const std::string& payload) {
    auto r = admission_->Check(topic, payload, kNow);
    EXPECT_FALSE(r.ok()) << topic;
    return r.ok() ? RejectReason::kInternalError : r.error().rejection.reason;
  }
  static std::string Replace(std::string s, const std::string& from, const std::string& to) {
    auto at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    return s.replace(at, from.size(), to);
  }

  std::unique_ptr<store::EntityStore> entities_;
  std::unique_ptr<crypto::SoftKeyStore> key_, other_key_, revoked_key_;
  ManualClock clock_{kNow};
  std::unique_ptr<CartDirectory> directory_;
  std::unique_ptr<Admission> admission_;
};

TEST_F(AdmissionTest, AValidEventOfEveryTypeIsAdmittedWithItsFields) {
  for (EventType t : wire::kAllEventTypes) {
    auto r = admission_->Check(wire::EventTopic(kCart, t), Example(t, 11), kNow);
    ASSERT_TRUE(r.ok()) << wire::Name(t) << ": " << r.error().rejection.detail;
    EXPECT_EQ(r->event.cart, kCart);
    EXPECT_EQ(r->event.store.str(), "STORE-001");
    EXPECT_EQ(r->event.seq, 11u);
    EXPECT_EQ(r->event.type, t);
    EXPECT_EQ(r->event.ts, *ParseWireTime("2026-11-22T10:15:30.123Z"));
    EXPECT_EQ(r->event.received_at, kNow);
    EXPECT_EQ(r->event.expires_at, kNow + std::chrono::hours(24 * 90));  // received after ts
  }
}

TEST_F(AdmissionTest, EachCheckGivesItsReason) {
  std::string scan = Example(EventType::kScan);
  std::string topic = wire::EventTopic(kCart, EventType::kScan);
  EXPECT_EQ(ReasonOf(topic, std::string(5000, 'x')), RejectReason::kOversize);
  EXPECT_EQ(ReasonOf(topic, "{}"), RejectReason::kMalformedEnvelope);
  EXPECT_EQ(ReasonOf(wire::EventTopic(CartId::FromNumber(404), EventType::kScan),
                     Signed(wire::ExampleEventJson(EventType::kScan, CartId::FromNumber(404), 5), *key_)),
            RejectReason::kUnknownCart);
  EXPECT_EQ(ReasonOf(wire::EventTopic(kRevoked, EventType::kScan),
                     Signed(wire::ExampleEventJson(EventType::kScan, kRevoked, 5), *revoked_key_)),
            RejectReason::kRevokedCart);
  // Cart 8's topic, cart 7's payload (signed by 7).
  EXPECT_EQ(ReasonOf(wire::EventTopic(kOther, EventType::kScan), scan), RejectReason::kTopicMismatch);
  EXPECT_EQ(ReasonOf(wire::EventTopic(kCart, EventType::kHealth), scan), RejectReason::kTopicMismatch);
  // Signed by another cart's key; and one flipped byte.
  EXPECT_EQ(ReasonOf(topic, Signed(wire::ExampleEventJson(EventType::kScan, kCart, 5), *other_key_)),
            RejectReason::kBadSignature);
  std::string tampered = scan;
  tampered[tampered.find("249")] = '1';
  EXPECT_EQ(ReasonOf(topic, tampered), RejectReason::kBadSignature);
  // Correctly signed but against the schema.
  EXPECT_EQ(ReasonOf(topic, Signed(Replace(wire::ExampleEventJson(EventType::kScan, kCart, 5), "\"qty\":1", "\"qty\":120"), *key_)),
            RejectReason::kSchemaViolation);
  // 25 hours ahead of the server.
  EXPECT_EQ(ReasonOf(topic, Signed(Replace(wire::ExampleEventJson(EventType::kScan, kCart, 5), "2026-11-22T10:15:30.123Z",
                                           "2026-11-23T11:17:00.000Z"), *key_)),
            RejectReason::kClockSkew);
  // 23 hours ahead is within tolerance.
  EXPECT_TRUE(admission_->Check(topic, Signed(Replace(wire::ExampleEventJson(EventType::kScan, kCart, 5),
                                                     "2026-11-22T10:15:30.123Z", "2026-11-23T09:00:00.000Z"), *key_), kNow).ok());
}

TEST_F(AdmissionTest, RefusalsKeepTheBytesTheSeqAndWhoToTell) {
  std::string topic = wire::EventTopic(kCart, EventType::kScan);
  std::string bad = Signed(wire::ExampleEventJson(EventType::kScan, kCart, 77), *other_key_);
  auto r = admission_->Check(topic, bad, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().notify, kCart);
  EXPECT_EQ(r.error().dead_letter.payload, bad);
  EXPECT_EQ(r.error().dead_letter.seq, 77u);
  EXPECT_EQ(r.error().dead_letter.reason, RejectReason::kBadSignature);
  EXPECT_EQ(r.error().dead_letter.topic, topic);
  EXPECT_EQ(r.error().dead_letter.received_at, kNow);
  auto junk = admission_->Check("not/a/cart/topic", "x", kNow);
  ASSERT_FALSE(junk.ok());
  EXPECT_FALSE(junk.error().notify.has_value());
}

TEST_F(AdmissionTest, AnEventFromACartWhoseClockFellBackIsKeptForTheFullRetention) {
  std::string json = Replace(wire::ExampleEventJson(EventType::kScan, kCart, 5), "2026-11-22T10:15:30.123Z",
                             "1970-01-01T00:00:05.000Z");
  auto r = admission_->Check(wire::EventTopic(kCart, EventType::kScan), Signed(json, *key_), kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->event.expires_at, kNow + std::chrono::hours(24 * 90));
}

TEST_F(AdmissionTest, AnIdentifyCredentialIsNeverKept) {
  std::string topic = wire::EventTopic(kCart, EventType::kIdentify);
  auto ok = admission_->Check(topic, Example(EventType::kIdentify), kNow);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->event.body.find("6012345678901234"), std::string::npos);
  EXPECT_NE(ok->event.body.find("\"method\":\"loyalty\""), std::string::npos);
  EXPECT_FALSE(ok->doc.HasMember("credential"));
  EXPECT_EQ(ok->credential, "6012345678901234");  // handed to the identity service alone
  // Refused (bad signature): the dead letter has no credential either.
  auto bad = admission_->Check(topic, Signed(wire::ExampleEventJson(EventType::kIdentify, kCart, 5), *other_key_), kNow);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().dead_letter.payload.find("6012345678901234"), std::string::npos);
  EXPECT_NE(bad.error().dead_letter.payload.find("loyalty"), std::string::npos);
  // Unparseable but mentioning a credential: nothing is kept.
  EXPECT_EQ(WithoutCredential("{\"credential\":\"6012345678901234\" garbage"), "");
  EXPECT_EQ(WithoutCredential("no secrets here"), "no secrets here");
}

TEST_F(AdmissionTest, ARevocationTakesEffectAfterTheDirectoryRefresh) {
  std::string topic = wire::EventTopic(kCart, EventType::kScan);
  ASSERT_TRUE(admission_->Check(topic, Example(EventType::kScan), kNow).ok());
  ASSERT_TRUE(entities_->SetCartStatus(kCart, store::CartStatus::kRevoked).ok());
  EXPECT_TRUE(admission_->Check(topic, Example(EventType::kScan), kNow).ok());  // cached
  clock_.Advance(std::chrono::seconds(31));
  EXPECT_EQ(ReasonOf(topic, Example(EventType::kScan)), RejectReason::kRevokedCart);
}

TEST(DedupTest, RedeliveryIsADuplicateAndNewBytesAreAConflict) {
  ManualClock clock(kNow);
  auto store = *store::OpenMemoryTelemetryStore(clock);
  auto make = [](uint64_t seq, uint8_t digest) {
    store::TelemetryEvent e{.cart = kCart, .store = *StoreId::Parse("STORE-001"), .seq = seq, .ts = kNow,
                            .received_at = kNow, .expires_at = kNow + std::chrono::hours(1)};
    e.digest[0] = digest;
    return e;
  };
  ASSERT_TRUE(store->Commit({{make(1, 0xA)}, {}}).ok());
  Deduper dedup(*store);
  auto stored_again = make(1, 0xA), conflict = make(1, 0xB), fresh = make(2, 0xC), fresh_again = make(2, 0xC),
       fresh_conflict = make(2, 0xD);
  auto v = dedup.Classify({&stored_again, &conflict, &fresh, &fresh_again, &fresh_conflict});
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, (std::vector<DedupVerdict>{DedupVerdict::kDuplicate, DedupVerdict::kConflict, DedupVerdict::kNew,
                                           DedupVerdict::kDuplicate, DedupVerdict::kConflict}));
}

}  // namespace
}  // namespace cw::ingest
