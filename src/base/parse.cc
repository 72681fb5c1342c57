#include "base/parse.hh"

#include <cctype>
#include <cmath>
#include <string>

namespace vnet {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Digits with an optional '-' and at most one '.', nothing else.
bool decimal_shape(std::string_view t, bool allow_point) {
  size_t i = 0;
  if (i < t.size() && t[i] == '-') ++i;
  bool digits = false, point = false;
  for (; i < t.size(); ++i) {
    if (is_digit(t[i])) {
      digits = true;
    } else if (t[i] == '.' && allow_point && !point) {
      point = true;
    } else {
      return false;
    }
  }
  return digits;
}

std::string fmt_real(double v) {
  std::string s = fmt::format("{:.6f}", v);
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

Result<int64_t> parse_int(std::string_view text, int64_t lo, int64_t hi) {
  auto bad = [&] {
    return make_error(EINVAL, "'{}': expected a whole number from {} to {}", text, lo, hi);
  };
  if (!decimal_shape(text, false) || text.size() > 20) return bad();
  bool neg = text[0] == '-';
  // Accumulate negatively so INT64_MIN fits; more than 19 digits is out of any range we take.
  int64_t v = 0;
  for (char c : text.substr(neg ? 1 : 0)) {
    int d = c - '0';
    if (v < (INT64_MIN + d) / 10) return bad();
    v = v * 10 - d;
  }
  if (!neg) {
    if (v == INT64_MIN) return bad();
    v = -v;
  }
  if (v < lo || v > hi) return bad();
  return v;
}

Result<double> parse_real(std::string_view text, double lo, double hi) {
  auto bad = [&] {
    return make_error(EINVAL, "'{}': expected a number from {} to {}", text, fmt_real(lo),
                      fmt_real(hi));
  };
  if (!decimal_shape(text, true) || text.size() > 40) return bad();
  double v = std::stod(std::string(text));  // shape checked: cannot throw
  if (!std::isfinite(v) || v < lo || v > hi) return bad();
  return v;
}

Result<Duration> parse_duration(std::string_view text, Duration lo, Duration hi,
                                DurationUnit bare) {
  auto bad = [&] {
    return make_error(EINVAL, "'{}': expected a duration like 500ms or 1.5s from {} to {}", text,
                      format_duration(lo), format_duration(hi));
  };
  size_t n = 0;
  while (n < text.size() && (is_digit(text[n]) || text[n] == '.' || text[n] == '-')) ++n;
  std::string_view num = text.substr(0, n), unit = text.substr(n);
  if (!decimal_shape(num, true) || num.size() > 30) return bad();
  double scale;  // nanoseconds per unit
  if (unit == "us") {
    scale = 1e3;
  } else if (unit == "ms") {
    scale = 1e6;
  } else if (unit == "s") {
    scale = 1e9;
  } else if (unit == "m") {
    scale = 60e9;
  } else if (unit == "h") {
    scale = 3600e9;
  } else if (unit.empty() && bare != DurationUnit::kNone) {
    scale = bare == DurationUnit::kMicroseconds   ? 1e3
            : bare == DurationUnit::kMilliseconds ? 1e6
                                                  : 1e9;
  } else {
    return bad();
  }
  double ns = std::stod(std::string(num)) * scale;
  if (!std::isfinite(ns) || ns > 9e18 || ns < -9e18) return bad();
  Duration d(static_cast<int64_t>(std::llround(ns)));
  if (d < lo || d > hi) return bad();
  return d;
}

std::string format_duration(Duration d) {
  int64_t ns = d.count();
  if (ns % 1000000000 == 0) return fmt::format("{}s", ns / 1000000000);
  if (ns % 1000000 == 0) {
    if (ns >= 1000000000) return fmt_real(ns / 1e9) + "s";
    return fmt::format("{}ms", ns / 1000000);
  }
  if (ns % 1000 == 0) return fmt::format("{}us", ns / 1000);
  return fmt::format("{}ns", ns);
}

Result<uint64_t> parse_bitrate(std::string_view text, uint64_t max_bps) {
  auto bad = [&] {
    return make_error(EINVAL, "'{}': expected a rate like 10mbit from 1bit to {}bit/s with a unit",
                      text, max_bps);
  };
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) {
    ++i;
  }
  const std::string_view num = text.substr(0, i), unit = text.substr(i);
  struct Unit {
    std::string_view name;
    double bits;
  };
  static constexpr Unit kUnits[] = {{"bit", 1},    {"kbit", 1e3},  {"mbit", 1e6},
                                    {"gbit", 1e9}, {"tbit", 1e12}, {"bps", 8},
                                    {"kbps", 8e3}, {"mbps", 8e6},  {"gbps", 8e9}};
  const Unit* u = nullptr;
  for (const auto& k : kUnits) {
    if (k.name == unit) u = &k;
  }
  if (u == nullptr || num.empty()) return bad();
  auto v = parse_real(num, 0, static_cast<double>(max_bps));
  if (!v) return bad();
  const double bps = std::round(*v * u->bits);
  if (bps < 1 || bps > static_cast<double>(max_bps)) return bad();
  return static_cast<uint64_t>(bps);
}

}  // namespace vnet
