#include "impair/markov.hh"

#include <algorithm>
#include <cmath>

namespace vnet::impair {

MarkovChain::MarkovChain(uint64_t link_seed)
    : names_(1), w_(1, 100.0), stream_(stream_seed(link_seed, "chain", "markov")) {}

Status MarkovChain::resize(size_t n) {
  if (n < 1 || n > kMaxStates) {
    return make_error(EINVAL, "markov-numnodes {}: expected a number of states from 1 to {}", n,
                      kMaxStates);
  }
  const size_t old = size();
  std::vector<double> w(n * n, 0.0);
  for (size_t i = 0; i < std::min(n, old); ++i) {
    for (size_t j = 0; j < std::min(n, old); ++j) {
      if (i != j) w[i * n + j] = w_[i * old + j];
    }
  }
  w_ = std::move(w);
  names_.resize(n);
  for (size_t i = 0; i < n; ++i) recompute_self(i);
  if (current_ >= n) current_ = 0;
  if (n < 2) next_.reset();
  return {};
}

void MarkovChain::recompute_self(size_t i) {
  const size_t n = size();
  double self = 100.0;
  for (size_t j = 0; j < n; ++j) {
    if (j != i) self -= w_[i * n + j];
  }
  w_[i * n + i] = std::max(self, 0.0);
}

Status MarkovChain::set_edge(size_t from, size_t to, double percent) {
  const size_t n = size();
  if (from >= n || to >= n) {
    return make_error(EINVAL, "setedge {},{}: expected states from 0 to {}", from, to, n - 1);
  }
  if (!(percent >= 0 && percent <= 100)) {
    return make_error(EINVAL, "setedge {},{},{}: expected a weight from 0 to 100 (percent)", from,
                      to, percent);
  }
  if (from == to) return {};
  double others = percent;
  for (size_t j = 0; j < n; ++j) {
    if (j != from && j != to) others += w_[from * n + j];
  }
  if (others > 100 + 1e-9) {
    return make_error(EINVAL,
                      "setedge {},{},{}: the weights out of state {} would add up to {}, expected "
                      "at most 100",
                      from, to, percent, from, others);
  }
  w_[from * n + to] = percent;
  recompute_self(from);
  return {};
}

Status MarkovChain::set_name(size_t state, std::string name) {
  if (state >= size()) {
    return make_error(EINVAL, "markov-name {}: expected a state from 0 to {}", state, size() - 1);
  }
  names_[state] = std::move(name);
  return {};
}

Status MarkovChain::set_current(size_t state) {
  if (state >= size()) {
    return make_error(EINVAL, "markov-setnode {}: expected a state from 0 to {}", state,
                      size() - 1);
  }
  current_ = state;
  return {};
}

Status MarkovChain::set_period(Duration period) {
  if (period <= Duration::zero() || period > std::chrono::hours(1)) {
    return make_error(EINVAL, "markov-time: expected a period above 0 ms and at most 1 h");
  }
  period_ = period;
  return {};
}

void MarkovChain::step() {
  const size_t n = size();
  double u = stream_.uniform() * 100.0;
  size_t k = current_;
  for (size_t j = 0; j < n; ++j) {
    k = (current_ + j) % n;
    const double val = w_[current_ * n + k];
    if (u < val) break;
    u -= val;
  }
  current_ = k;
  ++steps_;
}

void MarkovChain::start(TimePoint now) {
  if (size() < 2) {
    next_.reset();
    return;
  }
  next_ = now;
  advance(now);
}

bool MarkovChain::advance(TimePoint now) {
  if (!next_ || size() < 2) return false;
  const size_t before = current_;
  while (*next_ <= now) {
    step();
    *next_ += period_;
  }
  return current_ != before;
}

std::optional<TimePoint> MarkovChain::next_step() const {
  if (size() < 2) return std::nullopt;
  return next_;
}

std::vector<double> MarkovChain::stationary() const {
  const size_t n = size();
  std::vector<double> p(n, 1.0 / static_cast<double>(n)), q(n);
  for (int it = 0; it < 100000; ++it) {
    std::fill(q.begin(), q.end(), 0.0);
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < n; ++j) q[j] += p[i] * w_[i * n + j] / 100.0;
    }
    // Average with the previous vector (lazy chain: same π, no oscillation on periodic chains).
    double diff = 0;
    for (size_t j = 0; j < n; ++j) {
      const double v = 0.5 * (p[j] + q[j]);
      diff += std::fabs(v - p[j]);
      p[j] = v;
    }
    if (diff < 1e-13) break;
  }
  return p;
}

}  // namespace vnet::impair
