#include <sys/stat.h>

#include <filesystem>

#include "crypto/hash.h"
#include "mask/generalise.h"
#include "mask/keyed.h"
#include "mask/tests/mask_fixture.h"

namespace cw::mask {
namespace {

class MaskerTest : public MaskFixture {};

TEST_F(MaskerTest, GeneratedTelemetryIsMaskedColumnByColumnAsTheRubricSays) {
  std::string in = Generate("raw.csv", 3000);
  auto summary = MaskFile(rubric_, ring_, Options(in, Path("masked.csv")));
  ASSERT_TRUE(summary.ok()) << summary.error().ToString();
  EXPECT_EQ(summary->records, 3000u);
  EXPECT_EQ(summary->masked + summary->quarantined, 3000u);
  EXPECT_EQ(summary->quarantined, 0u);  // the generator writes only what the treatments can read
  EXPECT_GT(summary->hits.total(), 0u);

  auto raw = ReadCsv(in), masked = ReadCsv(Path("masked.csv"));
  ASSERT_EQ(masked.size(), raw.size());
  const auto& h = masked[0];
  EXPECT_EQ(h, raw[0]);
  const crypto::SymmetricKey& q4 = **ring_.DigestKey(*ParseRfc3339("2026-11-20T12:00:00Z"));
  for (size_t r = 1; r < masked.size(); ++r) {
    const auto& m = masked[r];
    const auto& o = raw[r];
    EXPECT_EQ(m[Col(h, "operator_email")], Digest(q4, o[Col(h, "operator_email")]));
    EXPECT_EQ(m[Col(h, "tool_serial")], Digest(q4, o[Col(h, "tool_serial")]));
    EXPECT_EQ(m[Col(h, "operator_id")],
              DomainToken(ring_.token_key(), "tool-telemetry", "op", o[Col(h, "operator_id")]));
    EXPECT_TRUE(IsDomainToken(m[Col(h, "job_site_id")], "site"));
    EXPECT_EQ(m[Col(h, "gps_lat")], *SnapToGrid(o[Col(h, "gps_lat")]));
    EXPECT_EQ(m[Col(h, "event_ts")], *TruncateToHour(o[Col(h, "event_ts")]));
    EXPECT_FALSE(HasStreetNumber(m[Col(h, "job_site_address")]));
    for (const char* kept : {"event_id", "tool_model", "battery_pct", "torque_nm", "error_code"}) {
      EXPECT_EQ(m[Col(h, kept)], o[Col(h, kept)]) << kept;
    }
    EXPECT_EQ(m[Col(h, "notes")].find('@'), std::string::npos) << m[Col(h, "notes")];
  }
}

TEST_F(MaskerTest, TheDecisionLogRecordsTheRunEveryRecordAndNoValues) {
  std::string in = Generate("raw.csv", 500);
  auto summary = MaskFile(rubric_, ring_, Options(in, Path("masked.csv")));
  ASSERT_TRUE(summary.ok()) << summary.error().ToString();
  auto lines = Lines(summary->decision_log);
  ASSERT_EQ(lines.size(), 503u);  // header, the plan, 500 records, footer
  EXPECT_NE(lines[0].find("\"event\":\"run\""), std::string::npos);
  EXPECT_NE(lines[0].find("\"version\":\"" + rubric_.version + "\""), std::string::npos);
  EXPECT_NE(lines[0].find(rubric_.sha256), std::string::npos);
  EXPECT_NE(lines[0].find("\"quarter\":\"2026Q4\""), std::string::npos);
  EXPECT_NE(lines[0].find("\"domain\":\"tool-telemetry\""), std::string::npos);
  EXPECT_EQ(summary->input_sha256, crypto::Sha256Hex(*ReadFile(in)));
  EXPECT_NE(lines[0].find("\"input_sha256\":\"" + summary->input_sha256 + "\""), std::string::npos);
  EXPECT_EQ(summary->output_sha256, crypto::Sha256Hex(*ReadFile(Path("masked.csv"))));
  // The plan says what each column got; every record names its plan and rubric version.
  EXPECT_NE(lines[1].find("\"event\":\"plan\""), std::string::npos);
  EXPECT_NE(lines[1].find("\"operator_email\":\"direct/digest\""), std::string::npos);
  EXPECT_NE(lines[1].find("\"notes\":\"free_text/redact\""), std::string::npos);
  std::string plan = lines[1].substr(lines[1].find("\"plan\":\"") + 8, 12);
  EXPECT_EQ(lines[2].rfind(
                "{\"row\":1,\"rubric\":\"" + rubric_.version + "\",\"plan\":\"" + plan + "\"", 0),
            0u)
      << lines[2];
  EXPECT_NE(lines.back().find("\"status\":\"ok\""), std::string::npos);
  EXPECT_NE(lines.back().find(summary->input_sha256), std::string::npos);
  EXPECT_NE(lines.back().find(summary->output_sha256), std::string::npos);
  // No raw value of a treated column appears anywhere in the log.
  std::string log = *ReadFile(summary->decision_log);
  auto raw = ReadCsv(in);
  for (size_t r = 1; r < raw.size(); ++r) {
    for (const char* c : {"operator_email", "operator_name", "operator_id", "tool_serial"}) {
      ASSERT_EQ(log.find(raw[r][Col(raw[0], c)]), std::string::npos) << c;
    }
  }
  // The kept-columns review file lists each kept column with its why.
  std::string kept = *ReadFile(summary->kept_columns);
  EXPECT_NE(kept.find("| `battery_pct` | a charge level says nothing about who holds the tool |"),
            std::string::npos);
  EXPECT_EQ(kept.find("operator_email"), std::string::npos);
}

TEST_F(MaskerTest, OutputKeepsInputOrderWhateverTheThreadsAndBlocks) {
  std::string in = Generate("raw.csv", 4000);
  MaskOptions one = Options(in, Path("one.csv"));
  one.threads = 1;
  MaskOptions many = Options(in, Path("many.csv"));
  many.threads = 4;
  many.block_bytes = 4096;  // many small blocks finishing out of order
  ASSERT_TRUE(MaskFile(rubric_, ring_, one).ok());
  ASSERT_TRUE(MaskFile(rubric_, ring_, many).ok());
  EXPECT_EQ(*ReadFile(Path("one.csv")), *ReadFile(Path("many.csv")));
}

TEST_F(MaskerTest, AnUnknownColumnFailsClosedUnlessDroppingIsAskedFor) {
  auto raw = ReadCsv(Generate("raw.csv", 50));
  for (auto& r : raw) r.push_back(&r == &raw[0] ? "home_wifi_ssid" : "Okafor-Family-5G");
  WriteCsv(Path("extra.csv"), raw);
  auto refused = MaskFile(rubric_, ring_, Options(Path("extra.csv"), Path("out.csv")));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(refused.error().message().find("home_wifi_ssid"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(Path("out.csv")));
  EXPECT_FALSE(std::filesystem::exists(Path("out.csv.partial")));

  MaskOptions drop = Options(Path("extra.csv"), Path("out.csv"));
  drop.drop_unknown = true;
  auto dropped = MaskFile(rubric_, ring_, drop);
  ASSERT_TRUE(dropped.ok()) << dropped.error().ToString();
  EXPECT_EQ(dropped->dropped_columns, std::vector<std::string>{"home_wifi_ssid"});
  std::string out = *ReadFile(Path("out.csv"));
  EXPECT_EQ(out.find("home_wifi"), std::string::npos);
  EXPECT_EQ(out.find("Okafor-Family"), std::string::npos);
  EXPECT_NE(Lines(dropped->decision_log)[0].find("\"dropped\":true"), std::string::npos);
}

TEST_F(MaskerTest, AValueATreatmentCannotReadQuarantinesItsRecordNeverPassesThrough) {
  auto raw = ReadCsv(Generate("raw.csv", 20));
  const auto& h = raw[0];
  raw[3][Col(h, "gps_lat")] = "north-ish";
  raw[7][Col(h, "notes")] =
      "\xD0\x98\xD0\xB2\xD0\xB0\xD0\xBD called";  // Cyrillic: the name detector cannot read it
  raw[9][Col(h, "job_site_address")] = "1234 Elm Street";  // no city or region to keep
  WriteCsv(Path("bad.csv"), raw);
  auto summary = MaskFile(rubric_, ring_, Options(Path("bad.csv"), Path("out.csv")));
  ASSERT_TRUE(summary.ok()) << summary.error().ToString();
  EXPECT_EQ(summary->quarantined, 3u);
  EXPECT_EQ(summary->masked, 17u);
  std::string out = *ReadFile(Path("out.csv"));
  EXPECT_EQ(out.find("north-ish"), std::string::npos);
  EXPECT_EQ(out.find("\xD0\x98"), std::string::npos);
  // The quarantine keeps the records as they came, readable by the owner only.
  auto q = ReadCsv(summary->quarantine);
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[0], h);
  EXPECT_EQ(q[1], raw[3]);
  EXPECT_EQ(q[3], raw[9]);
  struct stat st {};
  ASSERT_EQ(::stat(summary->quarantine.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // The log says which column and why, without the value.
  std::string log = *ReadFile(summary->decision_log);
  EXPECT_NE(log.find("\"row\":3,\"line\":4,\"rubric\":\"" + rubric_.version +
                     "\",\"quarantined\":{\"column\":\"gps_lat\""),
            std::string::npos)
      << log.substr(0, 2000);
  EXPECT_NE(log.find("U+0418"), std::string::npos);
  EXPECT_EQ(log.find("north-ish"), std::string::npos);
}

TEST_F(MaskerTest, CsvQuotingEdgeCasesRoundTrip) {
  auto raw = ReadCsv(Generate("raw.csv", 5));
  const auto& h = raw[0];
  raw[1][Col(h, "error_code")] =
      "E12, \"jammed\"\nsee log";  // comma, quotes and a line break in a kept column
  raw[2][Col(h, "tool_model_name")] = "Perceuse à percussion «18V»";
  raw[3][Col(h, "notes")] = "Called Maria Lopez, said \"ok\"\nthen 415-382-1947";
  WriteCsv(Path("quoted.csv"), raw);
  auto summary = MaskFile(rubric_, ring_, Options(Path("quoted.csv"), Path("out.csv")));
  ASSERT_TRUE(summary.ok()) << summary.error().ToString();
  auto masked = ReadCsv(Path("out.csv"));
  ASSERT_EQ(masked.size(), 6u);
  EXPECT_EQ(masked[1][Col(h, "error_code")], raw[1][Col(h, "error_code")]);
  EXPECT_EQ(masked[2][Col(h, "tool_model_name")], raw[2][Col(h, "tool_model_name")]);
  EXPECT_EQ(masked[3][Col(h, "notes")], "Called <PERSON>, said \"ok\"\nthen <PHONE>");
  // The line after a quoted line break is still the right record's.
  EXPECT_NE(ReadFile(summary->decision_log)->find("\"row\":4,"), std::string::npos);
}

TEST_F(MaskerTest, JsonLinesKeepKeptValuesByteIdenticalAndNumbersNumeric) {
  std::string in = Generate("raw.jsonl", 300);
  auto summary = MaskFile(rubric_, ring_, Options(in, Path("out.jsonl")));
  ASSERT_TRUE(summary.ok()) << summary.error().ToString();
  EXPECT_EQ(summary->masked, 300u);
  auto raw = Lines(in), out = Lines(Path("out.jsonl"));
  ASSERT_EQ(out.size(), 300u);
  // torque_nm is kept as written (say 45.0, not 45); gps stays a number, on the grid.
  auto torque = [](const std::string& line) {
    size_t p = line.find("\"torque_nm\":");
    return line.substr(p, line.find(',', p) - p);
  };
  for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(torque(out[i]), torque(raw[i]));
  EXPECT_NE(out[0].find("\"gps_lat\":"), std::string::npos);
  EXPECT_EQ(out[0].find("\"gps_lat\":\""), std::string::npos);
  EXPECT_EQ(out[0].find("EMP-"), std::string::npos);
  EXPECT_NE(out[0].find("\"operator_id\":\"op_"), std::string::npos);

  // A nested value under a treated member is quarantined; an unknown member fails closed.
  std::string nested = R"({"operator_email":{"a":"jo@x.example"},"battery_pct":80})"
                       "\n"
                       R"({"battery_pct":81})"
                       "\n";
  ASSERT_TRUE(WriteFileAtomic(Path("nested.jsonl"), nested).ok());
  auto n = MaskFile(rubric_, ring_, Options(Path("nested.jsonl"), Path("n.jsonl")));
  ASSERT_TRUE(n.ok()) << n.error().ToString();
  EXPECT_EQ(n->quarantined, 1u);
  EXPECT_EQ(*ReadFile(Path("n.jsonl")), "{\"battery_pct\":81}\n");
  ASSERT_TRUE(WriteFileAtomic(Path("unknown.jsonl"), R"({"battery_pct":80})"
                                                     "\n"
                                                     R"({"ssn":"123-45-6789"})"
                                                     "\n")
                  .ok());
  auto u = MaskFile(rubric_, ring_, Options(Path("unknown.jsonl"), Path("u.jsonl")));
  ASSERT_FALSE(u.ok());
  EXPECT_EQ(u.error().code(), Code::kFailedPrecondition);
  EXPECT_NE(u.error().message().find("line 2"), std::string::npos) << u.error().message();
  EXPECT_FALSE(std::filesystem::exists(Path("u.jsonl")));
}

TEST_F(MaskerTest, TokensDifferAcrossDomainsAndDigestsAcrossQuarters) {
  std::string in = Generate("raw.csv", 200);
  ASSERT_TRUE(MaskFile(rubric_, ring_, Options(in, Path("a.csv"), "tool-telemetry")).ok());
  ASSERT_TRUE(MaskFile(rubric_, ring_, Options(in, Path("b.csv"), "support-tickets")).ok());
  MaskOptions next = Options(in, Path("c.csv"), "tool-telemetry");
  next.now = *ParseRfc3339("2027-01-05T00:00:00Z");
  ASSERT_TRUE(MaskFile(rubric_, ring_, next).ok());
  auto a = ReadCsv(Path("a.csv")), b = ReadCsv(Path("b.csv")), c = ReadCsv(Path("c.csv"));
  const auto& h = a[0];
  for (size_t r = 1; r < a.size(); ++r) {
    EXPECT_NE(a[r][Col(h, "operator_id")], b[r][Col(h, "operator_id")]);
    EXPECT_EQ(a[r][Col(h, "operator_email")], b[r][Col(h, "operator_email")]);
    EXPECT_EQ(a[r][Col(h, "operator_id")],
              c[r][Col(h, "operator_id")]);  // tokens are stable across quarters
    EXPECT_NE(a[r][Col(h, "operator_email")], c[r][Col(h, "operator_email")]);
  }
  // A quarter the keyring has no key for is refused, not masked under another quarter's key.
  MaskOptions later = Options(in, Path("d.csv"));
  later.now = *ParseRfc3339("2027-05-01T00:00:00Z");
  auto refused = MaskFile(rubric_, ring_, later);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("2027Q2"), std::string::npos);
}

TEST_F(MaskerTest, TheTokenMapIsSealedAndOpensOnlyWithTheMapKey) {
  std::string in = Generate("raw.csv", 300);
  auto summary = MaskFile(rubric_, ring_, Options(in, Path("out.csv")));
  ASSERT_TRUE(summary.ok());
  ASSERT_FALSE(summary->token_map.empty());
  std::string sealed = *ReadFile(summary->token_map);
  EXPECT_EQ(sealed.find("EMP-"), std::string::npos);
  auto text = OpenTokenMap(summary->token_map, ring_);
  ASSERT_TRUE(text.ok()) << text.error().ToString();
  auto raw = ReadCsv(in);
  std::string id = raw[1][Col(raw[0], "operator_id")];
  std::string token = DomainToken(ring_.token_key(), "tool-telemetry", "op", id);
  EXPECT_NE(text->find("{\"token\":\"" + token + "\",\"column\":\"operator_id\",\"value\":\"" + id +
                       "\"}"),
            std::string::npos);
  EXPECT_EQ(static_cast<uint64_t>(std::count(text->begin(), text->end(), '\n')), summary->tokens);
  auto other = Keyring::Parse(
      std::string(kTestRing).replace(std::string(kTestRing).find("4444"), 4, "4445"));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(OpenTokenMap(summary->token_map, *other).error().code(), Code::kPermissionDenied);
}

// One thread sees 80,000 distinct operator ids, each twice: more than the token cache holds, so
// it grows and later starts over. Every token is still the keyed function of its value, and the
// token map holds each value once.
TEST_F(MaskerTest, TokensStayRightPastWhatTheCacheHolds) {
  std::string csv = "operator_id,battery_pct\n";
  constexpr int kIds = 80'000;
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < kIds; ++i) csv += "EMP-" + std::to_string(i * 7919 % kIds) + ",50\n";
  }
  ASSERT_TRUE(WriteFileAtomic(Path("many.csv"), csv).ok());
  MaskOptions o = Options(Path("many.csv"), Path("many-masked.csv"));
  o.threads = 1;
  auto summary = MaskFile(rubric_, ring_, o);
  ASSERT_TRUE(summary.ok()) << summary.error().ToString();
  EXPECT_EQ(summary->masked, 2u * kIds);
  EXPECT_EQ(summary->tokens, static_cast<uint64_t>(kIds));
  auto raw = ReadCsv(Path("many.csv")), masked = ReadCsv(Path("many-masked.csv"));
  ASSERT_EQ(masked.size(), raw.size());
  for (size_t r = 1; r < raw.size(); ++r) {
    ASSERT_EQ(masked[r][0], DomainToken(ring_.token_key(), "tool-telemetry", "op", raw[r][0])) << "row " << r;
  }
}

TEST_F(MaskerTest, MalformedCsvStopsTheRunNamingTheLine) {
  ASSERT_TRUE(WriteFileAtomic(Path("bad.csv"), "battery_pct,error_code\n80,E1\n81,E\"2\n").ok());
  auto r = MaskFile(rubric_, ring_, Options(Path("bad.csv"), Path("out.csv")));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  EXPECT_NE(r.error().message().find("line 3"), std::string::npos) << r.error().message();
  EXPECT_FALSE(std::filesystem::exists(Path("out.csv")));
  EXPECT_NE(Lines(Path("out.csv.decisions.jsonl")).back().find("\"status\":\"invalid_argument\""),
            std::string::npos);
  // Bad options are refused before anything is written.
  EXPECT_EQ(MaskFile(rubric_, ring_, Options(Path("bad.csv"), Path("out.csv"), "Tool Telemetry"))
                .error()
                .code(),
            Code::kInvalidArgument);
  EXPECT_EQ(MaskFile(rubric_, ring_, Options(Path("bad.csv"), Path("out.txt"))).error().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(MaskFile(rubric_, ring_, Options(Path("none.csv"), Path("out.csv"))).error().code(),
            Code::kNotFound);
}

TEST_F(MaskerTest, TheDecisionLogReadsBackRunByRun) {
  std::string in = Generate("raw.csv", 50);
  ASSERT_TRUE(MaskFile(rubric_, ring_, Options(in, Path("out.csv"))).ok());
  // A second run into the same output fails half way: the first run's output stays, and so does
  // the log of both.
  auto raw = ReadCsv(in);
  std::string text = *ReadFile(in) + "\"unclosed\n";
  ASSERT_TRUE(WriteFileAtomic(Path("bad.csv"), text).ok());
  ASSERT_FALSE(MaskFile(rubric_, ring_, Options(Path("bad.csv"), Path("out.csv"))).ok());
  auto runs = ReadDecisionLog(Path("out.csv.decisions.jsonl"));
  ASSERT_TRUE(runs.ok()) << runs.error().ToString();
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].status, "ok");
  EXPECT_EQ((*runs)[0].rubric_version, rubric_.version);
  ASSERT_EQ((*runs)[0].masked_rows.size(), 50u);
  EXPECT_EQ((*runs)[0].masked_rows.front(), 1u);
  EXPECT_EQ((*runs)[0].masked_rows.back(), 50u);
  EXPECT_EQ((*runs)[1].status, "invalid_argument");
  EXPECT_EQ(ReadDecisionLog(Path("none.jsonl")).error().code(), Code::kNotFound);
  ASSERT_TRUE(WriteFileAtomic(Path("junk.jsonl"), "{\"row\":1,\"plan\":\"x\"}\n").ok());
  EXPECT_EQ(ReadDecisionLog(Path("junk.jsonl")).error().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace cw::mask
