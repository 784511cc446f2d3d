// core/log.h — structured logging.
//
// One line per event, logfmt: `2026-11-22T10:15:30.123Z info broker.started pid=4242 listen=...`.
// The event name is a stable dotted identifier that operators grep and alert on; details go in
// key=value fields, never interpolated into the event name. Thread-safe.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace cw::log {

enum class Level { kDebug, kInfo, kWarn, kError, kOff };

struct Field {
  Field(std::string_view k, std::string_view v) : key(k), value(v) {}
  Field(std::string_view k, const char* v) : key(k), value(v) {}
  Field(std::string_view k, const std::string& v) : key(k), value(v) {}
  Field(std::string_view k, bool v) : key(k), value(v ? "true" : "false") {}
  template <typename N>
    requires std::is_arithmetic_v<N>
  Field(std::string_view k, N v) : key(k), value(std::to_string(v)) {}
  std::string_view key;
  std::string value;
};

// Where and what to log. Defaults: stderr, info. `file` appends to that path instead of stderr.
struct Options {
  Level level = Level::kInfo;
  std::string file;
};
void Configure(const Options& options);
// Parses debug|info|warn|error|off.
bool ParseLevel(std::string_view text, Level& out);

void Write(Level level, std::string_view event, std::initializer_list<Field> fields);
inline void Debug(std::string_view e, std::initializer_list<Field> f = {}) { Write(Level::kDebug, e, f); }
inline void Info(std::string_view e, std::initializer_list<Field> f = {}) { Write(Level::kInfo, e, f); }
inline void Warn(std::string_view e, std::initializer_list<Field> f = {}) { Write(Level::kWarn, e, f); }
inline void Error(std::string_view e, std::initializer_list<Field> f = {}) { Write(Level::kError, e, f); }

// Formats `key=value` pairs the way the logger does (quoting values with spaces, quotes or '=').
std::string FormatFields(std::initializer_list<Field> fields);

}  // namespace cw::log
