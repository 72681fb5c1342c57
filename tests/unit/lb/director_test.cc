#include "lb/director.hh"

#include <gtest/gtest.h>

#include "lb/commands.hh"
#include "lb/keepalived_conf.hh"
#include "unit/vrrp/fake_host.hh"

using namespace vnet;
using namespace vnet::lb;
using namespace std::chrono_literals;
using vnet::vrrp::testing::FakeChildren;

namespace {

struct FakeDatapath final : Datapath {
  std::vector<Table> programmed;
  int cleared = 0;
  Status program(const Table& t) override {
    programmed.push_back(t);
    return {};
  }
  Status clear() override {
    ++cleared;
    return {};
  }
};

// The Director on a manual clock: a MISC_CHECK's exit codes (fake children) drive the table the
// datapath is given — misc_dynamic weight, failure, a hung script cut off at misc_timeout.
TEST(Director, MiscCheckDrivesTheDatapathTable) {
  auto conf = parse_keepalived_conf_full(R"(
virtual_server 10.0.0.100 80 {
  protocol TCP
  lvs_sched rr
  lb_kind NAT
  delay_loop 2
  real_server 10.1.0.1 8000 {
    weight 1
    MISC_CHECK {
      misc_path /bin/chk
      misc_timeout 1
      misc_dynamic
      warmup 0
    }
  }
}
)",
                                         "k.conf");
  ASSERT_TRUE(conf) << conf.error().message;
  ManualClock clock;
  EventLoop loop(clock);
  FakeChildren children;
  FakeDatapath dp;
  Director d(loop, children, dp, 1);
  ASSERT_TRUE(d.start(conf->lb, conf->vrrp.global));
  ASSERT_EQ(dp.programmed.size(), 1u);
  ASSERT_EQ(dp.programmed[0][0].dests.size(), 1u);  // up at boot
  EXPECT_EQ(dp.programmed[0][0].dests[0].weight, 1);

  clock.advance(1s);  // bootstrap delay
  loop.run_timers();
  ASSERT_EQ(children.running(), 1u);
  EXPECT_EQ(children.children.back().command(), "/bin/chk");
  children.finish(children.children.back().pid, 7);  // misc_dynamic: weight 5
  ASSERT_EQ(dp.programmed.size(), 2u);
  EXPECT_EQ(dp.programmed[1][0].dests[0].weight, 5);

  clock.advance(2s);
  loop.run_timers();
  ASSERT_EQ(children.running(), 1u);
  children.finish(children.children.back().pid, 1);  // failure: MISC_CHECK has no retry
  ASSERT_EQ(dp.programmed.size(), 3u);
  EXPECT_TRUE(dp.programmed[2][0].dests.empty());
  auto shown = show_json(d, clock.now());
  EXPECT_EQ(shown[0]["reals"][0]["alive"], false);
  EXPECT_EQ(shown[0]["reals"][0]["checkers"][0]["last"]["detail"], "exit status 1");

  clock.advance(2s);
  loop.run_timers();
  ASSERT_EQ(children.running(), 1u);  // hangs
  clock.advance(1s);                  // misc_timeout
  loop.run_timers();
  EXPECT_TRUE(children.children[2].cancelled);
  EXPECT_EQ(show_json(d, clock.now())[0]["reals"][0]["checkers"][0]["last"]["detail"], "timed out");
  EXPECT_EQ(dp.programmed.size(), 3u);  // still down: nothing to rewrite

  clock.advance(1s);
  loop.run_timers();
  children.finish(children.children.back().pid, 0);  // back, configured weight
  ASSERT_EQ(dp.programmed.size(), 4u);
  ASSERT_EQ(dp.programmed[3][0].dests.size(), 1u);
  EXPECT_EQ(dp.programmed[3][0].dests[0].weight, 1);

  d.shutdown();
  EXPECT_EQ(dp.cleared, 1);
}

}  // namespace
