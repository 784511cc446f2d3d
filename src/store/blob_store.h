// store/blob_store.h — immutable blobs: firmware images, signed receipts, telemetry archives.
//
// Write-once by design (S3 with object lock, a filesystem directory that never overwrites): a key,
// once written, always returns the same bytes, so a firmware image or receipt can be referenced
// by key and trusted. Keys are relative paths: 1–512 characters of [A-Za-z0-9._-] in segments
// separated by single '/', no segment starting with '.', no ".tmp-" (reserved for in-flight writes).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cw::store {

class BlobStore {
 public:
  virtual ~BlobStore() = default;

  // Stores `data` under `key` if the key is free: durable and whole when Ok returns (readers never
  // see a partial blob). Ok as well if the key already holds exactly these bytes (a retried
  // write); AlreadyExists if it holds different bytes; InvalidArgument for a bad key.
  virtual Status PutIfAbsent(std::string_view key, std::string_view data) = 0;

  // The blob's bytes. NotFound if there is none under `key`.
  virtual Result<std::string> Get(std::string_view key) = 0;

  // At most `max_bytes` of the blob from byte `offset` (fewer at its end, none at offset == size),
  // without reading the rest: what a resumed download serves. NotFound if there is no blob;
  // InvalidArgument when `offset` lies beyond its end.
  virtual Result<std::string> Read(std::string_view key, uint64_t offset, uint64_t max_bytes) = 0;

  // Keys starting with `prefix` ("" for all), sorted bytewise.
  virtual Result<std::vector<std::string>> List(std::string_view prefix) = 0;

  // Lowercase hex SHA-256 of the blob. NotFound if there is none.
  virtual Result<std::string> Sha256(std::string_view key) = 0;
};

// InvalidArgument naming the rule `key` breaks, or Ok.
Status ValidateBlobKey(std::string_view key);

Result<std::unique_ptr<BlobStore>> OpenMemoryBlobStore();
// Blobs as files under `root` (created if missing); writes go through temp + fsync + link.
Result<std::unique_ptr<BlobStore>> OpenFileBlobStore(const std::string& root);

}  // namespace cw::store
