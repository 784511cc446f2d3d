// Logins, tokens and throttling over a real entity store, on the injected clock.
#include "api/auth.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "store/registry.h"

namespace cw::api {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const Time kT0 = *ParseWireTime("2026-11-22T10:00:00.000Z");
const StoreId kStore = *StoreId::Parse("STORE-001");

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    entities_ = std::move(store::Registry::WithBuiltinBackends().OpenEntity("sqlite::memory:")).value();
    ASSERT_TRUE(entities_->AddStore({kStore, "Markt", "freshco", store::Region::kEu, "Europe/Berlin", kT0}).ok());
    secret_ = *NewTotpSecret();
    // Cheap hashes keep the suite fast; the cost travels with each hash.
    AddUser("olga", store::Role::kOps, std::nullopt, "ops-pass", secret_);
    AddUser("sam", store::Role::kStaff, kStore, "staff-pass", "");
  }
  void AddUser(const std::string& name, store::Role role, std::optional<StoreId> store, const std::string& pw,
               const std::string& totp) {
    ASSERT_TRUE(entities_->AddUser({name, role, store, *HashPassword(pw, {.log2_n = 10}), totp, kT0, false}).ok());
  }
  LoginRequest Staff(const std::string& pw = "staff-pass", const std::string& client = "10.0.0.7") {
    return {"sam", pw, "", client};
  }

  ManualClock clock_{kT0};
  std::unique_ptr<store::EntityStore> entities_;
  std::string secret_;
};

TEST_F(AuthTest, StaffLogInWithAPasswordAndGetTheirStore) {
  Authenticator auth(*entities_, clock_);
  auto pair = auth.Login(Staff());
  ASSERT_TRUE(pair.ok()) << pair.error().status.ToString();
  EXPECT_TRUE(pair->access_token.starts_with("cwa_"));
  EXPECT_TRUE(pair->refresh_token.starts_with("cwr_"));
  EXPECT_EQ(pair->access_expires_at, kT0 + minutes(15));
  auto who = *auth.Authenticate(pair->access_token);
  EXPECT_EQ(who.user, "sam");
  EXPECT_EQ(who.role, store::Role::kStaff);
  EXPECT_TRUE(who.CanSee(kStore));
  EXPECT_FALSE(who.CanSee(*StoreId::Parse("STORE-002")));
  // Only the digest is stored.
  EXPECT_EQ(entities_->GetToken(pair->access_token).error().code(), Code::kNotFound);
  EXPECT_TRUE(entities_->GetToken(TokenDigest(pair->access_token)).ok());
}

TEST_F(AuthTest, WrongCredentialsAllLookTheSame) {
  Authenticator auth(*entities_, clock_);
  auto wrong_pw = auth.Login(Staff("nope"));
  auto no_user = auth.Login({"nobody", "staff-pass", "", "10.0.0.8"});
  ASSERT_FALSE(wrong_pw.ok());
  ASSERT_FALSE(no_user.ok());
  EXPECT_EQ(wrong_pw.error().status.code(), Code::kUnauthenticated);
  EXPECT_EQ(wrong_pw.error().status.message(), no_user.error().status.message());
}

TEST_F(AuthTest, OpsNeedAFreshOneTimeCode) {
  Authenticator auth(*entities_, clock_);
  EXPECT_EQ(auth.Login({"olga", "ops-pass", "", "c"}).error().status.code(), Code::kUnauthenticated);
  EXPECT_EQ(auth.Login({"olga", "ops-pass", "000000", "c"}).error().status.code(), Code::kUnauthenticated);
  std::string code = *TotpCode(secret_, clock_.Now());
  auto pair = auth.Login({"olga", "ops-pass", code, "c"});
  ASSERT_TRUE(pair.ok()) << pair.error().status.ToString();
  EXPECT_EQ(pair->principal.role, store::Role::kOps);
  // The same code again (a replay within its 30 s) is refused.
  auto replay = auth.Login({"olga", "ops-pass", code, "c"});
  ASSERT_FALSE(replay.ok());
  EXPECT_NE(replay.error().status.message().find("already used"), std::string::npos);
  clock_.Advance(seconds(30));
  EXPECT_TRUE(auth.Login({"olga", "ops-pass", *TotpCode(secret_, clock_.Now()), "c"}).ok());
}

