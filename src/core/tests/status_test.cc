#include "core/status.h"

#include <gtest/gtest.h>

namespace cw {
namespace {

Result<int> Half(int x) {
  if (x % 2) return InvalidArgument("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  CW_ASSIGN_OR_RETURN(int h, Half(x));
  CW_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status CheckEven(int x) {
  CW_RETURN_IF_ERROR(Half(x));
  return Status::Ok();
}

TEST(Status, CarriesCodeAndMessage) {
  Status s = NotFound("cart CART-000042 is not registered");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kNotFound);
  EXPECT_EQ(s.ToString(), "not_found: cart CART-000042 is not registered");
  EXPECT_EQ(s.WithContext("lookup").message(), "lookup: cart CART-000042 is not registered");
  EXPECT_TRUE(Status::Ok().ok());
}

TEST(Status, RetryableOnlyForTransientCodes) {
  EXPECT_TRUE(IsRetryable(Code::kUnavailable));
  EXPECT_TRUE(IsRetryable(Code::kDeadlineExceeded));
  EXPECT_FALSE(IsRetryable(Code::kInvalidArgument));
  EXPECT_FALSE(IsRetryable(Code::kNotFound));
  EXPECT_FALSE(IsRetryable(Code::kCorruption));
}

TEST(Result, PropagatesFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);  // 6/2 = 3 is odd
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), "odd: 3");
  EXPECT_TRUE(CheckEven(4).ok());
  EXPECT_EQ(CheckEven(5).code(), Code::kInvalidArgument);
}

TEST(ResultDeathTest, ValueOfErrorAborts) {
  Result<int> r = Internal("boom");
  EXPECT_DEATH((void)r.value(), "boom");
}

}  // namespace
}  // namespace cw
