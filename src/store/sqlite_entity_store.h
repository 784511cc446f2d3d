// store/sqlite_entity_store.h — the embedded default entity store (`sqlite:PATH`).
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "store/entity_store.h"

namespace cw::store {

// Opens or creates the database at `path` (":memory:" for a private in-memory one) and migrates it.
Result<std::unique_ptr<EntityStore>> OpenSqliteEntityStore(const std::string& path);

}  // namespace cw::store
