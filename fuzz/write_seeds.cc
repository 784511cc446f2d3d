// Writes one valid signed-shape example per event type, and an ota-job with its firmware manifest,
// as the fuzzer's starting corpus.
#include <cstdio>
#include <string>

#include "wire/envelope.h"
#include "wire/examples.h"
#include "wire/firmware.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_seeds DIR\n");
    return 2;
  }
  cw::wire::Signature sig;
  sig.fill(0x5a);
  auto write = [&](const std::string& name, uint8_t selector, const std::string& json) {
    std::string payload(1, static_cast<char>(selector));
    payload += cw::wire::JoinEnvelope(json, sig);
    FILE* f = std::fopen((std::string(argv[1]) + "/seed-" + name).c_str(), "wb");
    if (!f) return false;
    std::fwrite(payload.data(), 1, payload.size(), f);
    return std::fclose(f) == 0;
  };
  uint8_t index = 0;
  for (auto type : cw::wire::kAllEventTypes) {
    if (!write(std::string(cw::wire::Name(type)), index++, cw::wire::ExampleEventJson(type, cw::CartId::FromNumber(1), 7))) {
      return 1;
    }
  }
  cw::Time t0{};
  cw::wire::FirmwareManifest m{"2.1.0", std::string(64, 'a'), 4096, t0, t0, t0 + std::chrono::hours(1),
                               std::string(64, 'b'), {std::string(64, 'b')}, {}, cw::wire::SimulatedDefect::kNone};
  cw::wire::CommandHeader h{cw::wire::CommandKind::kOtaJob, "0f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                            cw::CartId::FromNumber(1), t0, t0 + std::chrono::hours(1)};
  cw::wire::OtaJob job{"1f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f", m.version, "https://127.0.0.1:8443/api/v1/firmware/2.1.0/image",
                       m.sha256, m.size, cw::wire::FirmwareManifestJson(m), std::string(128, '0'), t0};
  if (!write("ota-job", 0, cw::wire::OtaJobCommandJson(h, job))) return 1;
  if (!write("firmware-manifest", 0, job.manifest)) return 1;
  return 0;
}
