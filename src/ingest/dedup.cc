#include "ingest/dedup.h"

namespace cw::ingest {

Result<std::vector<DedupVerdict>> Deduper::Classify(const std::vector<const store::TelemetryEvent*>& batch) {
  std::vector<DedupVerdict> out;
  out.reserve(batch.size());
  std::map<std::pair<CartId, uint64_t>, const store::Digest*> in_batch;
  for (const auto* e : batch) {
    auto key = std::make_pair(e->cart, e->seq);
    const store::Digest* first = nullptr;
    std::optional<store::Digest> stored;
    if (auto it = in_batch.find(key); it != in_batch.end()) {
      first = it->second;
    } else {
      CW_ASSIGN_OR_RETURN(stored, store_.FindSeq(e->cart, e->seq));
      if (stored) first = &*stored;
    }
    if (!first) {
      in_batch.emplace(key, &e->digest);
      out.push_back(DedupVerdict::kNew);
    } else {
      out.push_back(*first == e->digest ? DedupVerdict::kDuplicate : DedupVerdict::kConflict);
    }
  }
  return out;
}

}  // namespace cw::ingest
