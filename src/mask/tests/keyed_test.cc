#include "mask/keyed.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "mask/keyring.h"

namespace cw::mask {
namespace {

Time At(const char* rfc3339) { return *ParseRfc3339(rfc3339); }

const char* kRing = R"(
[digest]
2026Q3 = "1111111111111111111111111111111111111111111111111111111111111111"
2026Q4 = "2222222222222222222222222222222222222222222222222222222222222222"
[token]
key = "3333333333333333333333333333333333333333333333333333333333333333"
[map]
key = "4444444444444444444444444444444444444444444444444444444444444444"
)";

TEST(Keyring, QuartersAreUtcCalendarQuarters) {
  EXPECT_EQ(QuarterOf(At("2026-10-01T00:00:00Z")), "2026Q4");
  EXPECT_EQ(QuarterOf(At("2026-09-30T23:59:59Z")), "2026Q3");
  EXPECT_EQ(QuarterOf(At("2027-03-31T12:00:00Z")), "2027Q1");
  EXPECT_EQ(*QuarterStart("2026Q4"), At("2026-10-01T00:00:00Z"));
  EXPECT_EQ(QuarterStart("2026Q5").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(QuarterStart("26Q4").error().code(), Code::kInvalidArgument);
}

TEST(Keyring, ThePreviousQuartersKeyIsUsableForThirtyDaysAfterARotation) {
  auto ring = Keyring::Parse(kRing);
  ASSERT_TRUE(ring.ok()) << ring.error().ToString();
  // Mid-quarter: only the quarter's own key.
  auto mid = ring->UsableDigestKeys(At("2026-08-15T00:00:00Z"));
  ASSERT_EQ(mid.size(), 1u);
  EXPECT_EQ(mid[0].first, "2026Q3");
  // Day 10 of Q4: Q4's key, and Q3's so a join across the boundary can be computed.
  auto early = ring->UsableDigestKeys(At("2026-10-10T00:00:00Z"));
  ASSERT_EQ(early.size(), 2u);
  EXPECT_EQ(early[0].first, "2026Q4");
  EXPECT_EQ(early[1].first, "2026Q3");
  EXPECT_TRUE(ring->DigestKeyFor("2026Q3", At("2026-10-30T23:59:59Z")).ok());
  // Day 31: Q3's key is out of its window.
  EXPECT_EQ(ring->UsableDigestKeys(At("2026-10-31T00:00:01Z")).size(), 1u);
  auto closed = ring->DigestKeyFor("2026Q3", At("2026-10-31T00:00:01Z"));
  EXPECT_EQ(closed.error().code(), Code::kFailedPrecondition);
  EXPECT_EQ(ring->DigestKeyFor("2025Q1", At("2026-10-01T00:00:00Z")).error().code(),
            Code::kNotFound);
  auto missing = ring->DigestKey(At("2027-01-02T00:00:00Z"));
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("2027Q1"), std::string::npos);
}

TEST(Keyring, ADigestJoinsAcrossTheBoundaryOnlyInsideTheWindow) {
  auto ring = *Keyring::Parse(kRing);
  const std::string email = "ana.souza@example.com";
  // September's export was masked under Q3's key.
  std::string september = Digest(**ring.DigestKey(At("2026-09-20T00:00:00Z")), email);
  // On October 10 the old key is still offered: the join works.
  auto keys = ring.UsableDigestKeys(At("2026-10-10T00:00:00Z"));
  bool joined = false;
  for (const auto& [id, key] : keys) joined |= Digest(*key, email) == september;
  EXPECT_TRUE(joined);
  // In November only Q4's key is offered: the same value no longer joins.
  for (const auto& [id, key] : ring.UsableDigestKeys(At("2026-11-20T00:00:00Z"))) {
    EXPECT_NE(Digest(*key, email), september);
  }
}

TEST(Keyring, BadFilesAreRefusedNamingWhatIsWrong) {
  struct Case {
    std::string text;
    std::string says;
  };
  std::string tail = "[token]\nkey = \"" + std::string(64, 'a') + "\"\n[map]\nkey = \"" +
                     std::string(64, 'b') + "\"\n";
  const Case cases[] = {
      {"[digest]\n2026Q4 = \"abc\"\n" + tail, "64 hex digits"},
      {"[digest]\n2026Q9 = \"" + std::string(64, 'c') + "\"\n" + tail, "not YYYYQn"},
      {"[digest]\n2026Q4 = \"" + std::string(64, 'c') + "\"\n[token]\nkey = \"" +
           std::string(64, 'a') + "\"\n",
       "needs a [token] key and a [map] key"},
      {"[digest]\n2026Q4 = \"" + std::string(64, 'c') + "\"\n[salt]\nkey = 1\n" + tail,
       "unknown section [salt]"},
      {tail, "[digest] holds no quarter key"},
      {"[digest\n", ""},
  };
  for (const auto& c : cases) {
    auto ring = Keyring::Parse(c.text);
    ASSERT_FALSE(ring.ok()) << c.text;
    EXPECT_EQ(ring.error().code(), Code::kInvalidArgument);
    EXPECT_NE(ring.error().message().find(c.says), std::string::npos) << ring.error().message();
  }
  EXPECT_EQ(Keyring::Load("/nonexistent/keyring.toml").error().code(), Code::kNotFound);
}

TEST(Keyring, AGeneratedRingParsesAndHoldsItsQuarter) {
  auto text = Keyring::Generate(At("2026-12-05T10:00:00Z"));
  ASSERT_TRUE(text.ok());
  auto ring = Keyring::Parse(*text);
  ASSERT_TRUE(ring.ok()) << ring.error().ToString();
  EXPECT_EQ(ring->quarters(), std::vector<std::string>{"2026Q4"});
  EXPECT_NE(ring->token_key(), ring->map_key());
  EXPECT_NE(*Keyring::Generate(At("2026-12-05T10:00:00Z")), *text);  // fresh random keys each time
}

TEST(KeyedTreatments, DigestsAre64HexAndTokensCarryTheirNamespace) {
  auto ring = *Keyring::Parse(kRing);
  std::string d = Digest(**ring.DigestKey(At("2026-11-01T00:00:00Z")), "CW2332B909DED");
  EXPECT_TRUE(IsDigest(d)) << d;
  EXPECT_NE(d, Digest(**ring.DigestKey(At("2026-08-01T00:00:00Z")),
                      "CW2332B909DED"));  // another quarter's key
  std::string t = DomainToken(ring.token_key(), "tool-telemetry", "operator", "EMP-00412");
  EXPECT_TRUE(IsDomainToken(t, "operator")) << t;
  EXPECT_FALSE(IsDomainToken(t, "site"));
  EXPECT_EQ(t, DomainToken(ring.token_key(), "tool-telemetry", "operator", "EMP-00412"));  // stable
  EXPECT_FALSE(IsDigest("ABCDEF"));
  EXPECT_FALSE(IsDomainToken("operator_0123456789ABCDEF", "operator"));  // uppercase is not ours
}

TEST(KeyedTreatments, TheSameValueGetsUnrelatedTokensInTwoDomains) {
  auto ring = *Keyring::Parse(kRing);
  std::string a = DomainToken(ring.token_key(), "tool-telemetry", "operator", "EMP-00412");
  std::string b = DomainToken(ring.token_key(), "support-tickets", "operator", "EMP-00412");
  EXPECT_NE(a, b);
  // Nor can a value be shifted between the fields to collide.
  EXPECT_NE(DomainToken(ring.token_key(), "ab", "c", "x"),
            DomainToken(ring.token_key(), "a", "bc", "x"));
  // The column namespace is keyed too: the same value's hex differs between two columns.
  EXPECT_NE(DomainToken(ring.token_key(), "d", "operator", "EMP-1").substr(9),
            DomainToken(ring.token_key(), "d", "site", "EMP-1").substr(5));
}

TEST(Keyring, AddingAQuarterKeepsTheOthersAndRefusesADuplicate) {
  auto text = Keyring::Generate(At("2026-11-20T00:00:00Z"));
  ASSERT_TRUE(text.ok());
  auto added = Keyring::AddQuarter(*text, "2027Q1");
  ASSERT_TRUE(added.ok()) << added.error().ToString();
  auto ring = Keyring::Parse(*added);
  ASSERT_TRUE(ring.ok()) << ring.error().ToString();
  EXPECT_EQ(ring->quarters(), (std::vector<std::string>{"2026Q4", "2027Q1"}));
  auto before = Keyring::Parse(*text);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(*before->DigestKey(At("2026-11-20T00:00:00Z")).value(),
            *ring->DigestKey(At("2026-11-20T00:00:00Z")).value());
  EXPECT_EQ(ring->token_key(), before->token_key());
  EXPECT_EQ(Keyring::AddQuarter(*added, "2027Q1").error().code(), Code::kAlreadyExists);
  EXPECT_EQ(Keyring::AddQuarter(*added, "2027Q5").error().code(), Code::kInvalidArgument);
}

TEST(Keyed, TheReusableDigesterAndTokenizerMatchTheOneShotForms) {
  auto ring = Keyring::Parse(kRing);
  ASSERT_TRUE(ring.ok());
  const crypto::SymmetricKey& key = **ring->DigestKey(At("2026-11-01T00:00:00Z"));
  Digester digest(key);
  Tokenizer token(ring->token_key(), "tool-telemetry");
  for (const char* v :
       {"", "a", "jo@buildco.example",
        "a much longer value than one SHA-256 block of sixty-four bytes, to cross it"}) {
    EXPECT_EQ(digest(v), crypto::HmacSha256Hex(key, v)) << v;
    EXPECT_EQ(digest(v), Digest(key, v));
    EXPECT_EQ(token("op", v), DomainToken(ring->token_key(), "tool-telemetry", "op", v));
  }
}

}  // namespace
}  // namespace cw::mask
