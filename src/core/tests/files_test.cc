#include "core/files.h"
#include "testing/temp_dir.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

namespace cw {
namespace {

class FilesTest : public ::testing::Test {
 protected:
  cw::testing::TempDir tmp_;
  const std::string& dir_ = tmp_.path();
};

TEST_F(FilesTest, AtomicWriteReplacesWithMode) {
  std::string p = dir_ + "/a/b/secret.key";
  ASSERT_TRUE(MakeDirs(dir_ + "/a/b").ok());
  ASSERT_TRUE(WriteFileAtomic(p, "one", 0600).ok());
  ASSERT_TRUE(WriteFileAtomic(p, "two", 0600).ok());
  EXPECT_EQ(*ReadFile(p), "two");
  struct stat st;
  ASSERT_EQ(stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // No temp files left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_ + "/a/b"), {}), 1);
}

TEST_F(FilesTest, ExclusiveWriteRefusesToReplace) {
  std::string p = dir_ + "/once";
  ASSERT_TRUE(WriteFileExclusive(p, "first").ok());
  Status s = WriteFileExclusive(p, "second");
  EXPECT_EQ(s.code(), Code::kAlreadyExists);
  EXPECT_EQ(*ReadFile(p), "first");
}

TEST_F(FilesTest, MissingFileIsNotFound) {
  EXPECT_EQ(ReadFile(dir_ + "/nope").error().code(), Code::kNotFound);
  EXPECT_FALSE(PathExists(dir_ + "/nope"));
}

}  // namespace
}  // namespace cw
