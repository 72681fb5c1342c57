#pragma once
// WakeLead: how long before a timer the event loop stops sleeping and polls instead.
//
// A thread sleeping until a timer wakes some time after it: the scheduler's latency, and on a
// virtual machine the hypervisor's timer-interrupt delivery on top (measured on a 2-vCPU
// nested KVM guest: 70–130 µs at the median and 120–280 µs at the 99th percentile, even at
// SCHED_FIFO; a few µs on bare metal). Polling through a lead longer than that latency makes
// the timer fire within microseconds of its deadline, at the cost of the lead's CPU time.
//
// fixed(D) always leads by D (0: never polls). automatic(floor, cap) learns the lead from the
// wake-ups themselves: the loop reports how late each sleep until its timerfd ended
// (observe()), and the lead becomes twice the 99th percentile of the last kWindow reports plus
// kMargin, kept within [floor, cap]. Where wake-ups are quick the loop hardly polls; where they
// are slow delayed frames still leave on time. Until kWindow/8 reports came the lead is
// kInitial (clamped likewise). Sans-IO: nothing here reads a clock.

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>

#include "base/clock.hh"

namespace vnet {

class WakeLead {
 public:
  using Duration = Clock::duration;
  static constexpr size_t kWindow = 256;            // reports the percentile covers
  static constexpr size_t kEvery = 16;              // recomputed after this many
  static constexpr Duration kMargin{20'000};        // 20 µs
  static constexpr Duration kInitial{150'000};      // 150 µs
  static constexpr Duration kAutoFloor{20'000};     // 20 µs
  static constexpr Duration kAutoCap{2'000'000};    // 2 ms
  static constexpr Duration kMaxFixed{10'000'000};  // 10 ms: the longest fixed lead

  WakeLead() = default;  // fixed 0: never polls
  static WakeLead fixed(Duration lead);
  static WakeLead automatic(Duration floor = kAutoFloor, Duration cap = kAutoCap);

  // A sleep until the timer ended `late` after the time it was armed for (negative: counted
  // as 0). Ignored by a fixed lead.
  void observe(Duration late);
  Duration lead() const { return lead_; }
  bool is_automatic() const { return automatic_; }
  // Reports seen since the start (a fixed lead counts none).
  uint64_t observed() const { return observed_; }

 private:
  void recompute();
  bool automatic_ = false;
  Duration floor_{0};
  Duration cap_{0};
  Duration lead_{0};
  uint64_t observed_ = 0;
  std::array<int64_t, kWindow> ring_{};  // lateness in ns, the last kWindow reports
};

// SpinBoost: when a loop polling through its wake lead runs at real-time priority. A polling
// loop is a CPU hog to the scheduler, which hands its CPU to any task that wakes there: on the
// 2-vCPU VM 1–2 % of delayed releases left more than 200 µs late at SCHED_OTHER, none at
// SCHED_FIFO (the probe's own sender and reflector were the tasks waking). The boost holds only
// while the loop polls, and for at most half of each 100 ms window, so a loop whose timers come
// closer together than its lead (it polls all the time) still leaves the CPU to other tasks
// half of the time. Sans-IO: the caller passes the time and applies the answer.
class SpinBoost {
 public:
  using Duration = Clock::duration;
  using TimePoint = Clock::time_point;
  static constexpr Duration kWindow{100'000'000};  // 100 ms
  static constexpr Duration kMaxBoosted{kWindow / 2};

  // The loop polls (`polling`) or is about to sleep at `now`; returns whether it should run
  // boosted until the next call.
  bool want(TimePoint now, bool polling);
  // Boosted time in the current window.
  Duration used() const { return used_; }

 private:
  TimePoint window_start_{};
  TimePoint since_{};  // when the boost was last accounted (while on)
  Duration used_{0};
  bool on_ = false;
};

}  // namespace vnet
