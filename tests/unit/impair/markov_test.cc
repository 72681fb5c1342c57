// The Markov chain of link states (impair/markov.hh): wirefilter's weight rules, deterministic
// steps from its own stream, occupancy that matches the stationary distribution, and no effect
// on the engines' streams.
#include "impair/markov.hh"

#include <gtest/gtest.h>

#include "impair/engine.hh"
#include "unit/impair/support.hh"

using namespace vnet;
using namespace vnet::impair;
using namespace std::chrono_literals;
using vnet::impair::test::kT0;

TEST(ImpairMarkov, WeightsFollowWirefilter) {
  MarkovChain c(1);
  EXPECT_EQ(c.size(), 1u);
  EXPECT_DOUBLE_EQ(c.edge(0, 0), 100);
  ASSERT_TRUE(c.resize(3).ok());
  for (size_t i = 0; i < 3; ++i) EXPECT_DOUBLE_EQ(c.edge(i, i), 100);
  ASSERT_TRUE(c.set_edge(0, 1, 30).ok());
  ASSERT_TRUE(c.set_edge(0, 2, 20).ok());
  EXPECT_DOUBLE_EQ(c.edge(0, 0), 50);
  ASSERT_TRUE(c.set_edge(0, 0, 99).ok());  // ignored: the self weight is what is left
  EXPECT_DOUBLE_EQ(c.edge(0, 0), 50);
  auto over = c.set_edge(0, 1, 90);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().message,
            "setedge 0,1,90: the weights out of state 0 would add up to 110, expected at most "
            "100");
  EXPECT_DOUBLE_EQ(c.edge(0, 1), 30);
  EXPECT_FALSE(c.set_edge(0, 3, 1).ok());
  EXPECT_FALSE(c.set_edge(0, 1, -1).ok());
  EXPECT_FALSE(c.set_edge(0, 1, 101).ok());
  // Shrinking keeps the weights among the remaining states.
  ASSERT_TRUE(c.set_current(2).ok());
  ASSERT_TRUE(c.resize(2).ok());
  EXPECT_DOUBLE_EQ(c.edge(0, 1), 30);
  EXPECT_DOUBLE_EQ(c.edge(0, 0), 70);
  EXPECT_EQ(c.current(), 0u);
  EXPECT_FALSE(c.resize(0).ok());
  EXPECT_FALSE(c.resize(MarkovChain::kMaxStates + 1).ok());
  EXPECT_FALSE(c.set_current(2).ok());
  EXPECT_FALSE(c.set_period(0ms).ok());
  EXPECT_FALSE(c.set_name(5, "x").ok());
}

TEST(ImpairMarkov, StepsAtThePeriod) {
  MarkovChain c(1);
  EXPECT_FALSE(c.next_step().has_value());
  c.start(kT0);
  EXPECT_FALSE(c.next_step().has_value());  // one state never steps
  ASSERT_TRUE(c.resize(2).ok());
  ASSERT_TRUE(c.set_edge(0, 1, 100).ok());
  ASSERT_TRUE(c.set_edge(1, 0, 100).ok());
  ASSERT_TRUE(c.set_period(250ms).ok());
  c.start(kT0);  // the first step is now
  EXPECT_EQ(c.current(), 1u);
  EXPECT_EQ(c.steps(), 1u);
  EXPECT_EQ(*c.next_step(), kT0 + 250ms);
  EXPECT_FALSE(c.advance(kT0 + 249ms));
  EXPECT_TRUE(c.advance(kT0 + 250ms));
  EXPECT_EQ(c.current(), 0u);
  c.advance(kT0 + 1000ms);  // three more steps at 500, 750, 1000
  EXPECT_EQ(c.steps(), 5u);
  EXPECT_EQ(c.current(), 1u);
  EXPECT_EQ(*c.next_step(), kT0 + 1250ms);
}

namespace {

std::vector<size_t> path(uint64_t seed, size_t n) {
  MarkovChain c(seed);
  EXPECT_TRUE(c.resize(3).ok());
  EXPECT_TRUE(c.set_edge(0, 1, 20).ok());
  EXPECT_TRUE(c.set_edge(1, 2, 30).ok());
  EXPECT_TRUE(c.set_edge(2, 0, 40).ok());
  EXPECT_TRUE(c.set_edge(1, 0, 10).ok());
  c.start(kT0);
  std::vector<size_t> out;
  for (size_t i = 0; i < n; ++i) {
    c.advance(kT0 + i * c.period());
    out.push_back(c.current());
  }
  return out;
}

}  // namespace

TEST(ImpairMarkov, SameSeedSamePath) {
  EXPECT_EQ(path(11, 2000), path(11, 2000));
  EXPECT_NE(path(11, 2000), path(12, 2000));
}

// Over many steps, the share of time in each state matches π = πP (power iteration) to within
// 1.5 percentage points (10^5 steps; the standard error is well below 0.5 points).
TEST(ImpairMarkov, OccupancyMatchesStationaryDistribution) {
  MarkovChain c(2024);
  ASSERT_TRUE(c.resize(3).ok());
  ASSERT_TRUE(c.set_edge(0, 1, 10).ok());
  ASSERT_TRUE(c.set_edge(1, 2, 25).ok());
  ASSERT_TRUE(c.set_edge(1, 0, 5).ok());
  ASSERT_TRUE(c.set_edge(2, 0, 40).ok());
  const std::vector<double> pi = c.stationary();
  // Hand-solved: π0·0.10 = π1·0.05 + π2·0.40; π1·0.30 = π0·0.10; π2·0.40 = π1·0.25
  // → π1 = π0/3, π2 = 0.625·π1 → π0 = 1 / (1 + 1/3 + 0.625/3) = 0.648649.
  EXPECT_NEAR(pi[0], 0.648649, 1e-5);
  EXPECT_NEAR(pi[1], 0.216216, 1e-5);
  EXPECT_NEAR(pi[2], 0.135135, 1e-5);
  c.start(kT0);
  std::vector<double> seen(3, 0);
  constexpr size_t kSteps = 100000;
  for (size_t i = 1; i <= kSteps; ++i) {
    c.advance(kT0 + i * c.period());
    seen[c.current()] += 1.0 / kSteps;
  }
  for (size_t s = 0; s < 3; ++s) EXPECT_NEAR(seen[s], pi[s], 0.015) << "state " << s;
}

// The chain draws only from its own stream: an engine's decisions are the same whether or not
// a chain on the same link seed steps in between.
TEST(ImpairMarkov, DoesNotMoveEngineDraws) {
  const Settings s = test::parse("loss 30% delay 10ms 5ms duplicate 10%");
  auto run = [&](bool with_chain) {
    Engine e(99, "LR", s, kT0);
    MarkovChain c(99);
    EXPECT_TRUE(c.resize(2).ok());
    EXPECT_TRUE(c.set_edge(0, 1, 50).ok());
    c.start(kT0);
    std::vector<int64_t> out;
    for (int i = 0; i < 500; ++i) {
      const TimePoint now = kT0 + i * 1ms;
      if (with_chain) c.advance(now);
      const Verdict v = e.offer(now, 100, static_cast<Handle>(i));
      out.push_back(static_cast<int64_t>(v.drop) * 1000 + v.copies);
      for (uint8_t k = 0; k < v.copies; ++k) out.push_back((v.copy[k].due - now).count());
    }
    return out;
  };
  EXPECT_EQ(run(true), run(false));
}
