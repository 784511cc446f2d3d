// mask/keyed.h — the keyed treatments: digests for direct identifiers (bucket 1) and per-domain
// tokens for quasi-identifiers (bucket 2).
#pragma once

#include <string>
#include <string_view>

#include "crypto/aead.h"
#include "crypto/hmac.h"

namespace cw::mask {

// Bucket 1: HMAC-SHA256 of `value` under the quarter's digest key, 64 lowercase hex digits.
std::string Digest(const crypto::SymmetricKey& digest_key, std::string_view value);

// Bucket 2: "{ns}_{16 hex}", the first 8 bytes of HMAC-SHA256 under the token key over the
// domain, the column namespace and the value (length-prefixed, so no two triples share an input).
// Stable across runs and quarters; the same value in two domains gets unrelated tokens.
std::string DomainToken(const crypto::SymmetricKey& token_key, std::string_view domain,
                        std::string_view ns, std::string_view value);

// The same two treatments for a masking thread: the key is set up once, not per value. Not
// thread-safe; each thread keeps its own.
class Digester {
 public:
  explicit Digester(const crypto::SymmetricKey& digest_key) : mac_(digest_key) {}
  std::string operator()(std::string_view value) { return mac_.Hex(value); }
  // The digest into `out` (its buffer reused), returned as a view of it.
  std::string_view Into(std::string_view value, std::string& out) {
    mac_.HexInto(value, out);
    return out;
  }

 private:
  crypto::HmacSha256 mac_;
};

class Tokenizer {
 public:
  Tokenizer(const crypto::SymmetricKey& token_key, std::string domain)
      : mac_(token_key), domain_(std::move(domain)) {}
  std::string operator()(std::string_view ns, std::string_view value);

 private:
  crypto::HmacSha256 mac_;
  std::string domain_;
  std::string input_;  // reused between calls
};

// True if `s` is "{ns}_" followed by 16 lowercase hex digits.
bool IsDomainToken(std::string_view s, std::string_view ns);
// True if `s` is 64 lowercase hex digits.
bool IsDigest(std::string_view s);

}  // namespace cw::mask
