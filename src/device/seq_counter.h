// device/seq_counter.h — the cart's monotonic message counter, persisted in flash.
//
// `seq` must strictly increase across reboots and crashes, because the cloud deduplicates on
// (cart_id, seq): a reused seq with different bytes is a `seq_conflict` reject. The counter
// therefore allocates ahead durably, never behind: before handing out any number above the
// persisted high-water mark it first persists a new mark `block` numbers further. After a crash
// the counter resumes above the mark, skipping at most `block` numbers and never reusing one.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "core/status.h"

namespace cw::device {

class SeqCounter {
 public:
  // Opens (creating) the counter file. Corruption if the file exists but is unreadable.
  static Result<std::unique_ptr<SeqCounter>> Open(const std::string& path, uint64_t block = 256);

  // The next seq (first ever: 1). Thread-safe. Fails only if the flash write fails; a failed call
  // hands out nothing.
  Result<uint64_t> Next();

  // The last seq handed out, or that may have been: right after Open, the persisted mark (0 for a
  // counter never used), which grows with every boot that sent anything.
  uint64_t last() const;

 private:
  SeqCounter(std::string path, uint64_t block, uint64_t next) : path_(std::move(path)), block_(block), next_(next), mark_(next - 1) {}
  std::string path_;
  uint64_t block_;
  mutable std::mutex mu_;
  uint64_t next_;  // guarded by mu_
  uint64_t mark_;  // guarded by mu_: highest seq covered by the persisted mark
};

}  // namespace cw::device
