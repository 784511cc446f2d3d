// pki/pki.h — the fleet PKI on disk and the factory provisioning station.
//
// Layout under DATA_DIR/pki/ (created 0700, keys 0600):
//   ca.crt ca.key                       fleet root CA: signs every broker, API, service and cart cert
//   broker.crt broker.key               broker server certificate (SAN localhost, 127.0.0.1)
//   api.crt api.key                     REST API server certificate
//   services/ingest.crt|key             the cloud ingest service's client identity
//   command-signing.key|pub             signs cloud → cart commands and reject notices (pinned on carts)
//   firmware-signing.key|pub            signs firmware manifests (never the device CA)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/random.h"
#include "core/status.h"
#include "crypto/x509.h"
#include "store/entity_store.h"

namespace cw::pki {

// The Common Name of the ingest service's client certificate; the broker ACL grants it the
// cloud side of every cart topic.
inline constexpr std::string_view kIngestServiceCn = "cartwright-ingest";

struct Layout {
  explicit Layout(const std::string& data_dir);
  std::string dir;
  std::string ca_crt, ca_key;
  std::string broker_crt, broker_key;
  std::string api_crt, api_key;
  std::string ingest_crt, ingest_key;
  std::string command_key, command_pub;
  std::string firmware_key, firmware_pub;
  std::string firmware_keys_dir;  // further firmware-signing public keys (*.pub), e.g. during a rotation
};

// The firmware-signing public keys the fleet accepts releases from: firmware-signing.pub and every
// *.pub in firmware-keys/. FailedPrecondition (naming `cartwright pki init`) if there are none.
Result<std::vector<crypto::PublicKey>> LoadFirmwareSigningKeys(const Layout& layout);

struct InitOptions {
  bool force = false;  // replace an existing PKI (every cart must then be re-provisioned)
  std::vector<std::string> server_dns = {"localhost"};
  std::vector<std::string> server_ips = {"127.0.0.1"};
};

// Creates the whole layout. FailedPrecondition if a PKI exists and !force.
Status InitPki(const Layout& layout, const InitOptions& options, Clock& clock);

// Loads the CA for issuing. FailedPrecondition (naming `cartwright pki init`) if it is missing.
Result<crypto::CertificateAuthority> LoadCa(const Layout& layout);

// Issues a client certificate from the fleet CA, for tests and tools that need an identity
// beyond carts (e.g. a second cloud service). Writes CRT and KEY (0600).
Status IssueClientIdentity(const Layout& layout, const std::string& common_name, const std::string& crt_path,
                           const std::string& key_path, Clock& clock);

struct ProvisionedCart {
  CartId id;
  std::string serial;
  std::string cert_fingerprint;
  std::string dir;  // where its files were written ("" if none)
};

// The factory station: every new cart gets its key generated in its own key store, a certificate
// with CN = cart id and serialNumber = factory serial, and a registry row.
class Provisioner {
 public:
  Provisioner(const Layout& layout, crypto::CertificateAuthority ca, store::EntityStore& entities, Clock& clock,
              Random& random);

  // Creates `count` carts for `store`, writing OUT/CART-xxxxxx/{device.key, device.crt, ca.crt,
  // cloud-command.pub, firmware-keys/*.pub (the firmware-signing keys, the cart's factory trust
  // store)}. NotFound if the store is not registered.
  Result<std::vector<ProvisionedCart>> NewCarts(const StoreId& store, int count, const std::string& out_dir);

  // Signs a CSR made on a device whose key the cloud never sees. The CSR's subject must carry the
  // factory serial (serialNumber); its CN, if present, must be an unregistered cart id, otherwise
  // the next free id is assigned. Writes OUT/CART-xxxxxx/{device.crt, ca.crt, cloud-command.pub,
  // firmware-keys/*.pub}.
  Result<ProvisionedCart> SignCsr(const StoreId& store, const std::string& csr_pem, const std::string& out_dir);

 private:
  // Issues the certificate, completes the cart's files in `staging_dir`, renames it to
  // OUT/CART-xxxxxx and registers the cart; retries with the next id if another station took it.
  Result<ProvisionedCart> Register(const StoreId& store, std::optional<CartId> wanted, const std::string& serial,
                                   const crypto::PublicKey& key, const std::string& staging_dir,
                                   const std::string& out_dir);
  Layout layout_;
  crypto::CertificateAuthority ca_;
  store::EntityStore& entities_;
  Clock& clock_;
  Random& random_;
};

}  // namespace cw::pki
