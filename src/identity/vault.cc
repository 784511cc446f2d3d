#include "identity/vault.h"

#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>

#include "core/base64.h"
#include "core/files.h"
#include "crypto/aead.h"
#include "store/sql.h"

namespace cw::identity {
namespace {

using store::sql::Rows;
using store::sql::Tx;

const std::vector<store::sql::Migration>& Migrations() {
  static const std::string v1 = R"sql(
CREATE TABLE data_keys (
  domain         TEXT NOT NULL,
  version        BIGINT NOT NULL,
  master_version BIGINT NOT NULL,
  wrapped        TEXT NOT NULL,
  created_at_us  BIGINT NOT NULL,
  PRIMARY KEY (domain, version)
);
CREATE TABLE people (
  account_id    TEXT PRIMARY KEY,
  email_index   TEXT NOT NULL UNIQUE,
  email         TEXT NOT NULL,
  full_name     TEXT NOT NULL,
  phone         TEXT,
  address       TEXT,
  created_at_us BIGINT NOT NULL
);
CREATE TABLE payment_methods (
  token_index   TEXT PRIMARY KEY,
  account_id    TEXT NOT NULL,
  token         TEXT NOT NULL,
  created_at_us BIGINT NOT NULL
);
CREATE INDEX payment_methods_by_account ON payment_methods (account_id);
)sql" + store::AuditTableSql("vault_audit");
  static const std::vector<store::sql::Migration> migrations = {{v1}};
  return migrations;
}

// Every encrypted column: where it is, which row key binds it, which domain's key seals it.
struct EncryptedColumn {
  std::string_view table, row_key, column, domain;
};
constexpr EncryptedColumn kColumns[] = {
    {"people", "account_id", "email", "contact"},
    {"people", "account_id", "full_name", "contact"},
    {"people", "account_id", "phone", "contact"},
    {"people", "account_id", "address", "contact"},
    {"payment_methods", "token_index", "token", "payment"},
};
constexpr std::string_view kRotatable[] = {"contact", "payment"};

int64_t Micros(Time t) { return t.time_since_epoch().count(); }

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string_view KeyBytes(const crypto::SymmetricKey& k) {
  return {reinterpret_cast<const char*>(k.data()), k.size()};
}

Result<crypto::SymmetricKey> KeyFrom(std::string_view bytes, const std::string& what) {
  if (bytes.size() != 32) return Corruption(what + " is not a 256-bit key");
  crypto::SymmetricKey k;
  std::copy(bytes.begin(), bytes.end(), k.begin());
  return k;
}

// The master key file: "master <version> <base64url key>" lines; # comments.
struct MasterKeys {
  std::map<int64_t, crypto::SymmetricKey> versions;
  int64_t newest() const { return versions.empty() ? 0 : versions.rbegin()->first; }
};

Result<MasterKeys> LoadMasterKeys(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return NotFound("vault key file " + path + " does not exist");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", st.st_mode & 0777);
    return FailedPrecondition("vault key file " + path + " is readable by others (mode " + mode +
                              "); run chmod 600 " + path);
  }
  CW_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  MasterKeys keys;
  std::istringstream lines(text);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string kind, version, b64;
    fields >> kind >> version >> b64;
    int64_t v = 0;
    auto [end, ec] = std::from_chars(version.data(), version.data() + version.size(), v);
    auto raw = Base64UrlDecode(b64);
    std::string where = path + ":" + std::to_string(n);
    if (kind != "master" || ec != std::errc() || v < 1 || !raw) {
      return Corruption(where + ": expected 'master <version> <base64url key>'");
    }
    CW_ASSIGN_OR_RETURN(auto key, KeyFrom(*raw, where));
    keys.versions[v] = key;
  }
  if (keys.versions.empty()) return Corruption("vault key file " + path + " holds no master key");
  return keys;
}

Status WriteMasterKeys(const std::string& path, const MasterKeys& keys) {
  std::string text =
      "# Cartwright PII vault master keys. Secret: keep it apart from the vault's database and its backups.\n"
      "# The newest version wraps the data keys; older ones may be removed once no backup needs them.\n";
  for (const auto& [v, k] : keys.versions) {
    text += "master " + std::to_string(v) + " " + Base64UrlEncode(KeyBytes(k)) + "\n";
  }
  CW_RETURN_IF_ERROR(MakeDirs(std::filesystem::path(path).parent_path().string(), 0700));
  return WriteFileAtomic(path, text, 0600);
}

}  // namespace

