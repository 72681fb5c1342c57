#include "wirefilter/value.hh"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "base/parse.hh"

namespace vnet::wirefilter {

std::string_view param_name(Param p) {
  switch (p) {
    case Param::kLoss:
      return "loss";
    case Param::kLostBurst:
      return "lostburst";
    case Param::kDelay:
      return "delay";
    case Param::kDup:
      return "dup";
    case Param::kBandwidth:
      return "bandwidth";
    case Param::kSpeed:
      return "speed";
    case Param::kChanBufSize:
      return "chanbufsize";
    case Param::kNoise:
      return "noise";
    case Param::kMtu:
      return "mtu";
    case Param::kCount:
      break;
  }
  return "?";
}

namespace {

struct Range {
  double max;
  std::string_view what;  // "a percentage", "a delay in ms", ...
  bool delta;             // a +DELTA is accepted
};

Range range_of(Param p) {
  switch (p) {
    case Param::kLoss:
      return {100, "a percentage", true};
    case Param::kLostBurst:
      return {1e6, "a mean burst length in frames", false};
    case Param::kDelay:
      return {3600e3, "a delay in ms", true};
    case Param::kDup:
      return {100, "a percentage", true};
    case Param::kBandwidth:
    case Param::kSpeed:
      return {125e9, "a rate in bytes/s", false};
    case Param::kChanBufSize:
      return {1073741824.0, "a size in bytes", false};
    case Param::kNoise:
      return {8388608, "bit errors per MiB", false};
    case Param::kMtu:
      return {1e6, "a size in bytes", false};
    case Param::kCount:
      break;
  }
  return {0, "?", false};
}

}  // namespace

Result<Assignment> parse_value(Param p, std::string_view text) {
  const std::string_view name = param_name(p);
  auto bad = [&] {
    return make_error(EINVAL,
                      "{} {}: expected [LR|RL]VALUE[+DELTA][K|M|G][u|n][[STATE]], e.g. 20, "
                      "LR20+5, 20+5n",
                      name, text);
  };
  Assignment a;
  a.param = p;
  std::string_view s = text;
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  if (s.size() >= 2 && (s.substr(0, 2) == "LR" || s.substr(0, 2) == "RL")) {
    a.lr = s[0] == 'L';
    a.rl = s[0] == 'R';
    s.remove_prefix(2);
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  }
  if (!s.empty() && s.back() == ']') {
    const size_t open = s.rfind('[');
    if (open == std::string_view::npos) return bad();
    auto st = parse_int(s.substr(open + 1, s.size() - open - 2), 0, 1023);
    if (!st) {
      return make_error(EINVAL, "{} {}: expected a Markov state number from 0 to 1023 in [ ]", name,
                        text);
    }
    a.state = static_cast<size_t>(*st);
    s = s.substr(0, open);
  }
  if (!s.empty()) {
    const char c = s.back();
    if (c == 'u' || c == 'U' || c == 'n' || c == 'N') {
      a.value.algo = (c == 'n' || c == 'N') ? Algo::kNormal : Algo::kUniform;
      s.remove_suffix(1);
    }
  }
  double mult = 1;
  if (!s.empty()) {
    switch (s.back()) {
      case 'k':
      case 'K':
        mult = 1 << 10;
        break;
      case 'm':
      case 'M':
        mult = 1 << 20;
        break;
      case 'g':
      case 'G':
        mult = 1 << 30;
        break;
    }
    if (mult != 1) s.remove_suffix(1);
  }
  const size_t plus = s.find('+');
  auto num = parse_real(s.substr(0, plus), 0, 1e15);
  if (!num) return bad();
  a.value.value = *num * mult;
  if (plus != std::string_view::npos) {
    auto d = parse_real(s.substr(plus + 1), 0, 1e15);
    if (!d) return bad();
    a.value.plus = *d * mult;
  }
  const Range r = range_of(p);
  if (a.value.value > r.max) {
    return make_error(EINVAL, "{} {}: expected {} from 0 to {}", name, text, r.what, r.max);
  }
  if (a.value.plus > 0 && !r.delta) {
    return make_error(EINVAL, "{} {}: a +DELTA is supported for loss, delay and dup only", name,
                      text);
  }
  if (a.value.plus > r.max) {
    return make_error(EINVAL, "{} {}: expected a DELTA from 0 to {}", name, text, r.max);
  }
  return a;
}

double mean_clamped(const Value& v, double lo, double hi) {
  if (v.plus <= 0) return std::clamp(v.value, lo, hi);
  // Midpoint rule over the support (uniform: value ± plus; normal: ± 6σ), in a fixed number of
  // steps, so the result is the same on every run.
  constexpr int kSteps = 4000;
  double sum = 0, weight = 0;
  if (v.algo == Algo::kUniform) {
    const double a = v.value - v.plus, w = 2 * v.plus / kSteps;
    for (int i = 0; i < kSteps; ++i) sum += std::clamp(a + (i + 0.5) * w, lo, hi);
    return sum / kSteps;
  }
  const double sigma = v.plus / 3.0;
  const double a = v.value - 6 * sigma, w = 12 * sigma / kSteps;
  for (int i = 0; i < kSteps; ++i) {
    const double x = a + (i + 0.5) * w;
    const double z = (x - v.value) / sigma;
    const double pdf = std::exp(-0.5 * z * z);
    sum += pdf * std::clamp(x, lo, hi);
    weight += pdf;
  }
  return sum / weight;
}

impair::Settings to_settings(const StateValues& s, Dir d, bool fifo) {
  impair::Settings out;
  const double loss = mean_clamped(s.get(Param::kLoss, d), 0, 100) / 100.0;
  const double burst = s.get(Param::kLostBurst, d).value;
  if (loss >= 1.0) {
    out.loss_model = impair::LossModel::kBernoulli;
    out.loss = 1.0;
  } else if (burst > 0 && loss > 0) {
    out.loss_model = impair::LossModel::kGilbertElliott;
    out.gemodel.p = std::min(1.0, loss / (burst * (1 - loss)));
    out.gemodel.r = std::min(1.0, 1.0 / burst);
    out.gemodel.bad_loss = 1;
    out.gemodel.good_loss = 0;
  } else if (loss > 0) {
    out.loss_model = impair::LossModel::kBernoulli;
    out.loss = loss;
  }
  const Value& delay = s.get(Param::kDelay, d);
  auto ms = [](double v) { return Duration(static_cast<int64_t>(std::llround(v * 1e6))); };
  out.delay = ms(delay.value);
  if (delay.plus > 0) {
    out.distribution = delay.algo == Algo::kNormal ? impair::Distribution::kNormal
                                                   : impair::Distribution::kUniform;
    out.jitter = ms(delay.algo == Algo::kNormal ? delay.plus / 3.0 : delay.plus);
  }
  out.jitter_reorder = !fifo;
  out.duplicate = mean_clamped(s.get(Param::kDup, d), 0, 100) / 100.0;
  const double band = s.get(Param::kBandwidth, d).value;
  const double speed = s.get(Param::kSpeed, d).value;
  double bytes_per_s = band > 0 && speed > 0 ? std::min(band, speed) : std::max(band, speed);
  if (bytes_per_s > 0) out.rate_bps = std::max<uint64_t>(1, std::llround(bytes_per_s * 8));
  out.limit_bytes = static_cast<uint64_t>(std::llround(s.get(Param::kChanBufSize, d).value));
  out.noise_per_mib = s.get(Param::kNoise, d).value;
  out.mtu = static_cast<uint32_t>(std::llround(s.get(Param::kMtu, d).value));
  return out;
}

std::string format_value(const Value& v) {
  return fmt::format("{:g}+{:g}{}", v.value, v.plus, v.algo == Algo::kNormal ? 'N' : 'U');
}

}  // namespace vnet::wirefilter
