// core/ids.h — typed identifiers used at every module boundary.
//
// A CartId can only be made by parsing or formatting a valid cart id, so code that holds one never
// re-validates it, and a StoreId can never be passed where a CartId is expected.
#pragma once

#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace cw {

template <typename Tag>
class Id {
 public:
  // Validates `text` against Tag's format; InvalidArgument names the kind of id and the rule.
  static Result<Id> Parse(std::string_view text) {
    if (!Tag::Valid(text)) {
      return InvalidArgument(std::string("'") + std::string(text.substr(0, 64)) + "' is not a valid " +
                             std::string(Tag::kName) + " (" + std::string(Tag::kRule) + ")");
    }
    return Id(std::string(text));
  }

  const std::string& str() const { return value_; }
  auto operator<=>(const Id&) const = default;
  bool operator==(const Id&) const = default;

 protected:
  explicit Id(std::string value) : value_(std::move(value)) {}

 private:
  std::string value_;
};

struct CartIdTag {
  static constexpr std::string_view kName = "cart id";
  static constexpr std::string_view kRule = "CART- followed by 6 digits";
  static bool Valid(std::string_view s);
};
struct StoreIdTag {
  static constexpr std::string_view kName = "store id";
  static constexpr std::string_view kRule = "1-32 of A-Z a-z 0-9 _ -, starting with a letter or digit";
  static bool Valid(std::string_view s);
};
struct SessionIdTag {
  static constexpr std::string_view kName = "session id";
  static constexpr std::string_view kRule = "lowercase UUID v4";
  static bool Valid(std::string_view s);
};

// A Tier-2 customer account: a random UUID that says nothing about the person.
struct AccountIdTag {
  static constexpr std::string_view kName = "account id";
  static constexpr std::string_view kRule = "lowercase UUID v4";
  static bool Valid(std::string_view s) { return SessionIdTag::Valid(s); }
};

class CartId : public Id<CartIdTag> {
 public:
  using Id::Id;
  CartId(const Id<CartIdTag>& id) : Id(id) {}  // NOLINT: Parse() returns the base
  static Result<CartId> Parse(std::string_view text) {
    auto r = Id<CartIdTag>::Parse(text);
    if (!r.ok()) return r.error();
    return CartId(*r);
  }
  // CART-000042 for 42. `number` must be below 1,000,000.
  static CartId FromNumber(uint32_t number);
  uint32_t number() const;
};

using StoreId = Id<StoreIdTag>;
using SessionId = Id<SessionIdTag>;
using AccountId = Id<AccountIdTag>;

}  // namespace cw

template <typename Tag>
struct std::hash<cw::Id<Tag>> {
  size_t operator()(const cw::Id<Tag>& id) const noexcept { return std::hash<std::string>()(id.str()); }
};
template <>
struct std::hash<cw::CartId> {
  size_t operator()(const cw::CartId& id) const noexcept { return std::hash<std::string>()(id.str()); }
};
