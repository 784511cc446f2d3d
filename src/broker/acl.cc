#include "broker/acl.h"

#include <array>
#include <vector>

namespace cw::broker {
namespace {

enum class Grantee { kEveryIdentity, kService };

struct AclRule {
  Grantee grantee;
  AclAccess access;      // kRead or kWrite; kRead also governs what may be subscribed to
  std::string_view pattern;  // `%u` stands for the client's username (its certificate CN)
};

// DESIGN.md §2. A cart publishes only its own events and status and reads only its own commands
// and errors; the ingest reads every cart's events and status (also as a shared subscription) and
// writes commands and reject notices.
constexpr std::array<AclRule, 8> kRules{{
    {Grantee::kEveryIdentity, AclAccess::kWrite, "carts/%u/events/+"},
    {Grantee::kEveryIdentity, AclAccess::kWrite, "carts/%u/status"},
    {Grantee::kEveryIdentity, AclAccess::kRead, "carts/%u/commands"},
    {Grantee::kEveryIdentity, AclAccess::kRead, "devices/errors/%u"},
    {Grantee::kService, AclAccess::kRead, "carts/+/events/+"},
    {Grantee::kService, AclAccess::kRead, "carts/+/status"},
    {Grantee::kService, AclAccess::kWrite, "carts/+/commands"},
    {Grantee::kService, AclAccess::kWrite, "devices/errors/+"},
}};

std::vector<std::string_view> Levels(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t slash = s.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
}

std::string Substitute(std::string_view pattern, std::string_view username) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '%' && i + 1 < pattern.size() && pattern[i + 1] == 'u') {
      out += username;
      ++i;
    } else {
      out += pattern[i];
    }
  }
  return out;
}

}  // namespace

std::string_view AclAccessName(AclAccess access) {
  switch (access) {
    case AclAccess::kRead: return "read";
    case AclAccess::kWrite: return "publish";
    case AclAccess::kSubscribe: return "subscribe";
  }
  return "?";
}

bool TopicMatchesFilter(std::string_view filter, std::string_view topic) {
  if (topic.empty() || topic.find_first_of("+#") != std::string_view::npos) return false;
  // Wildcards at the first level never match the broker's own `$` topics (MQTT 3.1.1 §4.7.2).
  if (topic.front() == '$' && !filter.empty() && (filter.front() == '+' || filter.front() == '#')) return false;
  std::vector<std::string_view> f = Levels(filter), t = Levels(topic);
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#") return i + 1 == f.size();  // also matches the parent level: a/# matches a
    if (i >= t.size()) return false;
    if (f[i] != "+" && f[i] != t[i]) return false;
  }
  return f.size() == t.size();
}

bool FilterCovers(std::string_view outer, std::string_view inner) {
  std::vector<std::string_view> o = Levels(outer), in = Levels(inner);
  for (size_t i = 0; i < o.size(); ++i) {
    if (o[i] == "#") return i + 1 == o.size();
    if (i >= in.size()) return false;
    if (in[i] == "#") return false;  // spans levels `outer` pins down
    if (o[i] == "+") continue;
    if (in[i] == "+" || o[i] != in[i]) return false;
  }
  return o.size() == in.size();
}

bool AclAllows(std::string_view service_user, std::string_view username, std::string_view topic, AclAccess access) {
  if (username.empty() || username.find_first_of("+#/") != std::string_view::npos) return false;
  if (topic.empty()) return false;
  std::string_view wanted = topic;
  if (access == AclAccess::kSubscribe && wanted.starts_with("$share/")) {
    // $share/GROUP/FILTER: the group name is the subscriber's business, the filter is ours.
    size_t group_end = wanted.find('/', 7);
    if (group_end == std::string_view::npos || group_end == 7 || group_end + 1 == wanted.size()) return false;
    wanted = wanted.substr(group_end + 1);
  }
  if (access != AclAccess::kSubscribe && wanted.find_first_of("+#") != std::string_view::npos) return false;
  AclAccess needed = access == AclAccess::kSubscribe ? AclAccess::kRead : access;
  for (const AclRule& rule : kRules) {
    if (rule.access != needed) continue;
    if (rule.grantee == Grantee::kService && username != service_user) continue;
    std::string pattern = Substitute(rule.pattern, username);
    bool granted = access == AclAccess::kSubscribe ? FilterCovers(pattern, wanted) : TopicMatchesFilter(pattern, wanted);
    if (granted) return true;
  }
  return false;
}

std::string RenderAcl(std::string_view service_user) {
  std::string a;
  a += "# Written by `cartwright broker run`. The managed broker enforces these rules through its plugin\n";
  a += "# (cartwright_acl.so, which also logs each denial for the fleet monitor); a broker without the\n";
  a += "# plugin can load this file with acl_file. Carts authenticate as their cart id (%u = certificate CN).\n";
  a += "# A cart publishes only its own events and status, and reads only its own commands and errors.\n";
  auto section = [&](Grantee grantee, const char* keyword) {
    for (const AclRule& rule : kRules) {
      if (rule.grantee != grantee) continue;
      a += keyword;
      a += rule.access == AclAccess::kWrite ? " write " : " read ";
      a += rule.pattern;
      a += '\n';
    }
  };
  section(Grantee::kEveryIdentity, "pattern");
  a += "\n# The cloud ingest service reads every cart's events and status (also as a shared subscription)\n";
  a += "# and writes commands and reject notices.\n";
  a += "user " + std::string(service_user) + "\n";
  section(Grantee::kService, "topic");
  return a;
}

}  // namespace cw::broker
