// The Mosquitto plugin (v5 API) that enforces broker/acl.h and logs every denial.
//
// Mosquitto 2.0 logs a refused PUBLISH only at debug level and a refused SUBSCRIBE not at all, so
// an acl_file leaves ACL probing invisible to the fleet monitor. This plugin owns the ACL instead
// (it answers every check, so no other ACL source is consulted) and writes one `notice` line per
// denial, which monitor::ClassifyBrokerLogLine counts as kind `acl_denied`.
//
// Options (mosquitto.conf):  plugin_opt_service_user NAME  — the cloud ingest's identity.
//
// Built without sanitizers even in the ASan preset: it is loaded into the uninstrumented broker.
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include <cstring>
#include <string>

#include "broker/acl.h"

namespace {

struct PluginState {
  mosquitto_plugin_id_t* id = nullptr;
  std::string service_user;
};

// A topic is client-controlled: keep the log line one printable line of bounded length.
std::string Printable(const char* s) {
  std::string out;
  for (const char* p = s ? s : ""; *p && out.size() < 200; ++p) {
    unsigned char c = static_cast<unsigned char>(*p);
    out += (c < 0x20 || c == 0x7f) ? '?' : static_cast<char>(c);
  }
  if (s && std::strlen(s) > 200) out += "...";
  return out;
}

int OnAclCheck(int /*event*/, void* event_data, void* userdata) {
  const auto* state = static_cast<const PluginState*>(userdata);
  const auto* ed = static_cast<const mosquitto_evt_acl_check*>(event_data);
  cw::broker::AclAccess access;
  switch (ed->access) {
    case MOSQ_ACL_READ: access = cw::broker::AclAccess::kRead; break;
    case MOSQ_ACL_WRITE: access = cw::broker::AclAccess::kWrite; break;
    case MOSQ_ACL_SUBSCRIBE: access = cw::broker::AclAccess::kSubscribe; break;
    case MOSQ_ACL_UNSUBSCRIBE: return MOSQ_ERR_SUCCESS;  // dropping a subscription grants nothing
    default: return MOSQ_ERR_ACL_DENIED;
  }
  const char* username = mosquitto_client_username(ed->client);
  const char* topic = ed->topic ? ed->topic : "";
  if (cw::broker::AclAllows(state->service_user, username ? username : "", topic, access)) return MOSQ_ERR_SUCCESS;
  const char* client_id = mosquitto_client_id(ed->client);
  mosquitto_log_printf(MOSQ_LOG_NOTICE, "ACL denied %s on '%s' for client %s (user %s)",
                       std::string(cw::broker::AclAccessName(access)).c_str(), Printable(topic).c_str(),
                       Printable(client_id).c_str(), Printable(username).c_str());
  return MOSQ_ERR_ACL_DENIED;
}

}  // namespace

// Built with hidden visibility; only Mosquitto's entry points are exported.
#define CW_PLUGIN_EXPORT __attribute__((visibility("default")))

extern "C" {

CW_PLUGIN_EXPORT int mosquitto_plugin_version(int supported_version_count, const int* supported_versions) {
  for (int i = 0; i < supported_version_count; ++i) {
    if (supported_versions[i] == 5) return 5;
  }
  return -1;
}

CW_PLUGIN_EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t* identifier, void** userdata, struct mosquitto_opt* options,
                          int option_count) {
  auto* state = new PluginState;
  state->id = identifier;
  for (int i = 0; i < option_count; ++i) {
    if (std::strcmp(options[i].key, "service_user") == 0 && options[i].value) state->service_user = options[i].value;
  }
  if (state->service_user.empty()) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "cartwright_acl: plugin_opt_service_user is required");
    delete state;
    return MOSQ_ERR_INVAL;
  }
  *userdata = state;
  return mosquitto_callback_register(identifier, MOSQ_EVT_ACL_CHECK, OnAclCheck, nullptr, state);
}

CW_PLUGIN_EXPORT int mosquitto_plugin_cleanup(void* userdata, struct mosquitto_opt* /*options*/, int /*option_count*/) {
  auto* state = static_cast<PluginState*>(userdata);
  if (state) {
    mosquitto_callback_unregister(state->id, MOSQ_EVT_ACL_CHECK, OnAclCheck, nullptr);
    delete state;
  }
  return MOSQ_ERR_SUCCESS;
}

}  // extern "C"
