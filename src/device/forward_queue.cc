#include "device/forward_queue.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/crc32.h"
#include "core/files.h"
#include "core/log.h"
#include "wire/topic.h"

namespace cw::device {

namespace {

// Journal record: tag (1) | body length (u32 LE) | body | CRC-32 of everything before it (u32 LE).
//   'P' push:   seq (u64 LE) | topic length (u16 LE) | topic | payload   (the type is the topic's)
//   'R' remove: seq (u64 LE)
constexpr char kPush = 'P';
constexpr char kRemove = 'R';
constexpr size_t kFrameOverhead = 1 + 4 + 4;
// Rewrite the journal when it is this much larger than what it still holds.
constexpr size_t kCompactSlack = 256 * 1024;

void PutLe(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

uint64_t GetLe(std::string_view in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= static_cast<uint64_t>(static_cast<unsigned char>(in[at + static_cast<size_t>(i)])) << (8 * i);
  return v;
}

std::string Frame(char tag, std::string_view body) {
  std::string rec;
  rec.reserve(body.size() + kFrameOverhead);
  rec.push_back(tag);
  PutLe(rec, body.size(), 4);
  rec.append(body);
  PutLe(rec, Crc32(rec), 4);
  return rec;
}

std::string PushRecord(const QueuedMessage& m) {
  std::string body;
  body.reserve(10 + m.topic.size() + m.payload.size());
  PutLe(body, m.seq, 8);
  PutLe(body, m.topic.size(), 2);
  body += m.topic;
  body += m.payload;
  return Frame(kPush, body);
}

std::string RemoveRecord(uint64_t seq) {
  std::string body;
  PutLe(body, seq, 8);
  return Frame(kRemove, body);
}

}  // namespace

Result<ForwardQueue> ForwardQueue::Open(const std::string& path, size_t capacity_bytes) {
  ForwardQueue q(capacity_bytes);
  q.journal_ = path;
  auto data = ReadFile(path);
  if (!data.ok()) {
    if (data.error().code() == Code::kNotFound) return q;
    return data.error();
  }
  std::string_view in = *data;
  size_t at = 0;
  std::string why;
  while (at < in.size()) {
    if (in.size() - at < kFrameOverhead) {
      why = "truncated record header";
      break;
    }
    char tag = in[at];
    size_t len = GetLe(in, at + 1, 4);
    if (len > in.size() - at - kFrameOverhead) {
      why = "truncated record";
      break;
    }
    std::string_view framed = in.substr(at, 5 + len);
    if (Crc32(framed) != GetLe(in, at + 5 + len, 4)) {
      why = "checksum mismatch";
      break;
    }
    std::string_view body = framed.substr(5);
    if (tag == kPush && body.size() >= 10) {
      QueuedMessage m;
      m.seq = GetLe(body, 0, 8);
      size_t topic_len = GetLe(body, 8, 2);
      auto topic = wire::ParseEventTopic(body.substr(10, std::min(topic_len, body.size() - 10)));
      if (topic_len > body.size() - 10 || !topic.ok()) {
        why = "bad topic";
        break;
      }
      m.type = topic->type;
      m.topic = std::string(body.substr(10, topic_len));
      m.payload = std::string(body.substr(10 + topic_len));
      q.bytes_ += Cost(m);
      q.items_.push_back(std::move(m));
    } else if (tag == kRemove && body.size() == 8) {
      uint64_t seq = GetLe(body, 0, 8);
      auto it = std::find_if(q.items_.begin(), q.items_.end(), [seq](const QueuedMessage& m) { return m.seq == seq; });
      if (it != q.items_.end()) {
        q.bytes_ -= Cost(*it);
        q.items_.erase(it);
      }
    } else {
      why = "unknown record";
      break;
    }
    at += framed.size() + 4;
  }
  q.journal_bytes_ = at;
  if (at < in.size()) {
    // A crash mid-append leaves a torn last record; what precedes it is whole.
    log::Warn("flash.queue_truncated", {{"path", path}, {"kept_bytes", std::to_string(at)},
                                        {"cut_bytes", std::to_string(in.size() - at)}, {"why", why}});
    if (::truncate(path.c_str(), static_cast<off_t>(at)) != 0) {
      return Internal("cannot truncate " + path + ": " + std::strerror(errno));
    }
  }
  return q;
}

Status ForwardQueue::Append(const std::string& record) {
  if (journal_.empty()) return Status::Ok();
  Status st = AppendToFile(journal_, record, /*sync=*/false);
  if (!st.ok()) {
    // Cut a partial record back off so the journal stays a sequence of whole records.
    if (::truncate(journal_.c_str(), static_cast<off_t>(journal_bytes_)) != 0) {
      log::Warn("flash.queue_truncate_failed", {{"path", journal_}});
    }
    return st;
  }
  journal_bytes_ += record.size();
  return Status::Ok();
}

Status ForwardQueue::RewriteJournal() {
  std::string all;
  for (const auto& m : items_) all += PushRecord(m);
  CW_RETURN_IF_ERROR(WriteFileAtomic(journal_, all, 0600));
  journal_bytes_ = all.size();
  return Status::Ok();
}

Status ForwardQueue::JournalRemove(uint64_t seq) {
  if (journal_.empty()) return Status::Ok();
  if (items_.empty()) {
    // Drained: start the next outage on an empty journal.
    if (::truncate(journal_.c_str(), 0) != 0) return Internal("cannot truncate " + journal_ + ": " + std::strerror(errno));
    journal_bytes_ = 0;
    return Status::Ok();
  }
  if (journal_bytes_ > 2 * (bytes_ + items_.size() * 32) + kCompactSlack) return RewriteJournal();
  return Append(RemoveRecord(seq));
}

Result<bool> ForwardQueue::Push(QueuedMessage m) {
  size_t cost = Cost(m);
  while (bytes_ + cost > capacity_) {
    auto it = std::find_if(items_.begin(), items_.end(),
                           [](const QueuedMessage& q) { return q.type == wire::EventType::kHealth; });
    if (it == items_.end()) break;
    uint64_t seq = it->seq;
    bytes_ -= Cost(*it);
    items_.erase(it);
    ++dropped_health_;
    CW_RETURN_IF_ERROR(JournalRemove(seq));
  }
  if (bytes_ + cost > capacity_ && m.type == wire::EventType::kHealth) {
    ++dropped_health_;
    return false;
  }
  CW_RETURN_IF_ERROR(Append(PushRecord(m)));
  bytes_ += cost;
  items_.push_back(std::move(m));
  return true;
}

Status ForwardQueue::PopFront() {
  uint64_t seq = items_.front().seq;
  bytes_ -= Cost(items_.front());
  items_.pop_front();
  return JournalRemove(seq);
}

}  // namespace cw::device
