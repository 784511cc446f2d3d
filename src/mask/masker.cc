#include "mask/masker.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <utility>

#include "core/csv.h"
#include "core/files.h"
#include "core/time_format.h"
#include "crypto/hash.h"
#include "mask/generalise.h"
#include "mask/jsonl.h"
#include "mask/keyed.h"

namespace cw::mask {
namespace {

constexpr std::string_view kTokenMapAad = "cartmask token map v1";

bool ValidDomain(std::string_view d) {
  if (d.empty() || d.size() > 64) return false;
  for (char c : d) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) return false;
  }
  return true;
}

std::string KeyId(const crypto::SymmetricKey& key) {
  // Names a key in the log without revealing anything about it.
  std::string input = "cartmask key id:";
  input.append(reinterpret_cast<const char*>(key.data()), key.size());
  return crypto::Sha256Hex(input).substr(0, 16);
}

std::string HitsJson(const EntityCounts& hits) {
  std::string out = "{";
  for (size_t k = 0; k < kEntityKinds; ++k) {
    if (!hits.n[k]) continue;
    if (out.size() > 1) out += ',';
    out += '"';
    out += EntityName(static_cast<Entity>(k));
    out += "\":" + std::to_string(hits.n[k]);
  }
  return out + "}";
}

// A plan names the bucket and treatment of every column of a record; records refer to it by an id
// derived from its content, so the log states per record what was applied without repeating it.
std::string PlanId(std::string_view applied) { return crypto::Sha256Hex(applied).substr(0, 12); }

std::string PlanLine(std::string_view id, const Rubric& rubric, std::string_view applied) {
  std::string line = "{\"event\":\"plan\",\"plan\":\"" + std::string(id) + "\",\"rubric\":";
  AppendJsonString(line, rubric.version);
  line += ",\"applied\":";
  line += applied;
  line += "}\n";
  return line;
}

// Adds `"column":"bucket/treatment"` (or "dropped") to a plan's object being built ("{" so far,
// or "{…"): the CSV header's plan and each JSON Lines record's are built the same way.
void AddToPlan(std::string& applied, std::string_view column, const ColumnRule* rule) {
  if (applied.size() > 1) applied += ',';
  AppendJsonString(applied, column);
  applied += ':';
  AppendJsonString(applied, rule ? std::string(BucketName(rule->bucket)) + "/" +
                                       std::string(TreatmentName(rule->treatment))
                                 : std::string("dropped"));
}

// Cuts the input into blocks of whole records. CSV records may hold line breaks inside quotes, so
// the cut follows quotes; JSON Lines records are single lines.
class RecordSplitter {
 public:
  RecordSplitter(std::istream& in, DataFormat format, size_t block)
      : in_(in), csv_(format == DataFormat::kCsv), block_(block) {}

  // The next record alone (the CSV header). False at the end of the input.
  bool NextRecord(std::string& out, uint64_t& lines) {
    for (;;) {
      bool quoted = false;
      for (size_t i = 0; i < buf_.size(); ++i) {
        char c = buf_[i];
        if (csv_ && c == '"')
          quoted = !quoted;
        else if (c == '\n' && !quoted)
          return Take(i + 1, out, lines);
      }
      if (!Read()) {
        if (buf_.empty()) return false;
        return Take(buf_.size(), out, lines);
      }
    }
  }

  // About `block` bytes of whole records. False at the end of the input.
  bool NextBlock(std::string& out, uint64_t& records, uint64_t& lines) {
    while (boundary_ < block_ && !eof_) {
      if (!Read()) break;
      Scan();
    }
    Scan();
    if (boundary_ == 0) {
      if (buf_.empty()) return false;
      boundary_ = buf_.size();  // the last record has no line break
      ++records_;
      lines_ += pending_lines_ + 1;
      pending_lines_ = 0;
    }
    out.assign(buf_, 0, boundary_);
    buf_.erase(0, boundary_);
    scanned_ -= boundary_;
    boundary_ = 0;
    records = records_;
    lines = lines_;
    records_ = lines_ = 0;
    return true;
  }

  uint64_t bytes_read() const { return bytes_read_; }

 private:
  bool Read() {
    if (eof_) return false;
    size_t had = buf_.size();
    buf_.resize(had + block_);
    in_.read(buf_.data() + had, static_cast<std::streamsize>(block_));
    size_t got = static_cast<size_t>(in_.gcount());
    buf_.resize(had + got);
    if (got == 0) eof_ = true;
    bytes_read_ += got;
    return got > 0;
  }

  void Scan() {
    for (size_t i = scanned_; i < buf_.size(); ++i) {
      char c = buf_[i];
      if (csv_ && c == '"') {
        quoted_ = !quoted_;
      } else if (c == '\n') {
        if (quoted_) {
          ++pending_lines_;
        } else {
          boundary_ = i + 1;
          ++records_;
          lines_ += pending_lines_ + 1;
          pending_lines_ = 0;
        }
      }
    }
    scanned_ = buf_.size();
  }

