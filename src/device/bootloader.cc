#include "device/bootloader.h"

#include "core/files.h"
#include "wire/json.h"

namespace cw::device {

std::string_view Name(Slot s) { return s == Slot::kA ? "A" : "B"; }

std::string_view Name(BootReason r) {
  switch (r) {
    case BootReason::kPowerOn: return "power_on";
    case BootReason::kOtaTrial: return "ota_trial";
    case BootReason::kOtaRollback: return "ota_rollback";
    case BootReason::kWatchdog: return "watchdog";
  }
  return "power_on";
}

namespace {

std::optional<Slot> ParseSlot(std::string_view s) {
  if (s == "A") return Slot::kA;
  if (s == "B") return Slot::kB;
  return std::nullopt;
}

size_t Index(Slot s) { return s == Slot::kA ? 0 : 1; }

}  // namespace

Result<Bootloader> Bootloader::Open(std::string dir, std::string factory_version) {
  Bootloader b(std::move(dir));
  CW_RETURN_IF_ERROR(MakeDirs(b.dir_, 0700));
  std::string path = b.dir_ + "/boot.json";
  if (!PathExists(path)) {
    b.slots_[0] = {std::move(factory_version), "", ""};
    CW_RETURN_IF_ERROR(b.Save());
    return b;
  }
  CW_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  rapidjson::Document doc;
  if (!wire::ParseStrictObject(text, doc).ok()) return Corruption(path + " is not a boot record");
  auto slot_field = [&](const char* key) { return ParseSlot(wire::GetString(doc, key).value_or("")); };
  auto confirmed = slot_field("confirmed");
  if (!confirmed) return Corruption(path + ": no confirmed slot");
  b.confirmed_ = *confirmed;
  b.armed_ = slot_field("armed");
  b.trial_ = slot_field("trial");
  b.boot_count_ = wire::GetUint(doc, "boot_count").value_or(0);
  b.last_version_ = std::string(wire::GetString(doc, "last_version").value_or(""));
  for (Slot s : {Slot::kA, Slot::kB}) {
    auto it = doc.FindMember(s == Slot::kA ? "slot_a" : "slot_b");
    if (it == doc.MemberEnd() || !it->value.IsObject()) continue;
    b.slots_[Index(s)] = {std::string(wire::GetString(it->value, "version").value_or("")),
                          std::string(wire::GetString(it->value, "sha256").value_or("")),
                          std::string(wire::GetString(it->value, "manifest").value_or(""))};
  }
  if (b.slots_[Index(b.confirmed_)].version.empty()) return Corruption(path + ": the confirmed slot is empty");
  return b;
}

Status Bootloader::Save() const {
  wire::JsonBuilder j;
  j.Field("confirmed", Name(confirmed_));
  if (armed_) j.Field("armed", Name(*armed_));
  if (trial_) j.Field("trial", Name(*trial_));
  j.Field("boot_count", boot_count_).Field("last_version", last_version_);
  for (Slot s : {Slot::kA, Slot::kB}) {
    const SlotImage& img = slots_[Index(s)];
    j.Key(s == Slot::kA ? "slot_a" : "slot_b");
    auto& w = j.writer();
    w.StartObject();
    w.Key("version");
    w.String(img.version.c_str());
    w.Key("sha256");
    w.String(img.sha256.c_str());
    w.Key("manifest");
    w.String(img.manifest.c_str());
    w.EndObject();
  }
  return WriteFileAtomic(dir_ + "/boot.json", j.Finish(), 0600);
}

Result<BootInfo> Bootloader::Boot(bool watchdog) {
  BootInfo info;
  if (trial_) {
    // The trial never confirmed: back to the slot that is known to boot.
    info.reason = BootReason::kOtaRollback;
    trial_.reset();
    armed_.reset();
    info.slot = confirmed_;
  } else if (armed_) {
    info.reason = BootReason::kOtaTrial;
    info.slot = *armed_;
    trial_ = armed_;
    armed_.reset();
  } else {
    info.reason = watchdog ? BootReason::kWatchdog : BootReason::kPowerOn;
    info.slot = confirmed_;
  }
  info.image = slots_[Index(info.slot)];
  info.on_trial = trial_.has_value();
  if (!last_version_.empty()) info.previous_fw = last_version_;
  info.boot_count = ++boot_count_;
  last_version_ = info.image.version;
  CW_RETURN_IF_ERROR(Save());
  current_ = info;
  return info;
}

Status Bootloader::InstallToInactive(std::string_view image, SlotImage info) {
  if (trial_) return FailedPrecondition("a trial is running; mark it good (or let it roll back) first");
  Slot target = Other(current_.slot);
  // The image first, then the record that arms it: a power cut in between leaves the old record,
  // which never boots the half-written slot.
  CW_RETURN_IF_ERROR(WriteFileAtomic(SlotPath(target), image, 0600));
  slots_[Index(target)] = std::move(info);
  armed_ = target;
  return Save();
}

Status Bootloader::MarkGood() {
  if (!trial_) return FailedPrecondition("not running a trial image");
  confirmed_ = *trial_;
  trial_.reset();
  current_.on_trial = false;
  return Save();
}

}  // namespace cw::device
