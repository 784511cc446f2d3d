#include "pki/pki.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "core/files.h"
#include "core/log.h"

namespace cw::pki {

using crypto::CertificateAuthority;
using crypto::CertSpec;
using crypto::CertUsage;
using crypto::SoftKeyStore;

namespace {

constexpr auto kDay = std::chrono::hours(24);
// Certificates start an hour in the past so a device whose clock lags a little still accepts them.
constexpr auto kBackdate = std::chrono::hours(1);
constexpr std::string_view kOrganization = "Cartwright";

Status IssueTo(const CertificateAuthority& ca, const crypto::PublicKey& key, CertSpec spec,
               const std::string& crt_path) {
  CW_ASSIGN_OR_RETURN(auto cert, ca.Issue(key, spec));
  return WriteFileAtomic(crt_path, cert.ToPem(), 0644);
}

Status NewKeyPair(const std::string& key_path, const std::string& pub_path) {
  CW_ASSIGN_OR_RETURN(auto key, SoftKeyStore::CreateFile(key_path));
  return WriteFileAtomic(pub_path, key->public_key().ToPem(), 0644);
}

}  // namespace

Layout::Layout(const std::string& data_dir)
    : dir(data_dir + "/pki"),
      ca_crt(dir + "/ca.crt"),
      ca_key(dir + "/ca.key"),
      broker_crt(dir + "/broker.crt"),
      broker_key(dir + "/broker.key"),
      api_crt(dir + "/api.crt"),
      api_key(dir + "/api.key"),
      ingest_crt(dir + "/services/ingest.crt"),
      ingest_key(dir + "/services/ingest.key"),
      command_key(dir + "/command-signing.key"),
      command_pub(dir + "/command-signing.pub"),
      firmware_key(dir + "/firmware-signing.key"),
      firmware_pub(dir + "/firmware-signing.pub"),
      firmware_keys_dir(dir + "/firmware-keys") {}

Status InitPki(const Layout& l, const InitOptions& options, Clock& clock) {
  if (PathExists(l.ca_crt) || PathExists(l.ca_key)) {
    if (!options.force) {
      return FailedPrecondition("a PKI already exists in " + l.dir +
                                " (use --force to replace it; every provisioned cart then needs new certificates)");
    }
    std::error_code ec;
    std::filesystem::remove_all(l.dir, ec);
    if (ec) return Internal("remove " + l.dir + ": " + ec.message());
  }
  // The data directory stays traversable (the broker's user needs DATA_DIR/broker); the PKI does not.
  CW_RETURN_IF_ERROR(MakeDirs(std::filesystem::path(l.dir).parent_path().string(), 0755));
  CW_RETURN_IF_ERROR(MakeDirs(l.dir + "/services", 0700));
  ::chmod(l.dir.c_str(), 0700);
  Time now = clock.Now();

  CW_ASSIGN_OR_RETURN(auto ca_key, SoftKeyStore::CreateFile(l.ca_key));
  CW_ASSIGN_OR_RETURN(auto ca, CertificateAuthority::CreateRoot(std::move(ca_key),
                                                                {"Cartwright Fleet Root CA", "", std::string(kOrganization)},
                                                                now - kBackdate, now + 20 * 365 * kDay));
  CW_RETURN_IF_ERROR(WriteFileAtomic(l.ca_crt, ca.certificate().ToPem(), 0644));

  auto server = [&](const std::string& cn, const std::string& crt, const std::string& key) -> Status {
    CW_ASSIGN_OR_RETURN(auto k, SoftKeyStore::CreateFile(key));
    CertSpec spec{{cn, "", std::string(kOrganization)}, CertUsage::kServer, now - kBackdate, now + 825 * kDay,
                  options.server_dns, options.server_ips};
    return IssueTo(ca, k->public_key(), spec, crt);
  };
  CW_RETURN_IF_ERROR(server("cartwright-broker", l.broker_crt, l.broker_key));
  CW_RETURN_IF_ERROR(server("cartwright-api", l.api_crt, l.api_key));
  CW_RETURN_IF_ERROR(IssueClientIdentity(l, std::string(kIngestServiceCn), l.ingest_crt, l.ingest_key, clock));
  CW_RETURN_IF_ERROR(NewKeyPair(l.command_key, l.command_pub));
  CW_RETURN_IF_ERROR(NewKeyPair(l.firmware_key, l.firmware_pub));
  log::Info("pki.initialised", {{"dir", l.dir}, {"ca_fingerprint", ca.certificate().Fingerprint()}});
  return Status::Ok();
}

Result<std::vector<crypto::PublicKey>> LoadFirmwareSigningKeys(const Layout& l) {
  std::vector<std::string> files;
  if (PathExists(l.firmware_pub)) files.push_back(l.firmware_pub);
  std::error_code ec;
  std::vector<std::string> more;
  for (const auto& e : std::filesystem::directory_iterator(l.firmware_keys_dir, ec)) {
    if (e.path().extension() == ".pub") more.push_back(e.path().string());
  }
  std::sort(more.begin(), more.end());
  files.insert(files.end(), more.begin(), more.end());
  if (files.empty()) return FailedPrecondition("no firmware-signing key in " + l.dir + " (run `cartwright pki init` first)");
  std::vector<crypto::PublicKey> keys;
  for (const auto& f : files) {
    CW_ASSIGN_OR_RETURN(std::string pem, ReadFile(f));
    auto key = crypto::PublicKey::FromPem(pem);
    if (!key.ok()) return InvalidArgument(f + ": " + key.error().message());
    keys.push_back(std::move(*key));
  }
  return keys;
}

Result<CertificateAuthority> LoadCa(const Layout& l) {
  if (!PathExists(l.ca_crt)) {
    return FailedPrecondition("no PKI in " + l.dir + " (run `cartwright pki init` first)");
  }
  CW_ASSIGN_OR_RETURN(std::string pem, ReadFile(l.ca_crt));
  CW_ASSIGN_OR_RETURN(auto cert, crypto::Certificate::FromPem(pem));
  CW_ASSIGN_OR_RETURN(auto key, SoftKeyStore::OpenFile(l.ca_key));
  return CertificateAuthority::Load(cert, std::move(key));
}

Status IssueClientIdentity(const Layout& l, const std::string& cn, const std::string& crt_path,
                           const std::string& key_path, Clock& clock) {
  CW_ASSIGN_OR_RETURN(auto ca, LoadCa(l));
  CW_ASSIGN_OR_RETURN(auto key, SoftKeyStore::CreateFile(key_path));
  Time now = clock.Now();
  CertSpec spec{{cn, "", std::string(kOrganization)}, CertUsage::kClient, now - kBackdate, now + 825 * kDay, {}, {}};
  return IssueTo(ca, key->public_key(), spec, crt_path);
}

Provisioner::Provisioner(const Layout& layout, CertificateAuthority ca, store::EntityStore& entities, Clock& clock,
                         Random& random)
    : layout_(layout), ca_(std::move(ca)), entities_(entities), clock_(clock), random_(random) {}

Result<ProvisionedCart> Provisioner::Register(const StoreId& store, std::optional<CartId> wanted,
                                              const std::string& serial, const crypto::PublicKey& key,
                                              const std::string& staging_dir, const std::string& out_dir) {
  CW_ASSIGN_OR_RETURN(std::string ca_pem, ReadFile(layout_.ca_crt));
  CW_ASSIGN_OR_RETURN(std::string command_pub, ReadFile(layout_.command_pub));
  // The cart's factory trust store: every key the fleet signs firmware with today.
  CW_ASSIGN_OR_RETURN(auto firmware_keys, LoadFirmwareSigningKeys(layout_));
  // Another provisioner may take the same number between NextCartNumber and AddCart: retry.
  for (int attempt = 0; attempt < 20; ++attempt) {
    CartId id = CartId::FromNumber(0);
    if (wanted) {
      id = *wanted;
    } else {
      CW_ASSIGN_OR_RETURN(uint32_t n, entities_.NextCartNumber());
      id = CartId::FromNumber(n);
    }
    Time now = clock_.Now();
    CertSpec spec{{id.str(), serial, std::string(kOrganization)}, CertUsage::kClient, now - kBackdate,
                  now + 10 * 365 * kDay, {}, {}};
    CW_ASSIGN_OR_RETURN(auto cert, ca_.Issue(key, spec));
    std::string cart_dir = out_dir + "/" + id.str();
    CW_RETURN_IF_ERROR(WriteFileAtomic(staging_dir + "/device.crt", cert.ToPem()));
    CW_RETURN_IF_ERROR(WriteFileAtomic(staging_dir + "/ca.crt", ca_pem));
    CW_RETURN_IF_ERROR(WriteFileAtomic(staging_dir + "/cloud-command.pub", command_pub));
    CW_RETURN_IF_ERROR(MakeDirs(staging_dir + "/firmware-keys", 0755));
    for (const auto& k : firmware_keys) {
      CW_RETURN_IF_ERROR(WriteFileAtomic(staging_dir + "/firmware-keys/" + k.Fingerprint() + ".pub", k.ToPem()));
    }
    if (PathExists(cart_dir)) return AlreadyExists(cart_dir + " already exists; refusing to overwrite a cart's files");
    if (::rename(staging_dir.c_str(), cart_dir.c_str()) != 0) return Internal("rename " + staging_dir + " to " + cart_dir);

    store::CartRecord rec{id, store, serial, cert.Fingerprint(), key.ToPem(), cert.ToPem(),
                          store::CartStatus::kActive, now};
    Status st = entities_.AddCart(rec);
    if (st.ok()) {
      log::Info("provision.cart", {{"cart", id.str()}, {"store", store.str()}, {"serial", serial}});
      return ProvisionedCart{id, serial, rec.cert_fingerprint, cart_dir};
    }
    ::rename(cart_dir.c_str(), staging_dir.c_str());
    // Retry only when someone else took this id; a clashing serial or key is the caller's problem.
    if (st.code() != Code::kAlreadyExists || wanted || !entities_.GetCart(id).ok()) return st;
  }
  return Unavailable("could not allocate a free cart id after 20 attempts");
}

namespace {
// A private directory in which a cart's files are assembled before it is renamed to its id.
Result<std::string> MakeStaging(const std::string& out_dir, Random& random) {
  std::string dir = out_dir + "/.provisioning-" + random.Hex(6);
  CW_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  return dir;
}

class StagingCleanup {
 public:
  explicit StagingCleanup(std::string dir) : dir_(std::move(dir)) {}
  ~StagingCleanup() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);  // gone already after a successful rename
  }

