// ota/firmware_catalog.h — signed firmware releases, kept write-once in the blob store.
//
// A release is an image plus its manifest (wire/firmware.h) and the manifest's signature by a
// firmware-signing key — never the device CA, so a leaked device-issuing key cannot ship code.
// The catalog admits a release only if the signature verifies with one of the fleet's signing
// keys and the image matches the manifest's size and SHA-256; after that the bytes under
// firmware/{version}/ never change (a second upload of the same version must be identical).
//
// Blob layout: firmware/{version}/image.bin, …/manifest.sig (hex), …/manifest.json — written in
// that order, so a manifest is only ever visible beside a complete image.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/ecdsa.h"
#include "crypto/key_store.h"
#include "store/blob_store.h"
#include "wire/firmware.h"

namespace cw::ota {

struct FirmwareRelease {
  wire::FirmwareManifest manifest;
  std::string manifest_json;       // the signed bytes
  std::string manifest_signature;  // 128 hex
};

// What `cartwright firmware sign` puts in a manifest beyond the image's own facts.
struct SignOptions {
  std::string version;
  std::optional<Time> not_before;  // default: now
  std::optional<Time> not_after;   // default: a year after not_before
  std::vector<std::string> adds_keys;  // PEM public keys the cart trusts once this image is good
  wire::SimulatedDefect defect = wire::SimulatedDefect::kNone;  // test images only
};

// Builds and signs the manifest for `image`. The signing key's fingerprint is both signing_key
// and the one required key. InvalidArgument for a bad version or window.
Result<FirmwareRelease> SignFirmware(std::string_view image, const SignOptions& options, crypto::KeyStore& signing_key,
                                     Time now);

class FirmwareCatalog {
 public:
  // `signing_keys`: the firmware-signing public keys the fleet accepts releases from.
  FirmwareCatalog(store::BlobStore& blobs, std::vector<crypto::PublicKey> signing_keys);

  // Verifies and stores a release. InvalidArgument when the manifest is malformed, its signature
  // does not verify with a known signing key, the image does not match it, or the version carries
  // build metadata (`+…`, not allowed in blob keys); AlreadyExists when the version is taken by
  // different bytes. Storing the same release again is Ok.
  Result<FirmwareRelease> Upload(std::string_view image, std::string_view manifest_json,
                                 std::string_view manifest_signature);

  // Every release, newest version first (semver order). NotFound never: an empty catalog is [].
  Result<std::vector<FirmwareRelease>> List();
  // One release. NotFound if the version was never uploaded.
  Result<FirmwareRelease> Get(std::string_view version);
  // The image's bytes. NotFound if the version was never uploaded.
  Result<std::string> Image(std::string_view version);
  // At most `max_bytes` of a release's image from byte `offset` (a download's range), reading
  // only those. InvalidArgument when `offset` is beyond the image's end.
  Result<std::string> ReadImage(const FirmwareRelease& release, uint64_t offset, uint64_t max_bytes);

 private:
  store::BlobStore& blobs_;
  std::vector<crypto::PublicKey> signing_keys_;
};

}  // namespace cw::ota
