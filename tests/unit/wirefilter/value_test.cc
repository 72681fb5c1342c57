// wirefilter's value grammar (value.hh): every form, every error, and the mapping of a state's
// values onto each direction's impair::Settings.
#include "wirefilter/value.hh"

#include <gtest/gtest.h>

#include "impair/engine.hh"

using namespace vnet;
using namespace vnet::wirefilter;
using namespace std::chrono_literals;

namespace {

Assignment ok(Param p, std::string_view text) {
  auto a = parse_value(p, text);
  EXPECT_TRUE(a.ok()) << text << ": " << (a.ok() ? "" : a.error().message);
  return a.ok() ? *a : Assignment{};
}

std::string error_of(Param p, std::string_view text) {
  auto a = parse_value(p, text);
  EXPECT_FALSE(a.ok()) << text << " was accepted";
  return a.ok() ? "" : a.error().message;
}

}  // namespace

TEST(WirefilterValue, Forms) {
  struct Case {
    Param p;
    std::string_view text;
    bool lr, rl;
    double value, plus;
    Algo algo;
    size_t state;
  };
  const Case cases[] = {
      {Param::kLoss, "20", true, true, 20, 0, Algo::kUniform, 0},
      {Param::kLoss, "12.5", true, true, 12.5, 0, Algo::kUniform, 0},
      {Param::kLoss, "LR5", true, false, 5, 0, Algo::kUniform, 0},
      {Param::kLoss, "RL5", false, true, 5, 0, Algo::kUniform, 0},
      {Param::kLoss, "LR 5", true, false, 5, 0, Algo::kUniform, 0},
      {Param::kDelay, "10+5", true, true, 10, 5, Algo::kUniform, 0},
      {Param::kDelay, "10+5u", true, true, 10, 5, Algo::kUniform, 0},
      {Param::kDelay, "10+5U", true, true, 10, 5, Algo::kUniform, 0},
      {Param::kDelay, "10+5n", true, true, 10, 5, Algo::kNormal, 0},
      {Param::kDelay, "RL10+6N", false, true, 10, 6, Algo::kNormal, 0},
      {Param::kDelay, "10[1]", true, true, 10, 0, Algo::kUniform, 1},
      {Param::kDelay, "LR10+2n[3]", true, false, 10, 2, Algo::kNormal, 3},
      {Param::kDelay, " 7 ", true, true, 7, 0, Algo::kUniform, 0},
      {Param::kBandwidth, "100K", true, true, 100 * 1024.0, 0, Algo::kUniform, 0},
      {Param::kBandwidth, "2k", true, true, 2048, 0, Algo::kUniform, 0},
      {Param::kBandwidth, "1M", true, true, 1 << 20, 0, Algo::kUniform, 0},
      {Param::kSpeed, "LR1G", true, false, 1 << 30, 0, Algo::kUniform, 0},
      {Param::kChanBufSize, "64K", true, true, 65536, 0, Algo::kUniform, 0},
      {Param::kMtu, "1500", true, true, 1500, 0, Algo::kUniform, 0},
      {Param::kNoise, "100", true, true, 100, 0, Algo::kUniform, 0},
      {Param::kLostBurst, "3", true, true, 3, 0, Algo::kUniform, 0},
      {Param::kDup, "LR10+10", true, false, 10, 10, Algo::kUniform, 0},
      {Param::kDelay, "1+1K", true, true, 1024, 1024, Algo::kUniform, 0},  // K scales both
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.text);
    const Assignment a = ok(c.p, c.text);
    EXPECT_EQ(a.param, c.p);
    EXPECT_EQ(a.lr, c.lr);
    EXPECT_EQ(a.rl, c.rl);
    EXPECT_DOUBLE_EQ(a.value.value, c.value);
    EXPECT_DOUBLE_EQ(a.value.plus, c.plus);
    EXPECT_EQ(a.value.algo, c.algo);
    EXPECT_EQ(a.state, c.state);
  }
}

