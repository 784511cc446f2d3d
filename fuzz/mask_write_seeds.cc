// Writes the mask fuzzer's starting corpus: CSV with quoting edge cases, JSON Lines records and
// free-text notes with every entity kind.
#include <cstdio>
#include <string>

#include "core/random.h"
#include "mask/evalset.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: mask_write_seeds DIR\n");
    return 2;
  }
  int n = 0;
  auto write = [&](uint8_t selector, const std::string& body) {
    std::string payload(1, static_cast<char>(selector));
    payload += body;
    FILE* f = std::fopen((std::string(argv[1]) + "/seed-" + std::to_string(n++)).c_str(), "wb");
    if (!f) return false;
    std::fwrite(payload.data(), 1, payload.size(), f);
    return std::fclose(f) == 0;
  };
  bool ok = write(0, "a,b,c\r\n1,\"x,y\",\"say \"\"hi\"\"\"\n2,\"multi\nline\",caf\xC3\xA9\n") &&
            write(4, "h\n\"unterminated\n") &&
            write(1, R"({"a":1.50,"b":"caf\u00e9 \ud83d\udc4d","c":null,"d":[1,{"e":true}]})") &&
            write(1, R"({"notes":"Called Maria at 415-382-1947","gps_lat":47.60621})");
  cw::SeededRandom random(3);
  cw::mask::TextForge forge(random);
  for (int i = 0; i < 40 && ok; ++i) ok = write(2, forge.Note().text);
  return ok ? 0 : 1;
}
