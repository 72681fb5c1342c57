// The command line of vnet wirefilter (options.hh): wirefilter's flags in every getopt form,
// and every refusal naming the flag.
#include "wirefilter/options.hh"

#include <gtest/gtest.h>

using namespace vnet;
using namespace vnet::wirefilter;

namespace {

Options ok(std::vector<std::string> args) {
  auto o = parse_options(args);
  EXPECT_TRUE(o.ok()) << (o.ok() ? "" : o.error().message);
  return o.ok() ? *o : Options{};
}

std::string error_of(std::vector<std::string> args) {
  auto o = parse_options(args);
  EXPECT_FALSE(o.ok());
  return o.ok() ? "" : o.error().message;
}

}  // namespace

TEST(WirefilterOptions, EveryFlagAndForm) {
  const Options o =
      ok({"-v",   "/a:/b",    "-l",      "20",     "-L3", "--delay",     "10+2n",      "--dup=5",
          "-b",   "1K",       "-s",      "RL2K",   "-c",  "64K",         "--capacity", "LR32K",
          "-n",   "100",      "-m",      "1500",   "-N",  "-M",          "/tmp/m",     "--mgmtmode",
          "0660", "--rcfile", "/tmp/rc", "--seed", "42",  "--bandwidth", "LR3K"});
  EXPECT_EQ(o.plugs[0], "/a");
  EXPECT_EQ(o.plugs[1], "/b");
  EXPECT_TRUE(o.nofifo);
  EXPECT_EQ(o.mgmt, "/tmp/m");
  EXPECT_EQ(o.mgmt_mode, 0660);
  EXPECT_EQ(o.rcfile, "/tmp/rc");
  ASSERT_TRUE(o.seed.has_value());
  EXPECT_EQ(*o.seed, 42u);
  ASSERT_EQ(o.values.size(), 11u);
  const Param order[] = {Param::kLoss,        Param::kLostBurst,   Param::kDelay,
                         Param::kDup,         Param::kBandwidth,   Param::kSpeed,
                         Param::kChanBufSize, Param::kChanBufSize, Param::kNoise,
                         Param::kMtu,         Param::kBandwidth};
  for (size_t i = 0; i < o.values.size(); ++i) EXPECT_EQ(o.values[i].param, order[i]) << i;
  EXPECT_DOUBLE_EQ(o.values[1].value.value, 3);
  EXPECT_EQ(o.values[2].value.algo, Algo::kNormal);
  EXPECT_DOUBLE_EQ(o.values[3].value.value, 5);
  EXPECT_FALSE(o.values[5].lr);
  EXPECT_FALSE(o.values[7].rl);
}

TEST(WirefilterOptions, RepeatsBundlesAndOperands) {
  const Options o = ok({"-d", "LR10", "-d", "RL20", "-Nl", "5", "/x", "/y"});
  EXPECT_EQ(o.plugs[0], "/x");
  EXPECT_EQ(o.plugs[1], "/y");
  EXPECT_TRUE(o.nofifo);
  ASSERT_EQ(o.values.size(), 3u);
  EXPECT_TRUE(o.values[0].lr && !o.values[0].rl);
  EXPECT_TRUE(!o.values[1].lr && o.values[1].rl);
  EXPECT_DOUBLE_EQ(o.values[2].value.value, 5);
  EXPECT_EQ(ok({"--vde-plug=/p:/q"}).plugs[1], "/q");
  EXPECT_TRUE(ok({"-h"}).help);
  EXPECT_TRUE(ok({"--help"}).help);
  EXPECT_EQ(ok({"-v", "/a:/b"}).mgmt_mode, 0700);
}

TEST(WirefilterOptions, Refusals) {
  EXPECT_EQ(error_of({"-v", "/a:/b", "-l", "120"}),
            "-l 120: loss 120: expected a percentage from 0 to 100");
  EXPECT_NE(error_of({"-v", "/a:/b", "--delay=x"}).find("--delay x: delay x: expected"),
            std::string::npos);
  EXPECT_NE(error_of({"-v", "/a:/b", "-b", "1K+1"}).find("-b 1K+1: bandwidth"), std::string::npos);
  EXPECT_EQ(error_of({"-v", "/a:/b", "-d"}), "-d: expected a value after it");
  EXPECT_EQ(error_of({"-v", "/ab"}), "-v /ab: expected SWITCH1:SWITCH2 (two switch directories)");
  EXPECT_EQ(error_of({"-v", ":/b"}), "-v :/b: expected SWITCH1:SWITCH2 (two switch directories)");
  EXPECT_EQ(error_of({"-x"}), "-x: unknown option (see --help)");
  EXPECT_EQ(error_of({"--lose", "5"}), "--lose: unknown option (see --help)");
  EXPECT_EQ(error_of({"--nofifo=1"}), "--nofifo: takes no value");
  EXPECT_EQ(error_of({}), "expected the two switches: -v SWITCH1:SWITCH2");
  EXPECT_NE(error_of({"-v", "/a:/b", "--daemon"}).find("--daemon: not implemented"),
            std::string::npos);
  EXPECT_NE(error_of({"-v", "/a:/b", "--pidfile", "/p"}).find("not implemented"),
            std::string::npos);
  EXPECT_NE(error_of({"-v", "/a:/b", "-"}).find("pipes are not supported"), std::string::npos);
  EXPECT_NE(error_of({"-v", "/a:/b", "/c"}).find("unexpected operand"), std::string::npos);
  EXPECT_NE(error_of({"/c"}).find("expected two switches"), std::string::npos);
  EXPECT_NE(error_of({"-v", "/a:/b", "-d", "10[1]"}).find("Markov state 1"), std::string::npos);
  EXPECT_NE(error_of({"-v", "/a:/b", "--mgmtmode", "0800"}).find("octal"), std::string::npos);
  EXPECT_NE(error_of({"-v", "/a:/b", "--seed", "-1"}).find("--seed -1"), std::string::npos);
}