TEST(WirefilterValue, Errors) {
  const std::string grammar = "expected [LR|RL]VALUE[+DELTA][K|M|G][u|n][[STATE]]";
  for (std::string_view t : {"", "x", "10x", "-5", "LR", "10+", "+5", "10++5", "1e3", "LR-1",
                             "10+5nn", "RLLR5", "10]", "ten"}) {
    SCOPED_TRACE(t);
    const std::string e = error_of(Param::kDelay, t);
    EXPECT_NE(e.find("delay"), std::string::npos) << e;
    EXPECT_NE(e.find(grammar), std::string::npos) << e;
  }
  EXPECT_EQ(error_of(Param::kLoss, "120"), "loss 120: expected a percentage from 0 to 100");
  EXPECT_EQ(error_of(Param::kDup, "RL101"), "dup RL101: expected a percentage from 0 to 100");
  EXPECT_EQ(error_of(Param::kDelay, "3600001"),
            "delay 3600001: expected a delay in ms from 0 to 3600000");
  EXPECT_EQ(error_of(Param::kMtu, "2M"), "mtu 2M: expected a size in bytes from 0 to 1000000");
  EXPECT_NE(error_of(Param::kBandwidth, "200G").find("a rate in bytes/s from 0 to"),
            std::string::npos);
  EXPECT_NE(error_of(Param::kNoise, "9M").find("bit errors per MiB"), std::string::npos);
  EXPECT_NE(error_of(Param::kChanBufSize, "2G").find("a size in bytes"), std::string::npos);
  EXPECT_NE(error_of(Param::kLostBurst, "2000000").find("burst length"), std::string::npos);
  for (Param p : {Param::kLostBurst, Param::kBandwidth, Param::kSpeed, Param::kChanBufSize,
                  Param::kNoise, Param::kMtu}) {
    SCOPED_TRACE(param_name(p));
    EXPECT_NE(error_of(p, "10+1").find("a +DELTA is supported for loss, delay and dup only"),
              std::string::npos);
  }
  EXPECT_NE(error_of(Param::kDelay, "10[x]").find("Markov state number from 0 to 1023"),
            std::string::npos);
  EXPECT_NE(error_of(Param::kDelay, "10[5000]").find("Markov state"), std::string::npos);
  EXPECT_NE(error_of(Param::kDelay, "10+4000000").find("DELTA from 0 to"), std::string::npos);
}

TEST(WirefilterValue, MeanClamped) {
  EXPECT_DOUBLE_EQ(mean_clamped({20, 0, Algo::kUniform}, 0, 100), 20);
  EXPECT_DOUBLE_EQ(mean_clamped({150, 0, Algo::kUniform}, 0, 100), 100);
  EXPECT_NEAR(mean_clamped({20, 10, Algo::kUniform}, 0, 100), 20, 1e-9);  // symmetric inside
  EXPECT_NEAR(mean_clamped({20, 10, Algo::kNormal}, 0, 100), 20, 1e-9);
  // U[-10, 10] clamped at 0: half the mass at 0, the other half with mean 5 → 2.5.
  EXPECT_NEAR(mean_clamped({0, 10, Algo::kUniform}, 0, 100), 2.5, 1e-6);
  // Normal with σ = 30/3 = 10 around 0, clamped at 0: σ/√(2π) ≈ 3.989.
  EXPECT_NEAR(mean_clamped({0, 30, Algo::kNormal}, 0, 100), 3.9894, 2e-3);
}

