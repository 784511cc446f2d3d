#include "api/auth.h"

#include <algorithm>

#include "core/base64.h"
#include "core/log.h"
#include "crypto/hash.h"

namespace cw::api {
namespace {

constexpr std::string_view kAccessPrefix = "cwa_", kRefreshPrefix = "cwr_";
const char kBadCredentials[] = "wrong user name, password or one-time code";

Result<std::string> NewToken(std::string_view prefix) {
  CW_ASSIGN_OR_RETURN(std::string bytes, crypto::RandomBytes(32));
  return std::string(prefix) + Base64UrlEncode(bytes);
}

}  // namespace

std::string TokenDigest(std::string_view token) { return crypto::Sha256Hex(token); }

Authenticator::Authenticator(store::EntityStore& entities, Clock& clock, AuthOptions options)
    : entities_(entities), clock_(clock), options_(options) {
  auto dummy = HashPassword("not a password anybody has");
  dummy_hash_ = dummy.ok() ? *dummy : "";
}

std::optional<Duration> Authenticator::LockedFor(const std::string& key, Time now) {
  auto it = failures_.find(key);
  if (it == failures_.end()) return std::nullopt;
  Failures& f = it->second;
  if (now - f.last > options_.failure_window) {
    failures_.erase(it);
    return std::nullopt;
  }
  if (f.count < options_.max_failures) return std::nullopt;
  int doublings = std::min(f.count - options_.max_failures, 20);
  Duration lockout = std::min(options_.first_lockout * (int64_t{1} << doublings), options_.max_lockout);
  Time until = f.last + lockout;
  if (now >= until) return std::nullopt;
  return until - now;
}

void Authenticator::RecordFailure(const std::string& key, Time now) {
  Failures& f = failures_[key];
  if (f.count == 0 || now - f.last > options_.failure_window) f = Failures{0, now, now};
  f.count++;
  f.last = now;
}

Result<TokenPair, LoginError> Authenticator::Login(const LoginRequest& r) {
  Time now = clock_.Now();
  const std::string user_key = "user:" + r.user, client_key = "client:" + r.client;
  {
    std::lock_guard lock(mu_);
    auto locked = LockedFor(user_key, now);
    if (!locked && !r.client.empty()) locked = LockedFor(client_key, now);
    if (locked) {
      auto secs = std::chrono::duration_cast<std::chrono::seconds>(*locked).count() + 1;
      return LoginError(ResourceExhausted("too many failed logins; try again in " + std::to_string(secs) + " s"),
                        *locked, r.user);
    }
  }
  auto fail = [&]() -> LoginError {
    std::lock_guard lock(mu_);
    RecordFailure(user_key, now);
    if (!r.client.empty()) RecordFailure(client_key, now);
    return LoginError(Unauthenticated(kBadCredentials), std::nullopt, r.user);
  };

  auto user = entities_.GetUser(r.user);
  if (!user.ok() && user.error().code() != Code::kNotFound) return LoginError(user.error(), std::nullopt, r.user);
  // Unknown users cost one hash verification like known ones, so timing does not reveal names.
  auto matches = VerifyPassword(r.password, user.ok() ? user->password_hash : dummy_hash_);
  if (!matches.ok()) {
    log::Error("auth.bad_hash", {{"user", r.user}, {"error", matches.error().ToString()}});
    return fail();
  }
  if (!user.ok() || !*matches || user->disabled) return fail();
  if (user->role == store::Role::kOps) {
    auto step = VerifyTotp(user->totp_secret, r.totp, now, options_.totp);
    if (!step.ok()) return fail();
    std::lock_guard lock(mu_);
    auto [it, fresh] = last_totp_step_.try_emplace(user->name, *step);
    if (!fresh) {
      if (*step <= it->second) {  // this code (or an older one) was already used
        RecordFailure(user_key, now);
        return LoginError(Unauthenticated("that one-time code was already used; wait for the next one"), std::nullopt,
                          r.user);
      }
      it->second = *step;
    }
  }
  {
    std::lock_guard lock(mu_);
    failures_.erase(user_key);
  }
  auto pair = Issue(*user, now);
  if (!pair.ok()) return LoginError(pair.error(), std::nullopt, r.user);
  return std::move(pair).value();
}

Result<TokenPair> Authenticator::Issue(const store::UserRecord& user, Time now) {
  TokenPair p;
  CW_ASSIGN_OR_RETURN(p.access_token, NewToken(kAccessPrefix));
  CW_ASSIGN_OR_RETURN(p.refresh_token, NewToken(kRefreshPrefix));
  p.access_expires_at = now + options_.access_ttl;
  p.refresh_expires_at = now + options_.refresh_ttl;
  p.principal = {user.name, user.role, user.store};
  CW_RETURN_IF_ERROR(entities_.Batch([&]() -> Status {
    CW_RETURN_IF_ERROR(entities_.AddToken({TokenDigest(p.access_token), user.name, "access", now, p.access_expires_at}));
    return entities_.AddToken({TokenDigest(p.refresh_token), user.name, "refresh", now, p.refresh_expires_at});
  }));
  return p;
}

Result<store::ApiToken> Authenticator::Stored(std::string_view token, std::string_view prefix, std::string_view kind) {
  const std::string not_one = "not " + std::string(kind == "access" ? "an " : "a ") + std::string(kind) + " token";
  if (!token.starts_with(prefix)) return Unauthenticated(not_one);
  auto stored = entities_.GetToken(TokenDigest(token));
  if (!stored.ok()) {
    if (stored.error().code() == Code::kNotFound) return Unauthenticated("unknown " + std::string(kind) + " token");
    return stored.error();
  }
  if (stored->kind != kind) return Unauthenticated(not_one);
  return stored;
}

Result<TokenPair> Authenticator::Refresh(std::string_view refresh_token) {
  Time now = clock_.Now();
  CW_ASSIGN_OR_RETURN(store::ApiToken stored, Stored(refresh_token, kRefreshPrefix, "refresh"));
  if (stored.revoked) {
    log::Warn("auth.refresh_reused", {{"user", stored.user}});
    CW_RETURN_IF_ERROR(entities_.RevokeTokensOf(stored.user));
    return Unauthenticated("refresh token already used; every session of this user was signed out");
  }
  if (now >= stored.expires_at) return Unauthenticated("refresh token expired; log in again");
  CW_ASSIGN_OR_RETURN(store::UserRecord user, entities_.GetUser(stored.user));
  if (user.disabled) return Unauthenticated("user is disabled");
  CW_RETURN_IF_ERROR(entities_.RevokeToken(stored.digest));
  return Issue(user, now);
}

Result<Principal> Authenticator::Authenticate(std::string_view access_token) {
  if (access_token.empty()) return Unauthenticated("missing bearer token (Authorization: Bearer …)");
  CW_ASSIGN_OR_RETURN(store::ApiToken stored, Stored(access_token, kAccessPrefix, "access"));
  if (stored.revoked) return Unauthenticated("access token revoked");
  if (clock_.Now() >= stored.expires_at) return Unauthenticated("access token expired; refresh it");
  CW_ASSIGN_OR_RETURN(store::UserRecord user, entities_.GetUser(stored.user));
  if (user.disabled) return Unauthenticated("user is disabled");
  return Principal{user.name, user.role, user.store};
}

Status Authenticator::Revoke(std::string_view token) {
  Status st = entities_.RevokeToken(TokenDigest(token));
  return st.code() == Code::kNotFound ? Status::Ok() : st;
}

}  // namespace cw::api
