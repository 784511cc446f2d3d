#include "ota/firmware_catalog.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "crypto/hash.h"

namespace cw::ota {
namespace {

class FirmwareCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    blobs_ = std::move(*store::OpenMemoryBlobStore());
    key_ = std::move(*crypto::SoftKeyStore::Generate());
    catalog_ = std::make_unique<FirmwareCatalog>(*blobs_, std::vector<crypto::PublicKey>{key_->public_key()});
  }
  FirmwareRelease Sign(const std::string& image, const std::string& version, crypto::KeyStore* key = nullptr) {
    auto r = SignFirmware(image, {.version = version}, key ? *key : *key_, now_);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return *r;
  }
  Time now_ = *ParseWireTime("2026-11-23T10:00:00.000Z");
  std::unique_ptr<store::BlobStore> blobs_;
  std::unique_ptr<crypto::SoftKeyStore> key_;
  std::unique_ptr<FirmwareCatalog> catalog_;
};

TEST_F(FirmwareCatalogTest, ASignedReleaseIsStoredWriteOnceAndListedNewestFirst) {
  std::string image(5000, 'x');
  auto r = Sign(image, "2.1.0");
  EXPECT_EQ(r.manifest.sha256, crypto::Sha256Hex(image));
  EXPECT_EQ(r.manifest.required_keys, std::vector<std::string>{key_->public_key().Fingerprint()});
  EXPECT_EQ(r.manifest.expires_at - r.manifest.not_before, std::chrono::hours(24 * 365));
  ASSERT_TRUE(catalog_->Upload(image, r.manifest_json, r.manifest_signature).ok());
  // The same release again is fine (a retried upload); the same version with other bytes is not.
  EXPECT_TRUE(catalog_->Upload(image, r.manifest_json, r.manifest_signature).ok());
  auto other = Sign(std::string(5000, 'y'), "2.1.0");
  auto clash = catalog_->Upload(std::string(5000, 'y'), other.manifest_json, other.manifest_signature);
  ASSERT_FALSE(clash.ok());
  EXPECT_EQ(clash.error().code(), Code::kAlreadyExists);
  EXPECT_EQ(*catalog_->Image("2.1.0"), image);
  auto stored = catalog_->Get("2.1.0");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(*catalog_->ReadImage(*stored, 4990, 100), image.substr(4990));

  for (const char* v : {"2.10.0", "2.9.1", "2.9.1-rc.1"}) {
    auto rel = Sign(std::string(100, 'z') + v, v);
    ASSERT_TRUE(catalog_->Upload(std::string(100, 'z') + v, rel.manifest_json, rel.manifest_signature).ok());
  }
  auto all = catalog_->List();
  ASSERT_TRUE(all.ok());
  std::vector<std::string> versions;
  for (const auto& rel : *all) versions.push_back(rel.manifest.version);
  EXPECT_EQ(versions, (std::vector<std::string>{"2.10.0", "2.9.1", "2.9.1-rc.1", "2.1.0"}));
  EXPECT_EQ(catalog_->Get("9.9.9").error().code(), Code::kNotFound);
  EXPECT_EQ(catalog_->Image("../etc").error().code(), Code::kNotFound);
}

TEST_F(FirmwareCatalogTest, RefusesWhatACartWouldRefuse) {
  std::string image(4096, 'i');
  auto good = Sign(image, "2.2.0");
  auto refused = [&](std::string_view img, std::string_view manifest, std::string_view sig, const std::string& why) {
    auto r = catalog_->Upload(img, manifest, sig);
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_NE(r.error().message().find(why), std::string::npos) << r.error().message();
  };
  // A tampered image, or one of the wrong size.
  std::string tampered = image;
  tampered[100] ^= 1;
  refused(tampered, good.manifest_json, good.manifest_signature, "SHA-256 differs");
  refused(image + "!", good.manifest_json, good.manifest_signature, "4097 bytes; the manifest says 4096");
  // A tampered manifest: the signature no longer verifies.
  std::string forged = good.manifest_json;
  forged.replace(forged.find("2.2.0"), 5, "2.2.1");
  refused(image, forged, good.manifest_signature, "signature does not verify");
  // Signed by a key the fleet does not know (a device key, say).
  auto stranger = *crypto::SoftKeyStore::Generate();
  auto foreign = Sign(image, "2.2.0", stranger.get());
  refused(image, foreign.manifest_json, foreign.manifest_signature, "not one of the fleet's firmware-signing keys");
  refused(image, good.manifest_json, "abc", "128 hex");
  EXPECT_TRUE(catalog_->List()->empty()) << "nothing of a refused upload is kept";
}

TEST(VersionOrder, FollowsSemverPrecedence) {
  EXPECT_TRUE(wire::VersionLess("2.9.1", "2.10.0"));
  EXPECT_TRUE(wire::VersionLess("1.0.0-rc.1", "1.0.0"));
  EXPECT_TRUE(wire::VersionLess("1.0.0-alpha", "1.0.0-alpha.1"));
  EXPECT_TRUE(wire::VersionLess("1.0.0-alpha.1", "1.0.0-alpha.beta"));
  EXPECT_TRUE(wire::VersionLess("1.0.0-beta.2", "1.0.0-beta.11"));
  EXPECT_FALSE(wire::VersionLess("2.0.0", "2.0.0"));
  EXPECT_FALSE(wire::VersionLess("2.0.0", "1.99.99"));
}

}  // namespace
}  // namespace cw::ota