  bool Take(size_t n, std::string& out, uint64_t& lines) {
    out.assign(buf_, 0, n);
    buf_.erase(0, n);
    lines = static_cast<uint64_t>(std::count(out.begin(), out.end(), '\n'));
    if (lines == 0) lines = 1;
    return true;
  }

  std::istream& in_;
  bool csv_;
  size_t block_;
  std::string buf_;
  bool eof_ = false;
  size_t scanned_ = 0, boundary_ = 0;
  bool quoted_ = false;
  uint64_t records_ = 0, lines_ = 0, pending_lines_ = 0;
  uint64_t bytes_read_ = 0;
};

// Buffers handed back once their block is written, for the next blocks to fill. A fresh buffer
// of a few megabytes is fresh pages: the kernel faults in and zeroes every one of them on first
// write, which cost more than the masking's HMACs. Holds at most the blocks in flight.
class BufferPool {
 public:
  std::string Take() {
    std::lock_guard lock(mu_);
    if (free_.empty()) return {};
    std::string b = std::move(free_.back());
    free_.pop_back();
    b.clear();
    return b;
  }
  void Give(std::string&& b) {
    if (b.capacity() == 0) return;
    std::lock_guard lock(mu_);
    free_.push_back(std::move(b));
  }

 private:
  std::mutex mu_;
  std::vector<std::string> free_;
};

struct Block {
  uint64_t seq = 0;
  uint64_t first_record = 0;  // 1-based, header excluded
  uint64_t first_line = 0;
  std::string bytes;
};

struct BlockResult {
  std::string out, log, quarantine;
  std::vector<std::array<std::string, 3>>
      tokens;  // token, column, value: ones this worker had not sent before
  std::vector<std::pair<std::string, std::string>>
      plans;  // plan id, applied: ones this worker had not sent
  std::set<std::string> dropped;
  EntityCounts hits;
  uint64_t records = 0, masked = 0, quarantined = 0;
  Status error;  // stops the run
};

// What every worker shares; read-only during the run.
struct RunContext {
  const Rubric* rubric;
  std::string rubric_json;  // the rubric's version as a JSON string, for every log line
  DataFormat format;
  std::string domain;
  bool drop_unknown;
  const crypto::SymmetricKey* digest_key;
  const crypto::SymmetricKey* token_key;
  Redactor redactor;
  std::vector<ColumnPlan> plan;  // CSV: the header's columns
  std::string csv_applied;       // CSV: the "applied" object, the same for every record
  std::string csv_plan;          // CSV: its plan id
  bool crlf = false;
};

// One column's recent value → token pairs on one thread. Open addressing with linear probing and
// the hash kept beside each value, so a lookup is one masked index and, nearly always, one slot:
// std::unordered_map's division for the bucket and its pointer chase to the node were most of the
// time spent tokenising. Grows to kMaxSlots (65,536 values at half load), then starts over; the
// values in use come straight back.
class TokenCache {
 public:
  // The token cached for `value` (whose std::hash is `hash`), or null.
  const std::string* Find(std::string_view value, size_t hash) const {
    if (slots_.empty()) return nullptr;
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.token.empty()) return nullptr;
      if (s.hash == hash && s.value == value) return &s.token;
    }
  }
  // Caches `token` (never empty) for `value`, which Find did not hold. The reference lasts until
  // the next Insert.
  const std::string& Insert(std::string_view value, size_t hash, std::string token) {
    if ((size_ + 1) * 2 > slots_.size()) Grow();
    Slot& s = FreeSlot(hash);
    s.hash = hash;
    s.value.assign(value);
    s.token = std::move(token);
    ++size_;
    return s.token;
  }

 private:
  static constexpr size_t kMaxSlots = size_t{1} << 17;
  struct Slot {
    size_t hash = 0;
    std::string value, token;  // an empty token marks a free slot
  };
  Slot& FreeSlot(size_t hash) {
    size_t i = hash & mask_;
    while (!slots_[i].token.empty()) i = (i + 1) & mask_;
    return slots_[i];
  }
  void Grow() {
    if (slots_.size() >= kMaxSlots) {
      for (Slot& s : slots_) s.token.clear();
      size_ = 0;
      return;
    }
    size_t slots = slots_.empty() ? 1024 : slots_.size() * 2;
    std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(slots));
    mask_ = slots_.size() - 1;
    for (Slot& s : old) {
      if (!s.token.empty()) FreeSlot(s.hash) = std::move(s);
    }
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

// One thread's masking state: keyed functions set up once, and recent tokens remembered
// (identifiers repeat across telemetry records far more often than they change).
class Worker {
 public:
  explicit Worker(const RunContext& ctx)
      : ctx_(ctx),
        digester_(*ctx.digest_key),
        tokenizer_(*ctx.token_key, ctx.domain),
        caches_(ctx.rubric->columns.size()) {}

