// device/bootloader.h — the cart's two firmware slots and the bootloader that picks one.
//
// Flash holds slot-A.img, slot-B.img and boot.json, the bootloader's record, which every change
// rewrites atomically (temp file, fsync, rename). The only way to a new version is a trial:
//   1. the updater writes the image into the inactive slot and arms it (InstallToInactive);
//   2. the next boot starts the armed slot on trial (reason ota_trial);
//   3. the firmware marks it good after its self-test (MarkGood).
// A boot that finds a trial still unconfirmed — the build crashed, failed its self-test, or lost
// power before confirming — starts the other slot again (reason ota_rollback). Before step 3 the
// previous slot is never touched, so at every instant one slot holds a confirmed image and no
// power cut leaves the cart without something to boot.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cw::device {

enum class Slot { kA, kB };
std::string_view Name(Slot s);  // "A" | "B"
inline Slot Other(Slot s) { return s == Slot::kA ? Slot::kB : Slot::kA; }

enum class BootReason { kPowerOn, kOtaTrial, kOtaRollback, kWatchdog };
std::string_view Name(BootReason r);  // power_on | ota_trial | ota_rollback | watchdog

struct SlotImage {
  std::string version;   // semver; empty for a slot never written
  std::string sha256;    // of the image, lowercase hex ("" for the factory image)
  std::string manifest;  // the signed manifest it was installed under ("" for the factory image)
};

// What the bootloader started, for the boot event and the firmware.
struct BootInfo {
  Slot slot = Slot::kA;
  BootReason reason = BootReason::kPowerOn;
  SlotImage image;                         // what runs now
  std::optional<std::string> previous_fw;  // what ran at the previous boot (nullopt: first boot)
  uint64_t boot_count = 0;                 // boots since manufacture, this one included
  bool on_trial = false;                   // running a trial image not yet marked good
};

class Bootloader {
 public:
  // Opens (creating at first power-on, with the factory image `factory_version` in slot A)
  // DIR/boot.json. Corruption if the record exists but cannot be read.
  static Result<Bootloader> Open(std::string dir, std::string factory_version);

  // Power-on: decides which slot starts and why, records it, and returns it. `watchdog`: the
  // previous run ended in a watchdog reset (reported as such unless a trial or rollback decides).
  Result<BootInfo> Boot(bool watchdog = false);

  // Writes `image` into the inactive slot and arms it for a trial at the next boot. Until then the
  // running slot stays the one that boots.
  Status InstallToInactive(std::string_view image, SlotImage info);

  // The running trial passed its self-test: its slot becomes the confirmed one. FailedPrecondition
  // when not on trial.
  Status MarkGood();

  const BootInfo& current() const { return current_; }
  // The image armed for a trial at the next boot, if any.
  const SlotImage* armed() const { return armed_ ? &slot(*armed_) : nullptr; }
  // The image a slot holds (an empty version for one never written).
  const SlotImage& slot(Slot s) const { return slots_[s == Slot::kA ? 0 : 1]; }
  std::string SlotPath(Slot s) const { return dir_ + "/slot-" + std::string(Name(s)) + ".img"; }

 private:
  Bootloader(std::string dir) : dir_(std::move(dir)) {}
  Status Save() const;

  std::string dir_;
  Slot confirmed_ = Slot::kA;      // the slot known to boot
  std::optional<Slot> armed_;      // to be tried at the next boot
  std::optional<Slot> trial_;      // started on trial, not yet marked good
  SlotImage slots_[2];
  uint64_t boot_count_ = 0;
  std::string last_version_;       // what the previous boot ran
  BootInfo current_;
};

}  // namespace cw::device
