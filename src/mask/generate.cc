#include "mask/generate.h"

#include <cstdio>
#include <memory>
#include <vector>

#include "core/files.h"
#include "core/random.h"
#include "core/time_format.h"
#include "core/csv.h"
#include "mask/evalset.h"
#include "mask/jsonl.h"
#include "mask/masker.h"

namespace cw::mask {
namespace {

struct City {
  const char* name;
  const char* region;
  const char* zip3;
  double lat, lon;
};
constexpr City kCities[] = {
    {"Springfield", "IL", "627", 39.7817, -89.6501}, {"Denver", "CO", "802", 39.7392, -104.9903},
    {"Austin", "TX", "787", 30.2672, -97.7431},      {"Portland", "OR", "972", 45.5152, -122.6784},
    {"Columbus", "OH", "432", 39.9612, -82.9988},    {"Raleigh", "NC", "276", 35.7796, -78.6382},
    {"Tucson", "AZ", "857", 32.2226, -110.9747},     {"Madison", "WI", "537", 43.0731, -89.4012},
    {"Boise", "ID", "837", 43.6150, -116.2023},      {"Savannah", "GA", "314", 32.0809, -81.0912},
};

struct Model {
  const char* code;
  const char* name;
};
constexpr Model kModels[] = {
    {"HD-18", "Hammer Drill 18V"},    {"ID-20", "Impact Driver 20V"},
    {"AG-45", "Angle Grinder 4.5in"}, {"CS-65", "Circular Saw 6.5in"},
    {"RH-36", "Rotary Hammer 36V"},   {"TW-12", "Torque Wrench 12V"},
};
constexpr const char* kFirmware[] = {"2.14.3", "2.14.4", "2.15.0", "3.0.1"};
constexpr const char* kErrors[] = {"", "", "", "", "", "", "E12", "E31", "E42", "E57", "E63"};
constexpr const char* kPlainNotes[] = {"",
                                       "",
                                       "",
                                       "Routine check, no issues.",
                                       "Charged overnight.",
                                       "Bit replaced.",
                                       "Used on level 3 pour."};

struct Operator {
  std::string id, email, name;
};
struct Site {
  std::string id, address;
  double lat, lon;
};

}  // namespace

Status GenerateTelemetry(const GenerateOptions& options) {
  CW_ASSIGN_OR_RETURN(DataFormat format, FormatOf(options.out));
  SeededRandom r(options.seed);
  TextForge forge(r);

  std::vector<Operator> operators(
      std::max<uint64_t>(20, std::min<uint64_t>(options.rows / 40, 5000)));
  for (size_t i = 0; i < operators.size(); ++i) {
    std::string first = forge.FirstName(), last = forge.Surname();
    operators[i] = {"EMP-" + std::to_string(10000 + i), forge.Email(first, last),
                    first + " " + last};
  }
  std::vector<Site> sites(std::max<uint64_t>(10, std::min<uint64_t>(options.rows / 200, 2000)));
  for (size_t i = 0; i < sites.size(); ++i) {
    const City& c = kCities[r.Uniform(std::size(kCities))];
    char zip[24];
    std::snprintf(zip, sizeof zip, "%s%02d", c.zip3, static_cast<int>(r.Uniform(100)));
    sites[i] = {"JS-" + std::to_string(4000 + i),
                forge.StreetAddress() + ", " + c.name + ", " + c.region + " " + zip,
                c.lat + (r.UniformDouble() - 0.5) * 0.2, c.lon + (r.UniformDouble() - 0.5) * 0.2};
  }
  std::vector<std::pair<std::string, const Model*>> tools(
      std::max<uint64_t>(30, std::min<uint64_t>(options.rows / 20, 20000)));
  for (auto& t : tools) t = {forge.Serial(), &kModels[r.Uniform(std::size(kModels))]};

  std::vector<std::string> columns = {
      "event_id",         "event_ts",    "tool_serial",    "tool_model",    "tool_model_name",
      "firmware_version", "operator_id", "operator_email", "operator_name", "job_site_id",
      "job_site_address", "gps_lat",     "gps_lon",        "battery_pct",   "torque_nm",
      "usage_minutes",    "error_code"};
  if (options.with_notes) columns.push_back("notes");
  if (options.notes_only) columns = {"event_id", "notes"};

  std::string path = options.out + ".partial";
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "wb"),
                                                       &std::fclose);
  if (!file) return Unavailable("cannot write " + path);
  std::FILE* f = file.get();
  std::string buf;
  if (format == DataFormat::kCsv) AppendCsvRecord(buf, columns);
  Time ts = *ParseRfc3339("2026-11-02T06:00:00Z");
  std::vector<std::string> values(columns.size());
  auto is_number = [&](size_t k) {
    return columns[k] == "gps_lat" || columns[k] == "gps_lon" || columns[k] == "battery_pct" ||
           columns[k] == "torque_nm" || columns[k] == "usage_minutes";
  };
  // Appends `values` as one record; writes the buffer out once it holds a MiB.
  auto emit = [&]() -> Status {
    if (format == DataFormat::kCsv) {
      AppendCsvRecord(buf, values);
    } else {
      buf += '{';
      for (size_t k = 0; k < columns.size(); ++k) {
        if (k) buf += ',';
        AppendJsonString(buf, columns[k]);
        buf += ':';
        if (is_number(k))
          buf += values[k];
        else
          AppendJsonString(buf, values[k]);
      }
      buf += "}\n";
    }
    if (buf.size() < (1 << 20)) return Status::Ok();
    if (std::fwrite(buf.data(), 1, buf.size(), f) != buf.size())
      return Unavailable("cannot write " + path);
    buf.clear();
    return Status::Ok();
  };
  char num[32];
  for (uint64_t i = 0; i < options.rows; ++i) {
    ts += std::chrono::milliseconds(r.Uniform(4000));
    if (options.notes_only) {
      values = {r.UuidV4(), forge.Note().text};
      CW_RETURN_IF_ERROR(emit());
      continue;
    }
    const Operator& op = operators[r.Uniform(operators.size())];
    const Site& site = sites[r.Uniform(sites.size())];
    const auto& tool = tools[r.Uniform(tools.size())];
    size_t c = 0;
    values[c++] = r.UuidV4();
    values[c++] = FormatTimeMillis(ts).substr(0, 19) + "Z";
    values[c++] = tool.first;
    values[c++] = tool.second->code;
    values[c++] = tool.second->name;
    values[c++] = kFirmware[r.Uniform(std::size(kFirmware))];
    values[c++] = op.id;
    values[c++] = op.email;
    values[c++] = op.name;
    values[c++] = site.id;
    values[c++] = site.address;
    std::snprintf(num, sizeof num, "%.5f", site.lat + (r.UniformDouble() - 0.5) * 0.002);
    values[c++] = num;
    std::snprintf(num, sizeof num, "%.5f", site.lon + (r.UniformDouble() - 0.5) * 0.002);
    values[c++] = num;
    values[c++] = std::to_string(5 + r.Uniform(96));
    std::snprintf(num, sizeof num, "%.1f", 5 + r.UniformDouble() * 115);
    values[c++] = num;
    values[c++] = std::to_string(r.Uniform(481));
    values[c++] = kErrors[r.Uniform(std::size(kErrors))];
    if (options.with_notes) {
      values[c++] =
          r.Bernoulli(0.35) ? forge.Note().text : kPlainNotes[r.Uniform(std::size(kPlainNotes))];
    }
    CW_RETURN_IF_ERROR(emit());
  }
  bool ok = std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
  ok = std::fclose(file.release()) == 0 && ok;
  if (!ok) return Unavailable("cannot write " + path);
  if (std::rename(path.c_str(), options.out.c_str()) != 0)
    return Unavailable("cannot rename " + path);
  return Status::Ok();
}

}  // namespace cw::mask
