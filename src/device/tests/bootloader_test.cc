// The A/B bootloader across power cuts: every step is re-read from flash by a fresh Bootloader,
// as the cart's next power-on would.
#include "device/bootloader.h"

#include <gtest/gtest.h>

#include "core/files.h"
#include "testing/temp_dir.h"

namespace cw::device {
namespace {

class BootloaderTest : public ::testing::Test {
 protected:
  // A power cycle: nothing survives but flash.
  BootInfo PowerOn() {
    auto b = Bootloader::Open(dir_.path(), "2.0.0");
    EXPECT_TRUE(b.ok()) << b.error().ToString();
    loader_ = std::make_unique<Bootloader>(std::move(*b));
    auto info = loader_->Boot();
    EXPECT_TRUE(info.ok()) << info.error().ToString();
    return *info;
  }
  testing::TempDir dir_;
  std::unique_ptr<Bootloader> loader_;
};

TEST_F(BootloaderTest, FirstBootRunsTheFactoryImageInSlotA) {
  BootInfo b = PowerOn();
  EXPECT_EQ(b.slot, Slot::kA);
  EXPECT_EQ(b.reason, BootReason::kPowerOn);
  EXPECT_EQ(b.image.version, "2.0.0");
  EXPECT_FALSE(b.previous_fw.has_value());
  EXPECT_EQ(b.boot_count, 1u);
  EXPECT_EQ(PowerOn().previous_fw, std::optional<std::string>("2.0.0"));
  EXPECT_EQ(loader_->current().boot_count, 2u);
}

TEST_F(BootloaderTest, AnUpdateBootsOnTrialAndStaysOnceMarkedGood) {
  PowerOn();
  ASSERT_TRUE(loader_->InstallToInactive("image-2.1.0", {"2.1.0", "ab", "{}"}).ok());
  EXPECT_EQ(*ReadFile(loader_->SlotPath(Slot::kB)), "image-2.1.0");
  BootInfo trial = PowerOn();
  EXPECT_EQ(trial.slot, Slot::kB);
  EXPECT_EQ(trial.reason, BootReason::kOtaTrial);
  EXPECT_EQ(trial.image.version, "2.1.0");
  EXPECT_EQ(trial.previous_fw, std::optional<std::string>("2.0.0"));
  EXPECT_TRUE(trial.on_trial);
  ASSERT_TRUE(loader_->MarkGood().ok());
  BootInfo after = PowerOn();
  EXPECT_EQ(after.slot, Slot::kB);
  EXPECT_EQ(after.reason, BootReason::kPowerOn);
  EXPECT_FALSE(after.on_trial);
  EXPECT_EQ(loader_->MarkGood().code(), Code::kFailedPrecondition);
}

TEST_F(BootloaderTest, AnUnconfirmedTrialRollsBackAtTheNextBoot) {
  PowerOn();
  ASSERT_TRUE(loader_->InstallToInactive("bad", {"2.1.0", "cd", "{}"}).ok());
  EXPECT_EQ(PowerOn().reason, BootReason::kOtaTrial);
  // The self-test failed, or the power went, before MarkGood.
  BootInfo back = PowerOn();
  EXPECT_EQ(back.reason, BootReason::kOtaRollback);
  EXPECT_EQ(back.slot, Slot::kA);
  EXPECT_EQ(back.image.version, "2.0.0");
  EXPECT_EQ(back.previous_fw, std::optional<std::string>("2.1.0"));
  EXPECT_EQ(PowerOn().reason, BootReason::kPowerOn) << "the rollback is final";
  EXPECT_EQ(loader_->current().image.version, "2.0.0");
}

TEST_F(BootloaderTest, ANewUpdateAfterAConfirmedOneGoesToTheOtherSlot) {
  PowerOn();
  ASSERT_TRUE(loader_->InstallToInactive("b", {"2.1.0", "", ""}).ok());
  PowerOn();
  ASSERT_TRUE(loader_->MarkGood().ok());
  ASSERT_TRUE(loader_->InstallToInactive("a", {"2.2.0", "", ""}).ok());
  BootInfo trial = PowerOn();
  EXPECT_EQ(trial.slot, Slot::kA);
  EXPECT_EQ(trial.image.version, "2.2.0");
  BootInfo back = PowerOn();  // never confirmed
  EXPECT_EQ(back.slot, Slot::kB);
  EXPECT_EQ(back.image.version, "2.1.0");
}

TEST_F(BootloaderTest, APowerCutBeforeTheRecordIsArmedBootsTheOldSlot) {
  PowerOn();
  // The image reached the inactive slot, the record that arms it did not.
  ASSERT_TRUE(WriteFileAtomic(loader_->SlotPath(Slot::kB), "half-installed").ok());
  BootInfo b = PowerOn();
  EXPECT_EQ(b.slot, Slot::kA);
  EXPECT_EQ(b.reason, BootReason::kPowerOn);
  EXPECT_EQ(loader_->InstallToInactive("x", {"2.1.0", "", ""}).ok(), true);
  EXPECT_EQ(PowerOn().reason, BootReason::kOtaTrial);
  EXPECT_EQ(loader_->InstallToInactive("y", {"2.2.0", "", ""}).code(), Code::kFailedPrecondition)
      << "no second update stacked on an unconfirmed trial";
}

TEST_F(BootloaderTest, AnUnreadableRecordIsCorruptionNotAFactoryReset) {
  PowerOn();
  ASSERT_TRUE(WriteFileAtomic(dir_.path() + "/boot.json", "{garbage").ok());
  auto b = Bootloader::Open(dir_.path(), "2.0.0");
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.error().code(), Code::kCorruption);
}

}  // namespace
}  // namespace cw::device
