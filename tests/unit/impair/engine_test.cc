// The impairment engine's deterministic behaviour on hand-made arrivals and a manual time line:
// each kind does what its word says (MTU, every Nth, carrier and flap, rate spacing, queue
// limits, order, duplication, corruption, reorder gap), and held copies come back in order.
#include "impair/engine.hh"
#include "unit/impair/support.hh"

#include <gtest/gtest.h>

#include <vector>

using namespace vnet;
using namespace vnet::impair;
using namespace std::chrono_literals;
using vnet::impair::test::kT0;
using vnet::impair::test::parse;

namespace {

TEST(ImpairEngine, NoSettingsDeliversEverythingAtOnceInOrder) {
  Engine e(1, "a>b", {}, kT0);
  std::vector<Release> out;
  for (Handle h = 0; h < 10; ++h) {
    auto v = e.offer(kT0, 100, h);
    EXPECT_EQ(v.drop, Cause::kNone);
    EXPECT_EQ(v.copies, 1);
    EXPECT_EQ(v.copy[0].due, kT0);
  }
  e.poll(kT0, out);
  ASSERT_EQ(out.size(), 10u);
  for (Handle h = 0; h < 10; ++h) EXPECT_EQ(out[h].handle, h);
  EXPECT_FALSE(e.next_deadline());
  EXPECT_EQ(e.counters().released, 10u);
  EXPECT_EQ(e.counters().delayed, 0u);
}

TEST(ImpairEngine, ConstantDelayHoldsUntilDue) {
  Engine e(1, "a>b", parse("delay 10ms"), kT0);
  e.offer(kT0, 100, 7);
  ASSERT_TRUE(e.next_deadline());
  EXPECT_EQ(*e.next_deadline(), kT0 + 10ms);
  Release r;
  EXPECT_FALSE(e.pop_due(kT0 + 10ms - 1ns, r));
  ASSERT_TRUE(e.pop_due(kT0 + 10ms, r));
  EXPECT_EQ(r.handle, 7u);
  EXPECT_EQ(r.due, kT0 + 10ms);
  EXPECT_EQ(e.counters().delayed, 1u);
}

TEST(ImpairEngine, MtuDropsOnlyOversizedFrames) {
  Engine e(1, "a>b", parse("mtu 1500"), kT0);
  EXPECT_EQ(e.offer(kT0, 1500, 0).drop, Cause::kNone);
  EXPECT_EQ(e.offer(kT0, 1501, 1).drop, Cause::kMtu);
  EXPECT_EQ(e.offer(kT0, 9000, 2).drop, Cause::kMtu);
  EXPECT_EQ(e.counters().drops(Cause::kMtu), 2u);
  EXPECT_EQ(e.counters().held_packets, 1u);
}

TEST(ImpairEngine, DropEveryNthDropsExactlyTheNth) {
  Engine e(1, "a>b", parse("drop-every 3"), kT0);
  for (int i = 1; i <= 30; ++i) {
    EXPECT_EQ(e.offer(kT0, 64, i).drop, i % 3 == 0 ? Cause::kEveryNth : Cause::kNone) << i;
  }
  EXPECT_EQ(e.counters().drops(Cause::kEveryNth), 10u);
}

TEST(ImpairEngine, CarrierDownDropsEverythingUntilUp) {
  Engine e(1, "a>b", parse("delay 5ms"), kT0);
  e.offer(kT0, 64, 1);  // on the wire before the carrier goes
  e.apply(parse("delay 5ms carrier down"), kT0 + 1ms);
  EXPECT_EQ(e.offer(kT0 + 1ms, 64, 2).drop, Cause::kCarrierDown);
  std::vector<Release> out;
  e.poll(kT0 + 5ms, out);
  ASSERT_EQ(out.size(), 1u);  // the frame already held still arrives
  e.apply(parse("delay 5ms carrier up"), kT0 + 6ms);
  EXPECT_EQ(e.offer(kT0 + 6ms, 64, 3).drop, Cause::kNone);
  EXPECT_EQ(e.counters().drops(Cause::kCarrierDown), 1u);
}

TEST(ImpairEngine, FlapFollowsItsScheduleThenStaysUp) {
  Engine e(1, "a>b", parse("flap 10ms 20ms 2"), kT0);
  struct Case {
    Duration at;
    bool up;
  };
  const Case cases[] = {{0ms, false},  {9ms, false},  {10ms, true},  {29ms, true},
                        {30ms, false}, {39ms, false}, {40ms, true},  {59ms, true},
                        {60ms, true},  {75ms, true},  {1000ms, true}};
  for (const auto& c : cases) {
    EXPECT_EQ(e.carrier_up(kT0 + c.at), c.up) << c.at.count();
    const auto v = e.offer(kT0 + c.at, 64, 0);
    EXPECT_EQ(v.drop, c.up ? Cause::kNone : Cause::kCarrierDown) << c.at.count();
  }
}

TEST(ImpairEngine, RateSpacesBackToBackFramesBySerializationTime) {
  // 10 Mbit/s: 1500 bytes take 1.2 ms; 64 bytes 51.2 us; 1001 bytes 800.8 us.
  Engine e(1, "a>b", parse("rate 10mbit"), kT0);
  const uint32_t sizes[] = {1500, 64, 1001, 1500, 333, 64, 1500};
  TimePoint prev = kT0;
  for (uint32_t size : sizes) {
    const auto v = e.offer(kT0, size, size);
    ASSERT_EQ(v.drop, Cause::kNone);
    const auto expected = std::chrono::nanoseconds(uint64_t{size} * 8 * 1000000000 / 10000000);
    const auto gap = v.copy[0].due - prev;
    EXPECT_LE(std::chrono::abs(gap - expected), 1ns) << size;
    prev = v.copy[0].due;
  }
}

TEST(ImpairEngine, RateIsExactOverTheLongRun) {
  // 3 Mbit/s does not divide 1 ns per bit evenly: the carried remainder keeps the sum exact.
  Engine e(1, "a>b", parse("rate 3mbit limit 100000"), kT0);
  TimePoint last{};
  for (int i = 0; i < 100000; ++i) last = e.offer(kT0, 1000, i).copy[0].due;
  // 10^5 frames × 8000 bits / 3e6 bit/s = 266.666… s
  EXPECT_LE(std::chrono::abs((last - kT0) - Duration(266666666667)), 1ns);
}

TEST(ImpairEngine, RateLeavesIdleLinkFree) {
  Engine e(1, "a>b", parse("rate 8mbit"), kT0);
  EXPECT_EQ(e.offer(kT0, 1000, 1).copy[0].due, kT0 + 1ms);
  // The link was idle for a while: the next frame starts at its arrival.
  EXPECT_EQ(e.offer(kT0 + 10ms, 1000, 2).copy[0].due, kT0 + 11ms);
}

TEST(ImpairEngine, PacketLimitTailDropsAndNeverExceeds) {
  Engine e(1, "a>b", parse("rate 1mbit limit 10"), kT0);
  std::vector<Release> out;
  TimePoint now = kT0;
  uint64_t delivered = 0;
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 5; ++i) e.offer(now, 1000, round * 5 + i);
    EXPECT_LE(e.counters().held_packets, 10u);
    now += 10ms;  // 1.25 frames' worth of serialization per 10 ms
    out.clear();
    e.poll(now, out);
    delivered += out.size();
  }
  EXPECT_EQ(e.counters().peak_packets, 10u);
  EXPECT_GT(e.counters().drops(Cause::kQueueFull), 0u);
  EXPECT_EQ(e.counters().drops(Cause::kQueueFull) + delivered + e.counters().held_packets, 500u);
}

