#include "api/credentials.h"

#include <openssl/crypto.h>

#include <charconv>
#include <cstdio>

#include "core/base64.h"

namespace cw::api {
namespace {

constexpr size_t kSaltBytes = 16, kHashBytes = 32;
constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

std::string_view NextField(std::string_view& rest) {
  size_t at = rest.find('$');
  std::string_view field = rest.substr(0, at);
  rest = at == std::string_view::npos ? std::string_view() : rest.substr(at + 1);
  return field;
}

}  // namespace

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Result<std::string> HashPassword(std::string_view password, const crypto::ScryptCost& cost) {
  CW_ASSIGN_OR_RETURN(std::string salt, crypto::RandomBytes(kSaltBytes));
  CW_ASSIGN_OR_RETURN(std::string hash, crypto::Scrypt(password, salt, cost, kHashBytes));
  char params[64];
  std::snprintf(params, sizeof params, "ln=%d,r=%d,p=%d", cost.log2_n, cost.r, cost.p);
  return "$scrypt$" + std::string(params) + "$" + Base64UrlEncode(salt) + "$" + Base64UrlEncode(hash);
}

Result<bool> VerifyPassword(std::string_view password, std::string_view encoded) {
  auto bad = [] { return InvalidArgument("stored password hash is not in $scrypt$ln=,r=,p=$salt$hash form"); };
  std::string_view rest = encoded;
  if (!NextField(rest).empty() || NextField(rest) != "scrypt") return bad();
  std::string_view params = NextField(rest);
  auto salt = Base64UrlDecode(NextField(rest));
  auto want = Base64UrlDecode(NextField(rest));
  if (!salt || !want || want->empty() || !rest.empty()) return bad();
  crypto::ScryptCost cost;
  if (std::sscanf(std::string(params).c_str(), "ln=%d,r=%d,p=%d", &cost.log2_n, &cost.r, &cost.p) != 3) return bad();
  CW_ASSIGN_OR_RETURN(std::string got, crypto::Scrypt(password, *salt, cost, want->size()));
  return ConstantTimeEqual(got, *want);
}

Result<std::string> GeneratePassword() {
  // 15 random bytes are exactly 20 base64url characters.
  CW_ASSIGN_OR_RETURN(std::string bytes, crypto::RandomBytes(15));
  return Base64UrlEncode(bytes);
}

std::string Base32Encode(std::string_view bytes) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32[(buffer >> (bits - 5)) & 31]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kBase32[(buffer << (5 - bits)) & 31]);
  return out;
}

Result<std::string> Base32Decode(std::string_view text) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == ' ' || c == '=') continue;
    char upper = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    size_t v = kBase32.find(upper);
    if (v == std::string_view::npos) return InvalidArgument("not base32: '" + std::string(1, c) + "'");
    buffer = (buffer << 5) | static_cast<uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  return out;
}

Result<std::string> NewTotpSecret() {
  CW_ASSIGN_OR_RETURN(std::string bytes, crypto::RandomBytes(20));
  return Base32Encode(bytes);
}

namespace {

std::string CodeAtStep(std::string_view key, int64_t step, int digits) {
  char counter[8];
  for (int i = 7; i >= 0; --i) {
    counter[i] = static_cast<char>(step & 0xff);
    step >>= 8;
  }
  std::string mac = crypto::HmacSha1(key, std::string_view(counter, 8));
  size_t offset = static_cast<unsigned char>(mac[19]) & 0x0f;
  uint32_t binary = (static_cast<uint32_t>(static_cast<unsigned char>(mac[offset]) & 0x7f) << 24) |
                    (static_cast<uint32_t>(static_cast<unsigned char>(mac[offset + 1])) << 16) |
                    (static_cast<uint32_t>(static_cast<unsigned char>(mac[offset + 2])) << 8) |
                    static_cast<uint32_t>(static_cast<unsigned char>(mac[offset + 3]));
  uint32_t modulus = 1;
  for (int i = 0; i < digits; ++i) modulus *= 10;
  std::string code = std::to_string(binary % modulus);
  return std::string(static_cast<size_t>(digits) - code.size(), '0') + code;
}

int64_t StepAt(Time t, const TotpParams& p) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch());
  return secs.count() / p.step.count();
}

}  // namespace

Result<std::string> TotpCode(std::string_view secret_b32, Time at, const TotpParams& params) {
  CW_ASSIGN_OR_RETURN(std::string key, Base32Decode(secret_b32));
  if (key.empty()) return InvalidArgument("empty TOTP secret");
  if (params.digits < 6 || params.digits > 9) return InvalidArgument("TOTP codes have 6 to 9 digits");
  return CodeAtStep(key, StepAt(at, params), params.digits);
}

Result<int64_t> VerifyTotp(std::string_view secret_b32, std::string_view code, Time now, const TotpParams& params) {
  CW_ASSIGN_OR_RETURN(std::string key, Base32Decode(secret_b32));
  if (key.empty()) return InvalidArgument("empty TOTP secret");
  if (code.size() != static_cast<size_t>(params.digits)) {
    return Unauthenticated("the one-time code has " + std::to_string(params.digits) + " digits");
  }
  int64_t now_step = StepAt(now, params);
  // Every candidate is computed and compared, so timing does not tell which step matched.
  int64_t matched = -1;
  for (int64_t d = -params.skew_steps; d <= params.skew_steps; ++d) {
    if (ConstantTimeEqual(CodeAtStep(key, now_step + d, params.digits), code) && matched < 0) matched = now_step + d;
  }
  if (matched < 0) return Unauthenticated("wrong or expired one-time code");
  return matched;
}

std::string TotpUri(std::string_view issuer, std::string_view account, std::string_view secret_b32) {
  auto escape = [](std::string_view s) {
    std::string out;
    for (unsigned char c : s) {
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
          c == '_' || c == '~') {
        out.push_back(static_cast<char>(c));
      } else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", c);
        out += buf;
      }
    }
    return out;
  };
  return "otpauth://totp/" + escape(issuer) + ":" + escape(account) + "?secret=" + std::string(secret_b32) +
         "&issuer=" + escape(issuer) + "&algorithm=SHA1&digits=6&period=30";
}

}  // namespace cw::api
