// core/random.h — injected randomness.
//
// Code that needs randomness (ids, serials, jitter, simulated shoppers) takes a Random&. Production
// wiring passes SystemRandom (kernel CSPRNG); tests and the simulator pass SeededRandom so that a seed
// reproduces a run exactly. Key material never comes from here: crypto uses OpenSSL's DRBG.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace cw {

class Random {
 public:
  virtual ~Random() = default;
  // 64 uniformly random bits. SystemRandom is thread-safe; SeededRandom is not.
  virtual uint64_t Next() = 0;

  void Fill(std::span<uint8_t> out);
  // Uniform in [0, n); n > 0.
  uint64_t Uniform(uint64_t n);
  // Uniform in [0, 1).
  double UniformDouble();
  // Uniform in [lo, hi].
  int64_t Range(int64_t lo, int64_t hi);
  bool Bernoulli(double p) { return UniformDouble() < p; }
  // `bytes` random bytes as lowercase hex.
  std::string Hex(size_t bytes);
  // A random UUID v4 in lowercase canonical form.
  std::string UuidV4();

  static Random& System();
};

class SystemRandom final : public Random {
 public:
  uint64_t Next() override;
};

// xoshiro256** seeded through splitmix64: fast, good statistics, reproducible across platforms.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed);
  uint64_t Next() override;

 private:
  uint64_t s_[4];
};

}  // namespace cw
