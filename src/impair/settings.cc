#include "impair/settings.hh"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "base/parse.hh"

namespace vnet::impair {

std::string_view loss_model_name(LossModel m) {
  switch (m) {
    case LossModel::kNone:
      return "none";
    case LossModel::kBernoulli:
      return "random";
    case LossModel::kGilbertElliott:
      return "gemodel";
    case LossModel::kFourState:
      return "state";
  }
  return "?";
}

std::string_view distribution_name(Distribution d) {
  switch (d) {
    case Distribution::kUniform:
      return "uniform";
    case Distribution::kNormal:
      return "normal";
    case Distribution::kPareto:
      return "pareto";
    case Distribution::kParetoNormal:
      return "paretonormal";
  }
  return "?";
}

namespace {

constexpr std::array<std::string_view, 19> kKeys = {
    "loss",           "gemodel", "delay", "jitter",     "distribution",
    "jitter-reorder", "rate",    "limit", "duplicate",  "corrupt",
    "noise",          "reorder", "mtu",   "drop-every", "carrier",
    "flap",           "clear",   "gap",   "state"};

bool is_key(std::string_view w) { return std::find(kKeys.begin(), kKeys.end(), w) != kKeys.end(); }

constexpr uint64_t kMaxRateBps = 1000000000000ull;  // 1 Tbit/s
constexpr uint64_t kMaxLimitBytes = 1ull << 30;     // 1 GiB

class Words {
 public:
  explicit Words(std::span<const std::string_view> w) : w_(w) {}
  bool done() const { return i_ >= w_.size(); }
  std::string_view take() { return w_[i_++]; }
  // The next word, if there is one and it is not a key.
  std::optional<std::string_view> peek_value() const {
    if (done() || is_key(w_[i_])) return std::nullopt;
    return w_[i_];
  }
  Result<std::string_view> value(std::string_view key, std::string_view what) {
    if (done()) return make_error(EINVAL, "{}: expected {} after it", key, what);
    return take();
  }

