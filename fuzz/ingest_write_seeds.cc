// Seeds for ingest_fuzz: every event type as JSON for the harness to sign (mode 1), and one signed
// envelope as received (mode 0, with a junk signature), each on its own topic.
#include <cstdio>
#include <string>

#include "wire/envelope.h"
#include "wire/examples.h"
#include "wire/topic.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: ingest_write_seeds DIR\n");
    return 2;
  }
  auto write = [&](const std::string& name, const std::string& bytes) {
    FILE* f = std::fopen((std::string(argv[1]) + "/" + name).c_str(), "wb");
    if (!f) return false;
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
    return true;
  };
  cw::CartId cart = cw::CartId::FromNumber(1);
  for (auto type : cw::wire::kAllEventTypes) {
    std::string json = cw::wire::ExampleEventJson(type, cart, 7);
    std::string topic = cw::wire::EventTopic(cart, type);
    if (!write("signed-" + std::string(cw::wire::Name(type)), std::string(1, '\1') + topic + "\n" + json)) return 1;
    cw::wire::Signature sig;
    sig.fill(0x5a);
    if (!write("raw-" + std::string(cw::wire::Name(type)), std::string(1, '\0') + topic + "\n" + cw::wire::JoinEnvelope(json, sig))) {
      return 1;
    }
  }
  return 0;
}
