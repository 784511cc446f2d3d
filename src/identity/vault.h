// identity/vault.h — the Tier-3 PII vault: the one place that holds data which identifies a
// person directly (e-mail, full name, phone, address, payment-method tokens tied to an account).
//
// - Its own database (`sqlite:DATA_DIR/vault.db` or its own PostgreSQL database), never the
//   entity store's; Tier 2 knows a person only as a random account id.
// - Every PII column is AES-256-GCM under a per-domain data key (`contact`, `payment`), bound to
//   its row and column as associated data so a ciphertext cannot be moved to another row. Data
//   keys are versioned and stored wrapped by a master key; master keys live in a local key file
//   (mode 0600, refused otherwise) with versions too. Rotating a domain makes a new version that
//   new writes use; older versions stay readable until the domain is re-encrypted. Rotating the
//   master re-wraps every data key.
// - Lookups by a secret (a payment token, an e-mail) use a blind index: HMAC-SHA256 under the
//   `index` key, so the vault finds a row without decrypting anything and Tier 2 can keep an
//   anonymous card holder by the same index without ever seeing the token.
// - Every decrypt and every Tier 2 ↔ Tier 3 join appends to the vault's own hash-chained audit
//   log (actor, role, purpose, account, time); a decrypt without a purpose is refused.
//
// Thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "core/status.h"
#include "store/audit_log.h"

namespace cw::identity {

struct Person {
  std::string email;
  std::string full_name;
  std::string phone;    // may be empty
  std::string address;  // may be empty
};

// Who reads and why; written to the audit log with every access.
struct Access {
  std::string actor;    // "identity", a user name, "cli:<user>"
  std::string role;     // service|ops|auditor|operator
  std::string purpose;  // required for decrypts, e.g. "greet the customer on the cart"
};

struct KeyInfo {
  std::string domain;
  int64_t version = 0;
  int64_t master_version = 0;  // the master key version that wraps it
  Time created_at{};
  int64_t values = 0;          // ciphertexts still under this version
};

class Vault {
 public:
  // Opens (creating) the vault database at `uri` (sqlite:PATH | postgresql://…) with the master
  // key file at `key_file`. A missing key file is created (0600, in a 0700 directory) only for
  // a vault without data keys yet; otherwise FailedPrecondition, since nothing could be read.
  static Result<std::unique_ptr<Vault>> Open(const std::string& uri, const std::string& key_file, Clock& clock);
  ~Vault();

  // Stores a person for an account. AlreadyExists if the account has one or another account has
  // the same e-mail (compared case-insensitively, through the blind index).
  Status AddPerson(const AccountId& account, const Person& person, const Access& access);
  // Decrypts the whole record (audited). NotFound if the account has none.
  Result<Person> ReadPerson(const AccountId& account, const Access& access);
  // Decrypts the name only and returns its first word: all a cart may show (audited).
  Result<std::string> FirstName(const AccountId& account, const Access& access);
  // The account with this e-mail, if any (a logged join).
  Result<std::optional<AccountId>> AccountForEmail(const std::string& email, const Access& access);

  // Ties a payment-method token to an account. AlreadyExists if the token is tied to one.
  Status AddPaymentToken(const AccountId& account, const std::string& token, const Access& access);
  // The account a token is tied to, if any (a logged join; nothing is decrypted).
  Result<std::optional<AccountId>> AccountForPaymentToken(const std::string& token, const Access& access);
  // The blind index of a payment token (what Tier 2 keeps for an anonymous card holder).
  std::string PaymentTokenIndex(const std::string& token) const;

  // A new data-key version for `domain` (contact|payment); with `reencrypt`, every value under an
  // older version is re-encrypted under it and the older versions are deleted.
  Status RotateDomain(const std::string& domain, bool reencrypt, const Access& access);
  // A new master key version in the key file; every data key is re-wrapped under it.
  Status RotateMaster(const Access& access);
  Result<std::vector<KeyInfo>> Keys();

  store::AuditLog& audit();

 private:
  struct Impl;
  explicit Vault(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cw::identity
