#include "impair/engine.hh"

#include <algorithm>
#include <cmath>

namespace vnet::impair {

std::string_view cause_name(Cause c) {
  switch (c) {
    case Cause::kNone:
      return "none";
    case Cause::kCarrierDown:
      return "carrier-down";
    case Cause::kMtu:
      return "mtu";
    case Cause::kEveryNth:
      return "every-nth";
    case Cause::kLoss:
      return "loss";
    case Cause::kBurstLoss:
      return "burst-loss";
    case Cause::kQueueFull:
      return "queue-full";
    case Cause::kCount:
      break;
  }
  return "?";
}

double normal_quantile(double p) {
  // P. J. Acklam, "An algorithm for computing the inverse normal cumulative distribution
  // function" (2003): rational approximations in a central and two tail regions.
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double kLow = 0.02425;
  if (p <= 0) return -HUGE_VAL;
  if (p >= 1) return HUGE_VAL;
  if (p < kLow) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - kLow) {
    const double q = std::sqrt(-2 * std::log(1 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double q = p - 0.5;
  const double r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

namespace {

double pareto_value(double u) {
  // iproute2 netem/pareto.c: 1 / v^(1/a) − 1.5, scaled by 4/3, a = 3, v = 1 − u.
  return (1.0 / std::cbrt(1.0 - u) - 1.5) * (4.0 / 3.0);
}

}  // namespace

double distribution_value(Distribution d, double u) {
  double t = 0;
  switch (d) {
    case Distribution::kUniform:
      t = 2 * u - 1;
      break;
    case Distribution::kNormal:
      t = normal_quantile(u);
      break;
    case Distribution::kPareto:
      t = pareto_value(u);
      break;
    case Distribution::kParetoNormal:
      t = 0.25 * normal_quantile(u) + 0.75 * pareto_value(u);
      break;
  }
  return std::clamp(t, -4.0, 4.0);
}

Engine::Engine(uint64_t link_seed, std::string_view direction, const Settings& settings,
               TimePoint now)
    : loss_(stream_seed(link_seed, direction, "loss")),
      duplicate_(stream_seed(link_seed, direction, "duplicate")),
      corrupt_(stream_seed(link_seed, direction, "corrupt")),
      noise_(stream_seed(link_seed, direction, "noise")),
      delay_(stream_seed(link_seed, direction, "delay")),
      reorder_(stream_seed(link_seed, direction, "reorder")) {
  last_now_ = now;
  apply(settings, now);
}

void Engine::apply(const Settings& settings, TimePoint now) {
  now = std::max(now, last_now_);
  last_now_ = now;
  if (settings.loss_model != settings_.loss_model) loss_state_ = 1;
  if (settings.drop_every != settings_.drop_every) nth_count_ = 0;
  settings_ = settings;
  applied_at_ = now;
  heap_.reserve(std::max<size_t>(settings_.limit_packets, heap_.size()));
}

bool Engine::carrier_up(TimePoint now) const {
  if (settings_.carrier_down) return false;
  const Flap& f = settings_.flap;
  if (f.down <= Duration::zero()) return true;
  const Duration elapsed = std::max(now, applied_at_) - applied_at_;
  const Duration cycle = f.down + f.up;
  if (f.count != 0 && elapsed / cycle >= f.count) return true;
  return elapsed % cycle >= f.down;  // each cycle starts with the carrier down
}

bool Engine::lose(Cause& cause) {
  switch (settings_.loss_model) {
    case LossModel::kNone:
      return false;
    case LossModel::kBernoulli:
      cause = Cause::kLoss;
      return loss_.chance(settings_.loss);
    case LossModel::kGilbertElliott: {
      cause = Cause::kBurstLoss;
      const GilbertElliott& g = settings_.gemodel;
      const bool bad = loss_state_ == 2;
      const bool lost = loss_.chance(bad ? g.bad_loss : g.good_loss);
      if (bad) {
        if (loss_.chance(g.r)) loss_state_ = 1;
      } else {
        if (loss_.chance(g.p)) loss_state_ = 2;
      }
      return lost;
    }
    case LossModel::kFourState: {
      // net/sched/sch_netem.c loss_4state(): one draw picks the next state from the current
      // one's outgoing probabilities; states 3 and 4 lose the frame.
      cause = Cause::kBurstLoss;
      const FourState& m = settings_.four_state;
      const double u = loss_.uniform();
      switch (loss_state_) {
        case 1:
          loss_state_ = u < m.p14 ? 4 : u < m.p14 + m.p13 ? 3 : 1;
          break;
        case 2:
          loss_state_ = u < m.p23 ? 3 : 2;
          break;
        case 3:
          loss_state_ = u < m.p32 ? 2 : u < m.p32 + m.p31 ? 1 : 3;
          break;
        default:  // 4: an isolated loss is followed by a transmission in the gap
          loss_state_ = 1;
          break;
      }
      return loss_state_ == 3 || loss_state_ == 4;
    }
  }
  return false;
}

void Engine::corrupt_copy(uint32_t size, CopyVerdict& v) {
  const uint64_t bits = uint64_t{size} * 8;
  if (settings_.corrupt > 0) {
    const bool hit = corrupt_.chance(settings_.corrupt);
    const uint64_t pos = corrupt_.below(std::max<uint64_t>(bits, 1));
    if (hit && bits > 0) v.flips[v.flip_count++] = static_cast<uint32_t>(pos);
  }
  if (settings_.noise_per_mib > 0 && bits > 0) {
    // Poisson(λ) by Knuth's product of uniforms, stopped at the space left.
    const double lambda = settings_.noise_per_mib * size / (1024.0 * 1024.0);
    const double limit = std::exp(-lambda);
    double product = noise_.uniform();
    while (product > limit) {
      if (v.flip_count == kMaxFlips) {
        ++counters_.flips_capped;
        break;
      }
      v.flips[v.flip_count++] = static_cast<uint32_t>(noise_.below(bits));
      product *= noise_.uniform();
    }
  }
  if (v.flip_count > 0) {
    ++counters_.corrupted;
    counters_.bits_flipped += v.flip_count;
  }
}

Duration Engine::draw_delay() {
  auto d = settings_.delay;
  if (settings_.jitter > Duration::zero()) {
    const double t = distribution_value(settings_.distribution, delay_.uniform());
    d += Duration(
        static_cast<int64_t>(std::llround(t * static_cast<double>(settings_.jitter.count()))));
  }
  return std::max(d, Duration::zero());
}

Verdict Engine::offer(TimePoint now, uint32_t size, Handle handle) {
  now = std::max(now, last_now_);
  last_now_ = now;
  ++counters_.offered;
  Verdict v;
  auto drop = [&](Cause c) {
    v.drop = c;
    ++counters_.dropped[static_cast<size_t>(c)];
    return v;
  };
  if (!carrier_up(now)) return drop(Cause::kCarrierDown);
  if (settings_.mtu != 0 && size > settings_.mtu) return drop(Cause::kMtu);
  if (settings_.drop_every != 0 && ++nth_count_ % settings_.drop_every == 0) {
    nth_count_ = 0;
    return drop(Cause::kEveryNth);
  }
  Cause loss_cause = Cause::kLoss;
  if (lose(loss_cause)) return drop(loss_cause);

  v.copies = 1;
  if (settings_.duplicate > 0 && duplicate_.chance(settings_.duplicate)) {
    v.copies = 2;
    ++counters_.duplicated;
  }
  for (uint8_t c = 0; c < v.copies; ++c) {
    CopyVerdict& cv = v.copy[c];
    corrupt_copy(size, cv);
    const Duration delay = draw_delay();
    bool skip_delay = false;
    if (settings_.reorder > 0) {
      const bool pick = reorder_.chance(settings_.reorder);
      if (reorder_count_ + 1 >= settings_.reorder_gap && pick) {
        skip_delay = true;
        reorder_count_ = 0;
      } else {
        ++reorder_count_;
      }
    }
    if (counters_.held_packets + 1 > settings_.limit_packets ||
        (settings_.limit_bytes != 0 && counters_.held_bytes + size > settings_.limit_bytes)) {
      cv.drop = Cause::kQueueFull;
      ++counters_.dropped[static_cast<size_t>(Cause::kQueueFull)];
      continue;
    }
    TimePoint t = now;
    if (settings_.rate_bps != 0) {
      const TimePoint start = std::max(now, link_free_);
      const uint64_t numerator = uint64_t{size} * 8 * 1000000000ull + rate_carry_;
      rate_carry_ = numerator % settings_.rate_bps;
      link_free_ = start + Duration(static_cast<int64_t>(numerator / settings_.rate_bps));
      t = link_free_;
    }
    if (skip_delay) {
      ++counters_.reordered;
    } else {
      t += delay;
      if (!settings_.jitter_reorder) t = std::max(t, last_due_);
      last_due_ = std::max(last_due_, t);
    }
    cv.due = t;
    if (t > now) ++counters_.delayed;
    heap_.push_back(Entry{t, seq_++, handle, size, c});
    std::push_heap(heap_.begin(), heap_.end(), Later{});
    counters_.held_packets += 1;
    counters_.held_bytes += size;
    counters_.peak_packets = std::max(counters_.peak_packets, counters_.held_packets);
    counters_.peak_bytes = std::max(counters_.peak_bytes, counters_.held_bytes);
  }
  return v;
}

std::optional<TimePoint> Engine::next_deadline() const {
  if (heap_.empty()) return std::nullopt;
  return heap_.front().due;
}

void Engine::pop_top(Release& out) {
  std::pop_heap(heap_.begin(), heap_.end(), Later{});
  const Entry& e = heap_.back();
  out = Release{e.handle, e.copy, e.size, e.due};
  counters_.held_packets -= 1;
  counters_.held_bytes -= e.size;
  ++counters_.released;
  heap_.pop_back();
}

bool Engine::pop_due(TimePoint now, Release& out) {
  if (heap_.empty() || heap_.front().due > now) return false;
  pop_top(out);
  return true;
}

void Engine::poll(TimePoint now, std::vector<Release>& out) {
  Release r;
  while (pop_due(now, r)) out.push_back(r);
}

void Engine::take_all(std::vector<Release>& out) {
  Release r;
  while (!heap_.empty()) {
    pop_top(r);
    out.push_back(r);
  }
}

void apply_flips(const CopyVerdict& v, std::span<uint8_t> bytes) {
  for (uint8_t i = 0; i < v.flip_count; ++i) {
    const uint32_t b = v.flips[i];
    if (b / 8 < bytes.size()) bytes[b / 8] ^= static_cast<uint8_t>(1u << (b % 8));
  }
}

}  // namespace vnet::impair