  // The id of the plan `applied` describes, reported in `r` the first time this worker sees it.
  const std::string& PlanOf(const std::string& applied, BlockResult& r) {
    auto it = plans_.find(applied);
    if (it == plans_.end()) {
      it = plans_.emplace(applied, PlanId(applied)).first;
      r.plans.emplace_back(it->second, applied);
    }
    return it->second;
  }

  // The masked value, or why it cannot be masked (the record is then quarantined). The view
  // stays valid until the next call: append it before treating the next value.
  Result<std::string_view> Treat(const ColumnRule& rule, std::string_view value, BlockResult& r,
                                 EntityCounts& hits) {
    switch (rule.treatment) {
      case Treatment::kKeep:
        return value;
      case Treatment::kDigest:
        if (value.empty()) return value;
        return digester_.Into(value, scratch_);  // with SHA-NI a MAC costs less than a cache lookup
      case Treatment::kToken:
        if (value.empty()) return value;
        return TokenOf(rule, value, r);
      case Treatment::kGpsGrid:
        return Held(SnapToGrid(value));
      case Treatment::kAgeBin:
        return Held(AgeBin(value));
      case Treatment::kHour:
        return Held(TruncateToHour(value));
      case Treatment::kAddress:
        return Held(ReduceAddress(value));
      case Treatment::kQuartile:
        return Held(Quartile(value, rule.cutpoints));
      case Treatment::kRedact:
        return Held(ctx_.redactor.Redact(value, &hits));
    }
    return Internal("unknown treatment");
  }

 private:
  Result<std::string_view> Held(Result<std::string> v) {
    if (!v.ok()) return v.error();
    scratch_ = std::move(*v);
    return std::string_view(scratch_);
  }

  // The token of `value`. Tokens seen lately are remembered, so each goes to the token map once
  // per thread, not once per record.
  std::string_view TokenOf(const ColumnRule& rule, std::string_view value, BlockResult& r) {
    TokenCache& cache = caches_[rule.index];
    size_t hash = std::hash<std::string_view>{}(value);
    if (const std::string* token = cache.Find(value, hash)) return *token;
    std::string token = tokenizer_(rule.ns, value);
    r.tokens.push_back({token, rule.column, std::string(value)});
    return cache.Insert(value, hash, std::move(token));
  }

  const RunContext& ctx_;
  Digester digester_;
  Tokenizer tokenizer_;
  std::vector<TokenCache> caches_;  // by rule index
  std::string scratch_;
  std::unordered_map<std::string, std::string> plans_;  // applied → plan id
};

void AppendNumber(std::string& out, uint64_t n) {
  char digits[24];
  auto end = std::to_chars(digits, digits + sizeof digits, n).ptr;
  out.append(digits, end);
}

// `{"row":N,` opening a record's decision-log line: built in place, as a masking thread writes one
// per record.
void OpenLogLine(BlockResult& r, uint64_t record) {
  r.log += "{\"row\":";
  AppendNumber(r.log, record);
  r.log += ',';
}

void LogQuarantine(BlockResult& r, const RunContext& ctx, uint64_t record, uint64_t line,
                   std::string_view column, std::string_view reason) {
  OpenLogLine(r, record);
  r.log += "\"line\":";
  AppendNumber(r.log, line);
  r.log += ",\"rubric\":";
  r.log += ctx.rubric_json;
  r.log += ",\"quarantined\":{\"column\":";
  AppendJsonString(r.log, column);
  r.log += ",\"reason\":";
  AppendJsonString(r.log, reason);
  r.log += "}}\n";
  ++r.quarantined;
}

void LogMasked(BlockResult& r, const RunContext& ctx, uint64_t record, std::string_view plan,
               const EntityCounts& hits) {
  OpenLogLine(r, record);
  r.log += "\"rubric\":";
  r.log += ctx.rubric_json;
  r.log += ",\"plan\":\"";
  r.log += plan;
  r.log += '"';
  if (hits.total()) r.log += ",\"hits\":" + HitsJson(hits);
  r.log += "}\n";
  ++r.masked;
}

