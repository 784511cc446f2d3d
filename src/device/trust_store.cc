#include "device/trust_store.h"

#include <filesystem>

#include "core/files.h"

namespace cw::device {

Result<TrustStore> TrustStore::Open(std::string dir, const std::vector<crypto::PublicKey>& factory_keys) {
  CW_RETURN_IF_ERROR(MakeDirs(dir, 0700));
  TrustStore t(dir);
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    if (e.path().extension() != ".pub") continue;
    CW_ASSIGN_OR_RETURN(std::string pem, ReadFile(e.path().string()));
    auto key = crypto::PublicKey::FromPem(pem);
    if (!key.ok()) return Corruption(e.path().string() + " is not a P-256 public key");
    std::string fp = key->Fingerprint();
    if (e.path().stem().string() != fp) return Corruption(e.path().string() + " is not named by its key's fingerprint");
    t.keys_.emplace(fp, std::move(*key));
  }
  if (ec) return Unavailable("reading trust store " + dir + ": " + ec.message());
  if (t.keys_.empty()) {
    for (const auto& k : factory_keys) CW_RETURN_IF_ERROR(t.Add(k));
  }
  return t;
}

const crypto::PublicKey* TrustStore::Find(const std::string& fingerprint) const {
  auto it = keys_.find(fingerprint);
  return it == keys_.end() ? nullptr : &it->second;
}

std::vector<std::string> TrustStore::Fingerprints() const {
  std::vector<std::string> out;
  for (const auto& [fp, key] : keys_) out.push_back(fp);
  return out;
}

Status TrustStore::Add(const crypto::PublicKey& key) {
  std::string fp = key.Fingerprint();
  if (keys_.count(fp)) return Status::Ok();
  CW_RETURN_IF_ERROR(WriteFileAtomic(dir_ + "/" + fp + ".pub", key.ToPem(), 0600));
  keys_.emplace(fp, key);
  return Status::Ok();
}

}  // namespace cw::device
