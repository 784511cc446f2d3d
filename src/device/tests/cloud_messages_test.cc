#include "device/cloud_messages.h"

#include <gtest/gtest.h>

#include "core/time_format.h"
#include "wire/envelope.h"
#include "wire/proximity.h"

namespace cw::device {
namespace {

const Time kNow = *ParseWireTime("2026-11-22T10:00:00.000Z");

class CommandVerifierTest : public ::testing::Test {
 protected:
  std::string Command(const CartId& cart, Time issued, Time expires, const std::string& cmd_id,
                      crypto::KeyStore* signer = nullptr) {
    wire::JsonBuilder b;
    wire::WriteCommandHeader({wire::CommandKind::kLocate, cmd_id, cart, issued, expires}, b);
    b.Field("duration_s", 10);
    std::string json = b.Finish();
    return wire::JoinEnvelope(json, *(signer ? signer : cloud_.get())->Sign(json));
  }
  const CartId self_ = CartId::FromNumber(1);
  std::unique_ptr<crypto::SoftKeyStore> cloud_ = *crypto::SoftKeyStore::Generate();
  ManualClock clock_{kNow};
  CommandVerifier verifier_{self_, cloud_->public_key(), clock_};
  const std::string id1_ = "0f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e51";
};

TEST_F(CommandVerifierTest, AcceptsAGenuineCommandOnce) {
  std::string cmd = Command(self_, kNow, kNow + std::chrono::minutes(1), id1_);
  auto ok = verifier_.Accept(cmd);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->header.kind, wire::CommandKind::kLocate);
  auto again = verifier_.Accept(cmd);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error(), CommandRefusal::kReplayed);
}

TEST_F(CommandVerifierTest, IgnoresUnsignedForgedForeignAndExpired) {
  auto refusal = [&](const std::string& payload) {
    auto r = verifier_.Accept(payload);
    return r.ok() ? std::string("accepted") : std::string(Name(r.error()));
  };
  auto attacker = *crypto::SoftKeyStore::Generate();
  EXPECT_EQ(refusal(Command(self_, kNow, kNow + std::chrono::minutes(1), id1_, attacker.get())), "bad_signature");
  std::string genuine = Command(self_, kNow, kNow + std::chrono::minutes(1), id1_);
  std::string tampered = genuine;
  tampered[tampered.find("\"duration_s\":10") + 13] = '9';
  EXPECT_EQ(refusal(tampered), "bad_signature");
  EXPECT_EQ(refusal("{\"v\":1}"), "malformed");
  EXPECT_EQ(refusal(Command(CartId::FromNumber(2), kNow, kNow + std::chrono::minutes(1), id1_)), "foreign");
  EXPECT_EQ(refusal(Command(self_, kNow - std::chrono::minutes(10), kNow - std::chrono::seconds(1), id1_)), "expired");
  EXPECT_EQ(refusal(Command(self_, kNow + std::chrono::hours(1), kNow + std::chrono::hours(2), id1_)), "not_yet_valid");
  EXPECT_EQ(verifier_.refusals().at(CommandRefusal::kBadSignature), 2u);
  // None of those burned the cmd_id: the genuine one is still accepted.
  EXPECT_EQ(refusal(genuine), "accepted");
}

TEST_F(CommandVerifierTest, RejectNoticesMustBeSignedAndOurs) {
  wire::RejectNotice n{self_, 7, wire::RejectReason::kSchemaViolation, "/qty", "carts/CART-000001/events/scan", kNow};
  std::string json = wire::RejectNoticeJson(n);
  auto ok = verifier_.AcceptRejectNotice(wire::JoinEnvelope(json, *cloud_->Sign(json)));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->seq, 7u);
  auto attacker = *crypto::SoftKeyStore::Generate();
  EXPECT_EQ(verifier_.AcceptRejectNotice(wire::JoinEnvelope(json, *attacker->Sign(json))).error(),
            CommandRefusal::kBadSignature);
}

TEST(ProximityToken, SignedByTheCartAndShortLived) {
  auto se = *crypto::SoftKeyStore::Generate();
  ManualClock clock(kNow);
  SeededRandom random(3);
  auto token = IssueProximityToken(*se, CartId::FromNumber(9), clock, random);
  ASSERT_TRUE(token.ok()) << token.error().ToString();
  auto decoded = wire::DecodeProximityToken(*token);
  ASSERT_TRUE(decoded.ok()) << decoded.error().ToString();
  EXPECT_EQ(decoded->claims.cart, CartId::FromNumber(9));
  EXPECT_EQ(decoded->claims.purpose, "staff-override");
  EXPECT_EQ(decoded->claims.expires_at - decoded->claims.issued_at, std::chrono::seconds(60));
  EXPECT_TRUE(se->public_key().Verify(decoded->json, decoded->signature));
  auto second = *IssueProximityToken(*se, CartId::FromNumber(9), clock, random);
  EXPECT_NE(wire::DecodeProximityToken(second)->claims.nonce, decoded->claims.nonce);
  EXPECT_FALSE(IssueProximityToken(*se, CartId::FromNumber(9), clock, random, {}, std::chrono::seconds(121)).ok());
  // The cloud's challenge becomes the nonce, and nothing else can pass for one.
  const std::string challenge = "0123456789abcdef0123456789abcdef";
  auto answered = *IssueProximityToken(*se, CartId::FromNumber(9), clock, random, challenge);
  EXPECT_EQ(wire::DecodeProximityToken(answered)->claims.nonce, challenge);
  EXPECT_EQ(IssueProximityToken(*se, CartId::FromNumber(9), clock, random, "0123456789ABCDEF0123456789ABCDEF").error().code(),
            Code::kInvalidArgument);
  EXPECT_FALSE(IssueProximityToken(*se, CartId::FromNumber(9), clock, random, "\"},\"cart_id\":\"CART-000001").ok());
  EXPECT_FALSE(wire::DecodeProximityToken("not-a-token").ok());
  EXPECT_FALSE(wire::DecodeProximityToken(token->substr(0, token->find('.'))).ok());
}

}  // namespace
}  // namespace cw::device
