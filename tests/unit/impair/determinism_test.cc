// Reproducibility of the impairment engine: 10^6 synthetic arrivals through every kind with a
// fixed seed give a stored hash of every decision (a change in any draw, order or formula
// changes it: update the constant only for an intended change, and say so in the commit), the
// same seed gives the same decisions twice, and each kind's stream is its own: changing the
// delay, rate or duplication does not move a single loss decision.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "base/hash.hh"
#include "impair/engine.hh"
#include "unit/impair/support.hh"

using namespace vnet;
using namespace vnet::impair;
using namespace std::chrono_literals;
using vnet::impair::test::kT0;
using vnet::impair::test::parse;

namespace {

class Hasher {
 public:
  void add(uint64_t v) {
    char bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>(v >> (8 * i));  // little-endian
    h_ = fnv1a(std::string_view(bytes, 8), h_);
  }
  uint64_t value() const { return h_; }

 private:
  uint64_t h_ = kFnv1aOffsetBasis;
};

uint64_t ns(TimePoint t) { return static_cast<uint64_t>((t - kT0).count()); }

// Runs n arrivals (sizes 60–1518 and gaps 0–199 µs from a fixed LCG) through an engine and
// hashes every verdict and every release.
uint64_t run(const Settings& s, uint64_t seed, int n) {
  Engine e(seed, "sw1:eth1>pc1:eth0", s, kT0);
  Hasher h;
  uint64_t lcg = 12345;
  TimePoint now = kT0;
  Release r;
  for (int i = 0; i < n; ++i) {
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    const uint32_t size = 60 + static_cast<uint32_t>((lcg >> 33) % 1459);
    now += std::chrono::microseconds((lcg >> 17) % 200);
    while (e.pop_due(now, r)) {
      h.add(r.handle);
      h.add(r.copy);
      h.add(ns(r.due));
    }
    const auto v = e.offer(now, size, i);
    h.add(static_cast<uint64_t>(v.drop));
    h.add(v.copies);
    for (uint8_t c = 0; c < v.copies; ++c) {
      h.add(static_cast<uint64_t>(v.copy[c].drop));
      h.add(ns(v.copy[c].due));
      for (uint8_t k = 0; k < v.copy[c].flip_count; ++k) h.add(v.copy[c].flips[k]);
    }
  }
  std::vector<Release> rest;
  e.take_all(rest);
  for (const auto& x : rest) {
    h.add(x.handle);
    h.add(ns(x.due));
  }
  return h.value();
}

// Every kind at once (the loss models take turns: one engine each).
const char* const kEveryKind[] = {
    "loss 3% delay 20ms 5ms distribution normal rate 100mbit limit 64kb duplicate 2% "
    "corrupt 1% noise 20 reorder 5% gap 3 mtu 1400 drop-every 97 flap 50ms 950ms",
    "loss gemodel 1% 10% 90% 0.5% delay 10ms 10ms distribution pareto jitter-reorder on "
    "rate 50mbit limit 500 duplicate 1% corrupt 2%",
    "loss state 2% 30% 10% 40% 1% delay 5ms 2ms distribution paretonormal rate 1gbit "
    "noise 100 reorder 10% mtu 1000",
    "delay 1ms 1ms distribution uniform limit 100 carrier up drop-every 10",
};

TEST(ImpairDeterminism, GoldenDecisionHash) {
  Hasher all;
  for (const char* text : kEveryKind) all.add(run(parse(text), 2024, 250000));
  // 4 × 250000 = 10^6 arrivals. Recorded from this implementation; see the file comment.
  EXPECT_EQ(all.value(), 0x832ee7289cd81332ull) << std::hex << "0x" << all.value();
}

TEST(ImpairDeterminism, SameSeedSameDecisionsOtherSeedOthers) {
  const Settings s = parse(kEveryKind[0]);
  EXPECT_EQ(run(s, 77, 100000), run(s, 77, 100000));
  EXPECT_NE(run(s, 77, 100000), run(s, 78, 100000));
}

std::vector<Cause> loss_decisions(const Settings& s, uint64_t seed) {
  Engine e(seed, "a>b", s, kT0);
  std::vector<Cause> out;
  Release r;
  for (int i = 0; i < 200000; ++i) {
    const TimePoint now = kT0 + std::chrono::microseconds(50 * i);
    while (e.pop_due(now, r)) {
    }
    out.push_back(e.offer(now, 1000, i).drop);
  }
  return out;
}

TEST(ImpairDeterminism, ChangingOtherKnobsKeepsLossDecisions) {
  for (const char* loss : {"loss 10%", "loss gemodel 2% 20%", "loss state 3% 40% 5% 50% 1%"}) {
    const std::string base = loss;
    const auto reference = loss_decisions(parse(base + " limit 1000000"), 5);
    for (const char* other :
         {" delay 30ms", " delay 50ms 20ms distribution normal", " duplicate 50% corrupt 10%",
          " noise 1000 reorder 20% delay 1ms", " delay 5ms 5ms jitter-reorder on"}) {
      EXPECT_EQ(loss_decisions(parse(base + " limit 1000000" + other), 5), reference)
          << loss << other;
    }
    // Positive control: another seed changes them.
    EXPECT_NE(loss_decisions(parse(base + " limit 1000000"), 6), reference) << loss;
  }
}

TEST(ImpairDeterminism, DirectionsAndLinksHaveTheirOwnStreams) {
  EXPECT_NE(stream_seed(1, "a>b", "loss"), stream_seed(1, "b>a", "loss"));
  EXPECT_NE(stream_seed(1, "a>b", "loss"), stream_seed(2, "a>b", "loss"));
  EXPECT_NE(stream_seed(1, "a>b", "loss"), stream_seed(1, "a>b", "delay"));
}

TEST(ImpairDeterminism, GeneratorKnownAnswers) {
  // SplitMix64 from state 0 (the published first output of the reference code).
  uint64_t state = 0;
  EXPECT_EQ(splitmix64_next(state), 0xe220a8397b1dcdafull);
  // The seeding rule and xoshiro256** as recorded from this implementation (a change here
  // changes every decision of every seeded lab).
  EXPECT_EQ(stream_seed(1, "a>b", "loss"), 0xe2ff31bfb74f1b0dull);
  Stream s(stream_seed(1, "a>b", "loss"));
  EXPECT_EQ(s.next(), 0xbbaad4741903f591ull);
  // xoshiro256** from the state {1, 2, 3, 4}: the reference implementation's first outputs.
  Stream x = Stream::with_state(1, 2, 3, 4);
  EXPECT_EQ(x.next(), 11520u);
  EXPECT_EQ(x.next(), 0u);
  EXPECT_EQ(x.next(), 1509978240u);
  EXPECT_EQ(x.next(), 1215971899390074240ull);
}

}  // namespace