TEST(ImpairEngine, ByteLimitTailDrops) {
  Engine e(1, "a>b", parse("rate 1mbit limit 4kb"), kT0);
  int accepted = 0;
  for (int i = 0; i < 10; ++i) {
    if (e.offer(kT0, 1000, i).copy[0].drop == Cause::kNone) ++accepted;
  }
  EXPECT_EQ(accepted, 4);  // 4 × 1000 ≤ 4096 < 5 × 1000
  EXPECT_EQ(e.counters().held_bytes, 4000u);
  EXPECT_EQ(e.counters().drops(Cause::kQueueFull), 6u);
}

TEST(ImpairEngine, DefaultLimitBoundsPureDelay) {
  Engine e(1, "a>b", parse("delay 1s"), kT0);
  for (int i = 0; i < 5000; ++i) e.offer(kT0 + std::chrono::microseconds(i), 64, i);
  EXPECT_EQ(e.counters().held_packets, Settings::kDefaultLimitPackets);
  EXPECT_EQ(e.counters().drops(Cause::kQueueFull), 4000u);
}

// Jitter with reordering off: nothing overtakes; with it on, the same draws do reorder (the
// positive control that shows the first half can fail).
TEST(ImpairEngine, NoReorderingUnlessJitterReorderIsOn) {
  for (bool reorder : {false, true}) {
    Settings s = parse("delay 10ms 8ms distribution normal limit 100000");
    s.jitter_reorder = reorder;
    Engine e(42, "a>b", s, kT0);
    std::vector<Release> out;
    for (int i = 0; i < 100000; ++i) {
      const TimePoint now = kT0 + std::chrono::microseconds(100 * i);
      e.poll(now, out);
      e.offer(now, 100, i);
    }
    e.take_all(out);
    ASSERT_EQ(out.size(), 100000u);
    size_t overtaken = 0;
    for (size_t i = 1; i < out.size(); ++i) {
      if (out[i].handle < out[i - 1].handle) ++overtaken;
      EXPECT_GE(out[i].due, out[i - 1].due);
    }
    if (reorder) {
      EXPECT_GT(overtaken, 1000u);
    } else {
      EXPECT_EQ(overtaken, 0u);
    }
  }
}

