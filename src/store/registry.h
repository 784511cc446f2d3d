// store/registry.h — picks a backend by URI scheme at start-up.
//
// The registry is filled explicitly (RegisterBuiltinBackends) rather than by static initialisers,
// so what a binary can open is visible in one place and a fork adds its engine in one line.
// One table per store category; every URI is "scheme:rest", and rest is the backend's business.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "store/blob_store.h"
#include "store/entity_store.h"
#include "store/telemetry_store.h"

namespace cw::store {

// Scheme → factory for one store category; `kind` names the category in errors.
template <typename Store, typename... Args>
class BackendTable {
 public:
  using Factory = std::function<Result<std::unique_ptr<Store>>(const std::string& rest, Args...)>;
  explicit BackendTable(std::string kind) : kind_(std::move(kind)) {}

  // `scheme` without the colon, e.g. "sqlite". Replaces an earlier registration.
  void Register(const std::string& scheme, Factory factory) { factories_[scheme] = std::move(factory); }

  // Opens "scheme:rest". InvalidArgument for a malformed URI or an unknown scheme (the message
  // lists the known ones); otherwise whatever the backend reports.
  Result<std::unique_ptr<Store>> Open(const std::string& uri, Args... args) const {
    size_t colon = uri.find(':');
    if (colon == std::string::npos || colon == 0) {
      return InvalidArgument(kind_ + " store URI '" + uri + "' has no scheme (expected e.g. " + Example() + ")");
    }
    std::string scheme = uri.substr(0, colon);
    auto it = factories_.find(scheme);
    if (it == factories_.end()) {
      return InvalidArgument(kind_ + " store URI '" + uri + "': unknown scheme '" + scheme + "' (known: " + Known() + ")");
    }
    return it->second(uri.substr(colon + 1), args...);
  }

 private:
  std::string Known() const {
    std::string known;
    for (const auto& [name, _] : factories_) known += (known.empty() ? "" : ", ") + name + ":";
    return known;
  }
  std::string Example() const { return factories_.empty() ? "scheme:PATH" : factories_.begin()->first + ":PATH"; }
  std::string kind_;
  std::map<std::string, Factory> factories_;
};

class Registry {
 public:
  // Entity backends get the clock that stamps migrations and audit records.
  BackendTable<EntityStore, Clock&> entity{"entity"};
  // Telemetry backends get the clock that decides what has expired.
  BackendTable<TelemetryStore, Clock&, OpenMode> telemetry{"telemetry"};
  BackendTable<BlobStore> blobs{"blob"};

  Result<std::unique_ptr<EntityStore>> OpenEntity(const std::string& uri, Clock& clock = Clock::System()) const {
    return entity.Open(uri, clock);
  }
  Result<std::unique_ptr<TelemetryStore>> OpenTelemetry(const std::string& uri, Clock& clock = Clock::System(),
                                                        OpenMode mode = OpenMode::kReadWrite) const {
    return telemetry.Open(uri, clock, mode);
  }
  Result<std::unique_ptr<BlobStore>> OpenBlobs(const std::string& uri) const { return blobs.Open(uri); }

  // A registry with every backend this build has.
  static Registry WithBuiltinBackends();
};

// Adds sqlite: and postgresql:/postgres: (entity), rocksdb: and memory: (telemetry), file: and memory: (blobs).
void RegisterBuiltinBackends(Registry& registry);

}  // namespace cw::store
