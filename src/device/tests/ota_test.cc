// The cart's firmware life: boot events, the OTA agent's checks, a chunked and resumable download,
// trial boots that confirm or roll back, and trust-key rotation — on the cart model with a memory
// firmware source (cartsim's HTTPS source and the cloud's side are in the integration tests).
#include <rapidjson/document.h>

#include "crypto/hash.h"
#include "device/tests/cart_fixture.h"
#include "wire/firmware.h"

namespace cw::device {
namespace {

using testing_support::CartTest;
using testing_support::kT0;

struct Release {
  std::string image, manifest, signature;
  wire::FirmwareManifest m;
};

class OtaTest : public CartTest {
 protected:
  // An image of `size` bytes for `version`, its manifest signed by `key` (the fleet's key by default).
  Release MakeRelease(const std::string& version, size_t size = 200'000,
                      wire::SimulatedDefect defect = wire::SimulatedDefect::kNone,
                      crypto::SoftKeyStore* key = nullptr, std::vector<std::string> adds_keys = {}) {
    key = key ? key : firmware_key_.get();
    Release r;
    for (size_t i = 0; i < size; ++i) r.image += static_cast<char>((i * 131 + version.size()) & 0xff);
    r.m.version = version;
    r.m.sha256 = crypto::Sha256Hex(r.image);
    r.m.size = size;
    r.m.issued_at = kT0 - std::chrono::hours(1);
    r.m.not_before = kT0 - std::chrono::hours(1);
    r.m.expires_at = kT0 + std::chrono::hours(24 * 30);
    r.m.signing_key = key->public_key().Fingerprint();
    r.m.required_keys = {r.m.signing_key};
    r.m.adds_keys = std::move(adds_keys);
    r.m.defect = defect;
    r.manifest = wire::FirmwareManifestJson(r.m);
    r.signature = crypto::SignatureHex(*key->Sign(r.manifest));
    return r;
  }

  std::string Url(const std::string& version) { return "https://cloud.test:8444/api/v1/firmware/" + version + "/image"; }

  // The signed ota-job for `r`, issued at the cloud's `server_time` (default: the test clock's now).
  std::string Job(const Release& r, std::optional<Time> server_time = std::nullopt,
                  const std::function<void(wire::OtaJob&)>& edit = nullptr) {
    Time st = server_time.value_or(clock_.Now());
    wire::OtaJob job{random_.UuidV4(), r.m.version, Url(r.m.version), r.m.sha256, r.m.size, r.manifest, r.signature, st};
    if (edit) edit(job);
    std::string json = wire::OtaJobCommandJson(
        {wire::CommandKind::kOtaJob, random_.UuidV4(), cart_->id(), st, st + std::chrono::hours(1)}, job);
    return wire::JoinEnvelope(json, *cloud_->Sign(json));
  }

  void Offer(const Release& r) { source_.images[Url(r.m.version)] = r.image; }
  void Send(const std::string& command) { cart_->OnMessage(wire::CommandsTopic(cart_->id()), command); }

  // Powers the cart through the reboots it asks for, as its owner (cartsim) does.
  void RebootWhileAsked() {
    for (int i = 0; i < 4 && cart_->reboot_requested(); ++i) PowerOn();
  }

  std::vector<rapidjson::Document> Boots() {
    std::vector<rapidjson::Document> out;
    for (const auto& [topic, payload] : boots_) {
      auto checked = wire::CheckEvent(topic, payload);
      EXPECT_TRUE(checked.ok()) << (checked.ok() ? "" : checked.error().detail);
      rapidjson::Document d;
      EXPECT_TRUE(wire::ParseStrictObject(wire::SplitEnvelope(payload)->json, d).ok());
      out.push_back(std::move(d));
    }
    return out;
  }

  std::vector<std::string> FaultDetails() {
    std::vector<std::string> out;
    for (const auto& f : OfType("fault")) {
      EXPECT_EQ(*wire::GetString(f, "code"), "OTA_VERIFY_FAIL");
      out.emplace_back(*wire::GetString(f, "detail"));
    }
    return out;
  }

