// device/trust_store.h — the firmware-signing keys a cart accepts images from.
//
// Kept in flash as DIR/{fingerprint}.pub, one PEM public key per file. The factory keys (written
// by provisioning) seed it at first boot; after that it changes only by growing: an image that
// declares `adds_keys` adds them once it has been confirmed good, so a fleet can rotate its
// signing key by first shipping an image, signed by the old key, that teaches the new one. Both
// keys are then trusted at once (the rotation overlap), and the cart reports every fingerprint
// it holds in its boot event.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "crypto/ecdsa.h"

namespace cw::device {

class TrustStore {
 public:
  // Opens DIR (creating it), writing `factory_keys` into it when it holds no key yet.
  // Corruption when a file in it is not a P-256 public key or is not named by its fingerprint.
  static Result<TrustStore> Open(std::string dir, const std::vector<crypto::PublicKey>& factory_keys);

  // The key with this fingerprint, or nullptr if the cart does not trust it.
  const crypto::PublicKey* Find(const std::string& fingerprint) const;
  bool Trusts(const std::string& fingerprint) const { return Find(fingerprint) != nullptr; }
  // Every trusted fingerprint, sorted.
  std::vector<std::string> Fingerprints() const;
  // Trusts `key` from now on (durably: written before this returns). Adding a key already
  // trusted is Ok.
  Status Add(const crypto::PublicKey& key);

 private:
  explicit TrustStore(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
  std::map<std::string, crypto::PublicKey> keys_;  // by fingerprint
};

}  // namespace cw::device