void MaskCsvBlock(const RunContext& ctx, Worker& worker, const Block& block, BlockResult& r) {
  CsvStream reader(block.bytes);
  r.out.reserve(block.bytes.size() * 2);  // digests are longer than what they replace
  r.log.reserve(block.bytes.size() / 2);
  std::vector<std::string> fields;
  size_t first_kept = 0;  // the first column that is not dropped: no comma before it
  while (first_kept < ctx.plan.size() && !ctx.plan[first_kept].rule) ++first_kept;
  uint64_t record = block.first_record;
  uint64_t consumed = 0;
  for (;; ++record) {
    auto more = reader.Next(fields);
    if (!more.ok()) {
      r.error = InvalidArgument(
          "CSV line " + std::to_string(block.first_line + reader.record_line() - 1) + ": " +
          more.error().message().substr(more.error().message().find(": ") + 2));
      return;
    }
    if (!*more) break;
    std::string_view raw =
        std::string_view(block.bytes).substr(consumed, reader.bytes_read() - consumed);
    consumed = reader.bytes_read();
    uint64_t line = block.first_line + reader.record_line() - 1;
    if (fields.size() == 1 && fields[0].empty()) continue;  // a blank line
    ++r.records;
    if (fields.size() != ctx.plan.size()) {
      LogQuarantine(r, ctx, record, line, "",
                    "the record has " + std::to_string(fields.size()) + " fields, the header " +
                        std::to_string(ctx.plan.size()));
      r.quarantine.append(raw);
      continue;
    }
    const size_t mark = r.out.size();  // the record is written in place, and taken back if refused
    EntityCounts hits;
    std::optional<std::pair<std::string, std::string>> refused;
    for (size_t c = 0; c < fields.size() && !refused; ++c) {
      const ColumnRule* rule = ctx.plan[c].rule;
      if (!rule) continue;
      auto v = worker.Treat(*rule, fields[c], r, hits);
      if (!v.ok()) {
        refused.emplace(rule->column, v.error().message());
        break;
      }
      if (c > first_kept) r.out += ',';
      AppendCsvField(r.out, *v);
    }
    if (refused) {
      r.out.resize(mark);
      LogQuarantine(r, ctx, record, line, refused->first, refused->second);
      r.quarantine.append(raw);
      continue;
    }
    r.out += ctx.crlf ? "\r\n" : "\n";
    r.hits.Add(hits);
    LogMasked(r, ctx, record, ctx.csv_plan, hits);
  }
}

void MaskJsonBlock(const RunContext& ctx, Worker& worker, const Block& block, BlockResult& r) {
  std::string_view bytes = block.bytes;
  r.out.reserve(block.bytes.size() * 2);
  r.log.reserve(block.bytes.size() / 2);
  uint64_t record = block.first_record;
  uint64_t line = block.first_line;
  std::string applied, out;
  for (size_t pos = 0; pos < bytes.size(); ++record, ++line) {
    size_t nl = bytes.find('\n', pos);
    size_t end = nl == std::string_view::npos ? bytes.size() : nl + 1;
    std::string_view raw = bytes.substr(pos, end - pos);
    std::string_view text = raw;
    pos = end;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ' ||
                             text.back() == '\t')) {
      text.remove_suffix(1);
    }
    if (text.find_first_not_of(" \t") == std::string_view::npos) continue;  // a blank line
    ++r.records;
    auto members = ParseJsonObjectLine(text);
    if (!members.ok()) {
      r.error = InvalidArgument("JSON Lines line " + std::to_string(line) + ": " +
                                members.error().message());
      return;
    }
    applied = "{";
    out = "{";
    EntityCounts hits;
    std::optional<std::pair<std::string, std::string>> refused;
    for (const JsonMember& m : *members) {
      const ColumnRule* rule = ctx.rubric->Find(m.key);
      if (!rule && !ctx.drop_unknown) {
        r.error = FailedPrecondition(
            "JSON Lines line " + std::to_string(line) + ": rubric " + ctx.rubric->version +
            " puts no bucket on '" + m.key +
            "' (add it to the rubric, or pass --drop-unknown to leave it out of the output)");
        return;
      }
      AddToPlan(applied, m.key, rule);
      if (!rule) {
        r.dropped.insert(m.key);
        continue;
      }
      if (out.size() > 1) out += ',';
      AppendJsonString(out, m.key);
      out += ':';
      if (rule->treatment == Treatment::kKeep || m.kind == JsonKind::kNull) {
        out.append(m.raw);  // byte-identical
        continue;
      }
      if (m.kind == JsonKind::kObject || m.kind == JsonKind::kArray) {
        refused.emplace(m.key, "a nested value, which the rubric's " +
                                   std::string(TreatmentName(rule->treatment)) +
                                   " treatment cannot read");
        break;
      }
      std::string value;
      if (m.kind == JsonKind::kString) {
        auto decoded = DecodeJsonString(m.raw);
        if (!decoded.ok()) {
          refused.emplace(m.key, decoded.error().message());
          break;
        }
        value = std::move(*decoded);
      } else {
        value = std::string(m.raw);  // numbers and booleans as written
      }
      auto v = worker.Treat(*rule, value, r, hits);
      if (!v.ok()) {
        refused.emplace(m.key, v.error().message());
        break;
      }
      // A number stays a number where the treatment keeps it one (grid, epoch hour).
      bool numeric =
          m.kind == JsonKind::kNumber && (rule->treatment == Treatment::kGpsGrid ||
                                          (rule->treatment == Treatment::kHour && !v->empty()));
      if (numeric)
        out += *v;
      else
        AppendJsonString(out, *v);
    }
    if (refused) {
      LogQuarantine(r, ctx, record, line, refused->first, refused->second);
      r.quarantine.append(raw);
      if (raw.back() != '\n') r.quarantine += '\n';
      continue;
    }
    out += "}\n";
    applied += '}';
    r.out += out;
    r.hits.Add(hits);
    LogMasked(r, ctx, record, worker.PlanOf(applied, r), hits);
  }
}

