#include "core/ids.h"

#include <cstdio>

namespace cw {
namespace {
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsHexLower(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }
bool IsAlnum(char c) { return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
}  // namespace

bool CartIdTag::Valid(std::string_view s) {
  if (s.size() != 11 || s.substr(0, 5) != "CART-") return false;
  for (char c : s.substr(5)) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

bool StoreIdTag::Valid(std::string_view s) {
  if (s.empty() || s.size() > 32 || !IsAlnum(s[0])) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

bool SessionIdTag::Valid(std::string_view s) {
  // xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (s[i] != '-') return false;
    } else if (!IsHexLower(s[i])) {
      return false;
    }
  }
  return s[14] == '4' && (s[19] == '8' || s[19] == '9' || s[19] == 'a' || s[19] == 'b');
}

CartId CartId::FromNumber(uint32_t number) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "CART-%06u", number % 1000000u);
  return CartId(std::string(buf));
}

uint32_t CartId::number() const {
  uint32_t n = 0;
  for (char c : std::string_view(str()).substr(5)) n = n * 10 + static_cast<uint32_t>(c - '0');
  return n;
}

}  // namespace cw