TEST(WirefilterValue, MappingOntoSettings) {
  StateValues s;
  s.assign(ok(Param::kLoss, "LR20"));
  s.assign(ok(Param::kDelay, "10+6n"));
  s.assign(ok(Param::kDelay, "LR10+4"));
  s.assign(ok(Param::kDup, "5"));
  s.assign(ok(Param::kBandwidth, "1K"));
  s.assign(ok(Param::kSpeed, "RL512"));
  s.assign(ok(Param::kBandwidth, "RL1M"));
  s.assign(ok(Param::kChanBufSize, "64K"));
  s.assign(ok(Param::kNoise, "LR100"));
  s.assign(ok(Param::kMtu, "1000"));

  const impair::Settings lr = to_settings(s, kLR, true);
  EXPECT_EQ(lr.loss_model, impair::LossModel::kBernoulli);
  EXPECT_DOUBLE_EQ(lr.loss, 0.20);
  EXPECT_EQ(lr.delay, 10ms);
  EXPECT_EQ(lr.jitter, 4ms);  // uniform: the half-width
  EXPECT_EQ(lr.distribution, impair::Distribution::kUniform);
  EXPECT_FALSE(lr.jitter_reorder);
  EXPECT_DOUBLE_EQ(lr.duplicate, 0.05);
  EXPECT_EQ(lr.rate_bps, 1024u * 8);  // bandwidth is bytes/s
  EXPECT_EQ(lr.limit_bytes, 65536u);
  EXPECT_EQ(lr.limit_packets, impair::Settings::kDefaultLimitPackets);
  EXPECT_DOUBLE_EQ(lr.noise_per_mib, 100);
  EXPECT_EQ(lr.mtu, 1000u);

  const impair::Settings rl = to_settings(s, kRL, false);
  EXPECT_EQ(rl.loss_model, impair::LossModel::kNone);
  EXPECT_EQ(rl.jitter, 2ms);  // normal: σ = DELTA / 3
  EXPECT_EQ(rl.distribution, impair::Distribution::kNormal);
  EXPECT_TRUE(rl.jitter_reorder);    // nofifo
  EXPECT_EQ(rl.rate_bps, 512u * 8);  // the lower of speed and bandwidth
  EXPECT_DOUBLE_EQ(rl.noise_per_mib, 0);
}

TEST(WirefilterValue, LostBurstIsGilbertElliott) {
  StateValues s;
  s.assign(ok(Param::kLoss, "20"));
  s.assign(ok(Param::kLostBurst, "4"));
  const impair::Settings g = to_settings(s, kLR, true);
  ASSERT_EQ(g.loss_model, impair::LossModel::kGilbertElliott);
  EXPECT_DOUBLE_EQ(g.gemodel.p, 0.2 / (4 * 0.8));  // wirefilter's alpha
  EXPECT_DOUBLE_EQ(g.gemodel.r, 0.25);             // beta = 1 / burst
  EXPECT_DOUBLE_EQ(g.gemodel.bad_loss, 1);
  EXPECT_DOUBLE_EQ(g.gemodel.good_loss, 0);
  // The stationary loss p / (p + r) is the loss percentage.
  EXPECT_NEAR(g.gemodel.p / (g.gemodel.p + g.gemodel.r), 0.2, 1e-12);

  s.assign(ok(Param::kLoss, "100"));
  const impair::Settings all = to_settings(s, kLR, true);
  EXPECT_EQ(all.loss_model, impair::LossModel::kBernoulli);
  EXPECT_DOUBLE_EQ(all.loss, 1.0);
  EXPECT_EQ(to_settings(StateValues{}, kLR, true), to_settings(StateValues{}, kRL, true));
  EXPECT_EQ(impair::format_settings(to_settings(StateValues{}, kLR, true)), "");
}

TEST(WirefilterValue, FormatLikeShowinfo) {
  EXPECT_EQ(format_value({20, 0, Algo::kUniform}), "20+0U");
  EXPECT_EQ(format_value({10, 2.5, Algo::kNormal}), "10+2.5N");
}

// What a wirefilter user relies on: with -l L -L B the engine loses L of the frames in bursts
// of mean length B (200 000 seeded frames).
TEST(WirefilterValue, LostBurstGivesTheLossAndTheBurstLength) {
  StateValues s;
  s.assign(ok(Param::kLoss, "10"));
  s.assign(ok(Param::kLostBurst, "5"));
  impair::Engine e(3, "LR", to_settings(s, kLR, true), TimePoint{});
  constexpr int kFrames = 200000;
  int lost = 0, bursts = 0;
  bool in_burst = false;
  impair::Release r;
  for (int i = 0; i < kFrames; ++i) {
    const TimePoint now{std::chrono::microseconds(i)};
    const bool drop =
        e.offer(now, 100, static_cast<impair::Handle>(i)).drop != impair::Cause::kNone;
    while (e.pop_due(now, r)) {
    }
    lost += drop;
    if (drop && !in_burst) ++bursts;
    in_burst = drop;
  }
  EXPECT_NEAR(static_cast<double>(lost) / kFrames, 0.10, 0.01);
  EXPECT_NEAR(static_cast<double>(lost) / bursts, 5.0, 0.3);
}
