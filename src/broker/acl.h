// broker/acl.h — who may publish and subscribe to what on the fleet's broker (DESIGN.md §2).
//
// One rule table serves both halves: the Mosquitto plugin that enforces it (broker/plugin/, which
// also logs every denial so the fleet monitor can count them) and the acl_file rendering that an
// operator running an unmanaged broker can load instead. This file depends on nothing but the
// standard library because it is compiled into that plugin too.
#pragma once

#include <string>
#include <string_view>

namespace cw::broker {

enum class AclAccess {
  kRead,       // a message on this concrete topic is about to be delivered to the client
  kWrite,      // the client publishes (or sets a will) on this concrete topic
  kSubscribe,  // the client asks for this topic filter, wildcards and `$share/GROUP/` included
};

std::string_view AclAccessName(AclAccess access);

// True if `username` may perform `access` on `topic`. Carts (every identity other than
// `service_user`) get only their own topics; `service_user` (the cloud ingest) reads every cart's
// events and status and writes commands and reject notices. A subscription is granted only if
// every topic it can match is readable, so `#` or another cart's commands are refused at
// SUBSCRIBE time rather than silently filtered at delivery. An empty username, or one holding an
// MQTT wildcard or level separator, is refused everything.
bool AclAllows(std::string_view service_user, std::string_view username, std::string_view topic, AclAccess access);

// The same rules in Mosquitto's acl_file syntax.
std::string RenderAcl(std::string_view service_user);

// MQTT filter algebra, exposed for tests.
// True if the concrete `topic` matches `filter` (`+` one level, trailing `#` any rest).
bool TopicMatchesFilter(std::string_view filter, std::string_view topic);
// True if every topic matching `inner` also matches `outer`.
bool FilterCovers(std::string_view outer, std::string_view inner);

}  // namespace cw::broker