struct Vault::Impl {
  std::unique_ptr<store::sql::Database> db;
  std::unique_ptr<store::AuditLog> audit;
  std::string key_file;
  Clock& clock;

  std::mutex mu;  // guards the key caches below
  MasterKeys masters;
  std::map<std::pair<std::string, int64_t>, crypto::SymmetricKey> data_keys;
  std::map<std::string, int64_t> newest;  // domain → version used for new writes

  Impl(Clock& c) : clock(c) {}

  Status LoadDataKeys() {
    CW_ASSIGN_OR_RETURN(Rows rows, db->Query("SELECT domain, version, master_version, wrapped FROM data_keys"));
    std::lock_guard lock(mu);
    data_keys.clear();
    newest.clear();
    for (const auto& r : rows) {
      std::string domain = r.Text(0);
      int64_t version = r.Int(1), mv = r.Int(2);
      auto master = masters.versions.find(mv);
      std::string what = "data key " + domain + " v" + std::to_string(version);
      if (master == masters.versions.end()) {
        return FailedPrecondition(what + " is wrapped by master key v" + std::to_string(mv) + ", which " + key_file +
                                  " does not hold");
      }
      auto wrapped = Base64UrlDecode(r.Text(3));
      if (!wrapped) return Corruption(what + " is not base64url");
      auto raw = crypto::Open(master->second, *wrapped, "data-key/" + domain + "/" + std::to_string(version));
      if (!raw.ok()) return Corruption(what + " does not unwrap under master v" + std::to_string(mv) + ": " + raw.error().message());
      CW_ASSIGN_OR_RETURN(auto key, KeyFrom(*raw, what));
      data_keys[{domain, version}] = key;
      newest[domain] = std::max(newest[domain], version);
    }
    return Status::Ok();
  }

  Status AddDataKey(Tx& tx, const std::string& domain, int64_t version) {
    CW_ASSIGN_OR_RETURN(auto key, crypto::RandomKey());
    std::lock_guard lock(mu);
    int64_t mv = masters.newest();
    CW_ASSIGN_OR_RETURN(std::string wrapped, crypto::Seal(masters.versions.at(mv), KeyBytes(key),
                                                          "data-key/" + domain + "/" + std::to_string(version)));
    return tx.Exec("INSERT INTO data_keys (domain, version, master_version, wrapped, created_at_us) VALUES ($1, $2, $3, $4, $5)",
                   {domain, version, mv, Base64UrlEncode(wrapped), Micros(clock.Now())})
        .status();
  }

  std::pair<int64_t, crypto::SymmetricKey> Newest(const std::string& domain) {
    std::lock_guard lock(mu);
    int64_t v = newest.at(domain);
    return {v, data_keys.at({domain, v})};
  }

  std::string Index(std::string_view purpose, std::string_view value) {
    auto [_, key] = Newest("index");
    return crypto::HmacSha256Hex(key, std::string(purpose) + ":" + std::string(value));
  }

  // "domain:version:base64url(sealed)"
  Result<std::string> Encrypt(const std::string& domain, std::string_view value, const std::string& aad) {
    auto [version, key] = Newest(domain);
    CW_ASSIGN_OR_RETURN(std::string sealed, crypto::Seal(key, value, aad));
    return domain + ":" + std::to_string(version) + ":" + Base64UrlEncode(sealed);
  }

  Result<std::string> Decrypt(const std::string& stored, const std::string& aad) {
    size_t a = stored.find(':'), b = stored.find(':', a == std::string::npos ? 0 : a + 1);
    if (a == std::string::npos || b == std::string::npos) return Corruption("vault value is not domain:version:data");
    std::string domain = stored.substr(0, a);
    int64_t version = std::atoll(stored.substr(a + 1, b - a - 1).c_str());
    crypto::SymmetricKey key;
    {
      std::lock_guard lock(mu);
      auto it = data_keys.find({domain, version});
      if (it == data_keys.end()) return Corruption("vault value needs data key " + domain + " v" + std::to_string(version) + ", which is gone");
      key = it->second;
    }
    auto sealed = Base64UrlDecode(stored.substr(b + 1));
    if (!sealed) return Corruption("vault value is not base64url");
    auto plain = crypto::Open(key, *sealed, aad);
    if (!plain.ok()) return Corruption("vault value for " + aad + " fails authentication (tampered or moved)");
    return plain;
  }

