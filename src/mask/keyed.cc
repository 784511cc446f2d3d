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
  return Digester(digest_key)(value);
}

std::string DomainToken(const crypto::SymmetricKey& token_key, std::string_view domain,
                        std::string_view ns, std::string_view value) {
  return Tokenizer(token_key, std::string(domain))(ns, value);
}

std::string Tokenizer::operator()(std::string_view ns, std::string_view value) {
  input_.clear();
  AppendField(input_, domain_);
  AppendField(input_, ns);
  AppendField(input_, value);
  std::string mac = mac_.Hex(input_);
  std::string token;
  token.reserve(ns.size() + 17);
  token.append(ns).append("_").append(mac, 0, 16);
  return token;
}

bool IsDomainToken(std::string_view s, std::string_view ns) {
  return s.size() == ns.size() + 17 && s.starts_with(ns) && s[ns.size()] == '_' &&
         IsLowerHex(s.substr(ns.size() + 1));
}

bool IsDigest(std::string_view s) { return s.size() == 64 && IsLowerHex(s); }

}  // namespace cw::mask
