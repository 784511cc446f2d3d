#include "api/firmware_routes.h"

#include <charconv>

#include "core/base64.h"
#include "wire/json.h"

namespace cw::api {
namespace {

using store::Role;

std::string ReleaseJson(const ota::FirmwareRelease& r) {
  wire::JsonBuilder b;
  wire::WriteFirmwareManifestFields(r.manifest, b);
  b.Field("manifest", r.manifest_json).Field("manifest_signature", r.manifest_signature);
  return b.Finish();
}

Response JsonBody(std::string body, int status = 200) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

std::optional<uint64_t> Number(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

class FirmwareRoutes {
 public:
  FirmwareRoutes(ota::FirmwareCatalog* catalog, store::EntityStore& entities) : catalog_(catalog), entities_(entities) {}

  void AddTo(Router& r) {
    r.Add({"GET", "/api/v1/firmware", Roles({Role::kOps}), [this](Request&) { return List(); }});
    r.Add({"POST", "/api/v1/firmware", Roles({Role::kOps}), [this](Request& q) { return Upload(q); },
           kMaxFirmwareUploadBody});
    r.Add({"GET", "/api/v1/firmware/{version}", Roles({Role::kOps}), [this](Request& q) { return Get(q); }});
    r.Add({"GET", "/api/v1/firmware/{version}/image", RolesOrDevice({Role::kOps}),
           [this](Request& q) { return Image(q); }});
  }

 private:
  Result<ota::FirmwareCatalog*, HttpError> Catalog() {
    if (!catalog_) return HttpError(Unavailable("the firmware catalog is not available on this server"));
    return catalog_;
  }

  Result<Response, HttpError> List() {
    CW_ASSIGN_OR_RETURN(auto* catalog, Catalog());
    auto releases = catalog->List();
    if (!releases.ok()) return HttpError(releases.error());
    std::string body = "{\"releases\":[";
    for (size_t i = 0; i < releases->size(); ++i) body += (i ? "," : "") + ReleaseJson((*releases)[i]);
    return JsonBody(body + "]}");
  }

  Result<Response, HttpError> Upload(Request& q) {
    CW_ASSIGN_OR_RETURN(auto* catalog, Catalog());
    rapidjson::Document doc;
    Status parsed = wire::ParseStrictObject(q.body, doc);
    if (!parsed.ok()) return HttpError(InvalidArgument("request body: " + parsed.message()), "body");
    auto manifest = wire::GetString(doc, "manifest");
    auto signature = wire::GetString(doc, "manifest_signature");
    auto image_text = wire::GetString(doc, "image");
    if (!manifest) return BadField("manifest", "is required (the manifest JSON, as signed, in a string)");
    if (!signature) return BadField("manifest_signature", "is required (128 hex characters)");
    if (!image_text) return BadField("image", "is required (the image, base64url)");
    auto image = Base64UrlDecode(*image_text);
    if (!image) return BadField("image", "is not base64url (RFC 4648 §5, no padding)");
    auto release = catalog->Upload(*image, *manifest, *signature);
    if (!release.ok()) return HttpError(release.error(), release.error().code() == Code::kInvalidArgument ? "manifest" : "");
    q.audit_target = "version=" + release->manifest.version + " sha256=" + release->manifest.sha256;
    return JsonBody(ReleaseJson(*release), 201);
  }

  Result<Response, HttpError> Get(Request& q) {
    CW_ASSIGN_OR_RETURN(auto* catalog, Catalog());
    auto release = catalog->Get(q.params.at("version"));
    if (!release.ok()) return HttpError(release.error());
    return JsonBody(ReleaseJson(*release));
  }

  // A cart downloads with its fleet certificate; the registry must still know it by that
  // certificate (a revoked or re-provisioned cart is refused).
  Result<Response, HttpError> Image(Request& q) {
    if (!q.principal) {
      auto cart = entities_.GetCart(*q.device);
      if (!cart.ok()) {
        if (cart.error().code() == Code::kNotFound) return HttpError(PermissionDenied(q.device->str() + " is not registered"));
        return HttpError(cart.error());
      }
      if (cart->status != store::CartStatus::kActive) {
        return HttpError(PermissionDenied(q.device->str() + " is " + std::string(store::Name(cart->status))));
      }
      if (cart->cert_fingerprint != q.device_cert_fingerprint) {
        return HttpError(PermissionDenied("the certificate presented is not the one " + q.device->str() +
                                          " is registered with"));
      }
    }
    CW_ASSIGN_OR_RETURN(auto* catalog, Catalog());
    auto release = catalog->Get(q.params.at("version"));
    if (!release.ok()) return HttpError(release.error());
    const uint64_t size = release->manifest.size;
    auto range = ParseRange(q.range, size);
    if (!range.ok()) {
      Response r = JsonBody(ErrorJson(HttpError(range.error(), "Range")), 416);
      r.headers.emplace_back("Content-Range", "bytes */" + std::to_string(size));
      return r;
    }
    // Only the requested bytes are read: a cart resuming near the end costs what it fetches.
    ByteRange bytes = range->value_or(ByteRange{0, size - 1});
    auto data = catalog->ReadImage(*release, bytes.first, bytes.last - bytes.first + 1);
    if (!data.ok()) return HttpError(data.error());
    Response r;
    r.content_type = "application/octet-stream";
    r.headers.emplace_back("Accept-Ranges", "bytes");
    r.body = std::move(*data);
    if (*range) {
      r.status = 206;
      r.headers.emplace_back("Content-Range", "bytes " + std::to_string(bytes.first) + "-" +
                                                  std::to_string(bytes.last) + "/" + std::to_string(size));
      q.audit_target = "bytes=" + std::to_string(bytes.first) + "-" + std::to_string(bytes.last);
    }
    return r;
  }

  ota::FirmwareCatalog* catalog_;
  store::EntityStore& entities_;
};

}  // namespace

Result<std::optional<ByteRange>> ParseRange(std::string_view header, uint64_t size) {
  if (header.empty()) return std::optional<ByteRange>();
  constexpr std::string_view kBytes = "bytes=";
  if (!header.starts_with(kBytes) || header.find(',') != std::string_view::npos) {
    return InvalidArgument("only one byte range is served: bytes=FIRST- or bytes=FIRST-LAST");
  }
  std::string_view spec = header.substr(kBytes.size());
  auto dash = spec.find('-');
  if (dash == std::string_view::npos || dash == 0) {
    return InvalidArgument("only one byte range is served: bytes=FIRST- or bytes=FIRST-LAST");
  }
  auto first = Number(spec.substr(0, dash));
  std::string_view last_text = spec.substr(dash + 1);
  auto last = last_text.empty() ? std::optional<uint64_t>(size ? size - 1 : 0) : Number(last_text);
  if (!first || !last || *last < *first) return InvalidArgument("malformed Range '" + std::string(header) + "'");
  if (*first >= size) {
    return InvalidArgument("the range starts at byte " + std::to_string(*first) + " of a " + std::to_string(size) +
                           "-byte image");
  }
  return std::optional<ByteRange>(ByteRange{*first, std::min(*last, size - 1)});
}

void AddFirmwareRoutes(Router& router, ota::FirmwareCatalog* catalog, store::EntityStore& entities) {
  auto routes = std::make_shared<FirmwareRoutes>(catalog, entities);
  routes->AddTo(router);
  router.KeepAlive(routes);
}

}  // namespace cw::api
