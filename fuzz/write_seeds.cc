// Writes one valid signed-shape example per event type as the fuzzer's starting corpus.
#include <cstdio>
#include <string>

#include "wire/envelope.h"
#include "wire/examples.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_seeds DIR\n");
    return 2;
  }
  cw::wire::Signature sig;
  sig.fill(0x5a);
  uint8_t index = 0;
  for (auto type : cw::wire::kAllEventTypes) {
    std::string json = cw::wire::ExampleEventJson(type, cw::CartId::FromNumber(1), 7);
    std::string payload(1, static_cast<char>(index++));
    payload += cw::wire::JoinEnvelope(json, sig);
    std::string path = std::string(argv[1]) + "/seed-" + std::string(cw::wire::Name(type));
    FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return 1;
    std::fwrite(payload.data(), 1, payload.size(), f);
    std::fclose(f);
  }
  return 0;
}
