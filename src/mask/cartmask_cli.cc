#include "mask/cartmask_cli.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/clock.h"
#include "core/files.h"
#include "core/time_format.h"
#include "mask/evalset.h"
#include "mask/generate.h"
#include "mask/jsonl.h"
#include "mask/keyring.h"
#include "mask/masker.h"
#include "mask/redact.h"
#include "mask/verify.h"

namespace cw::mask {
namespace {

constexpr int kOk = 0, kFailed = 1, kUnreadable = 2;

int Fail(const Status& s, int code = kFailed) {
  std::fprintf(stderr, "cartmask: %s\n", s.message().c_str());
  return code;
}

// Missing or unreadable inputs exit 2; everything else that stops a command exits 1.
int ExitFor(const Status& s) {
  bool unreadable = s.code() == Code::kNotFound || s.code() == Code::kUnavailable ||
                    s.code() == Code::kCorruption;
  return Fail(s, unreadable ? kUnreadable : kFailed);
}

Result<Time> RunTime(const std::string& at) {
  if (at.empty()) return Clock::System().Now();
  return ParseRfc3339(at);
}

std::string Human(uint64_t bytes) {
  char buf[32];
  if (bytes >= (1ull << 30))
    std::snprintf(buf, sizeof buf, "%.2f GiB", bytes / double(1ull << 30));
  else if (bytes >= (1ull << 20))
    std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / double(1ull << 20));
  else
    std::snprintf(buf, sizeof buf, "%.1f KiB", bytes / 1024.0);
  return buf;
}

void PrintSummary(const MaskSummary& s, const std::string& out) {
  std::printf("masked %llu of %llu records (%s) in %.2f s, %.1f MB/s\n",
              static_cast<unsigned long long>(s.masked), static_cast<unsigned long long>(s.records),
              Human(s.input_bytes).c_str(), s.seconds,
              s.seconds > 0 ? s.input_bytes / 1e6 / s.seconds : 0.0);
  if (s.quarantined) {
    std::printf(
        "QUARANTINED %llu record(s) that could not be masked safely: %s (reasons in the decision "
        "log)\n",
        static_cast<unsigned long long>(s.quarantined), s.quarantine.c_str());
  }
  if (!s.dropped_columns.empty()) {
    std::printf("dropped (in no bucket, --drop-unknown):");
    for (const auto& c : s.dropped_columns) std::printf(" %s", c.c_str());
    std::printf("\n");
  }
  if (s.hits.total()) {
    std::printf("free-text redactions:");
    for (size_t k = 0; k < kEntityKinds; ++k) {
      if (s.hits.n[k])
        std::printf(" %s %llu", std::string(EntityName(static_cast<Entity>(k))).c_str(),
                    static_cast<unsigned long long>(s.hits.n[k]));
    }
    std::printf("\n");
  }
  std::printf("output:        %s\n", out.c_str());
  std::printf("decision log:  %s\n", s.decision_log.c_str());
  std::printf("kept columns:  %s\n", s.kept_columns.c_str());
  if (!s.token_map.empty()) {
    std::printf("token map:     %s (%llu tokens, sealed; keep it apart from the output)\n",
                s.token_map.c_str(), static_cast<unsigned long long>(s.tokens));
  }
}

}  // namespace