 private:
  std::span<const std::string_view> w_;
  size_t i_ = 0;
};

Result<double> percent(std::string_view key, std::string_view text) {
  auto bad = [&] {
    return make_error(EINVAL, "{} {}: expected a percentage from 0% to 100%", key, text);
  };
  if (text.size() < 2 || text.back() != '%') return bad();
  auto v = parse_real(text.substr(0, text.size() - 1), 0, 100);
  if (!v) return bad();
  return *v / 100.0;
}

Result<Duration> duration(std::string_view key, std::string_view text) {
  auto v = parse_duration(text, Duration::zero(), Settings::kMaxDelay);
  if (!v) {
    return make_error(EINVAL, "{} {}: expected a duration like 20ms or 1.5s from 0 to 1h", key,
                      text);
  }
  return *v;
}

Result<int64_t> whole(std::string_view key, std::string_view text, int64_t lo, int64_t hi) {
  auto v = parse_int(text, lo, hi);
  if (!v)
    return make_error(EINVAL, "{} {}: expected a whole number from {} to {}", key, text, lo, hi);
  return *v;
}

// Splits "64kb" into "64" and "kb".
std::pair<std::string_view, std::string_view> number_and_unit(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
    ++i;
  }
  return {text.substr(0, i), text.substr(i)};
}

Result<uint64_t> rate(std::string_view text) {
  auto bad = [&] {
    return make_error(EINVAL,
                      "rate {}: expected a rate from 1bit to 1tbit with a unit (bit, kbit, mbit, "
                      "gbit, tbit, bps, kbps, mbps, gbps), or off",
                      text);
  };
  auto v = parse_bitrate(text, kMaxRateBps);
  if (!v) return bad();
  return *v;
}

struct Limit {
  bool bytes = false;
  uint64_t value = 0;
};

Result<Limit> limit(std::string_view text) {
  auto bad = [&] {
    return make_error(EINVAL,
                      "limit {}: expected frames from 1 to {}, or bytes with a unit (b, kb, mb, "
                      "gb; k = 1024) from 1b to 1gb",
                      text, Settings::kMaxLimitPackets);
  };
  auto [num, unit] = number_and_unit(text);
  if (num.empty()) return bad();
  if (unit.empty()) {
    auto v = parse_int(num, 1, Settings::kMaxLimitPackets);
    if (!v) return bad();
    return Limit{false, static_cast<uint64_t>(*v)};
  }
  double mult = 0;
  if (unit == "b") mult = 1;
  if (unit == "kb" || unit == "k") mult = 1024;
  if (unit == "mb" || unit == "m") mult = 1024.0 * 1024;
  if (unit == "gb" || unit == "g") mult = 1024.0 * 1024 * 1024;
  if (mult == 0) return bad();
  auto v = parse_real(num, 0, 1e12);
  if (!v) return bad();
  const double bytes = std::round(*v * mult);
  if (bytes < 1 || bytes > static_cast<double>(kMaxLimitBytes)) return bad();
  return Limit{true, static_cast<uint64_t>(bytes)};
}

Result<Distribution> distribution(std::string_view text) {
  for (auto d : {Distribution::kUniform, Distribution::kNormal, Distribution::kPareto,
                 Distribution::kParetoNormal}) {
    if (text == distribution_name(d)) return d;
  }
  return make_error(EINVAL, "distribution {}: expected uniform, normal, pareto or paretonormal",
                    text);
}

Result<bool> on_off(std::string_view key, std::string_view text, std::string_view on,
                    std::string_view off) {
  if (text == on) return true;
  if (text == off) return false;
  return make_error(EINVAL, "{} {}: expected {} or {}", key, text, on, off);
}

// Up to `out.size()` optional percentages after a required first one.
Status percents(Words& w, std::string_view key, std::span<double*> out) {
  auto first = w.value(key, "a percentage");
  if (!first) return first.error();
  auto p = percent(key, *first);
  if (!p) return p.error();
  *out[0] = *p;
  for (size_t i = 1; i < out.size(); ++i) {
    auto next = w.peek_value();
    if (!next) break;
    auto q = percent(key, w.take());
    if (!q) return q.error();
    *out[i] = *q;
  }
  return {};
}

Status parse_gemodel(Words& w, Settings& s) {
  GilbertElliott g;
  double* fields[] = {&g.p, &g.r, &g.bad_loss, &g.good_loss};
  g.r = -1;
  if (auto st = percents(w, "loss gemodel", fields); !st) return st;
  if (g.r < 0) g.r = 1 - g.p;  // tc-netem(8): r = 1 − p when absent
  s.loss_model = LossModel::kGilbertElliott;
  s.gemodel = g;
  return {};
}

Status parse_state(Words& w, Settings& s) {
  FourState m;
  double* fields[] = {&m.p13, &m.p31, &m.p32, &m.p23, &m.p14};
  m.p31 = -1;
  if (auto st = percents(w, "loss state", fields); !st) return st;
  if (m.p31 < 0) m.p31 = 1 - m.p13;
  if (m.p13 + m.p14 > 1 + 1e-12) {
    return make_error(EINVAL, "loss state: p13 + p14 = {}%: expected at most 100%",
                      (m.p13 + m.p14) * 100);
  }
  if (m.p31 + m.p32 > 1 + 1e-12) {
    return make_error(EINVAL, "loss state: p31 + p32 = {}%: expected at most 100%",
                      (m.p31 + m.p32) * 100);
  }
  s.loss_model = LossModel::kFourState;
  s.four_state = m;
  return {};
}

// Takes the value word after `key`, parses it with `parse` (text → Result<T>) and stores it.
template <typename T, typename Parse>
Status set(Words& w, std::string_view key, std::string_view what, Parse parse, T& field) {
  auto v = w.value(key, what);
  if (!v) return v.error();
  auto parsed = parse(*v);
  if (!parsed) return parsed.error();
  field = static_cast<T>(*parsed);
  return {};
}

// "delay D [J]" as tc-netem(8), and "D±J" as a user writes it ("±" in UTF-8, or "+-"), the
// sign glued to either side or standing alone: "20ms±5ms", "20ms ±5ms", "20ms ± 5ms".
Status parse_delay(Words& w, Settings& s) {
  // Splits at the sign: no sign → {text, nullopt}; "20ms±" → {"20ms", ""}.
  auto split = [](std::string_view t) {
    for (std::string_view sign : {std::string_view("\u00b1"), std::string_view("+-")}) {
      if (auto at = t.find(sign); at != std::string_view::npos) {
        return std::pair(t.substr(0, at), std::optional(t.substr(at + sign.size())));
      }
    }
    return std::pair(t, std::optional<std::string_view>());
  };
  auto first = w.value("delay", "a duration");
  if (!first) return first.error();
  auto [d, jitter_text] = split(*first);
  if (d.empty()) return make_error(EINVAL, "delay {}: expected a duration before the sign", *first);
  auto delay = duration("delay", d);
  if (!delay) return delay.error();
  if (!jitter_text) {
    if (auto next = w.peek_value()) {
      auto [lead, rest] = split(w.take());
      if (rest && !lead.empty()) {
        return make_error(EINVAL, "delay {} {}: expected a jitter like 5ms or ±5ms", *first, *next);
      }
      jitter_text = rest ? *rest : lead;
    }
  }
  if (jitter_text && jitter_text->empty()) {
    auto after = w.value("delay \u00b1", "a jitter");
    if (!after) return after.error();
    jitter_text = *after;
  }
  Duration jitter = Duration::zero();
  if (jitter_text) {
    auto j = duration("delay jitter", *jitter_text);
    if (!j) return j.error();
    jitter = *j;
  }
  s.delay = *delay;
  s.jitter = jitter;
  return {};
}

Status parse_key(std::string_view key, Words& w, Settings& s) {
  auto as_percent = [&](std::string_view t) { return percent(key, t); };
  auto as_duration = [&](std::string_view t) { return duration(key, t); };
  if (key == "clear") {
    s = Settings{};
    return {};
  }
  if (key == "loss") {
    auto v = w.value(key, "a percentage, random, gemodel or state");
    if (!v) return v.error();
    if (*v == "gemodel") return parse_gemodel(w, s);
    if (*v == "state") return parse_state(w, s);
    std::string_view text = *v;
    if (text == "random") {
      auto t = w.value("loss random", "a percentage");
      if (!t) return t.error();
      text = *t;
    }
    auto p = percent(key, text);
    if (!p) return p.error();
    s.loss_model = *p > 0 ? LossModel::kBernoulli : LossModel::kNone;
    s.loss = *p;
    return {};
  }
  if (key == "gemodel") return parse_gemodel(w, s);
  if (key == "delay") return parse_delay(w, s);
  if (key == "jitter") return set(w, key, "a duration", as_duration, s.jitter);
  if (key == "distribution") {
    return set(w, key, "uniform, normal, pareto or paretonormal", distribution, s.distribution);
  }
  if (key == "jitter-reorder") {
    return set(
        w, key, "on or off", [&](std::string_view t) { return on_off(key, t, "on", "off"); },
        s.jitter_reorder);
  }
  if (key == "rate") {
    return set(
        w, key, "a rate like 10mbit, or off",
        [](std::string_view t) { return t == "off" ? Result<uint64_t>(0) : rate(t); }, s.rate_bps);
  }
  if (key == "limit") {
    auto v = w.value(key, "a number of frames or bytes");
    if (!v) return v.error();
    if (*v == "bytes") {
      auto o = w.value("limit bytes", "off");
      if (!o) return o.error();
      if (*o != "off") return make_error(EINVAL, "limit bytes {}: expected off", *o);
      s.limit_bytes = 0;
      return {};
    }
    auto l = limit(*v);
    if (!l) return l.error();
    if (l->bytes) {
      s.limit_bytes = l->value;
    } else {
      s.limit_packets = static_cast<uint32_t>(l->value);
    }
    return {};
  }
  if (key == "duplicate") return set(w, key, "a percentage", as_percent, s.duplicate);
  if (key == "corrupt") return set(w, key, "a percentage", as_percent, s.corrupt);
  if (key == "noise") {
    return set(
        w, key, "bit errors per MiB",
        [](std::string_view t) -> Result<double> {
          auto n = parse_real(t, 0, 8388608);
          if (!n) {
            return make_error(EINVAL, "noise {}: expected bit errors per MiB from 0 to 8388608", t);
          }
          return *n;
        },
        s.noise_per_mib);
  }
  if (key == "reorder") {
    s.reorder_gap = 1;  // "gap N" may follow as its own key
    return set(w, key, "a percentage", as_percent, s.reorder);
  }
  if (key == "gap") {
    return set(
        w, key, "a whole number", [&](std::string_view t) { return whole(key, t, 1, 1000000); },
        s.reorder_gap);
  }
  if (key == "mtu" || key == "drop-every") {
    const int64_t lo = key == "mtu" ? 1 : 2;
    const int64_t hi = key == "mtu" ? 1000000 : 1000000000;
    return set(
        w, key, "a whole number or off",
        [&](std::string_view t) { return t == "off" ? Result<int64_t>(0) : whole(key, t, lo, hi); },
        key == "mtu" ? s.mtu : s.drop_every);
  }
  if (key == "carrier") {
    return set(
        w, key, "up or down", [&](std::string_view t) { return on_off(key, t, "down", "up"); },
        s.carrier_down);
  }
  if (key == "flap") {
    Flap f;
    if (auto st = set(
            w, key, "a down time and an up time",
            [](std::string_view t) { return duration("flap down", t); }, f.down);
        !st) {
      return st;
    }
    if (auto st = set(
            w, key, "an up time after the down time",
            [](std::string_view t) { return duration("flap up", t); }, f.up);
        !st) {
      return st;
    }
    if (w.peek_value()) {
      auto n = whole("flap count", w.take(), 0, 1000000000);
      if (!n) return n.error();
      f.count = static_cast<uint32_t>(*n);
    }
    if (f.down > Duration::zero() && f.up <= Duration::zero()) {
      return make_error(EINVAL, "flap {} {}: expected an up time above 0", format_duration(f.down),
                        format_duration(f.up));
    }
    s.flap = f;
    return {};
  }
  return make_error(EINVAL,
                    "'{}': expected an impairment key (loss, gemodel, delay, jitter, distribution, "
                    "jitter-reorder, rate, limit, duplicate, corrupt, noise, reorder, gap, mtu, "
                    "drop-every, carrier, flap, clear)",
                    key);
}

}  // namespace

