#include "core/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <mutex>

namespace cw::log {
namespace {

spdlog::level::level_enum ToSpd(Level l) {
  switch (l) {
    case Level::kDebug: return spdlog::level::debug;
    case Level::kInfo: return spdlog::level::info;
    case Level::kWarn: return spdlog::level::warn;
    case Level::kError: return spdlog::level::err;
    case Level::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}

std::mutex g_mu;
std::shared_ptr<spdlog::logger> g_logger;  // guarded by g_mu for replacement; spdlog is thread-safe

std::shared_ptr<spdlog::logger> MakeLogger(const Options& o) {
  std::shared_ptr<spdlog::logger> logger;
  if (o.file.empty()) {
    logger = std::make_shared<spdlog::logger>("cartwright",
                                              std::make_shared<spdlog::sinks::stderr_sink_mt>());
  } else {
    logger = std::make_shared<spdlog::logger>(
        "cartwright", std::make_shared<spdlog::sinks::basic_file_sink_mt>(o.file, false));
  }
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  logger->set_level(ToSpd(o.level));
  logger->flush_on(spdlog::level::debug);
  return logger;
}

std::shared_ptr<spdlog::logger> Logger() {
  std::lock_guard lock(g_mu);
  if (!g_logger) g_logger = MakeLogger(Options{});
  return g_logger;
}

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\t' || c == '\\') return true;
  }
  return false;
}

}  // namespace

void Configure(const Options& options) {
  auto logger = MakeLogger(options);
  std::lock_guard lock(g_mu);
  g_logger = std::move(logger);
}

bool ParseLevel(std::string_view text, Level& out) {
  if (text == "debug") out = Level::kDebug;
  else if (text == "info") out = Level::kInfo;
  else if (text == "warn") out = Level::kWarn;
  else if (text == "error") out = Level::kError;
  else if (text == "off") out = Level::kOff;
  else return false;
  return true;
}

std::string FormatFields(std::initializer_list<Field> fields) {
  std::string out;
  for (const Field& f : fields) {
    if (!out.empty()) out += ' ';
    out += f.key;
    out += '=';
    if (!NeedsQuotes(f.value)) {
      out += f.value;
      continue;
    }
    out += '"';
    for (char c : f.value) {
      if (c == '"' || c == '\\') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    out += '"';
  }
  return out;
}

void Write(Level level, std::string_view event, std::initializer_list<Field> fields) {
  auto logger = Logger();
  auto spd = ToSpd(level);
  if (!logger->should_log(spd)) return;
  if (fields.size() == 0) {
    logger->log(spd, "{}", event);
  } else {
    logger->log(spd, "{} {}", event, FormatFields(fields));
  }
}

}  // namespace cw::log
