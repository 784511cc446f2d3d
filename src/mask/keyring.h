// mask/keyring.h — the keys behind cartmask's digests and tokens.
//
// A keyring is a TOML file kept outside the repository (`cartmask keys init` writes one under
// var/, mode 0600), with one key per purpose so that none can be learned from another:
//
//   [digest]        # bucket 1 (direct identifiers): one key per calendar quarter (UTC)
//   2026Q3 = "<64 hex>"
//   2026Q4 = "<64 hex>"
//   [token]         # bucket 2 (quasi-identifiers): stable, so tokens join across time
//   key = "<64 hex>"
//   [map]           # seals the token → value map kept for authorised re-identification
//   key = "<64 hex>"
//
// Rotation: a run masks direct identifiers under its quarter's key. For 30 days after a quarter
// begins the previous quarter's key stays usable, so a join across the boundary can be computed
// (both sides masked under the old key); after that the same value gives digests that no longer
// join.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "crypto/aead.h"

namespace cw::mask {

// "2026Q4": the UTC calendar quarter `t` falls in.
std::string QuarterOf(Time t);
// The first instant of quarter `id`; InvalidArgument if `id` is not YYYYQn.
Result<Time> QuarterStart(std::string_view id);

inline constexpr Duration kRotationOverlap = std::chrono::hours(24 * 30);

class Keyring {
 public:
  // InvalidArgument naming the key for a malformed file: a section other than the three, a quarter
  // that is not YYYYQn, a key that is not 64 hex digits, or a missing [token] or [map] key.
  static Result<Keyring> Parse(std::string_view toml_text, const std::string& origin = "keyring");
  // NotFound if there is no file; the file's own errors otherwise.
  static Result<Keyring> Load(const std::string& path);
  // A fresh keyring's text: random keys for `at`'s quarter, the token and the map.
  static Result<std::string> Generate(Time at);

  // `text` with a fresh random [digest] key for quarter `id` added (rotation: add the next
  // quarter's key before it starts). AlreadyExists if the ring has that quarter; the text's own
  // errors if it is not a keyring.
  static Result<std::string> AddQuarter(std::string_view text, std::string_view id);

  // The digest key of `at`'s quarter. NotFound naming the quarter if the ring lacks it (add it
  // before the quarter starts).
  Result<const crypto::SymmetricKey*> DigestKey(Time at) const;
  // The digest keys usable at `at`, newest first: its quarter's, and the previous quarter's during
  // the first 30 days. Each with its quarter id.
  std::vector<std::pair<std::string, const crypto::SymmetricKey*>> UsableDigestKeys(Time at) const;
  // The digest key of quarter `id` if it is usable at `at`; FailedPrecondition once its window
  // has closed (the point of rotating), NotFound for a quarter the ring does not hold.
  Result<const crypto::SymmetricKey*> DigestKeyFor(std::string_view id, Time at) const;

  const crypto::SymmetricKey& token_key() const { return token_; }
  const crypto::SymmetricKey& map_key() const { return map_; }
  // Quarter ids held, oldest first.
  std::vector<std::string> quarters() const;

 private:
  std::map<std::string, crypto::SymmetricKey> digest_;  // by quarter id; ids sort by time
  crypto::SymmetricKey token_{};
  crypto::SymmetricKey map_{};
};

}  // namespace cw::mask
