// api/credentials.h — what a human proves at login: a password (stored as a memory-hard scrypt
// hash) and, for ops, a time-based one-time password (RFC 6238, what authenticator apps speak).
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/aead.h"

namespace cw::api {

// "$scrypt$ln=15,r=8,p=1$<salt b64url>$<hash b64url>": the parameters travel with the hash, so a
// later raise of the cost leaves existing users able to log in.
Result<std::string> HashPassword(std::string_view password, const crypto::ScryptCost& cost = {});
// True when `password` matches; InvalidArgument when `encoded` is not a hash this code wrote.
// Compares in constant time.
Result<bool> VerifyPassword(std::string_view password, std::string_view encoded);
// A 20-character password from the system DRBG (about 119 bits), for `user add`.
Result<std::string> GeneratePassword();

// RFC 4648 base32 (upper case, no padding), the encoding authenticator apps take secrets in.
std::string Base32Encode(std::string_view bytes);
// Accepts either case, ignores spaces and '=' padding; InvalidArgument on another character.
Result<std::string> Base32Decode(std::string_view text);

struct TotpParams {
  std::chrono::seconds step{30};
  int digits = 6;
  int skew_steps = 1;  // also accept the codes of this many steps before and after (clock drift)
};
// A new 160-bit secret, base32.
Result<std::string> NewTotpSecret();
// The code for `secret_b32` at `at` (HMAC-SHA1, dynamic truncation), zero-padded to `digits`.
Result<std::string> TotpCode(std::string_view secret_b32, Time at, const TotpParams& params = {});
// The time step `code` matches within the skew window at `now`, or Unauthenticated. Callers
// remember the last step used per user and refuse it again (a code is single-use).
Result<int64_t> VerifyTotp(std::string_view secret_b32, std::string_view code, Time now, const TotpParams& params = {});
// otpauth://totp/ISSUER:ACCOUNT?secret=…&issuer=…&algorithm=SHA1&digits=6&period=30
// Compares secrets without leaking, through timing, how much of a guess was right.
bool ConstantTimeEqual(std::string_view a, std::string_view b);

std::string TotpUri(std::string_view issuer, std::string_view account, std::string_view secret_b32);

}  // namespace cw::api