// Appends to a file opened once; reports the first error.
class OutFile {
 public:
  Status Open(const std::string& path, bool append, mode_t mode) {
    path_ = path;
    fd_ =
        ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), mode);
    if (fd_ < 0) return Unavailable("cannot open " + path + ": " + std::strerror(errno));
    return Status::Ok();
  }
  Status Write(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::write(fd_, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Unavailable("cannot write " + path_ + ": " + std::strerror(errno));
      data.remove_prefix(static_cast<size_t>(n));
    }
    return Status::Ok();
  }
  Status Close(bool sync) {
    if (fd_ < 0) return Status::Ok();
    bool ok = !sync || ::fsync(fd_) == 0;
    ok = ::close(fd_) == 0 && ok;
    fd_ = -1;
    return ok ? Status::Ok() : Unavailable("cannot finish " + path_ + ": " + std::strerror(errno));
  }
  bool is_open() const { return fd_ >= 0; }
  ~OutFile() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  std::string path_;
  int fd_ = -1;
};

std::string KeptColumnsMarkdown(const Rubric& rubric, const std::vector<std::string>& columns,
                                const std::string& dataset) {
  std::string md = "# Kept columns: " + dataset + "\n\n";
  md +=
      "Generated by " + std::string(kCartmaskVersion) + " from rubric " + rubric.version +
      " (sha256 " + rubric.sha256.substr(0, 16) +
      "…). These columns leave masking **unchanged**; review each `why` when the\n"
      "rubric or the data changes. A column that turns out to be personal data is re-masked with\n"
      "`cartmask remask` (docs/runbooks/remask.md).\n\n";
  md += "| column | why it is kept |\n|---|---|\n";
  size_t kept = 0;
  for (const auto& c : columns) {
    const ColumnRule* rule = rubric.Find(c);
    if (!rule || rule->treatment != Treatment::kKeep) continue;
    std::string why = rule->why;
    std::replace(why.begin(), why.end(), '|', '/');
    md += "| `" + c + "` | " + why + " |\n";
    ++kept;
  }
  if (kept == 0) md += "| (none) | |\n";
  return md;
}

}  // namespace

Result<DataFormat> FormatOf(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".csv") return DataFormat::kCsv;
  if (ext == ".jsonl" || ext == ".ndjson") return DataFormat::kJsonLines;
  return InvalidArgument(
      path + ": cannot tell the format from the name (expected .csv, .jsonl or .ndjson)");
}