  // A Tier 3 → Tier 2 lookup by blind index: the account id, if any, and a logged join.
  Result<std::optional<AccountId>> Join(std::string_view sql, const std::string& index, std::string_view action,
                                        const Access& access) {
    CW_ASSIGN_OR_RETURN(Rows rows, db->Query(sql, {index}));
    std::optional<AccountId> out;
    if (!rows.empty()) {
      CW_ASSIGN_OR_RETURN(AccountId id, AccountId::Parse(rows[0].Text(0)));
      out = id;
    }
    CW_RETURN_IF_ERROR(Log(access, action, out ? "account=" + out->str() : "account=none", out ? "ok" : "not_found", false));
    return out;
  }

  Status Log(const Access& access, std::string_view action, const std::string& target, std::string_view outcome,
             bool pii) {
    return audit
        ->Append({.actor = access.actor, .role = access.role, .action = std::string(action), .target = target,
                  .purpose = access.purpose, .outcome = std::string(outcome), .pii = pii})
        .status();
  }
};

Vault::Vault(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Vault::~Vault() = default;

Result<std::unique_ptr<Vault>> Vault::Open(const std::string& uri, const std::string& key_file, Clock& clock) {
  auto impl = std::make_unique<Impl>(clock);
  impl->key_file = key_file;
  size_t colon = uri.find(':');
  std::string scheme = colon == std::string::npos ? "" : uri.substr(0, colon);
  if (scheme == "sqlite") {
    CW_ASSIGN_OR_RETURN(impl->db, store::sql::OpenSqlite(uri.substr(colon + 1)));
  } else if (scheme == "postgresql" || scheme == "postgres") {
    CW_ASSIGN_OR_RETURN(impl->db, store::sql::OpenPostgres(uri));
  } else {
    return InvalidArgument("vault URI '" + uri + "': expected sqlite:PATH or postgresql://…");
  }
  CW_RETURN_IF_ERROR(impl->db->Migrate(Migrations(), Micros(clock.Now())).WithContext("vault " + uri));
  impl->audit = store::OpenSqlAuditLog(*impl->db, "vault_audit", clock);
  CW_ASSIGN_OR_RETURN(Rows existing, impl->db->Query("SELECT COUNT(*) FROM data_keys"));
  bool fresh = existing[0].Int(0) == 0;
  auto masters = LoadMasterKeys(key_file);
  if (!masters.ok() && masters.error().code() == Code::kNotFound && fresh) {
    MasterKeys created;
    CW_ASSIGN_OR_RETURN(created.versions[1], crypto::RandomKey());
    CW_RETURN_IF_ERROR(WriteMasterKeys(key_file, created));
    masters = std::move(created);
  }
  if (!masters.ok()) {
    if (masters.error().code() == Code::kNotFound) {
      return FailedPrecondition("the vault in " + uri + " has data keys but its master key file " + key_file +
                                " is missing; restore it from its backup");
    }
    return masters.error();
  }
  impl->masters = std::move(masters).value();
  if (fresh) {
    Status st = impl->db->Transact([&](Tx& tx) -> Status {
      for (auto domain : {"contact", "payment", "index"}) CW_RETURN_IF_ERROR(impl->AddDataKey(tx, domain, 1));
      return Status::Ok();
    });
    // Two processes creating the vault at once: the loser reads the winner's keys.
    if (!st.ok() && st.code() != Code::kAlreadyExists) return st;
  }
  CW_RETURN_IF_ERROR(impl->LoadDataKeys());
  return std::unique_ptr<Vault>(new Vault(std::move(impl)));
}

store::AuditLog& Vault::audit() { return *impl_->audit; }

Status Vault::AddPerson(const AccountId& account, const Person& p, const Access& access) {
  if (p.email.find('@') == std::string::npos) return InvalidArgument("email '" + p.email + "' has no @");
  if (p.full_name.empty()) return InvalidArgument("a person needs a name");
  std::string id = account.str();
  auto enc = [&](const std::string& column, const std::string& value) -> Result<store::sql::Value> {
    if (value.empty()) return store::sql::Null();
    CW_ASSIGN_OR_RETURN(std::string v, impl_->Encrypt("contact", value, id + "/" + column));
    return store::sql::Value(v);
  };
  CW_ASSIGN_OR_RETURN(auto email, enc("email", p.email));
  CW_ASSIGN_OR_RETURN(auto name, enc("full_name", p.full_name));
  CW_ASSIGN_OR_RETURN(auto phone, enc("phone", p.phone));
  CW_ASSIGN_OR_RETURN(auto address, enc("address", p.address));
  auto n = impl_->db->Exec(
      "INSERT INTO people (account_id, email_index, email, full_name, phone, address, created_at_us) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7)",
      {id, impl_->Index("email", Lower(p.email)), email, name, phone, address, Micros(impl_->clock.Now())});
  if (!n.ok()) {
    if (n.error().code() == Code::kAlreadyExists) return AlreadyExists("the account or that e-mail is already in the vault");
    return n.status();
  }
  return impl_->Log(access, "write", "account=" + id, "ok", true);
}

Result<Person> Vault::ReadPerson(const AccountId& account, const Access& access) {
  if (access.purpose.empty()) return InvalidArgument("reading PII needs a purpose");
  CW_ASSIGN_OR_RETURN(Rows rows, impl_->db->Query("SELECT email, full_name, phone, address FROM people WHERE account_id = $1",
                                                  {account.str()}));
  if (rows.empty()) {
    CW_RETURN_IF_ERROR(impl_->Log(access, "decrypt", "account=" + account.str(), "not_found", false));
    return NotFound("the vault holds no person for account " + account.str());
  }
  // Logged before the plaintext leaves: an access that cannot be audited does not happen.
  CW_RETURN_IF_ERROR(impl_->Log(access, "decrypt", "account=" + account.str() + ";fields=email,full_name,phone,address",
                                "ok", true));
  Person p;
  std::string* fields[] = {&p.email, &p.full_name, &p.phone, &p.address};
  const char* columns[] = {"email", "full_name", "phone", "address"};
  for (size_t i = 0; i < 4; ++i) {
    if (rows[0].IsNull(i)) continue;
    CW_ASSIGN_OR_RETURN(*fields[i], impl_->Decrypt(rows[0].Text(i), account.str() + "/" + columns[i]));
  }
  return p;
}

Result<std::string> Vault::FirstName(const AccountId& account, const Access& access) {
  if (access.purpose.empty()) return InvalidArgument("reading PII needs a purpose");
  CW_ASSIGN_OR_RETURN(Rows rows, impl_->db->Query("SELECT full_name FROM people WHERE account_id = $1", {account.str()}));
  if (rows.empty()) return NotFound("the vault holds no person for account " + account.str());
  CW_RETURN_IF_ERROR(impl_->Log(access, "decrypt", "account=" + account.str() + ";fields=first_name", "ok", true));
  CW_ASSIGN_OR_RETURN(std::string name, impl_->Decrypt(rows[0].Text(0), account.str() + "/full_name"));
  return name.substr(0, name.find(' '));
}

Result<std::optional<AccountId>> Vault::AccountForEmail(const std::string& email, const Access& access) {
  return impl_->Join("SELECT account_id FROM people WHERE email_index = $1", impl_->Index("email", Lower(email)),
                     "join:email->account", access);
}

std::string Vault::PaymentTokenIndex(const std::string& token) const { return impl_->Index("payment_token", token); }

Status Vault::AddPaymentToken(const AccountId& account, const std::string& token, const Access& access) {
  std::string index = PaymentTokenIndex(token);
  CW_ASSIGN_OR_RETURN(std::string sealed, impl_->Encrypt("payment", token, index + "/token"));
  auto n = impl_->db->Exec("INSERT INTO payment_methods (token_index, account_id, token, created_at_us) VALUES ($1, $2, $3, $4)",
                           {index, account.str(), sealed, Micros(impl_->clock.Now())});
  if (!n.ok()) {
    if (n.error().code() == Code::kAlreadyExists) return AlreadyExists("that payment token is already tied to an account");
    return n.status();
  }
  return impl_->Log(access, "write:payment_token", "account=" + account.str(), "ok", true);
}

Result<std::optional<AccountId>> Vault::AccountForPaymentToken(const std::string& token, const Access& access) {
  return impl_->Join("SELECT account_id FROM payment_methods WHERE token_index = $1", PaymentTokenIndex(token),
                     "join:payment_token->account", access);
}

Status Vault::RotateDomain(const std::string& domain, bool reencrypt, const Access& access) {
  if (std::find(std::begin(kRotatable), std::end(kRotatable), domain) == std::end(kRotatable)) {
    return InvalidArgument("domain '" + domain + "' cannot be rotated (rotatable: contact, payment)");
  }
  int64_t next = impl_->Newest(domain).first + 1;
  CW_RETURN_IF_ERROR(impl_->db->Transact([&](Tx& tx) { return impl_->AddDataKey(tx, domain, next); }));
  CW_RETURN_IF_ERROR(impl_->LoadDataKeys());
  int64_t rewritten = 0;
  if (reencrypt) {
    std::string current_prefix = domain + ":" + std::to_string(next) + ":";
    CW_RETURN_IF_ERROR(impl_->db->Transact([&](Tx& tx) -> Status {
      for (const auto& c : kColumns) {
        if (c.domain != domain) continue;
        std::string table(c.table), key(c.row_key), column(c.column);
        CW_ASSIGN_OR_RETURN(Rows rows, tx.Query("SELECT " + key + ", " + column + " FROM " + table + " WHERE " + column +
                                                " IS NOT NULL"));
        for (const auto& r : rows) {
          if (r.Text(1).starts_with(current_prefix)) continue;
          std::string aad = r.Text(0) + "/" + column;
          CW_ASSIGN_OR_RETURN(std::string plain, impl_->Decrypt(r.Text(1), aad));
          CW_ASSIGN_OR_RETURN(std::string sealed, impl_->Encrypt(domain, plain, aad));
          CW_RETURN_IF_ERROR(tx.Exec("UPDATE " + table + " SET " + column + " = $1 WHERE " + key + " = $2",
                                     {sealed, r.Text(0)}).status());
          ++rewritten;
        }
      }
      return tx.Exec("DELETE FROM data_keys WHERE domain = $1 AND version < $2", {domain, next}).status();
    }));
    CW_RETURN_IF_ERROR(impl_->LoadDataKeys());
  }
  return impl_->Log(access, reencrypt ? "rotate+reencrypt" : "rotate",
                    "domain=" + domain + ";version=" + std::to_string(next) + ";rewritten=" + std::to_string(rewritten),
                    "ok", false);
}

Status Vault::RotateMaster(const Access& access) {
  MasterKeys updated;
  {
    std::lock_guard lock(impl_->mu);
    updated = impl_->masters;
  }
  int64_t next = updated.newest() + 1;
  CW_ASSIGN_OR_RETURN(updated.versions[next], crypto::RandomKey());
  // The file first: if re-wrapping fails half-way, every data key is still under a master the
  // file holds.
  CW_RETURN_IF_ERROR(WriteMasterKeys(impl_->key_file, updated));
  {
    std::lock_guard lock(impl_->mu);
    impl_->masters = updated;
  }
  CW_RETURN_IF_ERROR(impl_->db->Transact([&](Tx& tx) -> Status {
    std::lock_guard lock(impl_->mu);
    for (const auto& [id, key] : impl_->data_keys) {
      CW_ASSIGN_OR_RETURN(std::string wrapped, crypto::Seal(updated.versions.at(next), KeyBytes(key),
                                                            "data-key/" + id.first + "/" + std::to_string(id.second)));
      CW_RETURN_IF_ERROR(tx.Exec("UPDATE data_keys SET wrapped = $1, master_version = $2 WHERE domain = $3 AND version = $4",
                                 {Base64UrlEncode(wrapped), next, id.first, id.second}).status());
    }
    return Status::Ok();
  }));
  return impl_->Log(access, "rotate-master", "master_version=" + std::to_string(next), "ok", false);
}

Result<std::vector<KeyInfo>> Vault::Keys() {
  CW_ASSIGN_OR_RETURN(Rows rows, impl_->db->Query(
      "SELECT domain, version, master_version, created_at_us FROM data_keys ORDER BY domain, version"));
  std::vector<KeyInfo> out;
  for (const auto& r : rows) {
    KeyInfo k{r.Text(0), r.Int(1), r.Int(2), Time(Duration(r.Int(3))), 0};
    std::string prefix = k.domain + ":" + std::to_string(k.version) + ":%";
    for (const auto& c : kColumns) {
      if (c.domain != k.domain) continue;
      CW_ASSIGN_OR_RETURN(Rows n, impl_->db->Query("SELECT COUNT(*) FROM " + std::string(c.table) + " WHERE " +
                                                   std::string(c.column) + " LIKE $1", {prefix}));
      k.values += n[0].Int(0);
    }
    out.push_back(k);
  }
  return out;
}

}  // namespace cw::identity
