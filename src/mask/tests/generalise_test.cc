#include "mask/generalise.h"

#include <gtest/gtest.h>

namespace cw::mask {
namespace {

TEST(Generalise, GpsSnapsToTheNearestHundredthOfADegree) {
  EXPECT_EQ(*SnapToGrid("47.60621"), "47.61");
  EXPECT_EQ(*SnapToGrid("-122.33207"), "-122.33");
  EXPECT_EQ(*SnapToGrid("0.004"), "0.00");
  EXPECT_EQ(*SnapToGrid("-0.004"), "0.00");  // never "-0.00"
  EXPECT_EQ(*SnapToGrid("180"), "180.00");
  EXPECT_EQ(*SnapToGrid(""), "");
  for (const char* bad : {"north", "1e3", "47,6", "181", "-180.5", "0x10", "nan", "12.3.4"}) {
    auto r = SnapToGrid(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.error().message().find(bad), std::string::npos)
          << "the message must not quote the value";
    }
  }
  for (const char* on : {"47.61", "-122.33", "0.00", "", "180.00"}) EXPECT_TRUE(IsOnGrid(on)) << on;
  for (const char* off : {"47.606", "47.6", "47", "-", "1234.00", "47.61 "})
    EXPECT_FALSE(IsOnGrid(off)) << off;
}

TEST(Generalise, AgesFallInFiveYearBinsWithAnOpenTopBin) {
  EXPECT_EQ(*AgeBin("37"), "35-39");
  EXPECT_EQ(*AgeBin("35"), "35-39");
  EXPECT_EQ(*AgeBin("0"), "0-4");
  EXPECT_EQ(*AgeBin("89"), "85-89");
  EXPECT_EQ(*AgeBin("90"), "90+");
  EXPECT_EQ(*AgeBin("104"), "90+");
  EXPECT_FALSE(AgeBin("-1").ok());
  EXPECT_FALSE(AgeBin("old").ok());
  EXPECT_TRUE(IsAgeBin("35-39"));
  EXPECT_TRUE(IsAgeBin("90+"));
  for (const char* bad : {"37", "35-40", "36-40", "90-94", "x-y"})
    EXPECT_FALSE(IsAgeBin(bad)) << bad;
}

TEST(Generalise, TimestampsAreCutToTheHourInTheFormTheyCameIn) {
  EXPECT_EQ(*TruncateToHour("2026-11-03T14:27:09Z"), "2026-11-03T14:00:00Z");
  EXPECT_EQ(*TruncateToHour("2026-11-03T14:27:09.123456+01:00"), "2026-11-03T14:00:00+01:00");
  EXPECT_EQ(*TruncateToHour("2026-11-03 14:27:09Z"), "2026-11-03 14:00:00Z");
  EXPECT_EQ(*TruncateToHour("1762180029"), "1762178400");
  EXPECT_EQ(*TruncateToHour("1762180029123"), "1762178400000");
  for (const char* bad :
       {"yesterday", "2026-13-03T14:27:09Z", "2026-11-03", "17621800", "2026-11-03T14:27Z"}) {
    EXPECT_FALSE(TruncateToHour(bad).ok()) << bad;
  }
  for (const char* on :
       {"2026-11-03T14:00:00Z", "2026-11-03T14:00:00+01:00", "1762178400", "1762178400000", ""}) {
    EXPECT_TRUE(IsOnTheHour(on)) << on;
  }
  for (const char* off : {"2026-11-03T14:27:09Z", "2026-11-03T14:00:00.5Z", "1762180029", "soon"}) {
    EXPECT_FALSE(IsOnTheHour(off)) << off;
  }
}

TEST(Generalise, AddressesKeepOnlyCityAndRegion) {
  EXPECT_EQ(*ReduceAddress("1234 Elm Street, Springfield, IL 62704"), "Springfield, IL");
  EXPECT_EQ(*ReduceAddress("500 Main St, Suite 200, Denver, CO 80202"), "Denver, CO");
  EXPECT_EQ(*ReduceAddress("77 Wainwright Avenue, Austin, TX, 78701"), "Austin, TX");
  EXPECT_EQ(*ReduceAddress("Unit 4, 9 Quay Road, Salt Lake City, UT"), "Salt Lake City, UT");
  EXPECT_EQ(*ReduceAddress("Hauptstraße 5, 10115 Berlin, Germany"), "Berlin, Germany");
  EXPECT_EQ(*ReduceAddress(""), "");
  // What cannot be reduced safely is refused, never passed through.
  for (const char* bad :
       {"1234 Elm Street", "1234 Elm Street, Springfield", "12 Oak Rd, 99 Pine Ave"}) {
    EXPECT_FALSE(ReduceAddress(bad).ok()) << bad;
  }
  EXPECT_FALSE(HasStreetNumber("Springfield, IL"));
  EXPECT_TRUE(HasStreetNumber("Springfield, IL 62704"));
}

TEST(Generalise, SalariesBecomeQuartilesByTheRubricsCutPoints) {
  const double cuts[] = {40000, 55000, 75000};
  EXPECT_EQ(*Quartile("39000", cuts), "Q1");
  EXPECT_EQ(*Quartile("40000", cuts), "Q1");
  EXPECT_EQ(*Quartile("40000.01", cuts), "Q2");
  EXPECT_EQ(*Quartile("60000", cuts), "Q3");
  EXPECT_EQ(*Quartile("250000", cuts), "Q4");
  EXPECT_FALSE(Quartile("lots", cuts).ok());
  EXPECT_TRUE(IsQuartile("Q3"));
  EXPECT_FALSE(IsQuartile("Q5"));
  EXPECT_FALSE(IsQuartile("60000"));
}

}  // namespace
}  // namespace cw::mask
