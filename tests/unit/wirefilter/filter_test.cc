// The Filter's console commands and rc files (filter.hh), on a ManualClock: wirefilter rc files
// load, errors name file:line and change nothing after the bad line's value, `load` from a client
// is refused, and the Markov chain switches both engines' settings at its steps.
#include "wirefilter/filter.hh"

#include <gtest/gtest.h>

#include <fstream>

#include "base/clock.hh"

using namespace vnet;
using namespace vnet::wirefilter;
using namespace std::chrono_literals;

namespace {

class FilterTest : public ::testing::Test {
 protected:
  FilterTest() : filter(7, clock.now()) {
    filter.add_commands(
        reg, [this] { return clock.now(); }, [this] { ++changes; });
  }
  Result<console::Reply> run(const std::string& line) { return reg.run(session, line); }
  void ok(const std::string& line) {
    auto r = run(line);
    EXPECT_TRUE(r.ok()) << line << ": " << (r.ok() ? "" : r.error().message);
  }
  std::string error_of(const std::string& line) {
    auto r = run(line);
    EXPECT_FALSE(r.ok()) << line << " was accepted";
    return r.ok() ? "" : r.error().message;
  }
  std::string write(const std::string& name, const std::string& text) {
    std::string path = ::testing::TempDir() + "/wf_" + std::to_string(::getpid()) + "_" + name;
    std::ofstream(path) << text;
    return path;
  }
  ManualClock clock;
  Filter filter;
  console::Registry reg;
  console::Session session;
  int changes = 0;
};

}  // namespace

TEST_F(FilterTest, ValueCommandsApplyToBothEngines) {
  ok("delay 10+4");
  ok("loss LR20");
  ok("bandwidth RL 1K");
  EXPECT_EQ(filter.engine(kLR).settings().delay, 10ms);
  EXPECT_EQ(filter.engine(kLR).settings().jitter, 4ms);
  EXPECT_DOUBLE_EQ(filter.engine(kLR).settings().loss, 0.2);
  EXPECT_DOUBLE_EQ(filter.engine(kRL).settings().loss, 0);
  EXPECT_EQ(filter.engine(kRL).settings().rate_bps, 8192u);
  EXPECT_EQ(filter.engine(kLR).settings().rate_bps, 0u);
  EXPECT_EQ(changes, 3);
  ok("fifo 0");
  EXPECT_TRUE(filter.engine(kRL).settings().jitter_reorder);
  auto info = run("showinfo");
  ASSERT_TRUE(info.ok());
  EXPECT_NE(info->text.find("Loss   L->R 20+0U   R->L 0+0U"), std::string::npos) << info->text;
  EXPECT_NE(info->text.find("Delay  L->R 10+4U   R->L 10+4U"), std::string::npos);
  EXPECT_NE(info->text.find("Fifoness FALSE"), std::string::npos);
}

TEST_F(FilterTest, RefusalsChangeNothing) {
  ok("delay 5");
  EXPECT_NE(error_of("delay 5x").find("delay 5x: expected"), std::string::npos);
  EXPECT_NE(error_of("loss 101").find("from 0 to 100"), std::string::npos);
  EXPECT_NE(error_of("delay 5[1]").find("Markov state 1: expected a state from 0 to 0"),
            std::string::npos);
  EXPECT_NE(error_of("delay").find("expected a value"), std::string::npos);
  EXPECT_NE(error_of("fifo 2").find("expected 0 or 1"), std::string::npos);
  EXPECT_EQ(filter.engine(kLR).settings().delay, 5ms);
  // A client never makes the daemon read a path it names.
  const std::string rc = write("evil.rc", "delay 50\n");
  auto r = run("load " + rc);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, EPERM);
  EXPECT_EQ(filter.engine(kLR).settings().delay, 5ms);
  EXPECT_EQ(run("markov-debug 1").error().code, ENOSYS);
}

TEST_F(FilterTest, RcFileWrittenForWirefilterLoads) {
  const std::string rc = write("ok.rc",
                               "# wirefilter rc\n"
                               "\n"
                               "delay 20+5n\n"
                               "loss LR10\n"
                               "lostburst 2\n"
                               "band 100K\n"
                               "capacity 64K\n"
                               "mtu 1500\n"
                               "fifo 1\n"
                               "markov-numnodes 2\n"
                               "markov-name 1,bad link\n"
                               "markov-time 500\n"
                               "setedge 0,1,10\n"
                               "setedge 1,0,50\n"
                               "delay 200[1]\n");
  ASSERT_TRUE(reg.run_file(session, rc).ok());
  EXPECT_EQ(filter.engine(kLR).settings().delay, 20ms);
  EXPECT_EQ(filter.engine(kLR).settings().loss_model, impair::LossModel::kGilbertElliott);
  EXPECT_EQ(filter.engine(kRL).settings().loss_model, impair::LossModel::kNone);
  EXPECT_EQ(filter.engine(kLR).settings().rate_bps, 100u * 1024 * 8);
  EXPECT_EQ(filter.engine(kLR).settings().limit_bytes, 65536u);
  EXPECT_EQ(filter.chain().size(), 2u);
  EXPECT_EQ(filter.chain().name(1), "bad link");
  EXPECT_EQ(filter.chain().period(), 500ms);
  EXPECT_DOUBLE_EQ(filter.chain().edge(0, 0), 90);
  EXPECT_DOUBLE_EQ(filter.chain().edge(1, 1), 50);
  EXPECT_DOUBLE_EQ(filter.state(1).get(Param::kDelay, kRL).value, 200);
  auto edges = run("showedges 1");
  ASSERT_TRUE(edges.ok());
  EXPECT_NE(edges->text.find("Edge 1 ->0  \"bad link\"->\"\" weight 50"), std::string::npos)
      << edges->text;
}

