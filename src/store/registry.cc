#include "store/registry.h"


namespace cw::store {

Registry Registry::WithBuiltinBackends() {
  Registry r;
  RegisterBuiltinBackends(r);
  return r;
}

void RegisterBuiltinBackends(Registry& registry) {
  registry.entity.Register("sqlite", [](const std::string& path, Clock& clock) { return OpenSqliteEntityStore(path, clock); });
  // libpq takes the whole URI ("postgresql://user@host:port/db?…").
  for (const char* scheme : {"postgresql", "postgres"}) {
    registry.entity.Register(scheme, [scheme](const std::string& rest, Clock& clock) {
      return OpenPostgresEntityStore(std::string(scheme) + ":" + rest, clock);
    });
  }
  registry.telemetry.Register("rocksdb", [](const std::string& path, Clock& clock, OpenMode mode) {
    return OpenRocksTelemetryStore(path, clock, mode);
  });
  registry.telemetry.Register("memory", [](const std::string&, Clock& clock, OpenMode) {
    return OpenMemoryTelemetryStore(clock);
  });
  registry.blobs.Register("file", [](const std::string& root) { return OpenFileBlobStore(root); });
  registry.blobs.Register("memory", [](const std::string&) { return OpenMemoryBlobStore(); });
}

}  // namespace cw::store
