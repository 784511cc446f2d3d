// The `cartmask` command line, through the real binary: the three commands a data team runs
// (generate, mask, verify), their exit codes, rotation, remask and re-identification.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "core/files.h"
#include "core/csv.h"
#include "testing/process.h"
#include "testing/temp_dir.h"

namespace cw {
namespace {

using testing::ProcessResult;

class CartmaskTest : public ::testing::Test {
 protected:
  ProcessResult Run(std::vector<std::string> args) {
    args.insert(args.begin(), testing::BinaryPath("cartmask"));
    return testing::RunProcess(args);
  }
  std::string P(const std::string& name) const { return dir_.path() + "/" + name; }
  void SetUpData(const std::string& raw = "raw.csv", int rows = 2000) {
    ProcessResult keys = Run({"keys", "init", "--keys", P("keys/ring.toml")});
    ASSERT_EQ(keys.exit_code, 0) << keys.err;
    ProcessResult gen = Run({"generate", "--rows", std::to_string(rows), "--seed", "9", "--out",
                             P(raw), "--rubric-out", P("rubric.toml")});
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
  }
  ProcessResult Mask(const std::string& in, const std::string& out,
                     std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {
        "mask",     "--rubric",       P("rubric.toml"), "--keys", P("keys/ring.toml"),
        "--domain", "tool-telemetry", "--in",           P(in),    "--out",
        P(out)};
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args);
  }
  ProcessResult Verify(const std::string& masked, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"verify", "--rubric", P("rubric.toml"), "--masked", P(masked)};
    args.insert(args.end(), extra.begin(), extra.end());
    return Run(args);
  }
  testing::TempDir dir_;
};

TEST_F(CartmaskTest, GenerateMaskVerifyIsTheWholeWorkflow) {
  SetUpData();
  struct stat st {};
  ASSERT_EQ(::stat(P("keys/ring.toml").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_NE(Run({"keys", "init", "--keys", P("keys/ring.toml")}).exit_code,
            0);  // never overwrites a keyring

  ProcessResult mask = Mask("raw.csv", "masked.csv");
  ASSERT_EQ(mask.exit_code, 0) << mask.err;
  EXPECT_NE(mask.out.find("masked 2000 of 2000 records"), std::string::npos) << mask.out;
  EXPECT_NE(mask.out.find("free-text redactions:"), std::string::npos);
  for (const char* f : {"masked.csv", "masked.csv.decisions.jsonl", "masked.csv.kept_columns.md",
                        "masked.csv.tokenmap"}) {
    EXPECT_TRUE(std::filesystem::exists(P(f))) << f;
  }
  ProcessResult ok = Verify("masked.csv", {"--original", P("raw.csv")});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("OK: no violations"), std::string::npos);

  // Drift: a phone number in the notes → exit 1, naming row, column and invariant.
  std::ifstream in(P("masked.csv"));
  CsvStream reader(in);
  std::vector<std::string> header, row;
  ASSERT_TRUE(*reader.Next(header));
  std::string edited;
  AppendCsvRecord(edited, header);
  for (int r = 1; *reader.Next(row); ++r) {
    if (r == 5) row.back() = "ring 415-382-1947";
    AppendCsvRecord(edited, row);
  }
  ASSERT_TRUE(WriteFileAtomic(P("drifted.csv"), edited).ok());
  ProcessResult drift = Verify("drifted.csv");
  EXPECT_EQ(drift.exit_code, 1) << drift.out;
  EXPECT_NE(drift.out.find("row 5 (line 6), column notes: pii_pattern"), std::string::npos)
      << drift.out;

  ProcessResult missing = Verify("nothing.csv");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nothing.csv"), std::string::npos);
}

TEST_F(CartmaskTest, JsonLinesAndDomainsAndReidentification) {
  SetUpData("raw.jsonl", 500);
  ASSERT_EQ(Mask("raw.jsonl", "a.jsonl").exit_code, 0);
  ProcessResult other =
      Run({"mask", "--rubric", P("rubric.toml"), "--keys", P("keys/ring.toml"), "--domain",
           "support-tickets", "--in", P("raw.jsonl"), "--out", P("b.jsonl")});
  ASSERT_EQ(other.exit_code, 0) << other.err;
  ProcessResult cross =
      Verify("a.jsonl", {"--original", P("raw.jsonl"), "--compare", P("b.jsonl"), "--min-k", "0"});
  EXPECT_EQ(cross.exit_code, 0) << cross.out;
  ProcessResult same = Verify("a.jsonl", {"--compare", P("a.jsonl")});
  EXPECT_EQ(same.exit_code, 1);
  EXPECT_NE(same.out.find("token_cross_domain"), std::string::npos);

  // An authorised re-identification opens the sealed map with the keyring.
  std::string masked = *ReadFile(P("a.jsonl"));
  size_t at = masked.find("\"operator_id\":\"") + 15;
  std::string token = masked.substr(at, masked.find('"', at) - at);
  ProcessResult reveal = Run({"reveal", "--keys", P("keys/ring.toml"), "--token-map",
                              P("a.jsonl.tokenmap"), "--token", token});
  ASSERT_EQ(reveal.exit_code, 0) << reveal.err;
  EXPECT_EQ(reveal.out.rfind("operator_id\tEMP-", 0), 0u) << reveal.out;
}

TEST_F(CartmaskTest, FailClosedAndRemaskUnderABumpedRubric) {
  SetUpData("raw.csv", 300);
  // A rubric without error_code: the run fails, naming the column; nothing is written.
  std::string rubric = *ReadFile(P("rubric.toml"));
  size_t b = rubric.find("[columns.error_code]");
  std::string without = rubric.substr(0, b) + rubric.substr(rubric.find("[columns.notes]"));
  ASSERT_TRUE(WriteFileAtomic(P("narrow.toml"), without).ok());
  ProcessResult refused = Run({"mask", "--rubric", P("narrow.toml"), "--keys", P("keys/ring.toml"),
                               "--domain", "t", "--in", P("raw.csv"), "--out", P("n.csv")});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("error_code"), std::string::npos) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(P("n.csv")));

  // Remask: error_code turns out to carry free text; the rubric moves it and bumps the version.
  ASSERT_EQ(Mask("raw.csv", "m.csv").exit_code, 0);
  ProcessResult same_version =
      Run({"remask", "--rubric", P("rubric.toml"), "--keys", P("keys/ring.toml"), "--domain",
           "tool-telemetry", "--in", P("raw.csv"), "--out", P("m.csv")});
  EXPECT_EQ(same_version.exit_code, 1);
  EXPECT_NE(same_version.err.find("bump it"), std::string::npos) << same_version.err;
  std::string moved = rubric;
  size_t v = moved.find("version = \"");
  moved.replace(v, moved.find('\n', v) - v, "version = \"2026.12-2\"");
  size_t ec = moved.find("[columns.error_code]");
  size_t ec_end = moved.find("\n\n", ec);
  moved.replace(ec, ec_end - ec,
                "[columns.error_code]\nbucket = \"free_text\"\ntreatment = \"redact\"\nwhy = "
                "\"technicians type notes into it\"");
  ASSERT_TRUE(WriteFileAtomic(P("rubric2.toml"), moved).ok());
  ProcessResult remask =
      Run({"remask", "--rubric", P("rubric2.toml"), "--keys", P("keys/ring.toml"), "--domain",
           "tool-telemetry", "--in", P("raw.csv"), "--out", P("m.csv")});
  ASSERT_EQ(remask.exit_code, 0) << remask.err;
  EXPECT_NE(remask.out.find("rubric 2026.12-2 replaces 2026.12-1"), std::string::npos)
      << remask.out;
  std::string log = *ReadFile(P("m.csv.decisions.jsonl"));
  EXPECT_NE(log.find("\"version\":\"2026.12-1\""), std::string::npos);
  EXPECT_NE(log.find("\"remask_of\":\"2026.12-1\""), std::string::npos);
  EXPECT_NE(log.find("\"error_code\":\"free_text/redact\""), std::string::npos);
  EXPECT_EQ(Run({"verify", "--rubric", P("rubric2.toml"), "--masked", P("m.csv"), "--original",
                 P("raw.csv"), "--min-k", "0"})
                .exit_code,
            0);  // 300 rows are too few for k = 5: k-anonymity is checked in the workflow test
}