int RunCartmask(int argc, char** argv) {
  CLI::App app{
      "cartmask: mask personal data in CSV and JSON Lines datasets by a rubric, and prove it",
      "cartmask"};
  app.require_subcommand(1);
  std::string keys_path = "var/cartmask/keyring.toml";

  auto* keys = app.add_subcommand("keys", "Create a keyring, or add the next quarter's digest key");
  keys->require_subcommand(1);
  auto* keys_init =
      keys->add_subcommand("init", "Write a new keyring (mode 0600); never overwrites one");
  std::string keys_at;
  keys_init->add_option("--keys", keys_path, "Where to write it (keep it out of the repository)")
      ->capture_default_str();
  auto* keys_add = keys->add_subcommand("add-quarter", "Add a digest key for a quarter (rotation)");
  std::string quarter;
  keys_add->add_option("--keys", keys_path, "The keyring")->capture_default_str();
  keys_add->add_option("--quarter", quarter, "YYYYQn, e.g. 2027Q1")->required();

  auto* gen = app.add_subcommand(
      "generate", "Write synthetic connected-tool telemetry with a realistic PII surface");
  GenerateOptions g;
  std::string rubric_out;
  bool no_notes = false;
  gen->add_option("--rows", g.rows, "Records to write")->capture_default_str();
  gen->add_option("--seed", g.seed, "The same seed writes the same bytes")->capture_default_str();
  gen->add_option("--out", g.out, "FILE.csv or FILE.jsonl")->required();
  gen->add_flag("--no-notes", no_notes, "Leave out the free-text notes column");
  gen->add_flag("--notes-only", g.notes_only,
                "Write only event_id and notes, a note in every record");
  gen->add_option("--rubric-out", rubric_out,
                  "Also write the example rubric that fits the data here");

  auto* mask = app.add_subcommand("mask", "Mask a dataset by a rubric");
  MaskOptions m;
  std::string rubric_path, at;
  mask->add_option("--rubric", rubric_path, "The rubric (TOML)")->required();
  mask->add_option("--keys", keys_path, "The keyring")->capture_default_str();
  mask->add_option("--domain", m.domain, "Token domain, e.g. tool-telemetry")->required();
  mask->add_option("--in", m.in, "Input: FILE.csv or FILE.jsonl")->required();
  mask->add_option("--out", m.out, "Output, same format")->required();
  mask->add_flag("--drop-unknown", m.drop_unknown,
                 "Leave columns the rubric does not name out of the output instead of failing");
  mask->add_option("--threads", m.threads, "Masking threads (default: one per core)");
  mask->add_option("--token-map", m.token_map,
                   "Where to keep the sealed token map (default OUT.tokenmap)");
  mask->add_option("--at", at,
                   "Mask as of this time (RFC 3339): picks the quarter's digest key (default now)");

  auto* remask = app.add_subcommand(
      "remask", "Re-mask raw data under a bumped rubric version (docs/runbooks/remask.md)");
  MaskOptions rm;
  std::string remask_rubric, remask_at;
  remask
      ->add_option("--rubric", remask_rubric,
                   "The new rubric (its version must differ from the last run's)")
      ->required();
  remask->add_option("--keys", keys_path, "The keyring")->capture_default_str();
  remask->add_option("--domain", rm.domain, "Token domain (the same as the run it replaces)")
      ->required();
  remask->add_option("--in", rm.in, "The raw input")->required();
  remask
      ->add_option("--out", rm.out,
                   "The output to replace (its decision log says which rubric it was masked under)")
      ->required();
  remask->add_flag("--drop-unknown", rm.drop_unknown, "As for mask");
  remask->add_option("--threads", rm.threads, "Masking threads (default: one per core)");
  remask->add_option("--token-map", rm.token_map, "As for mask");
  remask->add_option("--at", remask_at, "As for mask");

  auto* verify = app.add_subcommand("verify",
                                    "Check masked output against the rubric's invariants (exit 0 "
                                    "OK, 1 violations, 2 unreadable)");
  VerifyOptions v;
  std::string verify_rubric;
  verify->add_option("--rubric", verify_rubric, "The rubric")->required();
  verify->add_option("--masked", v.masked, "The masked dataset")->required();
  verify->add_option("--original", v.original,
                     "The raw input: checks kept columns are byte-identical, tokens are not raw");
  verify->add_option("--compare", v.compare,
                     "The same input masked under another --domain: checks tokens differ");
  verify->add_option("--min-k", v.min_k,
                     "Minimum k for the k-anonymity check (default: the rubric's; 0: off)");

  auto* eval = app.add_subcommand(
      "eval", "Measure the free-text redactor on a labelled set (precision, recall, F2)");
  size_t eval_notes = 20000;
  uint64_t eval_seed = 7;
  eval->add_option("--notes", eval_notes, "Notes in the set")->capture_default_str();
  eval->add_option("--seed", eval_seed, "Seed for the set")->capture_default_str();
  size_t eval_examples = 0;
  eval->add_option("--examples", eval_examples,
                   "Also print this many misses and false reports (for tuning)");

  auto* reveal =
      app.add_subcommand("reveal", "Authorised re-identification: the value behind a token");
  std::string map_path, token;
  reveal->add_option("--keys", keys_path, "The keyring")->capture_default_str();
  reveal->add_option("--token-map", map_path, "The sealed token map")->required();
  reveal->add_option("--token", token, "The token, e.g. op_0123456789abcdef")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kOk : kUnreadable;
  }

  if (keys_init->parsed()) {
    auto text = Keyring::Generate(Clock::System().Now());
    if (!text.ok()) return Fail(text.error());
    std::error_code ec;
    std::filesystem::path parent = std::filesystem::path(keys_path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    Status s = WriteFileExclusive(keys_path, *text, 0600);
    if (!s.ok()) return Fail(s);
    std::printf(
        "wrote %s (mode 0600). Keep it out of the repository; back it up with the token maps.\n",
        keys_path.c_str());
    return kOk;
  }
  if (keys_add->parsed()) {
    auto text = ReadFile(keys_path);
    if (!text.ok()) return ExitFor(text.error());
    auto updated = Keyring::AddQuarter(*text, quarter);
    if (!updated.ok()) return Fail(updated.error());
    Status s = WriteFileAtomic(keys_path, *updated, 0600);
    if (!s.ok()) return Fail(s);
    std::printf("added the %s digest key to %s\n", quarter.c_str(), keys_path.c_str());
    return kOk;
  }
  if (gen->parsed()) {
    g.with_notes = !no_notes;
    Status s = GenerateTelemetry(g);
    if (!s.ok()) return Fail(s);
    std::printf("wrote %llu records to %s\n", static_cast<unsigned long long>(g.rows),
                g.out.c_str());
    if (!rubric_out.empty()) {
      s = WriteFileAtomic(rubric_out, ExampleRubric());
      if (!s.ok()) return Fail(s);
      std::printf("wrote the example rubric to %s\n", rubric_out.c_str());
    }
    return kOk;
  }
  if (mask->parsed() || remask->parsed()) {
    MaskOptions& o = mask->parsed() ? m : rm;
    const std::string& rp = mask->parsed() ? rubric_path : remask_rubric;
    auto rubric = Rubric::Load(rp);
    if (!rubric.ok()) return ExitFor(rubric.error());
    auto ring = Keyring::Load(keys_path);
    if (!ring.ok()) return ExitFor(ring.error());
    auto now = RunTime(mask->parsed() ? at : remask_at);
    if (!now.ok()) return Fail(now.error().WithContext("--at"), kUnreadable);
    o.now = *now;
    if (!std::filesystem::exists(o.in)) return Fail(NotFound("no input at " + o.in), kUnreadable);
    if (remask->parsed()) {
      auto runs = ReadDecisionLog(o.out + ".decisions.jsonl");
      if (!runs.ok()) return ExitFor(runs.error());
      const LoggedRun* last = nullptr;
      for (const LoggedRun& run : *runs) {
        if (run.status == "ok") last = &run;
      }
      if (!last) {
        return Fail(
            FailedPrecondition(o.out + ".decisions.jsonl records no completed run to replace"));
      }
      if (last->rubric_version == rubric->version) {
        return Fail(FailedPrecondition("rubric " + rp + " is still version " +
                                       last->rubric_version + ", the version " + o.out +
                                       " was masked under: bump it before re-masking"));
      }
      o.remask_of = last->rubric_version;
      std::printf("re-masking %s: rubric %s replaces %s\n", o.in.c_str(), rubric->version.c_str(),
                  last->rubric_version.c_str());
    }
    bool tty = ::isatty(STDERR_FILENO);
    if (tty) {
      o.progress = [](uint64_t done, uint64_t total) {
        if (total)
          std::fprintf(stderr, "\r  %5.1f%%  %s of %s", 100.0 * done / total, Human(done).c_str(),
                       Human(total).c_str());
      };
    }
    auto summary = MaskFile(*rubric, *ring, o);
    if (tty) std::fprintf(stderr, "\r\033[K");
    if (!summary.ok()) return ExitFor(summary.error());
    PrintSummary(*summary, o.out);
    return kOk;
  }
  if (verify->parsed()) {
    auto rubric = Rubric::Load(verify_rubric);
    if (!rubric.ok()) return ExitFor(rubric.error());
    auto report = Verify(*rubric, v);
    if (!report.ok()) return Fail(report.error(), kUnreadable);
    std::fputs(FormatReport(*report).c_str(), stdout);
    return report->total() == 0 ? kOk : kFailed;
  }
  if (eval->parsed()) {
    Redactor redactor;
    std::vector<EvalExample> examples;
    auto rows = Evaluate(redactor, BuildEvalSet(eval_notes, eval_seed), &examples, eval_examples);
    if (!rows.ok()) return Fail(rows.error());
    std::fputs(FormatEval(*rows, eval_notes).c_str(), stdout);
    for (const EvalExample& e : examples) {
      std::printf("%s %-7s %-24s in: %s\n", e.missed ? "missed" : "false ",
                  std::string(EntityName(e.kind)).c_str(), ("\"" + e.span + "\"").c_str(),
                  e.text.c_str());
    }
    return kOk;
  }
  if (reveal->parsed()) {
    auto ring = Keyring::Load(keys_path);
    if (!ring.ok()) return ExitFor(ring.error());
    auto text = OpenTokenMap(map_path, *ring);
    if (!text.ok()) return ExitFor(text.error());
    std::istringstream lines(*text);
    for (std::string line; std::getline(lines, line);) {
      auto members = ParseJsonObjectLine(line);
      if (!members.ok()) continue;
      std::string t, column, value;
      for (const JsonMember& mm : *members) {
        auto s = DecodeJsonString(mm.raw).value_or("");
        if (mm.key == "token")
          t = s;
        else if (mm.key == "column")
          column = s;
        else if (mm.key == "value")
          value = s;
      }
      if (t == token) {
        std::printf("%s\t%s\n", column.c_str(), value.c_str());
        return kOk;
      }
    }
    return Fail(NotFound("no token " + token + " in " + map_path), kFailed);
  }
  return kUnreadable;
}

}  // namespace cw::mask