Result<MaskSummary> MaskFile(const Rubric& rubric, const Keyring& keys,
                             const MaskOptions& options) {
  auto started = std::chrono::steady_clock::now();
  if (!ValidDomain(options.domain)) {
    return InvalidArgument(
        "--domain '" + options.domain +
        "' must be 1–64 lowercase letters, digits, '-' or '.' (for example tool-telemetry)");
  }
  CW_ASSIGN_OR_RETURN(DataFormat format, FormatOf(options.in));
  CW_ASSIGN_OR_RETURN(DataFormat out_format, FormatOf(options.out));
  if (out_format != format) return InvalidArgument("--out must have the same format as --in");
  if (std::filesystem::exists(options.out) &&
      std::filesystem::equivalent(std::filesystem::path(options.in),
                                  std::filesystem::path(options.out))) {
    return InvalidArgument("--out must not be the input");
  }
  CW_ASSIGN_OR_RETURN(const crypto::SymmetricKey* digest_key, keys.DigestKey(options.now));
  std::ifstream in(options.in, std::ios::binary);
  if (!in) return NotFound("cannot read " + options.in);
  std::error_code ec;
  uint64_t total = std::filesystem::file_size(options.in, ec);

  MaskSummary summary;
  const std::string ext = format == DataFormat::kCsv ? ".csv" : ".jsonl";
  summary.decision_log = options.out + ".decisions.jsonl";
  summary.token_map = options.token_map.empty() ? options.out + ".tokenmap" : options.token_map;
  const std::string quarantine_path = options.out + ".quarantine" + ext;
  const std::string partial = options.out + ".partial";

  RunContext ctx{&rubric,
                 {},
                 format,
                 options.domain,
                 options.drop_unknown,
                 digest_key,
                 &keys.token_key(),
                 Redactor(),
                 {},
                 {},
                 {},
                 false};
  AppendJsonString(ctx.rubric_json, rubric.version);
  RecordSplitter splitter(in, format, options.block_bytes);
  std::string header_out;
  std::vector<std::string> header_columns;
  uint64_t first_line = 1;
  if (format == DataFormat::kCsv) {
    std::string header;
    uint64_t lines = 0;
    if (!splitter.NextRecord(header, lines))
      return InvalidArgument(options.in + ": empty (a CSV file needs a header row)");
    std::istringstream hs(header);
    CsvStream hr(hs);
    auto got = hr.Next(header_columns);
    if (!got.ok()) return got.error().WithContext(options.in + " header");
    auto plan = Plan(rubric, header_columns, options.drop_unknown);
    if (!plan.ok()) return plan.error().WithContext(options.in);
    ctx.plan = std::move(*plan);
    ctx.crlf = hr.crlf();
    std::vector<std::string> kept;
    ctx.csv_applied = "{";
    for (const ColumnPlan& p : ctx.plan) {
      AddToPlan(ctx.csv_applied, p.column, p.rule);
      if (p.rule)
        kept.push_back(p.column);
      else
        summary.dropped_columns.push_back(p.column);
    }
    ctx.csv_applied += '}';
    ctx.csv_plan = PlanId(ctx.csv_applied);
    AppendCsvRecord(header_out, kept, ctx.crlf);
    first_line += lines;
  }

  // The input's hash goes in the run header, so it is read once before masking (SHA-256 with
  // SHA-NI runs at over a gigabyte a second, far faster than the masking).
  {
    std::ifstream hash_in(options.in, std::ios::binary);
    crypto::Sha256Stream hash;
    std::string chunk(1 << 20, '\0');
    while (hash_in) {
      hash_in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      hash.Update(std::string_view(chunk).substr(0, static_cast<size_t>(hash_in.gcount())));
    }
    if (hash_in.bad()) return Unavailable("cannot read " + options.in);
    summary.input_sha256 = hash.FinishHex();
  }

  // The run header.
  OutFile log, out, quarantine;
  CW_RETURN_IF_ERROR(log.Open(summary.decision_log, true, 0640));
  {
    std::string h = "{\"event\":\"run\",\"tool\":";
    AppendJsonString(h, kCartmaskVersion);
    h += ",\"started\":";
    AppendJsonString(h, FormatTimeMillis(options.now));
    h += ",\"rubric\":{\"version\":";
    AppendJsonString(h, rubric.version);
    h += ",\"sha256\":\"" + rubric.sha256 + "\"}";
    if (!options.remask_of.empty()) {
      h += ",\"remask_of\":";
      AppendJsonString(h, options.remask_of);
    }
    h += ",\"domain\":";
    AppendJsonString(h, options.domain);
    h += ",\"input\":";
    AppendJsonString(h, options.in);
    h += ",\"input_bytes\":" + std::to_string(total) + ",\"input_sha256\":\"" +
         summary.input_sha256 + "\"";
    h += ",\"output\":";
    AppendJsonString(h, options.out);
    h += ",\"keys\":{\"digest\":{\"quarter\":\"" + QuarterOf(options.now) + "\",\"id\":\"" +
         KeyId(*digest_key) + "\"},\"token\":{\"id\":\"" + KeyId(keys.token_key()) + "\"}}";
    if (format == DataFormat::kCsv) {
      h += ",\"columns\":[";
      for (size_t i = 0; i < ctx.plan.size(); ++i) {
        const ColumnPlan& p = ctx.plan[i];
        if (i) h += ',';
        h += "{\"column\":";
        AppendJsonString(h, p.column);
        if (p.rule) {
          h += ",\"bucket\":\"" + std::string(BucketName(p.rule->bucket)) + "\",\"treatment\":\"" +
               std::string(TreatmentName(p.rule->treatment)) + "\"}";
        } else {
          h += ",\"dropped\":true}";
        }
      }
      h += "]";
    }
    h += "}\n";
    if (format == DataFormat::kCsv) h += PlanLine(ctx.csv_plan, rubric, ctx.csv_applied);
    CW_RETURN_IF_ERROR(log.Write(h));
  }
  CW_RETURN_IF_ERROR(out.Open(partial, false, 0640));
  CW_RETURN_IF_ERROR(out.Write(header_out));
  crypto::Sha256Stream out_hash;
  out_hash.Update(header_out);

  // Reader (this thread) → workers → writer, in order, with a bounded number of blocks in flight.
  const int threads =
      options.threads > 0 ? options.threads : std::max(1u, std::thread::hardware_concurrency());
  const size_t max_in_flight = static_cast<size_t>(threads) * 2 + 2;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Block> todo;
  std::map<uint64_t, BlockResult> done;
  size_t in_flight = 0;
  bool reading_done = false, stop = false;
  uint64_t blocks = 0;
  Status failure;
  std::map<std::string, std::pair<std::string, std::string>> token_map;  // token → column, value
  std::set<std::string> dropped_json;
  std::set<std::string> written_plans = {ctx.csv_plan};

  BufferPool pool;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      Worker worker(ctx);
      for (;;) {
        Block block;
        {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return !todo.empty() || reading_done || stop; });
          if (stop || todo.empty()) return;
          block = std::move(todo.front());
          todo.pop_front();
        }
        cv.notify_all();
        BlockResult r;
        r.out = pool.Take();
        r.log = pool.Take();
        if (format == DataFormat::kCsv)
          MaskCsvBlock(ctx, worker, block, r);
        else
          MaskJsonBlock(ctx, worker, block, r);
        pool.Give(std::move(block.bytes));
        {
          std::lock_guard lock(mu);
          done.emplace(block.seq, std::move(r));
        }
        cv.notify_all();
      }
    });
  }
  std::thread writer([&] {
    for (uint64_t next = 0;; ++next) {
      BlockResult r;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return done.count(next) || (reading_done && next == blocks) || stop; });
        if (stop || !done.count(next)) return;
        r = std::move(done.at(next));
        done.erase(next);
      }
      Status s = r.error;
      if (s.ok()) s = out.Write(r.out);
      if (s.ok()) out_hash.Update(r.out);
      for (const auto& [id, applied] : r.plans) {
        if (s.ok() && written_plans.insert(id).second) s = log.Write(PlanLine(id, rubric, applied));
      }
      if (s.ok()) s = log.Write(r.log);
      pool.Give(std::move(r.out));
      pool.Give(std::move(r.log));
      if (s.ok() && !r.quarantine.empty()) {
        if (!quarantine.is_open()) {
          s = quarantine.Open(quarantine_path, false, 0600);
          if (s.ok() && format == DataFormat::kCsv) {
            std::string raw_header;
            AppendCsvRecord(raw_header, header_columns, ctx.crlf);
            s = quarantine.Write(raw_header);
          }
        }
        if (s.ok()) s = quarantine.Write(r.quarantine);
      }
      std::lock_guard lock(mu);
      if (!s.ok()) {
        failure = s;
        stop = true;
        cv.notify_all();
        return;
      }
      summary.records += r.records;
      summary.masked += r.masked;
      summary.quarantined += r.quarantined;
      summary.hits.Add(r.hits);
      for (auto& [token, column, value] : r.tokens)
        token_map.try_emplace(std::move(token), std::move(column), std::move(value));
      dropped_json.insert(r.dropped.begin(), r.dropped.end());
      --in_flight;
      cv.notify_all();
    }
  });

  uint64_t record = 1;
  for (;;) {
    Block block;
    block.bytes = pool.Take();
    uint64_t records = 0, lines = 0;
    if (!splitter.NextBlock(block.bytes, records, lines)) break;
    block.first_record = record;
    block.first_line = first_line;
    record += records;
    first_line += lines;
    if (options.progress) options.progress(splitter.bytes_read(), total);
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return in_flight < max_in_flight || stop; });
    if (stop) break;
    block.seq = blocks++;
    ++in_flight;
    todo.push_back(std::move(block));
    cv.notify_all();
  }
  {
    std::lock_guard lock(mu);
    reading_done = true;
  }
  cv.notify_all();
  for (auto& w : workers) w.join();
  writer.join();
  if (in.bad()) failure = Unavailable("cannot read " + options.in);
  summary.input_bytes = splitter.bytes_read();

  auto finish_log = [&](const Status& status) {
    std::string f = "{\"event\":\"end\",\"status\":";
    AppendJsonString(f, status.ok() ? "ok" : std::string(CodeName(status.code())));
    if (!status.ok()) {
      f += ",\"error\":";
      AppendJsonString(f, status.message());
    }
    f += ",\"input_sha256\":\"" + summary.input_sha256 + "\"";
    if (!summary.output_sha256.empty()) f += ",\"output_sha256\":\"" + summary.output_sha256 + "\"";
    f += ",\"records\":" + std::to_string(summary.records) +
         ",\"masked\":" + std::to_string(summary.masked) +
         ",\"quarantined\":" + std::to_string(summary.quarantined) +
         ",\"hits\":" + HitsJson(summary.hits) + "}\n";
    return log.Write(f);
  };
  auto fail = [&](const Status& status) -> Status {
    (void)out.Close(false);
    (void)quarantine.Close(false);
    std::filesystem::remove(partial, ec);
    std::filesystem::remove(quarantine_path, ec);
    finish_log(status).IgnoreError();
    (void)log.Close(true);
    return status;
  };
  if (!failure.ok()) return fail(failure);
  CW_RETURN_IF_ERROR(out.Close(true));
  CW_RETURN_IF_ERROR(quarantine.Close(true));
  if (quarantine.is_open() || summary.quarantined) summary.quarantine = quarantine_path;

  // The token map, sealed: one JSON line per token.
  std::string map_text;
  for (const auto& [token, cv_pair] : token_map) {
    map_text += "{\"token\":";
    AppendJsonString(map_text, token);
    map_text += ",\"column\":";
    AppendJsonString(map_text, cv_pair.first);
    map_text += ",\"value\":";
    AppendJsonString(map_text, cv_pair.second);
    map_text += "}\n";
  }
  summary.tokens = token_map.size();
  if (!token_map.empty()) {
    // Earlier runs' tokens are kept: a map covers every run of the same domain that wrote to it.
    auto earlier = OpenTokenMap(summary.token_map, keys);
    if (earlier.ok()) {
      std::istringstream lines(*earlier);
      std::set<std::string> have;
      for (std::string l; std::getline(lines, l);) have.insert(l + "\n");
      std::istringstream now_lines(map_text);
      for (std::string l; std::getline(now_lines, l);) have.insert(l + "\n");
      map_text.clear();
      for (const auto& l : have) map_text += l;
    } else if (earlier.error().code() != Code::kNotFound) {
      return fail(earlier.error().WithContext("the existing token map " + summary.token_map));
    }
    CW_ASSIGN_OR_RETURN(std::string sealed, crypto::Seal(keys.map_key(), map_text, kTokenMapAad));
    Status s = WriteFileAtomic(summary.token_map, sealed, 0600);
    if (!s.ok()) return fail(s);
  } else {
    summary.token_map.clear();
  }

  std::vector<std::string> columns = header_columns;
  if (format == DataFormat::kJsonLines) {
    columns.clear();
    for (const auto& [name, rule] : rubric.columns) columns.push_back(name);
    summary.dropped_columns.assign(dropped_json.begin(), dropped_json.end());
  }
  summary.kept_columns = options.out + ".kept_columns.md";
  Status s = WriteFileAtomic(
      summary.kept_columns,
      KeptColumnsMarkdown(rubric, columns, std::filesystem::path(options.in).filename().string()));
  if (!s.ok()) return fail(s);

  summary.output_sha256 = out_hash.FinishHex();
  std::filesystem::rename(partial, options.out, ec);
  if (ec)
    return fail(
        Unavailable("cannot rename " + partial + " to " + options.out + ": " + ec.message()));
  CW_RETURN_IF_ERROR(finish_log(Status::Ok()));
  CW_RETURN_IF_ERROR(log.Close(true));
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