Result<Settings> parse_settings(std::span<const std::string_view> words, const Settings& base) {
  Settings s = base;
  Words w(words);
  bool saw_reorder = false;
  while (!w.done()) {
    const std::string_view key = w.take();
    if (key == "gap" && !saw_reorder) {
      return make_error(EINVAL, "gap: expected it after reorder P%");
    }
    if (auto st = parse_key(key, w, s); !st) return st.error();
    if (key == "reorder") saw_reorder = true;
  }
  if (s.reorder > 0 && s.delay == Duration::zero() && s.jitter == Duration::zero()) {
    return make_error(EINVAL, "reorder: expected a delay too (reordering skips the delay)");
  }
  return s;
}

Result<Settings> parse_settings(std::string_view text, const Settings& base) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t' && text[j] != '\n') ++j;
    if (j > i) words.push_back(text.substr(i, j - i));
    i = j;
  }
  return parse_settings(words, base);
}

namespace {

// The shortest plain decimal that reads back as v: parse_real takes no exponent, and fmt's
// shortest form has one below 1e-4 ("6.3e-05"), so a small value did not read back.
std::string plain(double v) {
  char buf[400];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, r.ptr);
}

std::string pct(double p) { return plain(p * 100) + "%"; }

}  // namespace

std::string format_settings(const Settings& s) {
  const Settings d;
  std::vector<std::string> out;
  switch (s.loss_model) {
    case LossModel::kNone:
      break;
    case LossModel::kBernoulli:
      out.push_back("loss " + pct(s.loss));
      break;
    case LossModel::kGilbertElliott:
      out.push_back(fmt::format("loss gemodel {} {} {} {}", pct(s.gemodel.p), pct(s.gemodel.r),
                                pct(s.gemodel.bad_loss), pct(s.gemodel.good_loss)));
      break;
    case LossModel::kFourState: {
      const auto& m = s.four_state;
      out.push_back(fmt::format("loss state {} {} {} {} {}", pct(m.p13), pct(m.p31), pct(m.p32),
                                pct(m.p23), pct(m.p14)));
      break;
    }
  }
  if (s.delay != d.delay || s.jitter != d.jitter) {
    out.push_back(
        s.jitter == Duration::zero()
            ? fmt::format("delay {}", format_duration(s.delay))
            : fmt::format("delay {} {}", format_duration(s.delay), format_duration(s.jitter)));
  }
  if (s.distribution != d.distribution) {
    out.push_back(fmt::format("distribution {}", distribution_name(s.distribution)));
  }
  if (s.jitter_reorder) out.push_back("jitter-reorder on");
  if (s.rate_bps != 0) out.push_back(fmt::format("rate {}bit", s.rate_bps));
  if (s.limit_packets != d.limit_packets) out.push_back(fmt::format("limit {}", s.limit_packets));
  if (s.limit_bytes != 0) out.push_back(fmt::format("limit {}b", s.limit_bytes));
  if (s.duplicate != 0) out.push_back("duplicate " + pct(s.duplicate));
  if (s.corrupt != 0) out.push_back("corrupt " + pct(s.corrupt));
  if (s.noise_per_mib != 0) out.push_back("noise " + plain(s.noise_per_mib));
  if (s.reorder != 0)
    out.push_back(fmt::format("reorder {} gap {}", pct(s.reorder), s.reorder_gap));
  if (s.mtu != 0) out.push_back(fmt::format("mtu {}", s.mtu));
  if (s.drop_every != 0) out.push_back(fmt::format("drop-every {}", s.drop_every));
  if (s.carrier_down) out.push_back("carrier down");
  if (s.flap != d.flap) {
    out.push_back(fmt::format("flap {} {} {}", format_duration(s.flap.down),
                              format_duration(s.flap.up), s.flap.count));
  }
  std::string text;
  for (const auto& w : out) {
    if (!text.empty()) text += ' ';
    text += w;
  }
  return text;
}

}  // namespace vnet::impair
