// Statistical properties of the impairment engine's decision log with fixed seeds: Bernoulli
// loss inside its 99 % confidence interval, Gilbert–Elliott mean burst length within ±5 % of
// 1/r, the 4-state model's stationary loss, and the delay distributions by a χ² goodness-of-fit
// test against their defining CDFs (computed with erfc and powers, not with the engine's own
// quantile function). Deterministic: the seeds are fixed, so a run passes or fails every time.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <vector>

#include "impair/engine.hh"
#include "unit/impair/support.hh"

using namespace vnet;
using namespace vnet::impair;
using namespace std::chrono_literals;
using vnet::impair::test::kT0;
using vnet::impair::test::parse;

namespace {

// Whether each of n arrivals (1 µs apart, 100 bytes) was lost.
std::vector<bool> loss_log(const Settings& s, uint64_t seed, int n) {
  Engine e(seed, "a>b", s, kT0);
  std::vector<bool> lost;
  lost.reserve(n);
  Release r;
  for (int i = 0; i < n; ++i) {
    const TimePoint now = kT0 + std::chrono::microseconds(i);
    const auto v = e.offer(now, 100, i);
    lost.push_back(v.drop != Cause::kNone);
    while (e.pop_due(now, r)) {
    }
  }
  return lost;
}

double fraction(const std::vector<bool>& v) {
  size_t k = 0;
  for (bool b : v) k += b;
  return static_cast<double>(k) / static_cast<double>(v.size());
}

// 99 % normal-approximation interval half-width for a proportion p over n trials.
double ci99(double p, size_t n) { return 2.5758 * std::sqrt(p * (1 - p) / static_cast<double>(n)); }

TEST(ImpairStatistics, BernoulliLossInside99PercentInterval) {
  for (double p : {0.01, 0.1, 0.2, 0.5}) {
    Settings s;
    s.loss_model = LossModel::kBernoulli;
    s.loss = p;
    const auto log = loss_log(s, 7, 1000000);
    EXPECT_NEAR(fraction(log), p, ci99(p, log.size())) << p;
  }
}

// Bursts of consecutive losses, by length.
std::vector<size_t> bursts(const std::vector<bool>& lost) {
  std::vector<size_t> out;
  size_t run = 0;
  for (bool b : lost) {
    if (b) {
      ++run;
    } else if (run > 0) {
      out.push_back(run);
      run = 0;
    }
  }
  return out;
}

TEST(ImpairStatistics, GilbertElliottMeanBurstWithin5PercentOfOneOverR) {
  struct Case {
    double p, r;
  };
  for (const Case c : {Case{0.01, 0.10}, Case{0.02, 0.25}, Case{0.005, 0.05}}) {
    Settings s;
    s.loss_model = LossModel::kGilbertElliott;
    s.gemodel = {c.p, c.r, 1.0, 0.0};
    const auto log = loss_log(s, 11, 1000000);
    const auto b = bursts(log);
    ASSERT_GT(b.size(), 1000u);
    double sum = 0;
    for (size_t x : b) sum += static_cast<double>(x);
    const double mean = sum / static_cast<double>(b.size());
    EXPECT_NEAR(mean, 1 / c.r, 0.05 / c.r) << c.p << " " << c.r;
    // And the long-run loss is the bad state's share, p / (p + r).
    EXPECT_NEAR(fraction(log), c.p / (c.p + c.r), 0.1 * c.p / (c.p + c.r));
  }
}

TEST(ImpairStatistics, GilbertElliottLossesInsideStates) {
  // Losses in both states: 1-k = 1 % in good, 1-h = 50 % in bad; stationary bad share p/(p+r).
  Settings s = parse("loss gemodel 5% 20% 50% 1%");
  const auto log = loss_log(s, 3, 1000000);
  const double bad = 0.05 / 0.25;
  const double expected = bad * 0.5 + (1 - bad) * 0.01;
  EXPECT_NEAR(fraction(log), expected, 0.05 * expected);
}

TEST(ImpairStatistics, FourStateModel) {
  // p13 alone is Bernoulli (tc-netem(8)).
  {
    const auto log = loss_log(parse("loss state 10%"), 5, 1000000);
    EXPECT_NEAR(fraction(log), 0.1, ci99(0.1, log.size()));
  }
  // Isolated losses only (p13 = 0): 1 → 4 with p14, 4 → 1 always: π4 = p14 / (1 + p14), and
  // never two losses in a row.
  {
    const auto log = loss_log(parse("loss state 0% 100% 0% 100% 2%"), 5, 1000000);
    const double expected = 0.02 / 1.02;
    EXPECT_NEAR(fraction(log), expected, ci99(expected, log.size()) * 2);
    for (size_t b : bursts(log)) ASSERT_EQ(b, 1u);
  }
  // Bursts (p13, p31, p32 = 0): burst lengths geometric with mean 1 / p31.
  {
    const auto log = loss_log(parse("loss state 1% 20%"), 5, 1000000);
    const auto b = bursts(log);
    double sum = 0;
    for (size_t x : b) sum += static_cast<double>(x);
    EXPECT_NEAR(sum / static_cast<double>(b.size()), 5.0, 0.25);
  }
}

// χ² of the delays (as t = (delay − D) / J) against `cdf`, in 20 equiprobable bins.
double chi_square(const Settings& s, const std::function<double(double)>& cdf, int n) {
  Engine e(99, "a>b", s, kT0);
  constexpr int kBins = 20;
  std::vector<int> count(kBins, 0);
  Release r;
  for (int i = 0; i < n; ++i) {
    const TimePoint now = kT0 + std::chrono::milliseconds(i);
    const auto v = e.offer(now, 100, i);
    const double t = static_cast<double>((v.copy[0].due - now - s.delay).count()) /
                     static_cast<double>(s.jitter.count());
    const int bin = std::min(kBins - 1, static_cast<int>(cdf(t) * kBins));
    ++count[std::max(0, bin)];
    while (e.pop_due(now, r)) {
    }
  }
  double chi = 0;
  const double expected = static_cast<double>(n) / kBins;
  for (int c : count) chi += (c - expected) * (c - expected) / expected;
  return chi;
}

// χ²(19) at p = 0.001.
constexpr double kChi19At001 = 43.82;

Settings jittered(std::string_view distribution) {
  // jitter-reorder on: each copy's time is its own draw (no FIFO clamping).
  Settings s = parse("delay 500ms 100ms jitter-reorder on limit 1000000");
  s.distribution =
      parse_settings(std::string("distribution ") + std::string(distribution))->distribution;
  return s;
}

double pareto_cdf(double t) {
  // t = ((1 − u)^(−1/3) − 1.5) · 4/3  ⇔  u = 1 − (0.75 t + 1.5)^(−3)
  const double x = 0.75 * t + 1.5;
  return x <= 1 ? 0 : 1 - std::pow(x, -3);
}

TEST(ImpairStatistics, DelayDistributionsPassChiSquare) {
  const int n = 200000;
  const double uniform = chi_square(
      jittered("uniform"), [](double t) { return (t + 1) / 2; }, n);
  EXPECT_LT(uniform, kChi19At001);
  const double normal = chi_square(
      jittered("normal"), [](double t) { return 0.5 * std::erfc(-t / std::sqrt(2.0)); }, n);
  EXPECT_LT(normal, kChi19At001);
  const double pareto = chi_square(jittered("pareto"), pareto_cdf, n);
  EXPECT_LT(pareto, kChi19At001);
  // Positive control: normal delays do not fit the uniform CDF.
  const double wrong = chi_square(
      jittered("normal"), [](double t) { return std::clamp((t + 1) / 2, 0.0, 1.0); }, n);
  EXPECT_GT(wrong, 1000.0);
}

TEST(ImpairStatistics, ParetoNormalMixesTheQuantiles) {
  // The median of paretonormal is 0.25 Φ⁻¹(½) + 0.75 pareto(½) = 0.75 (2^(1/3) − 1.5) · 4/3.
  const double median = 0.75 * (std::cbrt(2.0) - 1.5) * 4 / 3;
  Settings s = jittered("paretonormal");
  Engine e(5, "a>b", s, kT0);
  int below = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const auto now = kT0 + std::chrono::milliseconds(i);
    const auto v = e.offer(now, 100, i);
    const double t = static_cast<double>((v.copy[0].due - now - s.delay).count()) / 1e8;
    below += t < median;
    EXPECT_LE(std::abs(t), 4.0 + 1e-9);
    Release r;
    while (e.pop_due(now, r)) {
    }
  }
  EXPECT_NEAR(static_cast<double>(below) / n, 0.5, ci99(0.5, n));
}

TEST(ImpairStatistics, NormalQuantileMatchesErfc) {
  for (double p = 0.0005; p < 1; p += 0.0005) {
    const double z = normal_quantile(p);
    EXPECT_NEAR(0.5 * std::erfc(-z / std::sqrt(2.0)), p, 1e-9 * std::max(1.0, 1 / p)) << p;
  }
}

TEST(ImpairStatistics, DuplicationRateInsideInterval) {
  Engine e(8, "a>b", parse("duplicate 30%"), kT0);
  const int n = 200000;
  Release r;
  for (int i = 0; i < n; ++i) {
    e.offer(kT0, 64, i);
    while (e.pop_due(kT0, r)) {
    }
  }
  EXPECT_NEAR(static_cast<double>(e.counters().duplicated) / n, 0.3, ci99(0.3, n));
}

}  // namespace