Result<std::vector<LoggedRun>> ReadDecisionLog(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("no decision log at " + path);
  std::vector<LoggedRun> runs;
  uint64_t line = 0;
  for (std::string text; std::getline(in, text);) {
    ++line;
    auto bad = [&](const std::string& what) {
      return InvalidArgument(path + " line " + std::to_string(line) + ": " + what);
    };
    auto members = ParseJsonObjectLine(text);
    if (!members.ok()) return bad(members.error().message());
    std::string_view event;
    const JsonMember *rubric = nullptr, *status = nullptr, *row = nullptr, *plan = nullptr;
    for (const JsonMember& m : *members) {
      if (m.key == "event")
        event = m.raw;
      else if (m.key == "rubric")
        rubric = &m;
      else if (m.key == "status")
        status = &m;
      else if (m.key == "row")
        row = &m;
      else if (m.key == "plan")
        plan = &m;
    }
    if (event == "\"run\"") {
      runs.emplace_back();
      if (!rubric || rubric->kind != JsonKind::kObject)
        return bad("a run header without its rubric");
      auto inner = ParseJsonObjectLine(rubric->raw);
      if (!inner.ok()) return bad(inner.error().message());
      for (const JsonMember& m : *inner) {
        if (m.key == "version") runs.back().rubric_version = DecodeJsonString(m.raw).value_or("");
      }
      continue;
    }
    if (runs.empty()) return bad("a record before any run header");
    if (event == "\"end\"") {
      if (status) runs.back().status = DecodeJsonString(status->raw).value_or("");
    } else if (event.empty() && row && plan) {  // a masked record (a quarantined one has no plan)
      uint64_t n = 0;
      auto [end, ec] = std::from_chars(row->raw.data(), row->raw.data() + row->raw.size(), n);
      if (ec != std::errc() || end != row->raw.data() + row->raw.size())
        return bad("a row that is not a number");
      runs.back().masked_rows.push_back(n);
    }
  }
  return runs;
}

Result<std::string> OpenTokenMap(const std::string& path, const Keyring& keys) {
  auto sealed = ReadFile(path);
  if (!sealed.ok()) return sealed.error();
  auto text = crypto::Open(keys.map_key(), *sealed, kTokenMapAad);
  if (!text.ok()) {
    if (text.error().code() == Code::kInvalidArgument)
      return Corruption(path + " is not a sealed token map");
    return PermissionDenied(
        path +
        ": this keyring's map key does not open it (another keyring, or the file was altered)");
  }
  return text;
}

}  // namespace cw::mask
