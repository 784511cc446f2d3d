#include "retail/catalog_import.h"

#include <gtest/gtest.h>

#include "store/registry.h"

namespace cw::retail {
namespace {

const StoreId kA = *StoreId::Parse("A");

TEST(CatalogImport, ColumnsInAnyOrderAndAnEmptyWeightMeansUnchecked) {
  auto items = ParseCatalogCsv(kA, "category,sku,name,expected_weight_g,price_cents\n"
                                   "dairy,4001,\"Milk, 1l\",1030,119\r\nbakery,4002,Bread,,249\n",
                               "pos.csv");
  ASSERT_TRUE(items.ok()) << items.error().ToString();
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].name, "Milk, 1l");
  EXPECT_EQ((*items)[0].expected_weight_g, 1030);
  EXPECT_EQ((*items)[0].price_cents, 119);
  EXPECT_FALSE((*items)[1].expected_weight_g.has_value());
  EXPECT_EQ((*items)[1].category, "bakery");
}

TEST(CatalogImport, EveryBadRowIsReportedWithItsLineAndNothingIsApplied) {
  auto entities = *store::Registry::WithBuiltinBackends().OpenEntity("sqlite::memory:");
  ASSERT_TRUE(entities->AddStore({kA, "A", "p", store::Region::kEu, "Europe/Berlin", Time{}}).ok());
  ASSERT_TRUE(ImportCatalog(*entities, kA, "sku,name,price_cents,expected_weight_g,category\n1,One,100,,x\n", "v1.csv").ok());
  auto bad = ImportCatalog(*entities, kA,
                           "sku,name,price_cents,expected_weight_g,category\n"
                           "2,Two,200,,x\n"
                           "bad sku!,Three,300,,x\n"
                           "4,Four,-5,,x\n"
                           "5,Five,500,heavy,x\n"
                           "2,Again,200,,x\n"
                           "6,Six,600,,\n"
                           "7,Seven\n",
                           "v2.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
  const std::string& m = bad.error().message();
  EXPECT_NE(m.find("6 bad row(s) in v2.csv; nothing was applied"), std::string::npos) << m;
  EXPECT_NE(m.find("v2.csv:3: sku 'bad sku!' is not 1-32 of 0-9 A-Z a-z -"), std::string::npos) << m;
  EXPECT_NE(m.find("v2.csv:4: price_cents '-5'"), std::string::npos) << m;
  EXPECT_NE(m.find("v2.csv:5: expected_weight_g 'heavy'"), std::string::npos) << m;
  EXPECT_NE(m.find("v2.csv:6: sku 2 already appeared on line 2"), std::string::npos) << m;
  EXPECT_NE(m.find("v2.csv:7: category must be 1-64 characters"), std::string::npos) << m;
  EXPECT_NE(m.find("v2.csv:8: 2 fields, expected 5"), std::string::npos) << m;
  auto items = *entities->ListItems(kA);
  ASSERT_EQ(items.size(), 1u);  // still exactly v1
  EXPECT_EQ(items[0].sku, "1");
}

TEST(CatalogImport, HeaderProblemsAreNamed) {
  auto e = ParseCatalogCsv(kA, "sku,name,price,category\n", "h.csv");
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.error().message().find("h.csv:1: unknown column 'price'"), std::string::npos) << e.error().message();
  EXPECT_NE(e.error().message().find("missing column 'price_cents'"), std::string::npos);
  EXPECT_NE(e.error().message().find("missing column 'expected_weight_g'"), std::string::npos);
  EXPECT_FALSE(ParseCatalogCsv(kA, "", "empty.csv").ok());
  auto quoted = ParseCatalogCsv(kA, "sku,name,price_cents,expected_weight_g,category\n1,\"open,1,,x\n", "q.csv");
  ASSERT_FALSE(quoted.ok());
  EXPECT_NE(quoted.error().message().find("q.csv:2: a quoted field is never closed"), std::string::npos)
      << quoted.error().message();
}

}  // namespace
}  // namespace cw::retail
