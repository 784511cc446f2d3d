// crypto/hmac.h — HMAC-SHA256 under one key, many messages.
//
// The one-shot HmacSha256Hex (aead.h) sets the key up on every call. A masking run computes
// millions of MACs under the same key, so this keeps the key's inner and outer hash states and
// starts each MAC from copies of them.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace cw::crypto {

class HmacSha256 {
 public:
  explicit HmacSha256(std::span<const uint8_t> key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  // HMAC-SHA256(key, data). Not thread-safe: give each thread its own.
  std::array<uint8_t, 32> Mac(std::string_view data);
  // The same, as 64 lowercase hex digits.
  std::string Hex(std::string_view data);
  // The same into `out`, replacing its contents; a buffer passed again is reused, not reallocated.
  void HexInto(std::string_view data, std::string& out);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace cw::crypto
