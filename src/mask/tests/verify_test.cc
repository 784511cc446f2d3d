#include "mask/verify.h"

#include "mask/tests/mask_fixture.h"

namespace cw::mask {
namespace {

class VerifyTest : public MaskFixture {
 protected:
  void SetUp() override {
    MaskFixture::SetUp();
    raw_ = Generate("raw.csv", 3000);
    auto s = MaskFile(rubric_, ring_, Options(raw_, Path("masked.csv")));
    ASSERT_TRUE(s.ok()) << s.error().ToString();
  }

  // Verifies a copy of the masked output with one change made by `mutate`.
  VerifyReport VerifyMutated(
      const std::function<void(std::vector<std::vector<std::string>>&)>& mutate,
      VerifyOptions o = {}) {
    auto rows = ReadCsv(Path("masked.csv"));
    mutate(rows);
    std::string path = Path("mutated.csv");
    WriteCsv(path, rows);
    o.masked = path;
    auto report = Verify(rubric_, o);
    EXPECT_TRUE(report.ok()) << report.error().ToString();
    return report.ok() ? *report : VerifyReport{};
  }

  std::string raw_;
};

TEST_F(VerifyTest, AnEndToEndRunOnGeneratedDataPasses) {
  VerifyOptions o;
  o.masked = Path("masked.csv");
  o.original = raw_;
  auto report = Verify(rubric_, o);
  ASSERT_TRUE(report.ok()) << report.error().ToString();
  EXPECT_EQ(report->rows, 3000u);
  EXPECT_EQ(report->total(), 0u) << FormatReport(*report);
  EXPECT_GE(report->k.smallest, 5u);
  EXPECT_NE(FormatReport(*report).find("OK: no violations"), std::string::npos);
}

TEST_F(VerifyTest, EachKindOfDriftIsCaughtAndNamed) {
  auto rows = ReadCsv(Path("masked.csv"));
  const std::vector<std::string> h = rows[0];
  auto raw = ReadCsv(raw_);
  struct Case {
    const char* invariant;
    std::string column;
    std::function<std::string(const std::string& masked, const std::string& original)> change;
  } cases[] = {
      {"digest_format", "operator_email", [](auto&, auto&) { return std::string("not-a-digest"); }},
      {"token_format", "operator_id", [](auto&, auto&) { return std::string("op_12345"); }},
      {"token_is_raw", "job_site_id", [](auto&, auto& o) { return o; }},
      {"gps_grid", "gps_lon", [](auto& m, auto&) { return m + "1"; }},
      {"hour", "event_ts", [](auto& m, auto&) { return m.substr(0, 14) + "27:09Z"; }},
      {"street_number", "job_site_address", [](auto& m, auto&) { return "12 " + m; }},
      {"kept_changed", "battery_pct",
       [](auto& m, auto&) { return m == "50" ? std::string("51") : std::string("50"); }},
      {"pii_pattern", "notes",
       [](auto&, auto&) { return std::string("call (415) 382-1947 today"); }},
      {"pii_pattern", "error_code", [](auto&, auto&) { return std::string("jo@buildco.example"); }},
  };
  for (const Case& c : cases) {
    VerifyOptions o;
    o.original = raw_;
    auto report = VerifyMutated(
        [&](auto& r) {
          r[42][Col(h, c.column)] = c.change(r[42][Col(h, c.column)], raw[42][Col(h, c.column)]);
        },
        o);
    EXPECT_GE(report.counts[c.invariant], 1u) << c.invariant << "\n" << FormatReport(report);
    bool named = false;
    for (const Violation& v : report.violations)
      named |= v.invariant == c.invariant && v.row == 42 && v.column == c.column;
    EXPECT_TRUE(named) << c.invariant << "\n" << FormatReport(report);
  }
}

TEST_F(VerifyTest, AnUnknownColumnTheSameTokensInTwoDomainsAndSmallClassesAreViolations) {
  auto unknown = VerifyMutated([](auto& r) {
    for (auto& row : r) row.push_back(&row == &r[0] ? "shoe_size" : "44");
  });
  EXPECT_EQ(unknown.counts["unknown_column"], 1u);

  VerifyOptions same_domain;
  same_domain.compare = Path("masked.csv");  // as if the other domain had produced the same tokens
  auto cross = VerifyMutated([](auto&) {}, same_domain);
  EXPECT_EQ(cross.counts["token_cross_domain"], 2 * 3000u) << FormatReport(cross);

  ASSERT_TRUE(MaskFile(rubric_, ring_, Options(raw_, Path("other.csv"), "support-tickets")).ok());
  VerifyOptions other_domain;
  other_domain.compare = Path("other.csv");
  EXPECT_EQ(VerifyMutated([](auto&) {}, other_domain).counts.count("token_cross_domain"), 0u);

  VerifyOptions strict;
  strict.min_k = 100000;
  auto k = VerifyMutated([](auto&) {}, strict);
  EXPECT_EQ(k.counts["k_anonymity"], k.k.classes);
  EXPECT_EQ(k.k.rows_below, 3000u);
}

TEST_F(VerifyTest, QuarantinedRecordsDoNotShiftTheComparisonWithTheOriginal) {
  auto raw = ReadCsv(raw_);
  raw[10][Col(raw[0], "gps_lat")] = "unknown";
  WriteCsv(Path("raw2.csv"), raw);
  auto s = MaskFile(rubric_, ring_, Options(Path("raw2.csv"), Path("masked2.csv")));
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->quarantined, 1u);
  VerifyOptions o;
  o.masked = Path("masked2.csv");
  o.original = Path("raw2.csv");
  auto report = Verify(rubric_, o);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->total(), 0u) << FormatReport(*report);
}

TEST_F(VerifyTest, AgeBinsAndQuartilesAreCheckedToo) {
  auto rubric = Rubric::Parse(R"(
version = "t1"
[columns.age]
bucket = "sensitive"
treatment = "age_bin"
why = "age"
[columns.salary]
bucket = "sensitive"
treatment = "quartile"
cutpoints = [40000, 55000, 75000]
why = "pay"
)");
  ASSERT_TRUE(rubric.ok()) << rubric.error().ToString();
  ASSERT_TRUE(WriteFileAtomic(Path("hr.csv"), "age,salary\n35-39,Q2\n37,Q2\n90+,61000\n").ok());
  VerifyOptions o;
  o.masked = Path("hr.csv");
  auto report = Verify(*rubric, o);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(report->counts["age_bin"], 1u);
  EXPECT_EQ(report->counts["quartile"], 1u);
}

TEST_F(VerifyTest, AMissingOrUnreadableInputIsAnErrorNotAReport) {
  VerifyOptions o;
  o.masked = Path("nothing.csv");
  EXPECT_EQ(Verify(rubric_, o).error().code(), Code::kNotFound);
  ASSERT_TRUE(WriteFileAtomic(Path("broken.csv"), "a,b\n\"x,y\n").ok());
  o.masked = Path("broken.csv");
  EXPECT_FALSE(Verify(rubric_, o).ok());
}

}  // namespace
}  // namespace cw::mask
