#include "mask/keyed.h"

#include <cstdint>

namespace cw::mask {
namespace {

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void AppendField(std::string& out, std::string_view field) {
  uint64_t n = field.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(n >> (8 * i)));
  out.append(field);
}

}  // namespace

std::string Digest(const crypto::SymmetricKey& digest_key, std::string_view value) {
  return crypto::HmacSha256Hex(digest_key, value);
}

std::string DomainToken(const crypto::SymmetricKey& token_key, std::string_view domain, std::string_view ns,
                        std::string_view value) {
  std::string input;
  input.reserve(24 + domain.size() + ns.size() + value.size());
  AppendField(input, domain);
  AppendField(input, ns);
  AppendField(input, value);
  std::string mac = crypto::HmacSha256Hex(token_key, input);
  return std::string(ns) + "_" + mac.substr(0, 16);
}

bool IsDomainToken(std::string_view s, std::string_view ns) {
  return s.size() == ns.size() + 17 && s.starts_with(ns) && s[ns.size()] == '_' && IsLowerHex(s.substr(ns.size() + 1));
}

bool IsDigest(std::string_view s) { return s.size() == 64 && IsLowerHex(s); }

}  // namespace cw::mask
