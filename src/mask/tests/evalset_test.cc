#include "mask/evalset.h"

#include <gtest/gtest.h>

#include <set>

#include "mask/lexicon.h"

namespace cw::mask {
namespace {

TEST(EvalSet, HeldOutNamesShareNoNameWithTheDetectorsLists) {
  std::set<std::string_view> detector;
  for (auto n : DetectorFirstNames()) detector.insert(n);
  for (auto n : DetectorSurnames()) detector.insert(n);
  std::set<std::string_view> held;
  for (auto list : {HeldOutFirstNames(), HeldOutSurnames()}) {
    for (auto n : list) {
      EXPECT_EQ(detector.count(n), 0u) << n << " is in both";
      EXPECT_TRUE(held.insert(n).second) << n << " is held out twice";
    }
  }
  EXPECT_GE(HeldOutFirstNames().size(), 100u);
  EXPECT_GE(HeldOutSurnames().size(), 100u);
}

TEST(EvalSet, TheSetIsReproducibleAndItsLabelsPointAtTheValues) {
  auto a = BuildEvalSet(300, 11), b = BuildEvalSet(300, 11), c = BuildEvalSet(300, 12);
  ASSERT_EQ(a.size(), 300u);
  size_t same_as_c = 0;
  std::set<Entity> kinds;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].text, b[i].text);
    same_as_c += a[i].text == c[i].text;
    for (const EntitySpan& g : a[i].gold) {
      ASSERT_LE(g.end, a[i].text.size());
      ASSERT_LT(g.begin, g.end);
      kinds.insert(g.kind);
    }
  }
  EXPECT_LT(same_as_c, 100u);
  EXPECT_EQ(kinds.size(), kEntityKinds);  // every kind is in the set
}

TEST(EvalSet, ScoringCountsWholeCoverageAsRecallAndOverlapAsPrecision) {
  Redactor redactor;
  std::string text = "Call Maria Lopez at 415-382-1947 re: Gate B";
  LabelledText note{
      text, {{5, 16, Entity::kPerson}, {20, 32, Entity::kPhone}, {37, 43, Entity::kPerson}}};
  auto rows = Evaluate(redactor, {note});
  ASSERT_TRUE(rows.ok());
  for (const EvalRow& r : *rows) {
    if (r.kind == Entity::kPhone) {
      EXPECT_EQ(r.gold, 1u);
      EXPECT_EQ(r.recalled, 1u);
      EXPECT_DOUBLE_EQ(r.precision(), 1.0);
    }
    if (r.kind == Entity::kPerson) {  // "Gate B" labelled a person here, and not found: recall 1/2
      EXPECT_EQ(r.gold, 2u);
      EXPECT_EQ(r.recalled, 1u);
      EXPECT_DOUBLE_EQ(r.recall(), 0.5);
      EXPECT_NEAR(r.f2(), 5 * 1.0 * 0.5 / (4 * 1.0 + 0.5), 1e-9);
    }
  }
}

TEST(EvalSet, ValidatedFormatsAreFoundInAtLeast98PercentOfCases) {
  Redactor redactor;
  auto rows = Evaluate(redactor, BuildEvalSet(3000, 5));
  ASSERT_TRUE(rows.ok()) << rows.error().ToString();
  for (const EvalRow& r : *rows) {
    if (TargetFor(r.kind).min_precision == 0 &&
        TargetFor(r.kind).min_recall > 0) {  // the validated formats
      EXPECT_TRUE(TargetFor(r.kind).MetBy(r)) << EntityName(r.kind) << "\n"
                                              << FormatEval(*rows, 3000);
    }
  }
}

}  // namespace
}  // namespace cw::mask
