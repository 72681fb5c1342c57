// The impairment settings parser: every key sets what tc-netem(8) / wirefilter mean by it, bad
// input is refused with the key and the valid range, a bad word anywhere applies nothing, and
// format_settings() reads back to the same value.
#include "impair/settings.hh"

#include <gtest/gtest.h>

using namespace vnet;
using namespace vnet::impair;
using namespace std::chrono_literals;

namespace {

Settings ok(std::string_view text, const Settings& base = {}) {
  auto s = parse_settings(text, base);
  EXPECT_TRUE(s.ok()) << text << ": " << (s.ok() ? "" : s.error().message);
  return s.ok() ? *s : Settings{};
}

std::string bad(std::string_view text, const Settings& base = {}) {
  auto s = parse_settings(text, base);
  EXPECT_FALSE(s.ok()) << text;
  return s.ok() ? "" : s.error().message;
}

TEST(ImpairSettings, Defaults) {
  const Settings s;
  EXPECT_EQ(s.loss_model, LossModel::kNone);
  EXPECT_EQ(s.limit_packets, 1000u);
  EXPECT_FALSE(s.jitter_reorder);
  EXPECT_EQ(ok(""), s);
  EXPECT_EQ(format_settings(s), "");
}

TEST(ImpairSettings, Loss) {
  EXPECT_EQ(ok("loss 10%").loss_model, LossModel::kBernoulli);
  EXPECT_DOUBLE_EQ(ok("loss 10%").loss, 0.1);
  EXPECT_DOUBLE_EQ(ok("loss random 2.5%").loss, 0.025);
  EXPECT_EQ(ok("loss 10% loss 0%").loss_model, LossModel::kNone);
}

TEST(ImpairSettings, GilbertElliottDefaultsAsNetem) {
  auto s = ok("loss gemodel 1%");
  EXPECT_EQ(s.loss_model, LossModel::kGilbertElliott);
  EXPECT_EQ(s.gemodel, (GilbertElliott{0.01, 0.99, 1.0, 0.0}));
  s = ok("gemodel 1% 10% 100% 0%");
  EXPECT_EQ(s.gemodel, (GilbertElliott{0.01, 0.10, 1.0, 0.0}));
  s = ok("loss gemodel 1% 10% 80% delay 5ms");
  EXPECT_EQ(s.gemodel, (GilbertElliott{0.01, 0.10, 0.8, 0.0}));
  EXPECT_EQ(s.delay, 5ms);
}

TEST(ImpairSettings, FourStateDefaultsAsNetem) {
  auto s = ok("loss state 5%");
  EXPECT_EQ(s.loss_model, LossModel::kFourState);
  EXPECT_EQ(s.four_state, (FourState{0.05, 0.95, 0, 1, 0}));
  s = ok("loss state 1% 20% 5% 50% 2%");
  EXPECT_EQ(s.four_state, (FourState{0.01, 0.2, 0.05, 0.5, 0.02}));
  EXPECT_NE(bad("loss state 60% 20% 5% 50% 50%").find("p13 + p14"), std::string::npos);
}

TEST(ImpairSettings, DelayJitterDistribution) {
  auto s = ok("delay 20ms 5ms distribution normal");
  EXPECT_EQ(s.delay, 20ms);
  EXPECT_EQ(s.jitter, 5ms);
  EXPECT_EQ(s.distribution, Distribution::kNormal);
  EXPECT_EQ(ok("delay 20ms", s).jitter, 0ms);  // delay alone means no jitter
  EXPECT_EQ(ok("distribution paretonormal").distribution, Distribution::kParetoNormal);
  EXPECT_EQ(ok("distribution pareto").distribution, Distribution::kPareto);
  EXPECT_TRUE(ok("jitter-reorder on").jitter_reorder);
  EXPECT_EQ(ok("delay 250us").delay, 250us);
  EXPECT_EQ(ok("delay 1h").delay, 1h);
}

// The issue's own spelling, "delay 20ms±5ms", in every way a user types it; the sign is "±" or
// "+-", and the jitter it names is the same as tc-netem's second word.
TEST(ImpairSettings, DelayPlusMinus) {
  for (std::string_view text :
       {"delay 20ms\u00b15ms", "delay 20ms \u00b15ms", "delay 20ms \u00b1 5ms",
        "delay 20ms\u00b1 5ms", "delay 20ms+-5ms", "delay 20ms +- 5ms", "delay 20ms 5ms"}) {
    auto s = ok(text);
    EXPECT_EQ(s.delay, 20ms) << text;
    EXPECT_EQ(s.jitter, 5ms) << text;
  }
  EXPECT_EQ(ok("delay 20ms\u00b15ms loss 10%").loss, 0.1);  // the next key still reads
  EXPECT_NE(bad("delay 20ms\u00b1").find("delay \u00b1: expected a jitter"), std::string::npos);
  EXPECT_NE(bad("delay \u00b15ms").find("expected a duration before"), std::string::npos);
  EXPECT_NE(bad("delay 20ms 5ms\u00b11ms").find("expected a jitter like"), std::string::npos);
  EXPECT_NE(bad("delay 20ms\u00b161m").find("delay jitter 61m"), std::string::npos);
}

TEST(ImpairSettings, RateAndLimit) {
  EXPECT_EQ(ok("rate 10mbit").rate_bps, 10000000u);
  EXPECT_EQ(ok("rate 1.5gbit").rate_bps, 1500000000u);
  EXPECT_EQ(ok("rate 100kbps").rate_bps, 800000u);  // bytes per second, as tc(8)
  EXPECT_EQ(ok("rate 64bit").rate_bps, 64u);
  EXPECT_EQ(ok("rate off", ok("rate 1mbit")).rate_bps, 0u);
  auto s = ok("rate 10mbit limit 64kb");
  EXPECT_EQ(s.limit_bytes, 65536u);
  EXPECT_EQ(s.limit_packets, 1000u);
  EXPECT_EQ(ok("limit 50").limit_packets, 50u);
  EXPECT_EQ(ok("limit 1500b").limit_bytes, 1500u);
  EXPECT_EQ(ok("limit bytes off", s).limit_bytes, 0u);
}

TEST(ImpairSettings, TheOtherKeys) {
  auto s =
      ok("duplicate 1% corrupt 0.1% noise 12.5 reorder 25% gap 5 delay 10ms mtu 1500 drop-every 7 "
         "carrier down flap 100ms 900ms 3");
  EXPECT_DOUBLE_EQ(s.duplicate, 0.01);
  EXPECT_DOUBLE_EQ(s.corrupt, 0.001);
  EXPECT_DOUBLE_EQ(s.noise_per_mib, 12.5);
  EXPECT_DOUBLE_EQ(s.reorder, 0.25);
  EXPECT_EQ(s.reorder_gap, 5u);
  EXPECT_EQ(s.mtu, 1500u);
  EXPECT_EQ(s.drop_every, 7u);
  EXPECT_TRUE(s.carrier_down);
  EXPECT_EQ(s.flap, (Flap{100ms, 900ms, 3}));
  EXPECT_EQ(ok("clear", s), Settings{});
  EXPECT_EQ(ok("mtu off drop-every off carrier up", s).mtu, 0u);
}

TEST(ImpairSettings, RefusesBadInputNamingKeyAndRange) {
  EXPECT_EQ(bad("loss 120%"), "loss 120%: expected a percentage from 0% to 100%");
  EXPECT_EQ(bad("loss -1%"), "loss -1%: expected a percentage from 0% to 100%");
  EXPECT_EQ(bad("loss 10"), "loss 10: expected a percentage from 0% to 100%");
  EXPECT_NE(bad("delay -5ms").find("from 0 to 1h"), std::string::npos);
  EXPECT_NE(bad("delay 2h").find("delay 2h"), std::string::npos);
  EXPECT_NE(bad("delay 20ms 61m").find("delay jitter 61m"), std::string::npos);
  EXPECT_NE(bad("rate 0mbit").find("from 1bit to 1tbit"), std::string::npos);
  EXPECT_NE(bad("rate 10").find("rate 10"), std::string::npos);
  EXPECT_EQ(bad("distribution cauchy"),
            "distribution cauchy: expected uniform, normal, pareto or paretonormal");
  EXPECT_NE(bad("limit 0").find("from 1 to 1000000"), std::string::npos);
  EXPECT_NE(bad("limit 2gb").find("1gb"), std::string::npos);
  EXPECT_NE(bad("mtu 0").find("mtu 0"), std::string::npos);
  EXPECT_NE(bad("drop-every 1").find("from 2"), std::string::npos);
  EXPECT_NE(bad("jitter-reorder maybe").find("on or off"), std::string::npos);
  EXPECT_NE(bad("carrier sideways").find("down or up"), std::string::npos);
  EXPECT_NE(bad("noise 9000000").find("noise"), std::string::npos);
  EXPECT_NE(bad("gap 5").find("reorder"), std::string::npos);
  EXPECT_NE(bad("reorder 10%").find("delay"), std::string::npos);
  EXPECT_NE(bad("flap 10ms 0ms").find("up time"), std::string::npos);
  EXPECT_NE(bad("bandwidth 10mbit").find("'bandwidth'"), std::string::npos);
  EXPECT_NE(bad("delay").find("delay: expected a duration"), std::string::npos);
}

TEST(ImpairSettings, ABadWordAnywhereAppliesNothing) {
  const Settings base = ok("loss 5% delay 10ms");
  auto r = parse_settings("loss 50% delay 20ms rate 0bit", base);
  ASSERT_FALSE(r.ok());
  // The caller keeps `base`; nothing of the good words leaked into a value it could apply.
  EXPECT_DOUBLE_EQ(base.loss, 0.05);
}

TEST(ImpairSettings, FormatReadsBack) {
  for (const char* text :
       {"loss 10%", "loss gemodel 1% 10% 100% 0%", "loss state 1% 20% 5% 50% 2%",
        "delay 20ms 5ms distribution normal jitter-reorder on", "rate 10mbit limit 64kb",
        "limit 50 duplicate 1% corrupt 0.5% noise 3", "delay 1ms reorder 25% gap 5",
        "mtu 1500 drop-every 7 carrier down flap 100ms 900ms 3",
        // Below 1e-4 fmt's shortest form has an exponent, which the parser refuses (found by
        // fuzz_impair): written out plainly instead.
        "noise .00006304763018308164720", "duplicate 0.00001%", "corrupt 0.000000000123%"}) {
    const Settings s = ok(text);
    EXPECT_EQ(ok(format_settings(s)), s) << text << " -> " << format_settings(s);
  }
}

}  // namespace