// In the operator's rc file `load` runs the file it names (as wirefilter), with file:line
// chains in errors; the same command from a console client stays refused.
TEST_F(FilterTest, LoadWorksOnlyInTheOperatorsRcFile) {
  const std::string inner = write("inner.rc", "delay 33\nloss 300\n");
  const std::string outer = write("outer.rc", "mtu 1400\nload " + inner + "\n");
  console::Session trusted;
  trusted.vars[kTrustedFiles] = "1";
  auto st = reg.run_file(trusted, outer);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find(outer + ":2: " + inner + ":2: loss 300"), std::string::npos)
      << st.error().message;
  EXPECT_EQ(filter.engine(kLR).settings().delay, 33ms);
  EXPECT_EQ(filter.engine(kLR).settings().mtu, 1400u);
  // An rc file run for a console session (no kTrustedFiles) cannot load either.
  const std::string good = write("good.rc", "delay 44\n");
  EXPECT_EQ(run("load " + good).error().code, EPERM);
  EXPECT_EQ(filter.engine(kLR).settings().delay, 33ms);
}

TEST_F(FilterTest, RcFileErrorsNameFileAndLine) {
  const std::string rc = write("bad.rc", "delay 7\n# comment\nloss 250\ndelay 9\n");
  auto st = reg.run_file(session, rc);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find(rc + ":3: loss 250: expected a percentage"), std::string::npos)
      << st.error().message;
  EXPECT_EQ(filter.engine(kLR).settings().delay, 7ms);  // stopped at line 3
  const std::string unknown = write("unknown.rc", "delay 1\nbogus 3\n");
  auto st2 = reg.run_file(session, unknown);
  ASSERT_FALSE(st2.ok());
  EXPECT_NE(st2.error().message.find(unknown + ":2:"), std::string::npos);
  EXPECT_EQ(st2.error().code, ENOSYS);
}

TEST_F(FilterTest, MarkovCommandsAndErrors) {
  EXPECT_NE(error_of("markov-numnodes 0").find("from 1 to 1024"), std::string::npos);
  ok("markov-numnodes 3");
  EXPECT_NE(error_of("markov-setnode 3").find("expected a state from 0 to 2"), std::string::npos);
  EXPECT_NE(error_of("setedge 0,3,10").find("states from 0 to 2"), std::string::npos);
  EXPECT_NE(error_of("setedge 0,1").find("expected N1,N2,WEIGHT"), std::string::npos);
  ok("setedge 0,1,60");
  EXPECT_NE(error_of("setedge 0,2,50").find("would add up to 110"), std::string::npos);
  EXPECT_NE(error_of("markov-time 0").find("above 0"), std::string::npos);
  EXPECT_NE(error_of("markov-name 9,x").find("from 0 to 2"), std::string::npos);
  EXPECT_NE(error_of("showinfo 7").find("from 0 to 2"), std::string::npos);
  ok("markov-setnode 2");
  auto cur = run("showcurrent");
  ASSERT_TRUE(cur.ok());
  EXPECT_EQ(cur->text, "Current Markov Node 2 \"\" (0,..,2)\n");
}

// The chain's steps switch both engines to the new state's values, at the step times.
TEST_F(FilterTest, MarkovStepsSwitchSettings) {
  ok("markov-numnodes 2");
  ok("markov-time 100");
  ok("setedge 0,1,100");  // 0 → 1 always
  ok("setedge 1,0,100");  // 1 → 0 always
  ok("delay 10[0]");
  ok("delay 50[1]");
  ok("markov-setnode 0");
  EXPECT_EQ(filter.engine(kLR).settings().delay, 10ms);
  ASSERT_TRUE(filter.next_wakeup().has_value());
  const TimePoint next = *filter.next_wakeup();
  clock.set(next - 1ms);
  filter.tick(clock.now());
  EXPECT_EQ(filter.engine(kLR).settings().delay, 10ms);
  clock.set(next);
  filter.tick(clock.now());
  EXPECT_EQ(filter.chain().current(), 1u);
  EXPECT_EQ(filter.engine(kLR).settings().delay, 50ms);
  EXPECT_EQ(filter.engine(kRL).settings().delay, 50ms);
  clock.advance(100ms);
  filter.tick(clock.now());
  EXPECT_EQ(filter.engine(kRL).settings().delay, 10ms);
}

TEST_F(FilterTest, ShowinfoJson) {
  ok("loss LR20");
  ok("delay 10+3n");
  auto r = run("showinfo --json");
  ASSERT_TRUE(r.ok());
  const auto& j = r->json;
  EXPECT_EQ(j["seed"], 7);
  EXPECT_EQ(j["fifo"], true);
  EXPECT_EQ(j["LR"]["values"]["loss"]["value"], 20.0);
  EXPECT_EQ(j["RL"]["values"]["loss"]["value"], 0.0);
  EXPECT_EQ(j["RL"]["values"]["delay"]["normal"], true);
  EXPECT_EQ(j["LR"]["engine"], "loss 20% delay 10ms 1ms distribution normal");
  EXPECT_EQ(j["LR"]["dropped"]["loss"], 0);
  auto cur = run("showcurrent --json");
  ASSERT_TRUE(cur.ok());
  EXPECT_EQ(cur->json["current"], 0);
}
