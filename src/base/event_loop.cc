#include "base/event_loop.hh"

#include <sched.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/log.hh"

namespace vnet {

EventLoop::EventLoop(const Clock& clock) : clock_(clock) {
  epfd_ = epoll_create1(EPOLL_CLOEXEC);
  if (!clock_.is_monotonic_system_clock()) return;
  // The epoll timeout still bounds waits (max_wait): 1 ns of slack instead of 50 µs for it.
  (void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  timerfd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (timerfd_ < 0) return;  // relative epoll timeouts only
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = timerfd_;
  if (epoll_ctl(epfd_, EPOLL_CTL_ADD, timerfd_, &ev) < 0) {
    ::close(timerfd_);
    timerfd_ = -1;
  }
}

EventLoop::~EventLoop() {
  if (boosted_) apply_boost(false);
  if (timerfd_ >= 0) ::close(timerfd_);
  if (epfd_ >= 0) ::close(epfd_);
}

// Arms the timerfd for `when` (absolute, CLOCK_MONOTONIC), or disarms it for the epoch.
void EventLoop::arm_timerfd(TimePoint when) {
  if (timerfd_ < 0 || when == timerfd_at_) return;
  itimerspec its{};
  if (when != TimePoint{}) {
    auto ns = when.time_since_epoch().count();
    if (ns <= 0) ns = 1;  // 0 would disarm
    its.it_value = {static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  }
  if (timerfd_settime(timerfd_, TFD_TIMER_ABSTIME, &its, nullptr) == 0) timerfd_at_ = when;
}

uint32_t EventLoop::Watch::events() const {
  return (on_read ? EPOLLIN : 0u) | (on_write ? EPOLLOUT : 0u);
}

// Registers, modifies or removes fd in epoll to match w's interests.
Status EventLoop::update(int fd, const std::shared_ptr<Watch>& w, bool existed) {
  epoll_event ev{};
  ev.events = w->events();
  ev.data.fd = fd;
  if (ev.events == 0) {
    if (existed) epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
    w->alive = false;
    watches_.erase(fd);
    return {};
  }
  if (epoll_ctl(epfd_, existed ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) < 0) {
    auto err = system_error(existed ? "epoll_ctl MOD" : "epoll_ctl ADD");
    if (!existed) watches_.erase(fd);
    return err;
  }
  return {};
}

Status EventLoop::watch(int fd, Callback on_readable) {
  auto it = watches_.find(fd);
  bool existed = it != watches_.end();
  // A fresh Watch object, so a dispatch in progress on the old one sees it dead.
  auto w = std::make_shared<Watch>(Watch{fd, std::move(on_readable), {}});
  if (existed) {
    w->on_write = it->second->on_write;
    it->second->alive = false;
    it->second = w;
  } else {
    watches_[fd] = w;
  }
  return update(fd, w, existed);
}

Status EventLoop::want_writable(int fd, Callback on_writable) {
  auto it = watches_.find(fd);
  bool existed = it != watches_.end();
  std::shared_ptr<Watch> w;
  if (existed) {
    w = it->second;
  } else {
    w = std::make_shared<Watch>(Watch{fd, {}, {}});
    watches_[fd] = w;
  }
  bool had = static_cast<bool>(w->on_write);
  if (had) retired_.push_back(std::move(w->on_write));
  w->on_write = std::move(on_writable);
  if (had) return {};
  return update(fd, w, existed);
}

void EventLoop::drop_writable(int fd) {
  auto it = watches_.find(fd);
  if (it == watches_.end() || !it->second->on_write) return;
  auto w = it->second;
  retired_.push_back(std::move(w->on_write));
  w->on_write = nullptr;
  (void)update(fd, w, true);
}

bool EventLoop::wants_writable(int fd) const {
  auto it = watches_.find(fd);
  return it != watches_.end() && it->second->on_write;
}

void EventLoop::unwatch(int fd) {
  auto it = watches_.find(fd);
  if (it == watches_.end()) return;
  it->second->alive = false;
  epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  watches_.erase(it);
}

EventLoop::TimerId EventLoop::add_timer(Duration after, Callback cb) {
  return add_timer_at(clock_.now() + after, std::move(cb));
}

EventLoop::TimerId EventLoop::add_timer_at(TimePoint when, Callback cb) {
  TimerId id = next_timer_++;
  timers_[id] = Timer{when, Duration{0}, std::move(cb)};
  timer_order_.emplace(when, id);
  return id;
}

EventLoop::TimerId EventLoop::add_periodic(Duration every, Callback cb) {
  TimerId id = add_timer(every, std::move(cb));
  timers_[id].period = every;
  return id;
}

void EventLoop::cancel_timer(TimerId id) { timers_.erase(id); }

void EventLoop::defer(Callback cb) { deferred_.push_back(std::move(cb)); }

size_t EventLoop::run_timers() {
  size_t fired = 0;
  TimePoint now = clock_.now();
  while (!timer_order_.empty() && timer_order_.begin()->first <= now) {
    auto [when, id] = *timer_order_.begin();
    timer_order_.erase(timer_order_.begin());
    auto it = timers_.find(id);
    if (it == timers_.end() || it->second.when != when) continue;  // cancelled or rescheduled
    Callback cb = it->second.cb;
    if (it->second.period.count() > 0) {
      it->second.when = now + it->second.period;
      timer_order_.emplace(it->second.when, id);
    } else {
      timers_.erase(it);
    }
    cb();
    ++fired;
  }
  return fired;
}

void EventLoop::run_once(Duration max_wait) {
  Duration wait = max_wait;
  if (!deferred_.empty()) wait = Duration{0};
  // One clock read before the wait serves the timer's distance, the boost's accounting, the
  // start of a poll and whether a sleep begins before the timerfd's time.
  const TimePoint now = clock_.now();
  // Skip over cancelled entries to find the next live timer.
  TimePoint next{};
  bool spinning = false;  // inside the wake-up lead of the next timer
  while (!timer_order_.empty()) {
    auto [when, id] = *timer_order_.begin();
    auto it = timers_.find(id);
    if (it == timers_.end() || it->second.when != when) {
      timer_order_.erase(timer_order_.begin());
      continue;
    }
    next = when;
    Duration until = when - now;
    Duration lead = lead_.lead();
    if (until <= lead) {
      wait = Duration{0};
      spinning = lead > Duration{0};
    } else if (timerfd_ < 0 && until - lead < wait) {
      wait = until - lead;
    }
    break;
  }
  // Through the lead the loop polls without blocking, so the timerfd is left alone: re-arming it
  // for a time already passed on every turn reprograms the CPU's timer each time (a VM exit on a
  // guest), which made each turn, and so the timer, 15–20 µs coarse on a 2-vCPU VM.
  if (!spinning) arm_timerfd(next == TimePoint{} ? next : next - lead_.lead());
  if (spin_priority_ > 0) {
    bool want = boost_.want(now, spinning);
    if (want != boosted_) apply_boost(want);
  }
  // epoll_pwait2 takes a timespec: timers fire to the microsecond, not rounded up to the next
  // millisecond as epoll_wait's timeout would (VRRPv3 intervals are centiseconds).
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wait).count();
  timespec ts{static_cast<time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
  // A sleep that began before the timerfd's time measures the wake-up latency; one that began
  // after it (the loop was busy) would measure the busy time, so only the former is reported.
  const bool timed_sleep =
      lead_.is_automatic() && wait > Duration{0} && timerfd_at_ != TimePoint{} && now < timerfd_at_;
  epoll_event events[64];
  int n = epoll_pwait2(epfd_, events, 64, &ts, nullptr);
  if (n < 0 && errno != EINTR) log::error("epoll_pwait2: {}", errno);
  if (spinning) {
    Duration took = clock_.now() - now;
    if (took > kStall) {
      ++stalls_.count;
      stalls_.longest = std::max(stalls_.longest, took);
    }
  }
  for (int i = 0; i < n; ++i) {
    if (events[i].data.fd == timerfd_) {
      uint64_t expirations;
      (void)!::read(timerfd_, &expirations, sizeof expirations);
      // How late this sleep ended: what an automatic lead learns from.
      if (timed_sleep) lead_.observe(clock_.now() - timerfd_at_);
      timerfd_at_ = TimePoint{};  // fired: a one-shot absolute timer is disarmed now
      continue;
    }
    auto it = watches_.find(events[i].data.fd);
    if (it == watches_.end()) continue;
    auto w = it->second;  // keep alive while running
    uint32_t ev = events[i].events;
    bool err = ev & (EPOLLERR | EPOLLHUP);
    // Callbacks are called in place (no copy on the datapath): watch() and unwatch() replace
    // the Watch object instead of changing it, and drop_writable() retires the callback until
    // the dispatch is over, so a callback may remove its own interest while it runs.
    if (w->alive && w->on_read && (ev & EPOLLIN || err)) w->on_read();
    if (w->alive && w->on_write && (ev & EPOLLOUT || (err && !w->on_read))) w->on_write();
  }
  retired_.clear();
  run_timers();
  retired_.clear();
  while (!deferred_.empty()) {
    auto batch = std::move(deferred_);
    deferred_.clear();
    for (auto& cb : batch) cb();
  }
}

void EventLoop::apply_boost(bool on) {
  sched_param param{};
  param.sched_priority = on ? spin_priority_ : 0;
  if (sched_setscheduler(0, on ? SCHED_FIFO : SCHED_OTHER, &param) == 0) {
    boosted_ = on;
  } else if (on) {
    log::debug("wake lead: no real-time priority ({}); polling unboosted", errno);
    spin_priority_ = 0;
  }
}

void EventLoop::run() {
  running_ = true;
  while (running_) run_once(std::chrono::seconds(1));
}

}  // namespace vnet
