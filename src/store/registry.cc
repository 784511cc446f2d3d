#include "store/registry.h"

#include "store/sqlite_entity_store.h"

namespace cw::store {

void Registry::RegisterEntity(const std::string& scheme, EntityFactory factory) {
  entity_[scheme] = std::move(factory);
}

Result<std::unique_ptr<EntityStore>> Registry::OpenEntity(const std::string& uri) const {
  size_t colon = uri.find(':');
  if (colon == std::string::npos || colon == 0) {
    return InvalidArgument("entity store URI '" + uri + "' has no scheme (expected e.g. sqlite:PATH)");
  }
  std::string scheme = uri.substr(0, colon);
  auto it = entity_.find(scheme);
  if (it == entity_.end()) {
    std::string known;
    for (const auto& [name, _] : entity_) known += (known.empty() ? "" : ", ") + name + ":";
    return InvalidArgument("entity store URI '" + uri + "': unknown scheme '" + scheme + "' (known: " + known + ")");
  }
  return it->second(uri.substr(colon + 1));
}

Registry Registry::WithBuiltinBackends() {
  Registry r;
  RegisterBuiltinBackends(r);
  return r;
}

void RegisterBuiltinBackends(Registry& registry) {
  registry.RegisterEntity("sqlite", [](const std::string& path) { return OpenSqliteEntityStore(path); });
}

}  // namespace cw::store