 private:
  std::string dir_;
};
}  // namespace

Result<std::vector<ProvisionedCart>> Provisioner::NewCarts(const StoreId& store, int count, const std::string& out_dir) {
  if (count < 1) return InvalidArgument("the number of new carts must be at least 1");
  auto s = entities_.GetStore(store);
  if (!s.ok()) return s.error().WithContext("register it first with `cartwright store add`");
  CW_RETURN_IF_ERROR(MakeDirs(out_dir, 0755));
  std::vector<ProvisionedCart> out;
  for (int i = 0; i < count; ++i) {
    std::string serial = "CW2";
    for (char c : random_.Hex(5)) serial += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CW_ASSIGN_OR_RETURN(std::string staging, MakeStaging(out_dir, random_));
    StagingCleanup cleanup(staging);
    // The key is generated inside the cart's own key store; the station sees only the public half.
    CW_ASSIGN_OR_RETURN(auto key, SoftKeyStore::CreateFile(staging + "/device.key"));
    CW_ASSIGN_OR_RETURN(ProvisionedCart cart, Register(store, std::nullopt, serial, key->public_key(), staging, out_dir));
    out.push_back(std::move(cart));
  }
  return out;
}

Result<ProvisionedCart> Provisioner::SignCsr(const StoreId& store, const std::string& csr_pem, const std::string& out_dir) {
  auto s = entities_.GetStore(store);
  if (!s.ok()) return s.error().WithContext("register it first with `cartwright store add`");
  CW_ASSIGN_OR_RETURN(auto csr, crypto::CertificateRequest::FromPem(csr_pem));
  const auto& subject = csr.subject();
  if (subject.serial_number.empty()) {
    return InvalidArgument("CSR subject has no serialNumber (the cart's factory serial)");
  }
  std::optional<CartId> wanted;
  if (!subject.common_name.empty()) {
    auto id = CartId::Parse(subject.common_name);
    if (!id.ok()) {
      return InvalidArgument("CSR common name '" + subject.common_name.substr(0, 40) +
                             "' is not a cart id (CART- followed by 6 digits)");
    }
    wanted = *id;
  }
  CW_RETURN_IF_ERROR(MakeDirs(out_dir, 0755));
  CW_ASSIGN_OR_RETURN(std::string staging, MakeStaging(out_dir, random_));
  StagingCleanup cleanup(staging);
  return Register(store, wanted, subject.serial_number, csr.public_key(), staging, out_dir);
}

}  // namespace cw::pki
