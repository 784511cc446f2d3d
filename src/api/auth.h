// api/auth.h — who is asking: logins, bearer tokens and the principal every request runs as.
//
// Login takes a password (and, for ops, a TOTP code) and returns a short-lived access token and a
// longer refresh token. Both are 256-bit random strings; only their SHA-256 digests are stored
// (store::ApiToken), so a copy of the database lets nobody in. A refresh token is single-use:
// refreshing revokes it and returns a new pair, and presenting a revoked refresh token again —
// the sign that it was stolen — revokes every token of that user (RFC 6819 §5.2.2.3).
//
// Repeated failures are slowed: after `max_failures` wrong attempts for one user name (or from
// one client address) within `failure_window`, further attempts are refused with
// kResourceExhausted for a lockout that doubles with every further failure, whether or not the
// password is right. The state is per process; the audit log keeps every attempt.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "api/credentials.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/status.h"
#include "store/entity_store.h"

namespace cw::api {

struct Principal {
  std::string user;
  store::Role role = store::Role::kStaff;
  std::optional<StoreId> store;  // staff: the one store they work in

  bool SeesAllStores() const { return role != store::Role::kStaff; }
  bool CanSee(const StoreId& s) const { return SeesAllStores() || (store && *store == s); }
};

struct AuthOptions {
  Duration access_ttl = std::chrono::minutes(15);
  Duration refresh_ttl = std::chrono::hours(12);
  int max_failures = 5;
  Duration failure_window = std::chrono::minutes(15);
  Duration first_lockout = std::chrono::seconds(30);
  Duration max_lockout = std::chrono::minutes(15);
  TotpParams totp;
};

struct LoginRequest {
  std::string user;
  std::string password;
  std::string totp;    // required for ops
  std::string client;  // the peer address, for per-client throttling
};

struct TokenPair {
  std::string access_token, refresh_token;
  Time access_expires_at{}, refresh_expires_at{};
  Principal principal;
};

// A refused login; `retry_after` is set when the refusal is a lockout.
struct LoginError {
  Status status;  // kUnauthenticated, kResourceExhausted, or store trouble
  std::optional<Duration> retry_after;
  std::string user;  // who it was for (to audit), as given
  LoginError(Status s) : status(std::move(s)) {}  // NOLINT: implicit, so CW_RETURN_IF_ERROR works
  LoginError(Status s, std::optional<Duration> retry, std::string u)
      : status(std::move(s)), retry_after(retry), user(std::move(u)) {}
  Status ToStatus() const { return status; }
};

class Authenticator {
 public:
  Authenticator(store::EntityStore& entities, Clock& clock, AuthOptions options = {});

  // Checks the credentials and issues a token pair. Every wrong credential gives the same
  // kUnauthenticated message, so the answer does not tell which user names exist.
  Result<TokenPair, LoginError> Login(const LoginRequest& request);
  // Exchanges a refresh token for a new pair (the old one is revoked). kUnauthenticated when it
  // is unknown, expired or revoked.
  Result<TokenPair> Refresh(std::string_view refresh_token);
  // The principal behind an access token; kUnauthenticated when it is missing, unknown, expired,
  // revoked or its user disabled.
  Result<Principal> Authenticate(std::string_view access_token);
  // Revokes the pair's access token (logout). Ok for an unknown token.
  Status Revoke(std::string_view token);

  const AuthOptions& options() const { return options_; }

 private:
  struct Failures {
    int count = 0;
    Time first{}, last{};
  };
  std::optional<Duration> LockedFor(const std::string& key, Time now);
  void RecordFailure(const std::string& key, Time now);
  Result<TokenPair> Issue(const store::UserRecord& user, Time now);
  // The stored token of `kind` ("access" or "refresh", issued with `prefix`) behind `token`;
  // kUnauthenticated when it is not one or unknown.
  Result<store::ApiToken> Stored(std::string_view token, std::string_view prefix, std::string_view kind);

  store::EntityStore& entities_;
  Clock& clock_;
  AuthOptions options_;
  std::string dummy_hash_;  // verified for unknown users, so they cost as much as known ones
  std::mutex mu_;
  std::map<std::string, Failures> failures_;       // "user:NAME" and "client:ADDR"
  std::map<std::string, int64_t> last_totp_step_;  // a code is accepted once per user
};

std::string TokenDigest(std::string_view token);

}  // namespace cw::api