TEST_F(CartmaskTest, KeyRotationAddsAQuarterAndMasksUnderIt) {
  SetUpData("raw.csv", 100);
  ProcessResult add =
      Run({"keys", "add-quarter", "--keys", P("keys/ring.toml"), "--quarter", "2031Q1"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_NE(
      Run({"keys", "add-quarter", "--keys", P("keys/ring.toml"), "--quarter", "2031Q1"}).exit_code,
      0);
  ProcessResult later = Mask("raw.csv", "q.csv", {"--at", "2031-02-01T00:00:00Z"});
  ASSERT_EQ(later.exit_code, 0) << later.err;
  EXPECT_NE(ReadFile(P("q.csv.decisions.jsonl"))->find("\"quarter\":\"2031Q1\""),
            std::string::npos);
  ProcessResult none = Mask("raw.csv", "r.csv", {"--at", "2031-05-01T00:00:00Z"});
  EXPECT_EQ(none.exit_code, 2);  // no key for 2031Q2: refused, not masked under another quarter's
  EXPECT_NE(none.err.find("2031Q2"), std::string::npos) << none.err;
}

TEST_F(CartmaskTest, EvalReportsEveryEntityKind) {
  ProcessResult eval = Run({"eval", "--notes", "2000"});
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  for (const char* kind : {"EMAIL", "PHONE", "CARD", "IBAN", "IP", "MAC", "SSN", "URL", "ADDRESS",
                           "PERSON", "IMEI", "ICCID"}) {
    EXPECT_NE(eval.out.find(std::string("| ") + kind + " |"), std::string::npos) << kind << "\n"
                                                                                 << eval.out;
  }
}

}  // namespace
}  // namespace cw
