// Link (wirefilter/link.hh) on socketpairs standing in for the two switches and a ManualClock:
// frames cross LR and RL through their own engines, a delayed frame leaves exactly when its
// timer (armed at the engine's deadline) fires, console changes re-arm it, and EOF on a
// switch's control connection is reported.
#include "wirefilter/link.hh"

#include <sys/socket.h>

#include <gtest/gtest.h>

#include "base/clock.hh"

using namespace vnet;
using namespace vnet::wirefilter;
using namespace std::chrono_literals;

namespace {

struct FakeSwitch {
  UniqueFd data;  // the switch's end of the data socket
  UniqueFd ctl;   // the switch's end of the control stream
};

io::VdePlug make_plug(FakeSwitch& sw) {
  int d[2], c[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, d), 0);
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, c), 0);
  sw.data = UniqueFd(d[0]);
  sw.ctl = UniqueFd(c[0]);
  io::VdePlug p;
  p.data = UniqueFd(d[1]);
  p.ctl = UniqueFd(c[1]);
  p.switch_dir = "/fake";
  return p;
}

std::vector<std::string> drain(const FakeSwitch& sw) {
  std::vector<std::string> out;
  char buf[2048];
  ssize_t n;
  while ((n = ::recv(sw.data.get(), buf, sizeof buf, MSG_DONTWAIT)) > 0) {
    out.emplace_back(buf, static_cast<size_t>(n));
  }
  return out;
}

void send_frame(const FakeSwitch& sw, const std::string& f) {
  ASSERT_EQ(::send(sw.data.get(), f.data(), f.size(), 0), static_cast<ssize_t>(f.size()));
}

class LinkTest : public ::testing::Test {
 protected:
  LinkTest() : loop(clock), filter(5, clock.now()) {
    auto l = Link::open(loop, filter, {make_plug(a), make_plug(b)});
    EXPECT_TRUE(l.ok());
    if (l) link = std::move(*l);
    link->on_closed([this](const std::string& why) { closed = why; });
  }
  void spin() {
    for (int i = 0; i < 3; ++i) loop.run_once(0ms);
  }
  void set(const std::string& param_text, Param p) {
    auto v = parse_value(p, param_text);
    ASSERT_TRUE(v.ok());
    ASSERT_TRUE(filter.assign(*v, clock.now()).ok());
    link->changed();
  }
  ManualClock clock;
  EventLoop loop;
  Filter filter;
  FakeSwitch a, b;
  std::unique_ptr<Link> link;
  std::string closed;
};

const std::string kFrameA(60, 'a');
const std::string kFrameB(80, 'b');

}  // namespace

TEST_F(LinkTest, FramesCrossBothWaysAtOnceWithoutSettings) {
  send_frame(a, kFrameA);
  send_frame(b, kFrameB);
  send_frame(a, "short");  // a runt: ignored, as vde_switch does
  spin();
  EXPECT_EQ(drain(b), std::vector<std::string>{kFrameA});
  EXPECT_EQ(drain(a), std::vector<std::string>{kFrameB});
  EXPECT_EQ(link->counters(kLR).received, 1u);
  EXPECT_EQ(link->counters(kLR).runts, 1u);
  EXPECT_EQ(link->counters(kRL).sent, 1u);
}

TEST_F(LinkTest, DelayedFramesLeaveWhenTheirTimerFires) {
  set("LR10", Param::kDelay);
  set("RL30", Param::kDelay);
  send_frame(a, kFrameA);
  send_frame(b, kFrameB);
  spin();
  EXPECT_TRUE(drain(b).empty());
  EXPECT_TRUE(drain(a).empty());
  clock.advance(10ms - 1us);
  loop.run_timers();
  EXPECT_TRUE(drain(b).empty());
  clock.advance(1us);
  loop.run_timers();
  EXPECT_EQ(drain(b), std::vector<std::string>{kFrameA});
  EXPECT_TRUE(drain(a).empty());
  clock.advance(20ms);
  loop.run_timers();
  EXPECT_EQ(drain(a), std::vector<std::string>{kFrameB});
  EXPECT_EQ(loop.timer_count(), 0u);  // nothing held: no timer
}

// A console change that brings a deadline forward re-arms the timer for it.
TEST_F(LinkTest, AnEarlierDeadlineReArmsTheTimer) {
  set("100", Param::kDelay);
  send_frame(a, kFrameA);
  spin();
  set("RL5", Param::kDelay);  // RL only: LR's held frame keeps its 100 ms
  send_frame(b, kFrameB);
  spin();
  clock.advance(5ms);
  loop.run_timers();
  EXPECT_EQ(drain(a), std::vector<std::string>{kFrameB});
  EXPECT_TRUE(drain(b).empty());
  clock.advance(95ms);
  loop.run_timers();
  EXPECT_EQ(drain(b), std::vector<std::string>{kFrameA});
  EXPECT_EQ(loop.timer_count(), 0u);
}

TEST_F(LinkTest, DuplicatesAndLossFollowTheSettings) {
  set("100", Param::kDup);
  send_frame(a, kFrameA);
  spin();
  EXPECT_EQ(drain(b), (std::vector<std::string>{kFrameA, kFrameA}));
  set("0", Param::kDup);
  set("LR100", Param::kLoss);
  for (int i = 0; i < 5; ++i) send_frame(a, kFrameA);
  send_frame(b, kFrameB);
  spin();
  EXPECT_TRUE(drain(b).empty());
  EXPECT_EQ(drain(a), std::vector<std::string>{kFrameB});
  EXPECT_EQ(filter.engine(kLR).counters().drops(impair::Cause::kLoss), 5u);
}

TEST_F(LinkTest, ManyRoundsOfHeldFramesAllArriveOnce) {
  set("1", Param::kDelay);
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 4; ++i) send_frame(a, kFrameA);
    spin();
    clock.advance(1ms);
    loop.run_timers();
    ASSERT_EQ(drain(b).size(), 4u) << "round " << round;
  }
  EXPECT_EQ(link->counters(kLR).sent, 200u);
}

TEST_F(LinkTest, SwitchGoingAwayIsReported) {
  b.ctl.reset();
  spin();
  EXPECT_EQ(closed, "switch /fake closed the control connection");
}
