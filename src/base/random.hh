#pragma once
// Seedable randomness. Every random choice (loss, jitter, VRRP skew) draws from an injected
// Random so that a run can be replayed from its seed.

#include <cstdint>
#include <random>

namespace vnet {

class Random {
 public:
  explicit Random(uint64_t seed) : engine_(seed) {}
  // Uniform in [0, 1).
  double uniform() { return std::uniform_real_distribution<double>(0.0, 1.0)(engine_); }
  // Uniform in [lo, hi], inclusive.
  uint64_t between(uint64_t lo, uint64_t hi) {
    return std::uniform_int_distribution<uint64_t>(lo, hi)(engine_);
  }
  bool chance(double p) { return p > 0 && uniform() < p; }

 private:
  std::mt19937_64 engine_;
};

}  // namespace vnet
