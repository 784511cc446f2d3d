// Shared by the masker and verifier tests: a keyring, the example rubric, generated data.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/files.h"
#include "core/time_format.h"
#include "core/csv.h"
#include "mask/generate.h"
#include "mask/keyring.h"
#include "mask/masker.h"
#include "mask/rubric.h"
#include "testing/temp_dir.h"

namespace cw::mask {

inline const char* kTestRing = R"(
[digest]
2026Q4 = "2222222222222222222222222222222222222222222222222222222222222222"
2027Q1 = "5555555555555555555555555555555555555555555555555555555555555555"
[token]
key = "3333333333333333333333333333333333333333333333333333333333333333"
[map]
key = "4444444444444444444444444444444444444444444444444444444444444444"
)";

class MaskFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto ring = Keyring::Parse(kTestRing);
    ASSERT_TRUE(ring.ok()) << ring.error().ToString();
    ring_ = std::move(*ring);
    auto rubric = Rubric::Parse(ExampleRubric(), "mask/rubric.toml");
    ASSERT_TRUE(rubric.ok()) << rubric.error().ToString();
    rubric_ = std::move(*rubric);
  }

  std::string Path(const std::string& name) const { return dir_.path() + "/" + name; }

  std::string Generate(const std::string& name, uint64_t rows, uint64_t seed = 1) {
    GenerateOptions g;
    g.rows = rows;
    g.seed = seed;
    g.out = Path(name);
    Status s = GenerateTelemetry(g);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return g.out;
  }

  MaskOptions Options(const std::string& in, const std::string& out,
                      const std::string& domain = "tool-telemetry") {
    MaskOptions o;
    o.in = in;
    o.out = out;
    o.domain = domain;
    o.now = *ParseRfc3339("2026-11-20T12:00:00Z");
    return o;
  }

  static std::vector<std::vector<std::string>> ReadCsv(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    CsvStream reader(in);
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> fields;
    for (;;) {
      auto got = reader.Next(fields);
      EXPECT_TRUE(got.ok()) << path;
      if (!got.ok() || !*got) break;
      rows.push_back(fields);
    }
    return rows;
  }
  static void WriteCsv(const std::string& path, const std::vector<std::vector<std::string>>& rows) {
    std::string text;
    for (const auto& r : rows) AppendCsvRecord(text, r);
    ASSERT_TRUE(WriteFileAtomic(path, text).ok());
  }
  static size_t Col(const std::vector<std::string>& header, const std::string& name) {
    return static_cast<size_t>(std::find(header.begin(), header.end(), name) - header.begin());
  }
  static std::vector<std::string> Lines(const std::string& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    return lines;
  }

  testing::TempDir dir_;
  Keyring ring_;
  Rubric rubric_;
};

}  // namespace cw::mask
