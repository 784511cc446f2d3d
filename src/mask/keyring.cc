#include "mask/keyring.h"

#include <ctime>
#include <sstream>
#include <toml.hpp>

#include "core/files.h"
#include "core/hex.h"

namespace cw::mask {
namespace {

Result<crypto::SymmetricKey> KeyFromHex(const toml::value& v, const std::string& where) {
  auto at = [&](const std::string& msg) {
    const auto loc = v.location();
    return InvalidArgument(loc.file_name() + ":" + std::to_string(loc.line()) + ": " + where + " " +
                           msg);
  };
  if (!v.is_string()) return at("must be a string of 64 hex digits");
  auto bytes = FromHex(v.as_string().str);
  if (!bytes || bytes->size() != 32) return at("must be 64 hex digits (a 256-bit key)");
  crypto::SymmetricKey key;
  std::copy(bytes->begin(), bytes->end(), key.begin());
  return key;
}

std::string HexKey(const crypto::SymmetricKey& k) {
  return ToHex(std::span<const uint8_t>(k.data(), k.size()));
}

}  // namespace

std::string QuarterOf(Time t) {
  std::time_t secs =
      std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return std::to_string(tm.tm_year + 1900) + "Q" + std::to_string(tm.tm_mon / 3 + 1);
}

Result<Time> QuarterStart(std::string_view id) {
  auto bad = [&] {
    return InvalidArgument("quarter '" + std::string(id) + "' is not YYYYQn (for example 2026Q4)");
  };
  if (id.size() != 6 || id[4] != 'Q' || id[5] < '1' || id[5] > '4') return bad();
  int year = 0;
  for (char c : id.substr(0, 4)) {
    if (c < '0' || c > '9') return bad();
    year = year * 10 + (c - '0');
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = (id[5] - '1') * 3;
  tm.tm_mday = 1;
  return std::chrono::time_point_cast<Duration>(
      std::chrono::system_clock::from_time_t(timegm(&tm)));
}

Result<Keyring> Keyring::Parse(std::string_view toml_text, const std::string& origin) {
  Keyring ring;
  try {  // toml11 reports syntax errors by exception; keyrings are read once, at start-up
    std::istringstream in{std::string(toml_text)};
    toml::value root = toml::parse(in, origin);
    bool have_token = false, have_map = false;
    for (const auto& [section, table] : root.as_table()) {
      if (!table.is_table())
        return InvalidArgument(origin + ": '" + section +
                               "' must be a section ([digest], [token] or [map])");
      if (section == "digest") {
        for (const auto& [id, v] : table.as_table()) {
          CW_RETURN_IF_ERROR(QuarterStart(id).status().WithContext(origin + " [digest]"));
          CW_ASSIGN_OR_RETURN(ring.digest_[id], KeyFromHex(v, "[digest] " + id));
        }
      } else if (section == "token" || section == "map") {
        for (const auto& [name, v] : table.as_table()) {
          if (name != "key")
            return InvalidArgument(origin + ": [" + section + "] holds only 'key', not '" + name +
                                   "'");
          CW_ASSIGN_OR_RETURN((section == "token" ? ring.token_ : ring.map_),
                              KeyFromHex(v, "[" + section + "] key"));
          (section == "token" ? have_token : have_map) = true;
        }
      } else {
        return InvalidArgument(origin + ": unknown section [" + section +
                               "] (expected [digest], [token] or [map])");
      }
    }
    if (!have_token || !have_map)
      return InvalidArgument(origin + ": needs a [token] key and a [map] key");
    if (ring.digest_.empty()) return InvalidArgument(origin + ": [digest] holds no quarter key");
  } catch (const std::exception& e) {
    return InvalidArgument(e.what());
  }
  return ring;
}

Result<Keyring> Keyring::Load(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (text.error().code() == Code::kNotFound)
      return NotFound("no keyring at " + path + " (create one: cartmask keys init)");
    return text.error();
  }
  return Parse(*text, path);
}

Result<std::string> Keyring::Generate(Time at) {
  CW_ASSIGN_OR_RETURN(crypto::SymmetricKey digest, crypto::RandomKey());
  CW_ASSIGN_OR_RETURN(crypto::SymmetricKey token, crypto::RandomKey());
  CW_ASSIGN_OR_RETURN(crypto::SymmetricKey map, crypto::RandomKey());
  return "# cartmask keyring. Keep it out of the repository, readable by the masking job only.\n"
         "# Add the next quarter's [digest] key before that quarter starts.\n"
         "[digest]\n" +
         QuarterOf(at) + " = \"" + HexKey(digest) +
         "\"\n\n"
         "[token]\nkey = \"" +
         HexKey(token) +
         "\"\n\n"
         "[map]\nkey = \"" +
         HexKey(map) + "\"\n";
}

Result<std::string> Keyring::AddQuarter(std::string_view text, std::string_view id) {
  CW_RETURN_IF_ERROR(QuarterStart(id).status());
  CW_ASSIGN_OR_RETURN(Keyring ring, Parse(text));
  if (ring.digest_.count(std::string(id)))
    return AlreadyExists("the keyring already has a [digest] key for " + std::string(id));
  CW_ASSIGN_OR_RETURN(crypto::SymmetricKey key, crypto::RandomKey());
  size_t at = text.starts_with("[digest]")
                  ? 0
                  : text.find("\n[digest]");  // the header, not a comment naming it
  if (at != std::string_view::npos && at > 0) ++at;
  size_t eol = at == std::string_view::npos ? at : text.find('\n', at);
  if (eol == std::string_view::npos)
    return InvalidArgument("the keyring's [digest] header must be on a line of its own");
  std::string out(text.substr(0, eol + 1));
  out += std::string(id) + " = \"" + HexKey(key) + "\"\n";
  out.append(text.substr(eol + 1));
  CW_RETURN_IF_ERROR(Parse(out).status());
  return out;
}

Result<const crypto::SymmetricKey*> Keyring::DigestKey(Time at) const {
  std::string id = QuarterOf(at);
  auto it = digest_.find(id);
  if (it == digest_.end()) return NotFound("the keyring has no [digest] key for " + id);
  return &it->second;
}

std::vector<std::pair<std::string, const crypto::SymmetricKey*>> Keyring::UsableDigestKeys(
    Time at) const {
  std::vector<std::pair<std::string, const crypto::SymmetricKey*>> out;
  std::string id = QuarterOf(at);
  auto it = digest_.find(id);
  if (it != digest_.end()) out.emplace_back(it->first, &it->second);
  Time start = *QuarterStart(id);
  if (at - start < kRotationOverlap) {
    std::string previous = QuarterOf(start - std::chrono::seconds(1));
    auto prev = digest_.find(previous);
    if (prev != digest_.end()) out.emplace_back(prev->first, &prev->second);
  }
  return out;
}

Result<const crypto::SymmetricKey*> Keyring::DigestKeyFor(std::string_view id, Time at) const {
  auto it = digest_.find(std::string(id));
  if (it == digest_.end())
    return NotFound("the keyring has no [digest] key for " + std::string(id));
  for (const auto& [usable, key] : UsableDigestKeys(at)) {
    if (usable == id) return key;
  }
  return FailedPrecondition(
      "the " + std::string(id) + " digest key is outside its window at " + QuarterOf(at) +
      " (a quarter's key is usable in its quarter and the first 30 days of the next)");
}

std::vector<std::string> Keyring::quarters() const {
  std::vector<std::string> out;
  for (const auto& [id, _] : digest_) out.push_back(id);
  return out;
}

}  // namespace cw::mask
