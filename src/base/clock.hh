#pragma once
// Time for engines and the datapath. Nothing in vnet reads the wall clock directly: code takes
// a Clock& (or a time_point in tick()), so tests drive time with ManualClock.

#include <chrono>

namespace vnet {

class Clock {
 public:
  using duration = std::chrono::nanoseconds;
  using time_point = std::chrono::time_point<std::chrono::steady_clock, duration>;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
  // True when now() reads CLOCK_MONOTONIC itself, so its time points can arm kernel timers
  // (timerfd) with absolute deadlines.
  virtual bool is_monotonic_system_clock() const { return false; }
};

// CLOCK_MONOTONIC.
class SystemClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::steady_clock::now(); }
  bool is_monotonic_system_clock() const override { return true; }
};

// Time that moves only when a test says so.
class ManualClock final : public Clock {
 public:
  time_point now() const override { return now_; }
  void advance(duration d) { now_ += d; }
  void set(time_point t) { now_ = t; }

 private:
  time_point now_{std::chrono::seconds(1000)};
};

using TimePoint = Clock::time_point;
using Duration = Clock::duration;

}  // namespace vnet