  static std::string Str(const rapidjson::Value& d, const char* key) {
    return std::string(wire::GetString(d, key).value_or("<none>"));
  }
};

TEST_F(OtaTest, EveryBootIsReportedWithSlotReasonCountAndTrustedKeys) {
  PowerOn();
  auto boots = Boots();
  ASSERT_EQ(boots.size(), 2u);
  EXPECT_EQ(Str(boots[0], "reason"), "power_on");
  EXPECT_EQ(Str(boots[0], "slot"), "A");
  EXPECT_EQ(Str(boots[0], "fw"), "2.0.0");
  EXPECT_TRUE(boots[0]["previous_fw"].IsNull());  // the first boot since manufacture
  EXPECT_EQ(*wire::GetUint(boots[0], "boot_count"), 1u);
  ASSERT_EQ(boots[0]["trusted_keys"].Size(), 1u);
  EXPECT_EQ(boots[0]["trusted_keys"][0].GetString(), firmware_key_->public_key().Fingerprint());
  EXPECT_EQ(Str(boots[1], "previous_fw"), "2.0.0");
  EXPECT_EQ(*wire::GetUint(boots[1], "boot_count"), 2u);
}

TEST_F(OtaTest, AGoodImageDownloadsInChunksBootsOnTrialAndConfirms) {
  Release r = MakeRelease("2.1.0");
  Offer(r);
  ASSERT_TRUE(cart_->StartSession().ok());
  Send(Job(r));
  EXPECT_EQ(source_.DeliverAll(), 4);  // 200,000 bytes in 64 KiB chunks
  EXPECT_EQ(source_.offsets, (std::vector<uint64_t>{0, 65536, 131072, 196608}));
  EXPECT_TRUE(FaultDetails().empty());
  ASSERT_TRUE(cart_->ota()->update_ready());
  EXPECT_FALSE(cart_->reboot_requested()) << "never restarts under a shopper";
  ASSERT_TRUE(cart_->CompletePaid("AUTH-7f3a9c21d4e8").ok());
  ASSERT_TRUE(cart_->Reset().ok());
  EXPECT_TRUE(cart_->reboot_requested());

  PowerOn();
  EXPECT_EQ(cart_->firmware(), "2.1.0");
  EXPECT_EQ(cart_->boot_info().slot, Slot::kB);
  auto boots = Boots();
  ASSERT_EQ(boots.size(), 2u);
  EXPECT_EQ(Str(boots[1], "reason"), "ota_trial");
  EXPECT_EQ(Str(boots[1], "fw"), "2.1.0");
  EXPECT_EQ(Str(boots[1], "previous_fw"), "2.0.0");
  // Confirmed at once: the new version's first event after its trial boot is the proof.
  EXPECT_FALSE(cart_->reboot_requested());
  auto sent = Sent();
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(Type(sent.back()), "health");
  EXPECT_EQ(Str(sent.back(), "fw"), "2.1.0");

  PowerOn();  // and it stays
  EXPECT_EQ(Str(Boots().back(), "reason"), "power_on");
  EXPECT_EQ(cart_->firmware(), "2.1.0");
}

TEST_F(OtaTest, AnImageThatFailsItsSelfTestRollsBack) {
  Release r = MakeRelease("2.1.0", 70'000, wire::SimulatedDefect::kFailsSelfTest);
  Offer(r);
  Send(Job(r));
  source_.DeliverAll();
  ASSERT_TRUE(cart_->reboot_requested());
  PowerOn();
  EXPECT_EQ(cart_->firmware(), "2.1.0");
  EXPECT_TRUE(cart_->reboot_requested()) << "a failed self-test restarts the cart";
  PowerOn();
  EXPECT_EQ(cart_->firmware(), "2.0.0");
  EXPECT_FALSE(cart_->reboot_requested());
  auto boots = Boots();
  ASSERT_EQ(boots.size(), 3u);
  EXPECT_EQ(Str(boots[1], "reason"), "ota_trial");
  EXPECT_EQ(Str(boots[2], "reason"), "ota_rollback");
  EXPECT_EQ(Str(boots[2], "fw"), "2.0.0");
  EXPECT_EQ(Str(boots[2], "previous_fw"), "2.1.0");
  EXPECT_EQ(Str(boots[2], "slot"), "A");
  for (const auto& d : Sent()) EXPECT_NE(Str(d, "fw"), "2.1.0") << "a trial publishes only its boot";
}

TEST_F(OtaTest, AnImageThatCrashesOnBootRollsBackWithoutATrialEvent) {
  Release r = MakeRelease("2.1.0", 70'000, wire::SimulatedDefect::kCrashesOnBoot);
  Offer(r);
  Send(Job(r));
  source_.DeliverAll();
  PowerOn();
  EXPECT_EQ(cart_->firmware(), "2.0.0");
  auto boots = Boots();
  ASSERT_EQ(boots.size(), 2u);
  EXPECT_EQ(Str(boots[1], "reason"), "ota_rollback");
  EXPECT_EQ(Str(boots[1], "previous_fw"), "2.1.0");
  EXPECT_EQ(*wire::GetUint(boots[1], "boot_count"), 3u);  // the crashed boot counts
}

TEST_F(OtaTest, ATamperedImageIsRefusedAndReported) {
  Release r = MakeRelease("2.1.0");
  Offer(r);
  source_.images[Url("2.1.0")][100'000] ^= 0x01;
  std::string job = Job(r);
  Send(job);
  source_.DeliverAll();
  EXPECT_FALSE(cart_->ota()->update_ready());
  EXPECT_FALSE(cart_->reboot_requested());
  auto faults = FaultDetails();
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_NE(faults[0].find("sha256"), std::string::npos) << faults[0];
  EXPECT_NE(faults[0].find("2.1.0"), std::string::npos) << faults[0];
  EXPECT_FALSE(PathExists(dir_.path() + "/ota/image.part")) << "the bad image is not kept";
}

TEST_F(OtaTest, BadJobsAreRefusedWithTheReasonAndNothingIsDownloaded) {
  Release good = MakeRelease("2.1.0");
  Offer(good);
  auto stranger = *crypto::SoftKeyStore::Generate();
  Release foreign = MakeRelease("2.1.0", 200'000, wire::SimulatedDefect::kNone, stranger.get());
  Release older = MakeRelease("1.9.0");
  Release tampered = good;
  tampered.manifest.replace(tampered.manifest.find("2.1.0"), 5, "2.1.1");
  Release needs_more = good;
  needs_more.m.required_keys.push_back(stranger->public_key().Fingerprint());
  needs_more.manifest = wire::FirmwareManifestJson(needs_more.m);
  needs_more.signature = crypto::SignatureHex(*firmware_key_->Sign(needs_more.manifest));

  Send(Job(foreign));
  Send(Job(tampered, std::nullopt, [](wire::OtaJob& j) { j.version = "2.1.1"; }));
  Send(Job(needs_more));
  Send(Job(older));
  Send(Job(good, std::nullopt, [](wire::OtaJob& j) { j.size = 199'999; }));
  Send(Job(good, kT0 + std::chrono::hours(24 * 31)));  // past the manifest's expiry by the cloud's clock
  auto faults = FaultDetails();
  ASSERT_EQ(faults.size(), 6u);
  EXPECT_NE(faults[0].find("untrusted key"), std::string::npos) << faults[0];
  EXPECT_NE(faults[1].find("signature does not verify"), std::string::npos) << faults[1];
  EXPECT_NE(faults[2].find("requires trust key"), std::string::npos) << faults[2];
  EXPECT_NE(faults[3].find("downgrade"), std::string::npos) << faults[3];
  EXPECT_NE(faults[4].find("does not match its manifest"), std::string::npos) << faults[4];
  EXPECT_NE(faults[5].find("expired"), std::string::npos) << faults[5];
  EXPECT_TRUE(source_.requests.empty());
  EXPECT_EQ(cart_->ota()->job(), std::nullopt);
}

TEST_F(OtaTest, ACartWhoseClockIsTwelveHoursOffStillUpdates) {
  Release r = MakeRelease("2.1.0");
  Offer(r);
  Time cloud_now = clock_.Now();
  clock_.Set(cloud_now - std::chrono::hours(12));  // a flat battery reset the cart's clock
  Send(Job(r, cloud_now));
  EXPECT_EQ(cart_->verifier().refusals().size(), 0u);
  source_.DeliverAll();
  EXPECT_TRUE(FaultDetails().empty());
  EXPECT_TRUE(cart_->ota()->update_ready());

  // A job the cloud issued hours before one already seen is a replay, whatever the cart's clock.
  clock_.Set(cloud_now + std::chrono::hours(12));
  Release next = MakeRelease("2.2.0");
  Send(Job(next, cloud_now - std::chrono::hours(3)));
  auto faults = FaultDetails();
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_NE(faults[0].find("stale job"), std::string::npos) << faults[0];
}

TEST_F(OtaTest, AnInterruptedDownloadResumesAfterAPowerCutAndAfterFailures) {
  Release r = MakeRelease("2.1.0", 300'000);
  Offer(r);
  Send(Job(r));
  ASSERT_TRUE(source_.Deliver());
  ASSERT_TRUE(source_.Deliver());
  PowerOn();  // the power goes with 128 KiB in flash and a fetch in flight
  source_.requests.erase(source_.requests.begin());  // the answer to the dead cart's fetch: dropped
  cart_->Tick();
  ASSERT_EQ(source_.requests.size(), 1u);
  EXPECT_EQ(source_.requests[0].offset, 131072u) << "resumes from what reached flash";
  source_.fail_next = 2;
  ASSERT_TRUE(source_.Deliver());  // fails
  cart_->Tick();
  EXPECT_TRUE(source_.requests.empty()) << "waits before retrying";
  clock_.Advance(OtaAgent::kFirstRetryDelay);
  cart_->Tick();
  ASSERT_TRUE(source_.Deliver());  // fails again: the delay doubles
  clock_.Advance(OtaAgent::kFirstRetryDelay);
  cart_->Tick();
  EXPECT_TRUE(source_.requests.empty());
  clock_.Advance(OtaAgent::kFirstRetryDelay);
  cart_->Tick();
  source_.DeliverAll();
  EXPECT_EQ(cart_->ota()->failed_fetches(), 2u);
  EXPECT_TRUE(FaultDetails().empty());
  ASSERT_TRUE(cart_->ota()->update_ready());
  PowerOn();
  EXPECT_EQ(cart_->firmware(), "2.1.0");
  EXPECT_EQ(Str(Boots().back(), "reason"), "ota_trial");
}

TEST_F(OtaTest, AnImageCanTeachANewSigningKeyWhichIsTrustedOnceItIsConfirmed) {
  auto next_key = *crypto::SoftKeyStore::Generate();
  Release bridge = MakeRelease("2.1.0", 70'000, wire::SimulatedDefect::kNone, nullptr, {next_key->public_key().ToPem()});
  Release signed_by_new = MakeRelease("2.2.0", 70'000, wire::SimulatedDefect::kNone, next_key.get());
  Offer(bridge);
  Offer(signed_by_new);
  Send(Job(signed_by_new));
  ASSERT_EQ(FaultDetails().size(), 1u) << "not trusted yet";
  Send(Job(bridge));
  source_.DeliverAll();
  RebootWhileAsked();
  EXPECT_EQ(cart_->firmware(), "2.1.0");
  ASSERT_TRUE(cart_->trust_store()->Trusts(next_key->public_key().Fingerprint()));
  PowerOn();
  auto boots = Boots();
  EXPECT_EQ(boots.back()["trusted_keys"].Size(), 2u) << "old and new keys overlap";
  Send(Job(signed_by_new));
  source_.DeliverAll();
  RebootWhileAsked();
  EXPECT_EQ(cart_->firmware(), "2.2.0");
}

TEST_F(OtaTest, AKeyAddedByAnImageThatRolledBackIsNotTrusted) {
  auto next_key = *crypto::SoftKeyStore::Generate();
  Release bad = MakeRelease("2.1.0", 70'000, wire::SimulatedDefect::kFailsSelfTest, nullptr,
                            {next_key->public_key().ToPem()});
  Offer(bad);
  Send(Job(bad));
  source_.DeliverAll();
  RebootWhileAsked();
  EXPECT_EQ(cart_->firmware(), "2.0.0");
  EXPECT_FALSE(cart_->trust_store()->Trusts(next_key->public_key().Fingerprint()));
}

TEST_F(OtaTest, TheSameJobAgainChangesNothing) {
  Release r = MakeRelease("2.1.0");
  Offer(r);
  Send(Job(r));
  ASSERT_TRUE(source_.Deliver());
  Send(Job(r));  // the cloud retried: the download carries on, it does not restart
  source_.DeliverAll();
  EXPECT_EQ(source_.offsets, (std::vector<uint64_t>{0, 65536, 131072, 196608}));
  Send(Job(r));  // installed, waiting for the reboot
  EXPECT_TRUE(source_.requests.empty());
  RebootWhileAsked();
  Send(Job(r));  // running it
  EXPECT_TRUE(source_.requests.empty());
  EXPECT_TRUE(FaultDetails().empty());
}

}  // namespace
}  // namespace cw::device
