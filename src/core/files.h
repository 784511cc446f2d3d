// core/files.h — small, careful file helpers shared by every module that persists something.
#pragma once

#include <string>
#include <string_view>
#include <sys/types.h>

#include "core/status.h"

namespace cw {

// Reads a whole file. NotFound if it does not exist.
Result<std::string> ReadFile(const std::string& path);

// Writes `data` so that readers see either the old file or the whole new one, even across a crash:
// write to a temp file in the same directory, fsync, rename, fsync the directory. `mode` applies to
// the new file (0600 for secrets).
Status WriteFileAtomic(const std::string& path, std::string_view data, mode_t mode = 0644);

// Like WriteFileAtomic but fails with AlreadyExists instead of replacing an existing file.
Status WriteFileExclusive(const std::string& path, std::string_view data, mode_t mode = 0644);

// Appends `data` to `path` (created with 0600 if missing) in full. `sync`: fsync before returning
// (a download's chunk must outlive a power cut). Internal on failure, after which the file may
// hold part of `data`; a caller that needs whole records cuts it back itself.
Status AppendToFile(const std::string& path, std::string_view data, bool sync);

// mkdir -p with `mode` for directories it creates.
Status MakeDirs(const std::string& path, mode_t mode = 0755);

bool PathExists(const std::string& path);

// Raises this process's open-file soft limit to its hard limit (children inherit it): a broker or a
// simulated fleet holds one socket per cart. Returns the new soft limit.
uint64_t RaiseOpenFileLimit();

}  // namespace cw
