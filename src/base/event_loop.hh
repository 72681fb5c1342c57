#pragma once
// EventLoop: one thread, epoll for file descriptors, a timer heap, and deferred calls.
//
// A descriptor has a readable callback (watch) and, while the owner has something queued that
// the kernel would not take, a writable callback (want_writable / drop_writable). Both are
// level-triggered: keep writable interest only while output is pending, or the loop spins.
// Errors and hang-ups (EPOLLERR, EPOLLHUP) go to the readable callback when there is one, else
// to the writable one, so an owner always learns that its peer went away.
//
// Callbacks run on the loop thread. Handlers may add or remove watches (including their own)
// while running: removal only marks the watch dead; it is freed after the current dispatch.
// Timers use the injected Clock, so a test can drive them with run_timers() and a ManualClock.
// On the system's monotonic clock the earliest timer arms a timerfd with an absolute
// CLOCK_MONOTONIC deadline (no timer slack: hrtimers armed through timerfd_settime get none, and
// the loop's thread sets its own slack to 1 ns for the epoll timeout), so a timer fires within
// the scheduler's wake-up latency of its deadline, not rounded to milliseconds or widened by the
// default 50 µs slack; link impairment's delays depend on it.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <vector>

#include "base/clock.hh"
#include "base/result.hh"
#include "base/wake_lead.hh"

namespace vnet {

class EventLoop {
 public:
  using Callback = std::function<void()>;
  using TimerId = uint64_t;

  explicit EventLoop(const Clock& clock);
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Call on_readable whenever fd is readable (level-triggered). Replaces an earlier watch on fd.
  Status watch(int fd, Callback on_readable);
  // Call on_writable whenever fd can take data, until drop_writable(fd) or unwatch(fd). Works
  // with or without a readable watch on the same fd.
  Status want_writable(int fd, Callback on_writable);
  void drop_writable(int fd);
  bool wants_writable(int fd) const;
  void unwatch(int fd);  // both interests

  TimerId add_timer(Duration after, Callback cb);
  // A one-shot timer at an absolute time of the loop's clock (a deadline computed earlier does
  // not drift by the time spent since).
  TimerId add_timer_at(TimePoint when, Callback cb);
  TimerId add_periodic(Duration every, Callback cb);
  void cancel_timer(TimerId id);
  // Timers armed now (one-shot ones not yet fired, periodic ones): lets tests see that nothing
  // polls on a timer.
  size_t timer_count() const { return timers_.size(); }

  // Wake-up lead (base/wake_lead.hh): the loop sleeps until the lead before its earliest timer
  // and polls without blocking from there on, so the timer fires within a few microseconds of
  // its deadline instead of the scheduler's wake-up latency after it (tens to hundreds of µs on
  // a VM). Costs up to the lead of busy polling per timer. The default, fixed 0, never polls;
  // an automatic lead learns from how late this loop's sleeps on its timerfd end.
  void set_wake_lead(Duration lead) { lead_ = WakeLead::fixed(lead); }
  void set_wake_lead(const WakeLead& lead) { lead_ = lead; }
  const WakeLead& wake_lead() const { return lead_; }
  // While polling through the lead the loop's thread runs at SCHED_FIFO `priority` (1–99;
  // 0, the default, never), within SpinBoost's bounds. Without the privilege (EPERM) it stays
  // as it is and stops trying.
  void set_spin_priority(int priority) { spin_priority_ = priority; }
  // The thread runs boosted now.
  bool boosted() const { return boosted_; }
  // Stalls while polling: a non-blocking epoll_pwait2 through the lead that took longer than
  // kStall can only mean the thread was off its CPU meanwhile (the host descheduled the vCPU,
  // or on an unboosted loop another task ran). What a late release cannot be blamed on.
  static constexpr Duration kStall{200'000};  // 200 µs
  struct PollStalls {
    uint64_t count = 0;
    Duration longest{0};
  };
  const PollStalls& poll_stalls() const { return stalls_; }

  // Runs cb on the next iteration, before waiting again (without blocking).
  void defer(Callback cb);

  // One iteration: wait up to max_wait (or until the next timer), dispatch, run timers/deferred.
  void run_once(Duration max_wait);
  void run();  // until stop()
  void stop() { running_ = false; }
  bool running() const { return running_; }

  // Fires due timers; returns the count. For tests with a ManualClock.
  size_t run_timers();
  const Clock& clock() const { return clock_; }

 private:
  struct Watch {
    int fd;
    Callback on_read;   // empty: no readable interest
    Callback on_write;  // empty: no writable interest
    bool alive = true;
    uint32_t events() const;
  };
  Status update(int fd, const std::shared_ptr<Watch>& w, bool existed);
  void arm_timerfd(TimePoint when);
  struct Timer {
    TimePoint when;
    Duration period{0};
    Callback cb;
  };
  const Clock& clock_;
  int epfd_ = -1;
  WakeLead lead_;
  void apply_boost(bool on);
  int spin_priority_ = 0;
  bool boosted_ = false;
  SpinBoost boost_;
  PollStalls stalls_;
  int timerfd_ = -1;        // CLOCK_MONOTONIC, absolute; -1 on other clocks
  TimePoint timerfd_at_{};  // what it is armed for (epoch: disarmed)
  bool running_ = false;
  std::map<int, std::shared_ptr<Watch>> watches_;
  std::map<TimerId, Timer> timers_;
  std::multimap<TimePoint, TimerId> timer_order_;
  TimerId next_timer_ = 1;
  std::vector<Callback> deferred_;
  std::vector<Callback> retired_;  // writable callbacks dropped during a dispatch
};

}  // namespace vnet
