// The blob-store conformance suite: every backend passes every case.
#include <gtest/gtest.h>

#include <thread>

#include "crypto/hash.h"
#include "store/registry.h"
#include "store/tests/conformance.h"
#include "testing/temp_dir.h"

namespace cw::store {
namespace {

const Backend kBackends[] = {
    {"Memory", [](const std::string&) { return std::string("memory:"); }, false},
    {"File", [](const std::string& dir) { return "file:" + dir + "/blobs"; }, true},
};

class BlobStoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    auto s = Registry::WithBuiltinBackends().OpenBlobs(GetParam().uri(tmp_.path()));
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    blobs_ = std::move(s).value();
  }
  cw::testing::TempDir tmp_;
  std::unique_ptr<BlobStore> blobs_;
};

TEST_P(BlobStoreConformance, WriteOnceReadBack) {
  std::string image(100000, '\0');
  for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<char>(i * 7);
  ASSERT_TRUE(blobs_->PutIfAbsent("firmware/2.1.0/cart.img", image).ok());
  EXPECT_EQ(*blobs_->Get("firmware/2.1.0/cart.img"), image);
  EXPECT_EQ(*blobs_->Sha256("firmware/2.1.0/cart.img"), crypto::Sha256Hex(image));
  // A retry with the same bytes is fine; other bytes never replace a blob.
  EXPECT_TRUE(blobs_->PutIfAbsent("firmware/2.1.0/cart.img", image).ok());
  EXPECT_EQ(blobs_->PutIfAbsent("firmware/2.1.0/cart.img", "evil").code(), Code::kAlreadyExists);
  EXPECT_EQ(*blobs_->Get("firmware/2.1.0/cart.img"), image);
}

TEST_P(BlobStoreConformance, ReadsARangeWithoutTheRest) {
  std::string image(100000, '\0');
  for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<char>(i * 13);
  ASSERT_TRUE(blobs_->PutIfAbsent("firmware/2.1.0/image.bin", image).ok());
  EXPECT_TRUE(*blobs_->Read("firmware/2.1.0/image.bin", 0, 100) == image.substr(0, 100));
  EXPECT_TRUE(*blobs_->Read("firmware/2.1.0/image.bin", 99990, 4096) == image.substr(99990));  // short at the end
  EXPECT_EQ(blobs_->Read("firmware/2.1.0/image.bin", 100000, 10)->size(), 0u);
  EXPECT_EQ(blobs_->Read("firmware/2.1.0/image.bin", 100001, 10).error().code(), Code::kInvalidArgument);
  EXPECT_EQ(blobs_->Read("firmware/none.bin", 0, 10).error().code(), Code::kNotFound);
  EXPECT_EQ(blobs_->Read("../etc/passwd", 0, 10).error().code(), Code::kInvalidArgument);
}

TEST_P(BlobStoreConformance, MissingBlobsAreNotFound) {
  EXPECT_EQ(blobs_->Get("receipts/none.json").error().code(), Code::kNotFound);
  EXPECT_EQ(blobs_->Sha256("receipts/none.json").error().code(), Code::kNotFound);
}

TEST_P(BlobStoreConformance, ListsByPrefixInOrder) {
  for (const char* k : {"receipts/2026-11-22/b.json", "receipts/2026-11-22/a.json", "receipts/2026-11-23/c.json",
                        "firmware/x.img", "empty"}) {
    ASSERT_TRUE(blobs_->PutIfAbsent(k, std::string(k) == "empty" ? "" : k).ok()) << k;
  }
  EXPECT_EQ(*blobs_->List("receipts/2026-11-22/"),
            (std::vector<std::string>{"receipts/2026-11-22/a.json", "receipts/2026-11-22/b.json"}));
  EXPECT_EQ(blobs_->List("")->size(), 5u);
  EXPECT_TRUE(blobs_->List("nothing/")->empty());
  EXPECT_EQ(*blobs_->Get("empty"), "");
}

TEST_P(BlobStoreConformance, BadKeysAreRefusedWithTheRule) {
  for (const char* k : {"", "/abs", "a//b", "a/", "../etc/passwd", "a/.hidden", "sp ace", "x.tmp-123"}) {
    Status st = blobs_->PutIfAbsent(k, "x");
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << k;
  }
  EXPECT_NE(blobs_->PutIfAbsent("../x", "x").message().find("starting with '.'"), std::string::npos);
  EXPECT_EQ(blobs_->Get("../x").error().code(), Code::kInvalidArgument);
  EXPECT_TRUE(blobs_->List("")->empty());
}

TEST_P(BlobStoreConformance, RacingWritersOfOneKeyLeaveOneWholeBlob) {
  std::vector<std::thread> threads;
  std::atomic<int> won{0}, lost{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Status st = blobs_->PutIfAbsent("race/blob", std::string(50000, static_cast<char>('a' + t)));
      (st.ok() ? won : lost)++;
      if (!st.ok()) {
        EXPECT_EQ(st.code(), Code::kAlreadyExists);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(lost.load(), 3);
  std::string got = *blobs_->Get("race/blob");
  EXPECT_EQ(got, std::string(50000, got[0]));
}

TEST_P(BlobStoreConformance, BlobsSurviveReopening) {
  if (!GetParam().persistent) GTEST_SKIP() << "an in-memory backend keeps nothing";
  ASSERT_TRUE(blobs_->PutIfAbsent("archive/2026/11/22.jsonl.zst", "data").ok());
  Open();
  EXPECT_EQ(*blobs_->Get("archive/2026/11/22.jsonl.zst"), "data");
}

INSTANTIATE_TEST_SUITE_P(Backends, BlobStoreConformance, ::testing::ValuesIn(kBackends),
                         BackendName);

}  // namespace
}  // namespace cw::store