TEST(ImpairEngine, DuplicatesAreReleasedAsSecondCopies) {
  Engine e(1, "a>b", parse("duplicate 100%"), kT0);
  const auto v = e.offer(kT0, 100, 9);
  ASSERT_EQ(v.copies, 2);
  std::vector<Release> out;
  e.poll(kT0, out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].handle, 9u);
  EXPECT_EQ(out[0].copy, 0);
  EXPECT_EQ(out[1].handle, 9u);
  EXPECT_EQ(out[1].copy, 1);
  EXPECT_EQ(e.counters().duplicated, 1u);
}

TEST(ImpairEngine, CorruptFlipsExactlyOneBitInsideTheFrame) {
  Engine e(1, "a>b", parse("corrupt 100%"), kT0);
  for (int i = 0; i < 1000; ++i) {
    const uint32_t size = 1 + i % 200;
    const auto v = e.offer(kT0, size, i);
    ASSERT_EQ(v.copy[0].flip_count, 1);
    std::vector<uint8_t> bytes(size, 0);
    apply_flips(v.copy[0], bytes);
    int ones = 0;
    for (uint8_t b : bytes) ones += __builtin_popcount(b);
    EXPECT_EQ(ones, 1);
  }
  EXPECT_EQ(e.counters().corrupted, 1000u);
}

TEST(ImpairEngine, NoiseFlipsAboutSizeTimesRatePerMib) {
  // noise 2048 per MiB on 1024-byte frames: λ = 2 bit errors per frame.
  Engine e(1, "a>b", parse("noise 2048"), kT0);
  uint64_t flips = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const auto v = e.offer(kT0, 1024, i);
    for (uint8_t k = 0; k < v.copy[0].flip_count; ++k) EXPECT_LT(v.copy[0].flips[k], 8192u);
    flips += v.copy[0].flip_count;
    Release r;
    while (e.pop_due(kT0, r)) {
    }
  }
  // Poisson(2) × 10^5: mean 2, σ of the mean √(2/10^5) ≈ 0.0045; 99 % interval ±0.0115.
  EXPECT_NEAR(static_cast<double>(flips) / n, 2.0, 0.0115);
}

TEST(ImpairEngine, ReorderGapSendsEveryNthFrameWithoutDelay) {
  Engine e(1, "a>b", parse("delay 10ms reorder 100% gap 5"), kT0);
  for (int i = 1; i <= 20; ++i) {
    const auto v = e.offer(kT0, 64, i);
    EXPECT_EQ(v.copy[0].due, i % 5 == 0 ? kT0 : kT0 + 10ms) << i;
  }
  EXPECT_EQ(e.counters().reordered, 4u);
}

TEST(ImpairEngine, TakeAllEmptiesInReleaseOrder) {
  Engine e(1, "a>b", parse("delay 10ms"), kT0);
  for (int i = 0; i < 5; ++i) e.offer(kT0 + std::chrono::milliseconds(i), 64, i);
  std::vector<Release> out;
  e.take_all(out);
  ASSERT_EQ(out.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(out[i].handle, static_cast<Handle>(i));
  EXPECT_EQ(e.counters().held_packets, 0u);
  EXPECT_EQ(e.counters().held_bytes, 0u);
}

TEST(ImpairEngine, TimeGoingBackwardsIsNoTimePassing) {
  Engine e(1, "a>b", parse("delay 10ms"), kT0 + 1s);
  const auto v = e.offer(kT0, 64, 1);
  EXPECT_EQ(v.copy[0].due, kT0 + 1s + 10ms);
}

}  // namespace
