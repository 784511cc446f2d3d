#include "ota/firmware_catalog.h"

#include <algorithm>

#include "crypto/hash.h"

namespace cw::ota {
namespace {

std::string Dir(std::string_view version) { return "firmware/" + std::string(version) + "/"; }

}  // namespace

Result<FirmwareRelease> SignFirmware(std::string_view image, const SignOptions& options, crypto::KeyStore& signing_key,
                                     Time now) {
  if (image.empty()) return InvalidArgument("the image is empty");
  if (!wire::IsSemver(options.version) || options.version.find('+') != std::string::npos) {
    return InvalidArgument("version '" + options.version + "' is not a semantic version MAJOR.MINOR.PATCH[-PRERELEASE], e.g. 2.1.0");
  }
  wire::FirmwareManifest m;
  m.version = options.version;
  m.sha256 = crypto::Sha256Hex(image);
  m.size = image.size();
  m.issued_at = std::chrono::floor<std::chrono::milliseconds>(now);
  m.not_before = std::chrono::floor<std::chrono::milliseconds>(options.not_before.value_or(now));
  m.expires_at = std::chrono::floor<std::chrono::milliseconds>(
      options.not_after.value_or(m.not_before + std::chrono::hours(24 * 365)));
  m.signing_key = signing_key.public_key().Fingerprint();
  m.required_keys = {m.signing_key};
  m.adds_keys = options.adds_keys;
  m.defect = options.defect;
  for (const auto& pem : m.adds_keys) {
    if (!crypto::PublicKey::FromPem(pem).ok()) return InvalidArgument("an added trust key is not a P-256 public key");
  }
  std::string json = wire::FirmwareManifestJson(m);
  // Parsing what we wrote applies the schema and the window rule with the same words a cart would.
  CW_RETURN_IF_ERROR(wire::ParseFirmwareManifest(json).status());
  CW_ASSIGN_OR_RETURN(crypto::Signature sig, signing_key.Sign(json));
  return FirmwareRelease{std::move(m), std::move(json), crypto::SignatureHex(sig)};
}

FirmwareCatalog::FirmwareCatalog(store::BlobStore& blobs, std::vector<crypto::PublicKey> signing_keys)
    : blobs_(blobs), signing_keys_(std::move(signing_keys)) {}

Result<FirmwareRelease> FirmwareCatalog::Upload(std::string_view image, std::string_view manifest_json,
                                                std::string_view manifest_signature) {
  CW_ASSIGN_OR_RETURN(wire::FirmwareManifest m, wire::ParseFirmwareManifest(manifest_json));
  CW_ASSIGN_OR_RETURN(crypto::Signature sig, crypto::SignatureFromHex(manifest_signature));
  auto key = std::find_if(signing_keys_.begin(), signing_keys_.end(),
                          [&](const crypto::PublicKey& k) { return k.Fingerprint() == m.signing_key; });
  if (key == signing_keys_.end()) {
    return InvalidArgument("the manifest names signing key " + m.signing_key.substr(0, 16) +
                           "…, which is not one of the fleet's firmware-signing keys");
  }
  if (!key->Verify(manifest_json, sig)) return InvalidArgument("the manifest signature does not verify");
  if (std::find(m.required_keys.begin(), m.required_keys.end(), m.signing_key) == m.required_keys.end()) {
    return InvalidArgument("the manifest does not require its own signing key");
  }
  if (image.size() != m.size) {
    return InvalidArgument("the image is " + std::to_string(image.size()) + " bytes; the manifest says " +
                           std::to_string(m.size));
  }
  if (crypto::Sha256Hex(image) != m.sha256) return InvalidArgument("the image's SHA-256 differs from the manifest's");
  if (m.version.find('+') != std::string::npos) {
    return InvalidArgument("firmware versions cannot carry build metadata ('+…'): " + m.version);
  }
  std::string dir = Dir(m.version);
  auto put = [&](const std::string& name, std::string_view data) -> Status {
    Status s = blobs_.PutIfAbsent(dir + name, data);
    if (s.code() == Code::kAlreadyExists) {
      return AlreadyExists("firmware " + m.version + " is already in the catalog with a different " + name);
    }
    return s;
  };
  CW_RETURN_IF_ERROR(put("image.bin", image));
  CW_RETURN_IF_ERROR(put("manifest.sig", manifest_signature));
  CW_RETURN_IF_ERROR(put("manifest.json", manifest_json));
  return FirmwareRelease{std::move(m), std::string(manifest_json), std::string(manifest_signature)};
}

Result<FirmwareRelease> FirmwareCatalog::Get(std::string_view version) {
  std::string dir = Dir(version);
  if (!store::ValidateBlobKey(dir + "manifest.json").ok()) return NotFound("no firmware " + std::string(version));
  auto json = blobs_.Get(dir + "manifest.json");
  if (!json.ok()) {
    if (json.error().code() == Code::kNotFound) return NotFound("no firmware " + std::string(version));
    return json.error();
  }
  CW_ASSIGN_OR_RETURN(std::string sig, blobs_.Get(dir + "manifest.sig"));
  CW_ASSIGN_OR_RETURN(wire::FirmwareManifest m, wire::ParseFirmwareManifest(*json));
  return FirmwareRelease{std::move(m), std::move(*json), std::move(sig)};
}

Result<std::vector<FirmwareRelease>> FirmwareCatalog::List() {
  CW_ASSIGN_OR_RETURN(auto keys, blobs_.List("firmware/"));
  std::vector<FirmwareRelease> out;
  for (const auto& key : keys) {
    constexpr std::string_view kSuffix = "/manifest.json";
    if (!key.ends_with(kSuffix)) continue;
    std::string_view version = std::string_view(key).substr(9, key.size() - 9 - kSuffix.size());
    CW_ASSIGN_OR_RETURN(FirmwareRelease r, Get(version));
    out.push_back(std::move(r));
  }
  std::sort(out.begin(), out.end(), [](const FirmwareRelease& a, const FirmwareRelease& b) {
    return wire::VersionLess(b.manifest.version, a.manifest.version);
  });
  return out;
}

Result<std::string> FirmwareCatalog::Image(std::string_view version) {
  CW_RETURN_IF_ERROR(Get(version).status());
  return blobs_.Get(Dir(version) + "image.bin");
}

Result<std::string> FirmwareCatalog::ReadImage(const FirmwareRelease& release, uint64_t offset, uint64_t max_bytes) {
  return blobs_.Read(Dir(release.manifest.version) + "image.bin", offset, max_bytes);
}

}  // namespace cw::ota
