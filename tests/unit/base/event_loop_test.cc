// EventLoop: readable and writable interest on one descriptor, and callbacks that remove their
// own interest while they run.

#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "base/event_loop.hh"
#include "base/fd.hh"

namespace vnet {
namespace {

using namespace std::chrono_literals;

struct Pair {
  UniqueFd a, b;
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    a.reset(fds[0]);
    b.reset(fds[1]);
  }
};

// Fills a's send buffer until the kernel refuses more.
size_t fill(int fd) {
  char buf[4096] = {};
  size_t total = 0;
  while (true) {
    ssize_t n = ::send(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n <= 0) return total;
    total += static_cast<size_t>(n);
  }
}

TEST(EventLoop, WritableFiresOnlyOnceTheKernelTakesDataAgain) {
  SystemClock clock;
  EventLoop loop(clock);
  Pair p;
  size_t filled = fill(p.a.get());
  ASSERT_GT(filled, 0u);
  int fired = 0;
  ASSERT_TRUE(loop.want_writable(p.a.get(), [&] { ++fired; }));
  loop.run_once(0ms);
  EXPECT_EQ(fired, 0) << "the send buffer is full: not writable";
  // Drain the peer: the buffer empties and the writable callback runs.
  char buf[65536];
  while (::recv(p.b.get(), buf, sizeof buf, MSG_DONTWAIT) > 0) {
  }
  loop.run_once(100ms);
  EXPECT_EQ(fired, 1);
}

TEST(EventLoop, ACallbackMayDropItsOwnWritableInterest) {
  SystemClock clock;
  EventLoop loop(clock);
  Pair p;
  int fired = 0;
  std::string big(1000, 'x');  // captured state that a destroyed callback would lose
  ASSERT_TRUE(loop.want_writable(p.a.get(), [&, big] {
    ++fired;
    loop.drop_writable(p.a.get());
    EXPECT_EQ(big.size(), 1000u);  // still valid after dropping itself
  }));
  loop.run_once(100ms);
  loop.run_once(0ms);
  loop.run_once(0ms);
  EXPECT_EQ(fired, 1) << "no writable callback after drop_writable: the loop would spin";
  EXPECT_FALSE(loop.wants_writable(p.a.get()));
}

TEST(EventLoop, ReadableAndWritableOnTheSameDescriptor) {
  SystemClock clock;
  EventLoop loop(clock);
  Pair p;
  int reads = 0, writes = 0;
  ASSERT_TRUE(loop.watch(p.a.get(), [&] {
    char c;
    while (::recv(p.a.get(), &c, 1, MSG_DONTWAIT) > 0) ++reads;
  }));
  ASSERT_TRUE(loop.want_writable(p.a.get(), [&] {
    ++writes;
    loop.drop_writable(p.a.get());
  }));
  ASSERT_EQ(::send(p.b.get(), "xy", 2, 0), 2);
  loop.run_once(100ms);
  EXPECT_EQ(reads, 2);
  EXPECT_EQ(writes, 1);
  // The readable watch survives dropping the writable interest.
  ASSERT_EQ(::send(p.b.get(), "z", 1, 0), 1);
  loop.run_once(100ms);
  EXPECT_EQ(reads, 3);
  EXPECT_EQ(writes, 1);
  // And writable interest can come back on a watched descriptor.
  ASSERT_TRUE(loop.want_writable(p.a.get(), [&] {
    ++writes;
    loop.drop_writable(p.a.get());
  }));
  loop.run_once(100ms);
  EXPECT_EQ(writes, 2);
}

TEST(EventLoop, HangUpReachesAWriterWithoutReadableInterest) {
  SystemClock clock;
  EventLoop loop(clock);
  Pair p;
  fill(p.a.get());
  int fired = 0;
  ASSERT_TRUE(loop.want_writable(p.a.get(), [&] {
    ++fired;
    loop.drop_writable(p.a.get());
  }));
  p.b.reset();  // the peer goes away while we still have output queued
  loop.run_once(100ms);
  EXPECT_EQ(fired, 1);
}

TEST(EventLoop, UnwatchRemovesBothInterests) {
  SystemClock clock;
  EventLoop loop(clock);
  Pair p;
  int fired = 0;
  ASSERT_TRUE(loop.watch(p.a.get(), [&] { ++fired; }));
  ASSERT_TRUE(loop.want_writable(p.a.get(), [&] { ++fired; }));
  loop.unwatch(p.a.get());
  ASSERT_EQ(::send(p.b.get(), "x", 1, 0), 1);
  loop.run_once(10ms);
  EXPECT_EQ(fired, 0);
}

// On the monotonic clock the loop's wait ends at the timer's absolute deadline (the timerfd),
// whatever the longest wait asked of run_once: a timer 1 ms away fires in the first iteration
// of a wait that may last 30 s, and the clock has reached its deadline when it runs.
TEST(EventLoop, ATimerEndsTheWaitAtItsAbsoluteDeadline) {
  SystemClock clock;
  EventLoop loop(clock);
  const TimePoint due = clock.now() + 1ms;
  TimePoint ran{};
  loop.add_timer_at(due, [&] { ran = clock.now(); });
  loop.run_once(30s);
  ASSERT_NE(ran, TimePoint{}) << "the timer did not end the wait";
  EXPECT_GE(ran, due);
  EXPECT_EQ(loop.timer_count(), 0u);
}

// With a wake lead the loop does not sleep through the last stretch before a timer: it polls,
// and the timer still fires at (never before) its deadline; later timers re-arm the timerfd.
TEST(EventLoop, AWakeLeadStillFiresTimersAtTheirDeadlineNotBefore) {
  SystemClock clock;
  EventLoop loop(clock);
  loop.set_wake_lead(500us);
  std::vector<std::pair<TimePoint, TimePoint>> fired;  // (due, ran)
  for (int i = 1; i <= 3; ++i) {
    const TimePoint due = clock.now() + i * 2ms;
    loop.add_timer_at(due, [&fired, &clock, due] { fired.emplace_back(due, clock.now()); });
  }
  for (int i = 0; i < 100000 && fired.size() < 3; ++i) loop.run_once(30s);
  ASSERT_EQ(fired.size(), 3u);
  for (auto& [due, ran] : fired) EXPECT_GE(ran, due);
}

// An automatic lead learns from the loop's own sleeps on its timerfd: each timer slept for is
// one report, and the lead stays within its bounds.
TEST(EventLoop, AnAutomaticWakeLeadLearnsFromTheLoopsSleeps) {
  SystemClock clock;
  EventLoop loop(clock);
  loop.set_wake_lead(WakeLead::automatic(20us, 2ms));
  int fired = 0;
  bool early = false;
  for (int i = 0; i < 40; ++i) {
    const TimePoint due = clock.now() + 3ms;
    loop.add_timer_at(due, [&, due] {
      ++fired;
      early = early || clock.now() < due;
    });
    while (fired == i) loop.run_once(30s);
  }
  EXPECT_FALSE(early) << "a timer fired before its deadline";
  EXPECT_GE(loop.wake_lead().observed(), 32u) << "the sleeps were not reported";
  EXPECT_GE(loop.wake_lead().lead(), 20us);
  EXPECT_LE(loop.wake_lead().lead(), 2ms);
}

}  // namespace
}  // namespace vnet
