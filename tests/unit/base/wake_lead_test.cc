#include "base/wake_lead.hh"

#include <gtest/gtest.h>

namespace vnet {
namespace {

using namespace std::chrono_literals;

TEST(WakeLead, AFixedLeadIgnoresReports) {
  WakeLead w = WakeLead::fixed(300us);
  for (int i = 0; i < 1000; ++i) w.observe(5ms);
  EXPECT_EQ(w.lead(), 300us);
  EXPECT_FALSE(w.is_automatic());
  EXPECT_EQ(w.observed(), 0u);
  EXPECT_EQ(WakeLead().lead(), 0us) << "the default never polls";
  EXPECT_EQ(WakeLead::fixed(-1us).lead(), 0us);
}

TEST(WakeLead, AnAutomaticLeadStartsAtTheInitialValueUntilEnoughReports) {
  WakeLead w = WakeLead::automatic(20us, 2ms);
  EXPECT_EQ(w.lead(), WakeLead::kInitial);
  for (size_t i = 0; i + 1 < WakeLead::kWindow / 8; ++i) w.observe(1ms);
  EXPECT_EQ(w.lead(), WakeLead::kInitial) << "changed before kWindow/8 reports";
  w.observe(1ms);
  EXPECT_EQ(w.lead(), 2ms) << "2 × 1 ms + 20 µs, capped at 2 ms";
  // The initial value is clamped into the bounds too.
  EXPECT_EQ(WakeLead::automatic(400us, 2ms).lead(), 400us);
  EXPECT_EQ(WakeLead::automatic(10us, 50us).lead(), 50us);
}

// Twice the 99th percentile plus 20 µs: quick wake-ups give a short lead, slow ones a long one.
TEST(WakeLead, TheLeadIsTwiceThe99thPercentilePlusAMargin) {
  WakeLead quick = WakeLead::automatic(1us, 2ms);
  for (size_t i = 0; i < WakeLead::kWindow; ++i) quick.observe(5us);
  EXPECT_EQ(quick.lead(), 30us);
  WakeLead slow = WakeLead::automatic(1us, 2ms);
  // 1 to 256 µs: the nearest-rank 99th percentile of 256 values is the 254th, 254 µs.
  for (size_t i = 1; i <= WakeLead::kWindow; ++i) slow.observe(std::chrono::microseconds(i));
  EXPECT_EQ(slow.lead(), 2 * 254us + 20us);
}

// One stall in a window does not set the lead: the 99th percentile of 256 reports ignores the
// two largest.
TEST(WakeLead, ARareStallDoesNotMoveTheLead) {
  WakeLead w = WakeLead::automatic(1us, 2ms);
  for (size_t i = 0; i < WakeLead::kWindow; ++i) w.observe(i == 100 ? 16ms : 80us);
  EXPECT_EQ(w.lead(), 180us);
}

// The window slides: after a slow spell the lead comes down once quick wake-ups replace it.
TEST(WakeLead, TheLeadFollowsTheLastWindowOfReports) {
  WakeLead w = WakeLead::automatic(1us, 2ms);
  for (size_t i = 0; i < WakeLead::kWindow; ++i) w.observe(500us);
  EXPECT_EQ(w.lead(), 1020us);
  for (size_t i = 0; i < WakeLead::kWindow; ++i) w.observe(10us);
  EXPECT_EQ(w.lead(), 40us);
  EXPECT_EQ(w.observed(), 2 * WakeLead::kWindow);
}

TEST(WakeLead, TheLeadStaysWithinItsBoundsAndNegativeReportsCountAsZero) {
  WakeLead w = WakeLead::automatic(50us, 300us);
  for (size_t i = 0; i < WakeLead::kWindow; ++i) w.observe(-5us);
  EXPECT_EQ(w.lead(), 50us);
  for (size_t i = 0; i < WakeLead::kWindow; ++i) w.observe(10ms);
  EXPECT_EQ(w.lead(), 300us);
}

}  // namespace
}  // namespace vnet

namespace vnet {
namespace {

using namespace std::chrono_literals;
using TP = SpinBoost::TimePoint;

TEST(SpinBoost, BoostsOnlyWhilePolling) {
  SpinBoost b;
  TP t{1s};
  EXPECT_FALSE(b.want(t, false));
  EXPECT_TRUE(b.want(t + 1ms, true));
  EXPECT_TRUE(b.want(t + 2ms, true));
  EXPECT_FALSE(b.want(t + 3ms, false)) << "about to sleep: back to normal priority";
  EXPECT_EQ(b.used(), 2ms);
}

// A loop that polls all the time gets the boost for half of each 100 ms window, not more.
TEST(SpinBoost, AtMostHalfOfEachWindow) {
  SpinBoost b;
  TP t{1s};
  b.want(t, false);  // opens the window at t
  int boosted_ms = 0;
  for (int ms = 0; ms < 100; ++ms) boosted_ms += b.want(t + std::chrono::milliseconds(ms), true);
  EXPECT_EQ(boosted_ms, 50) << "boosted from 0 until 50 ms of the window were used";
  EXPECT_FALSE(b.want(t + 99ms, true));
  EXPECT_TRUE(b.want(t + 100ms, true)) << "a new window";
}

}  // namespace
}  // namespace vnet
