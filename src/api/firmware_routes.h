// api/firmware_routes.h — the firmware catalog over the REST API (docs/api.md, docs/ota.md).
//
//   GET  /api/v1/firmware                     ops: every release, newest version first
//   POST /api/v1/firmware                     ops: upload {manifest, manifest_signature, image (base64url)}
//   GET  /api/v1/firmware/{version}           ops: one release's manifest
//   GET  /api/v1/firmware/{version}/image     a cart (its fleet client certificate) or ops: the image,
//                                             with Range requests so an interrupted download resumes
#pragma once

#include "api/router.h"
#include "ota/firmware_catalog.h"
#include "store/entity_store.h"

namespace cw::api {

// Largest POST /api/v1/firmware body: a 16 MiB image in base64url plus its manifest.
inline constexpr size_t kMaxFirmwareUploadBody = 22 * 1024 * 1024;

// `catalog` nullptr: the routes answer 503. `entities` checks that a downloading cart is
// registered, active, and presents the certificate it was registered with.
void AddFirmwareRoutes(Router& router, ota::FirmwareCatalog* catalog, store::EntityStore& entities);

// "bytes=N-" or "bytes=N-M" against a resource of `size` bytes: the [first, last] byte range.
// nullopt for an absent header; OutOfRange-style InvalidArgument for one that cannot be served.
struct ByteRange {
  uint64_t first = 0, last = 0;
};
Result<std::optional<ByteRange>> ParseRange(std::string_view header, uint64_t size);

}  // namespace cw::api
