#include "mask/checksums.h"

namespace cw::mask {
namespace {

// The Luhn sum of `digits`, doubling every second digit from the right (from the rightmost one
// when `double_last`, as for a payload whose check digit is still to come).
int LuhnSum(std::string_view digits, bool double_last) {
  int sum = 0;
  bool twice = double_last;
  for (size_t i = digits.size(); i-- > 0;) {
    int d = digits[i] - '0';
    if (twice) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
    sum += d;
    twice = !twice;
  }
  return sum;
}

}  // namespace

bool LuhnValid(std::string_view digits) { return LuhnSum(digits, false) % 10 == 0; }

char LuhnCheckDigit(std::string_view payload) {
  return static_cast<char>('0' + (10 - LuhnSum(payload, true) % 10) % 10);
}

int Mod97(std::string_view alnum) {
  int rem = 0;
  for (char c : alnum) {
    if (c >= '0' && c <= '9')
      rem = (rem * 10 + (c - '0')) % 97;
    else
      rem = (rem * 100 + (c - 'A' + 10)) % 97;
  }
  return rem;
}

}  // namespace cw::mask
