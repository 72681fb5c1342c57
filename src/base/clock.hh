#pragma once
// Time for engines and the datapath. Nothing in vnet reads the wall clock directly: code takes
// a Clock& (or a time_point in tick()), so tests drive time with ManualClock.

#include <time.h>

#include <chrono>
#include <cstdint>
#include <optional>

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

// Kernel receive timestamps (SO_TIMESTAMPNS, TPACKET_V3) are CLOCK_REALTIME; this moves them
// onto CLOCK_MONOTONIC by the offset between the two clocks, both read at construction (just
// after the datagrams were taken). A timestamp that lands after that reading (the wall clock was
// stepped in between) gives nullopt: the caller keeps its own reading.
class RealtimeToMonotonic {
 public:
  RealtimeToMonotonic() : mono_(read(CLOCK_MONOTONIC)), real_(read(CLOCK_REALTIME)) {}
  TimePoint now() const { return TimePoint(Duration(mono_)); }
  std::optional<TimePoint> operator()(const timespec& kernel_realtime) const {
    const int64_t at =
        int64_t{kernel_realtime.tv_sec} * 1'000'000'000 + kernel_realtime.tv_nsec - (real_ - mono_);
    if (at > mono_) return std::nullopt;
    return TimePoint(Duration(at));
  }

 private:
  static int64_t read(clockid_t id) {
    timespec ts{};
    clock_gettime(id, &ts);
    return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
  }
  int64_t mono_, real_;
};

}  // namespace vnet
