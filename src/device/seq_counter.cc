#include "device/seq_counter.h"

#include <charconv>

#include "core/files.h"

namespace cw::device {

Result<std::unique_ptr<SeqCounter>> SeqCounter::Open(const std::string& path, uint64_t block) {
  if (block == 0) return InvalidArgument("seq counter block must be at least 1");
  uint64_t mark = 0;
  auto text = ReadFile(path);
  if (text.ok()) {
    std::string_view s = *text;
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), mark);
    if (ec != std::errc() || p != s.data() + s.size()) return Corruption("seq counter file " + path + " is unreadable");
  } else if (text.error().code() != Code::kNotFound) {
    return text.error();
  }
  // Everything up to the persisted mark may have been handed out before a crash.
  return std::unique_ptr<SeqCounter>(new SeqCounter(path, block, mark + 1));
}

Result<uint64_t> SeqCounter::Next() {
  std::lock_guard lock(mu_);
  if (next_ > mark_) {
    uint64_t new_mark = next_ + block_ - 1;
    CW_RETURN_IF_ERROR(WriteFileAtomic(path_, std::to_string(new_mark) + "\n", 0600));
    mark_ = new_mark;
  }
  return next_++;
}

uint64_t SeqCounter::last() const {
  std::lock_guard lock(mu_);
  return next_ - 1;
}

}  // namespace cw::device
