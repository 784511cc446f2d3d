// store/registry.h — picks a backend by URI scheme at start-up.
//
// The registry is filled explicitly (RegisterBuiltinBackends) rather than by static initialisers,
// so what a binary can open is visible in one place and a fork adds its engine in one line.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/status.h"
#include "store/entity_store.h"

namespace cw::store {

class Registry {
 public:
  using EntityFactory = std::function<Result<std::unique_ptr<EntityStore>>(const std::string& rest)>;

  // `scheme` without the colon, e.g. "sqlite". Replaces an earlier registration.
  void RegisterEntity(const std::string& scheme, EntityFactory factory);

  // Opens "scheme:rest". InvalidArgument for a malformed URI or an unknown scheme (the message
  // lists the known ones); otherwise whatever the backend reports.
  Result<std::unique_ptr<EntityStore>> OpenEntity(const std::string& uri) const;

  // A registry with every backend this build has.
  static Registry WithBuiltinBackends();

 private:
  std::map<std::string, EntityFactory> entity_;
};

// Adds sqlite: (and, as later issues land, postgresql:).
void RegisterBuiltinBackends(Registry& registry);

}  // namespace cw::store
