#include "sim/defects.h"

#include "wire/envelope.h"

namespace cw::sim {

bool DefectiveUplink::Publish(const std::string& topic, const std::string& payload) {
  std::string out = payload;
  if (defects_.malformed_share > 0 && random_.UniformDouble() < defects_.malformed_share) {
    auto env = wire::SplitEnvelope(payload);
    if (env.ok() && env->json.size() > 2) {
      std::string json = "{\"debug_dump\":true," + std::string(env->json.substr(1));
      auto sig = se_.Sign({reinterpret_cast<const uint8_t*>(json.data()), json.size()});
      if (sig.ok()) {
        out = wire::JoinEnvelope(json, *sig);
        malformed_++;
      }
    }
  }
  if (defects_.delay.count() == 0) return inner_.Publish(topic, out);
  held_.push_back({std::chrono::steady_clock::now() + defects_.delay, topic, std::move(out)});
  return true;
}

void DefectiveUplink::Pump(std::chrono::steady_clock::time_point now) {
  while (!held_.empty() && held_.front().due <= now) {
    if (!inner_.Publish(held_.front().topic, held_.front().payload)) return;  // link down: try again later
    held_.pop_front();
  }
}

}  // namespace cw::sim
