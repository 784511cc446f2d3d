// wire/schema_files.h — the files of schemas/, embedded at build time.
#pragma once

#include <span>
#include <string_view>

namespace cw::wire {

struct EmbeddedFile {
  std::string_view path;  // relative to schemas/, e.g. "events/scan.json"
  std::string_view text;
};

std::span<const EmbeddedFile> SchemaFiles();

}  // namespace cw::wire
