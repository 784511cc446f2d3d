#include "cli/firmware_commands.h"

#include <cstdio>
#include <memory>

#include "core/files.h"
#include "core/time_format.h"
#include "crypto/key_store.h"
#include "ota/firmware_catalog.h"
#include "pki/pki.h"
#include "store/registry.h"

namespace cw::cli {
namespace {

struct SignArgs {
  std::string image, version, not_before, not_after, defect, key;
  std::vector<std::string> adds_keys;  // PEM files
};

struct UploadArgs {
  std::string image, manifest, signature;
};

std::string ManifestPath(const std::string& image) { return image + ".manifest.json"; }
std::string SignaturePath(const std::string& image) { return image + ".manifest.sig"; }

Result<std::optional<Time>> OptionalTime(const std::string& flag, const std::string& text) {
  if (text.empty()) return std::optional<Time>();
  auto t = ParseRfc3339(text);
  if (!t.ok()) return InvalidArgument(flag + " '" + text + "' is not an RFC 3339 time: " + t.error().message());
  return std::optional<Time>(*t);
}

Status Sign(const Config& config, const SignArgs& a) {
  CW_ASSIGN_OR_RETURN(std::string image, ReadFile(a.image));
  ota::SignOptions o;
  o.version = a.version;
  CW_ASSIGN_OR_RETURN(o.not_before, OptionalTime("--not-before", a.not_before));
  CW_ASSIGN_OR_RETURN(o.not_after, OptionalTime("--not-after", a.not_after));
  CW_ASSIGN_OR_RETURN(o.defect, wire::ParseSimulatedDefect(a.defect));
  for (const auto& file : a.adds_keys) {
    CW_ASSIGN_OR_RETURN(std::string pem, ReadFile(file));
    o.adds_keys.push_back(std::move(pem));
  }
  std::string key_file = a.key.empty() ? pki::Layout(config.data_dir).firmware_key : a.key;
  auto key = crypto::SoftKeyStore::OpenFile(key_file);
  if (!key.ok()) return FailedPrecondition("firmware-signing key " + key_file + ": " + key.error().message());
  CW_ASSIGN_OR_RETURN(auto release, ota::SignFirmware(image, o, **key, Clock::System().Now()));
  CW_RETURN_IF_ERROR(WriteFileAtomic(ManifestPath(a.image), release.manifest_json));
  CW_RETURN_IF_ERROR(WriteFileAtomic(SignaturePath(a.image), release.manifest_signature + "\n"));
  const auto& m = release.manifest;
  std::printf("firmware %s: %llu bytes, sha256 %s\nsigned by %s, valid %s .. %s%s\nwrote %s and %s\n",
              m.version.c_str(), static_cast<unsigned long long>(m.size), m.sha256.c_str(), m.signing_key.c_str(),
              FormatTimeMillis(m.not_before).c_str(), FormatTimeMillis(m.expires_at).c_str(),
              m.defect == wire::SimulatedDefect::kNone ? "" : (" (test image: " + std::string(wire::Name(m.defect)) + ")").c_str(),
              ManifestPath(a.image).c_str(), SignaturePath(a.image).c_str());
  return Status::Ok();
}

Result<std::unique_ptr<ota::FirmwareCatalog>> OpenCatalog(const Config& config,
                                                          std::unique_ptr<store::BlobStore>& blobs) {
  CW_ASSIGN_OR_RETURN(auto keys, pki::LoadFirmwareSigningKeys(pki::Layout(config.data_dir)));
  CW_ASSIGN_OR_RETURN(blobs, store::Registry::WithBuiltinBackends().OpenBlobs(config.stores.blobs));
  return std::make_unique<ota::FirmwareCatalog>(*blobs, std::move(keys));
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

Status Upload(const Config& config, const UploadArgs& a) {
  CW_ASSIGN_OR_RETURN(std::string image, ReadFile(a.image));
  CW_ASSIGN_OR_RETURN(std::string manifest, ReadFile(a.manifest.empty() ? ManifestPath(a.image) : a.manifest));
  CW_ASSIGN_OR_RETURN(std::string signature, ReadFile(a.signature.empty() ? SignaturePath(a.image) : a.signature));
  std::unique_ptr<store::BlobStore> blobs;
  CW_ASSIGN_OR_RETURN(auto catalog, OpenCatalog(config, blobs));
  CW_ASSIGN_OR_RETURN(auto release, catalog->Upload(image, manifest, Trimmed(signature)));
  std::printf("firmware %s is in the catalog (%llu bytes)\n", release.manifest.version.c_str(),
              static_cast<unsigned long long>(release.manifest.size));
  return Status::Ok();
}

Status List(const Config& config) {
  std::unique_ptr<store::BlobStore> blobs;
  CW_ASSIGN_OR_RETURN(auto catalog, OpenCatalog(config, blobs));
  CW_ASSIGN_OR_RETURN(auto releases, catalog->List());
  for (const auto& r : releases) {
    const auto& m = r.manifest;
    std::printf("%-12s %10llu bytes  issued %s  expires %s  key %.16s%s\n", m.version.c_str(),
                static_cast<unsigned long long>(m.size), FormatTimeMillis(m.issued_at).c_str(),
                FormatTimeMillis(m.expires_at).c_str(), m.signing_key.c_str(),
                m.defect == wire::SimulatedDefect::kNone ? "" : ("  test image: " + std::string(wire::Name(m.defect))).c_str());
  }
  return Status::Ok();
}

}  // namespace

std::vector<CLI::App*> AddFirmwareCommands(CLI::App& app, std::function<Status(const Config&)>& action) {
  auto* fw = app.add_subcommand("firmware", "Signed firmware images for over-the-air updates");
  fw->require_subcommand(1);

  auto sa = std::make_shared<SignArgs>();
  auto* sign = fw->add_subcommand("sign", "Write IMAGE.manifest.json and IMAGE.manifest.sig, signed with the "
                                          "firmware-signing key (never the device CA)");
  sign->add_option("--image", sa->image, "The firmware image")->required()->check(CLI::ExistingFile);
  sign->add_option("--version", sa->version, "Its semantic version, e.g. 2.1.0")->required();
  sign->add_option("--not-before", sa->not_before, "Carts install it from this time on (RFC 3339; default now)");
  sign->add_option("--not-after", sa->not_after, "…and not after this one (default a year after --not-before)");
  sign->add_option("--defect", sa->defect, "Test images only: fails_self_test or crashes_on_boot (cartsim acts it out)");
  sign->add_option("--adds-key", sa->adds_keys, "PEM public key the carts trust once this image is good (key rotation)");
  sign->add_option("--key", sa->key, "Signing key file (default DATA_DIR/pki/firmware-signing.key)");
  sign->callback([&action, sa] { action = [sa](const Config& c) { return Sign(c, *sa); }; });

  auto ua = std::make_shared<UploadArgs>();
  auto* upload = fw->add_subcommand("upload", "Verify a signed image and store it write-once in the blob store");
  upload->add_option("--image", ua->image, "The firmware image")->required()->check(CLI::ExistingFile);
  upload->add_option("--manifest", ua->manifest, "Default IMAGE.manifest.json");
  upload->add_option("--signature", ua->signature, "Default IMAGE.manifest.sig");
  upload->callback([&action, ua] { action = [ua](const Config& c) { return Upload(c, *ua); }; });

  auto* list = fw->add_subcommand("list", "Releases in the catalog, newest version first");
  list->callback([&action] { action = [](const Config& c) { return List(c); }; });
  return {fw, sign, upload, list};
}

}  // namespace cw::cli