TEST_F(AuthTest, RepeatedFailuresLockTheAccountWithGrowingDelays) {
  Authenticator auth(*entities_, clock_);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(auth.Login(Staff("guess")).error().status.code(), Code::kUnauthenticated);
  // Locked: even the right password is refused, with a retry time.
  auto locked = auth.Login(Staff());
  ASSERT_FALSE(locked.ok());
  EXPECT_EQ(locked.error().status.code(), Code::kResourceExhausted);
  ASSERT_TRUE(locked.error().retry_after.has_value());
  EXPECT_EQ(*locked.error().retry_after, seconds(30));
  clock_.Advance(seconds(31));
  EXPECT_EQ(auth.Login(Staff("guess")).error().status.code(), Code::kUnauthenticated);  // 6th failure
  auto longer = auth.Login(Staff());
  ASSERT_FALSE(longer.ok());
  EXPECT_EQ(*longer.error().retry_after, seconds(60));  // doubled
  clock_.Advance(seconds(61));
  EXPECT_TRUE(auth.Login(Staff()).ok());
  // A success clears the user's count (not the client's: one good account must not reset a
  // guessing client), so from another address one more mistake is just a mistake.
  EXPECT_EQ(auth.Login(Staff("guess", "10.0.0.8")).error().status.code(), Code::kUnauthenticated);
  EXPECT_TRUE(auth.Login(Staff("staff-pass", "10.0.0.8")).ok());
}

TEST_F(AuthTest, OneClientGuessingManyNamesIsSlowedToo) {
  Authenticator auth(*entities_, clock_);
  for (int i = 0; i < 5; ++i) (void)auth.Login({"user" + std::to_string(i), "x", "", "10.9.9.9"});
  auto blocked = auth.Login({"sam", "staff-pass", "", "10.9.9.9"});
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.error().status.code(), Code::kResourceExhausted);
  EXPECT_TRUE(auth.Login({"sam", "staff-pass", "", "10.0.0.1"}).ok());  // another client is not
}

TEST_F(AuthTest, AccessTokensExpireAndRefreshTokensRotate) {
  Authenticator auth(*entities_, clock_);
  auto first = *auth.Login(Staff());
  clock_.Advance(minutes(16));
  auto expired = auth.Authenticate(first.access_token);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.error().code(), Code::kUnauthenticated);
  EXPECT_NE(expired.error().message().find("expired"), std::string::npos);
  auto second = auth.Refresh(first.refresh_token);
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  EXPECT_TRUE(auth.Authenticate(second->access_token).ok());
  // The old refresh token was used up; presenting it again signs the user out everywhere.
  auto reuse = auth.Refresh(first.refresh_token);
  ASSERT_FALSE(reuse.ok());
  EXPECT_EQ(reuse.error().code(), Code::kUnauthenticated);
  EXPECT_EQ(auth.Authenticate(second->access_token).error().code(), Code::kUnauthenticated);
  EXPECT_EQ(auth.Refresh(second->refresh_token).error().code(), Code::kUnauthenticated);
  // Tokens of one kind do not work as the other.
  auto third = *auth.Login(Staff());
  EXPECT_EQ(auth.Authenticate(third.refresh_token).error().code(), Code::kUnauthenticated);
  EXPECT_EQ(auth.Refresh(third.access_token).error().code(), Code::kUnauthenticated);
  clock_.Advance(std::chrono::hours(13));
  EXPECT_EQ(auth.Refresh(third.refresh_token).error().code(), Code::kUnauthenticated);
}

TEST_F(AuthTest, MissingOrForeignTokensAreUnauthenticated) {
  Authenticator auth(*entities_, clock_);
  EXPECT_EQ(auth.Authenticate("").error().code(), Code::kUnauthenticated);
  EXPECT_EQ(auth.Authenticate("cwa_made-up").error().code(), Code::kUnauthenticated);
  EXPECT_EQ(auth.Authenticate("' OR 1=1 --").error().code(), Code::kUnauthenticated);
  auto pair = *auth.Login(Staff());
  ASSERT_TRUE(auth.Revoke(pair.access_token).ok());
  EXPECT_EQ(auth.Authenticate(pair.access_token).error().code(), Code::kUnauthenticated);
}

}  // namespace
}  // namespace cw::api
