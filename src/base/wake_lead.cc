#include "base/wake_lead.hh"

#include <algorithm>

namespace vnet {

WakeLead WakeLead::fixed(Duration lead) {
  WakeLead w;
  w.lead_ = std::max(lead, Duration{0});
  return w;
}

WakeLead WakeLead::automatic(Duration floor, Duration cap) {
  WakeLead w;
  w.automatic_ = true;
  w.floor_ = std::max(floor, Duration{0});
  w.cap_ = std::max(cap, w.floor_);
  w.lead_ = std::clamp(kInitial, w.floor_, w.cap_);
  return w;
}

void WakeLead::observe(Duration late) {
  if (!automatic_) return;
  ring_[observed_ % kWindow] = std::max<int64_t>(late.count(), 0);
  ++observed_;
  if (observed_ >= kWindow / 8 && observed_ % kEvery == 0) recompute();
}

void WakeLead::recompute() {
  size_t n = static_cast<size_t>(std::min<uint64_t>(observed_, kWindow));
  std::array<int64_t, kWindow> sorted = ring_;
  // The 99th percentile by the nearest rank: index ceil(0.99 n) − 1.
  size_t k = (99 * n + 99) / 100 - 1;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<ptrdiff_t>(k),
                   sorted.begin() + static_cast<ptrdiff_t>(n));
  Duration p99{sorted[k]};
  lead_ = std::clamp(2 * p99 + kMargin, floor_, cap_);
}

bool SpinBoost::want(TimePoint now, bool polling) {
  if (on_) used_ += now - since_;
  since_ = now;
  if (now - window_start_ >= kWindow) {
    window_start_ = now;
    used_ = Duration{0};
  }
  on_ = polling && used_ < kMaxBoosted;
  return on_;
}

}  // namespace vnet
