#pragma once
// Stream: the random number stream of one kind of impairment decision (loss, delay, ...) on one
// direction of one link.
//
// Why not base/random.hh's Random: its draws go through std::uniform_real_distribution and
// std::uniform_int_distribution, whose algorithms the C++ standard leaves to the library
// (libstdc++ and libc++ give different numbers), and its mt19937_64 state is 2.5 KiB per stream.
// The impairment engine promises bit-identical decisions for a seed, so its draws are defined
// here, completely:
//  - generator: xoshiro256** 1.0 (Blackman and Vigna, "Scrambled linear pseudorandom number
//    generators", ACM TOMS 2021), state filled by SplitMix64 (Steele, Lea and Flood, OOPSLA 2014)
//    from a 64-bit stream seed, as the xoshiro authors recommend;
//  - uniform(): the top 53 bits as a double in [0, 1);
//  - below(n): Lemire's multiply-shift, (x · n) >> 64, in [0, n) (bias below n / 2^64);
//  - stream_seed(link seed, direction, kind): FNV-1a 64 (base/hash.hh) of the kind name and the
//    direction name, chained from the link seed, then one SplitMix64 step. Each kind has its own
//    stream, so changing one knob never shifts another kind's draws.

#include <cstdint>
#include <string_view>

#include "base/hash.hh"

namespace vnet::impair {

constexpr uint64_t splitmix64_next(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// The seed of the stream of `kind` ("loss", "delay", ...) on `direction` of the link seeded with
// `link_seed`.
constexpr uint64_t stream_seed(uint64_t link_seed, std::string_view direction,
                               std::string_view kind) {
  uint64_t h = kFnv1aOffsetBasis ^ link_seed;
  h *= 1099511628211ull;
  h = fnv1a(direction, h);
  h = fnv1a("/", h);
  h = fnv1a(kind, h);
  return splitmix64_next(h);
}

class Stream {
 public:
  explicit constexpr Stream(uint64_t seed = 0) { reseed(seed); }
  constexpr void reseed(uint64_t seed) {
    uint64_t sm = seed;
    for (auto& w : s_) w = splitmix64_next(sm);
  }
  // A stream with the given xoshiro256** state (not all zero); for known-answer tests.
  static constexpr Stream with_state(uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
    Stream s;
    s.s_[0] = a;
    s.s_[1] = b;
    s.s_[2] = c;
    s.s_[3] = d;
    return s;
  }
  constexpr uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1), 53 bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // True with probability p (p ≤ 0: never, p ≥ 1: always). Draws once either way, so the
  // stream advances by one per decision whatever p is.
  bool chance(double p) { return uniform() < p; }
  // Uniform in [0, n); n > 0.
  uint64_t below(uint64_t n) {
    __extension__ using U128 = unsigned __int128;
    return static_cast<uint64_t>((static_cast<U128>(next()) * n) >> 64);
  }

 private:
  static constexpr uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4]{};
};

}  // namespace vnet::impair
