#include "probe/expect.hh"

#include <cmath>
#include <vector>

#include "base/parse.hh"

namespace vnet::probe {
namespace {

// Splits on blanks and around the operators, so "10%±3%" and "rtt p99<45ms" read as written
// with spaces.
std::vector<std::string> tokens(std::string_view text) {
  std::string spaced;
  for (size_t i = 0; i < text.size(); ++i) {
    auto rest = text.substr(i);
    if (rest.starts_with("±")) {
      spaced += " ± ";
      i += std::string_view("±").size() - 1;
    } else if (rest.starts_with("+-")) {
      spaced += " ± ";
      ++i;
    } else if (rest.starts_with("<=") || rest.starts_with(">=")) {
      spaced += fmt::format(" {} ", rest.substr(0, 2));
      ++i;
    } else if (text[i] == '<' || text[i] == '>') {
      spaced += fmt::format(" {} ", text[i]);
    } else {
      spaced += text[i];
    }
  }
  std::vector<std::string> out;
  size_t i = 0;
  while (i < spaced.size()) {
    while (i < spaced.size() && std::isspace(static_cast<unsigned char>(spaced[i]))) ++i;
    size_t j = i;
    while (j < spaced.size() && !std::isspace(static_cast<unsigned char>(spaced[j]))) ++j;
    if (j > i) out.emplace_back(spaced.substr(i, j - i));
    i = j;
  }
  return out;
}

constexpr std::string_view kForms =
    "expected 'METRIC VALUE ± TOL', 'METRIC VALUE' or 'METRIC < VALUE' (<, <=, >, >=) with "
    "METRIC loss, rtt min|mean|p50|p90|p99|max, jitter, throughput, duplicates or reordered";

std::string_view metric_unit(Metric m) {
  switch (m) {
    case Metric::kLoss:
      return "a percentage from 0% to 100% like 10%";
    case Metric::kRtt:
    case Metric::kJitter:
      return "a duration ≥ 0 with a unit (40ms, 250us)";
    case Metric::kThroughput:
      return "a bit rate > 0 like 9.5mbit";
    default:
      return "a whole number of probes ≥ 0";
  }
}

std::string metric_name(const Expectation& e) {
  static constexpr std::string_view kStats[] = {"min", "mean", "p50", "p90", "p99", "max"};
  switch (e.metric) {
    case Metric::kLoss:
      return "loss";
    case Metric::kRtt:
      return fmt::format("rtt {}", kStats[static_cast<int>(e.stat)]);
    case Metric::kJitter:
      return "jitter";
    case Metric::kThroughput:
      return "throughput";
    case Metric::kDuplicates:
      return "duplicates";
    case Metric::kReordered:
      return "reordered";
  }
  return "?";
}

// A value of the metric in canonical units; nullopt when the text is not one.
std::optional<double> value_of(Metric m, const std::string& w) {
  switch (m) {
    case Metric::kLoss: {
      if (w.size() < 2 || w.back() != '%') return std::nullopt;
      auto v = parse_real(std::string_view(w).substr(0, w.size() - 1), 0, 100);
      if (!v) return std::nullopt;
      return *v;
    }
    case Metric::kRtt:
    case Metric::kJitter: {
      auto d = parse_duration(w, Duration{0}, std::chrono::hours(1));
      if (!d) return std::nullopt;
      return static_cast<double>(d->count());
    }
    case Metric::kThroughput: {
      auto b = parse_bitrate(w);
      if (!b) return std::nullopt;
      return static_cast<double>(*b);
    }
    default: {
      auto n = parse_int(w, 0, static_cast<int64_t>(kMaxCount));
      if (!n) return std::nullopt;
      return static_cast<double>(*n);
    }
  }
}

}  // namespace

Result<Expectation> parse_expectation(std::string_view text) {
  Expectation e;
  e.text = std::string(text);
  auto w = tokens(text);
  auto bad = [&](std::string why) { return make_error(EINVAL, "'{}': {}", text, why); };
  if (w.empty()) return bad(std::string(kForms));
  size_t i = 1;
  if (w[0] == "loss") {
    e.metric = Metric::kLoss;
  } else if (w[0] == "rtt") {
    e.metric = Metric::kRtt;
    static constexpr std::pair<std::string_view, RttStat> kStats[] = {
        {"min", RttStat::kMin}, {"mean", RttStat::kMean}, {"p50", RttStat::kP50},
        {"p90", RttStat::kP90}, {"p99", RttStat::kP99},   {"max", RttStat::kMax}};
    const RttStat* found = nullptr;
    for (auto& [name, stat] : kStats) {
      if (w.size() > 1 && w[1] == name) found = &stat;
    }
    if (!found) {
      return bad(fmt::format("rtt needs a statistic: min, mean, p50, p90, p99 or max, got '{}'",
                             w.size() > 1 ? w[1] : ""));
    }
    e.stat = *found;
    i = 2;
  } else if (w[0] == "jitter") {
    e.metric = Metric::kJitter;
  } else if (w[0] == "throughput") {
    e.metric = Metric::kThroughput;
  } else if (w[0] == "duplicates") {
    e.metric = Metric::kDuplicates;
  } else if (w[0] == "reordered") {
    e.metric = Metric::kReordered;
  } else {
    return bad(fmt::format("unknown metric '{}': {}", w[0], kForms));
  }
  std::string name = metric_name(e);
  auto need_value = [&](std::string_view what) {
    return bad(fmt::format("{} {} needs {}", name, what, metric_unit(e.metric)));
  };
  static constexpr std::pair<std::string_view, Compare> kOps[] = {{"<", Compare::kLess},
                                                                  {"<=", Compare::kLessEqual},
                                                                  {">", Compare::kGreater},
                                                                  {">=", Compare::kGreaterEqual}};
  for (auto& [op, cmp] : kOps) {
    if (i < w.size() && w[i] == op) {
      e.compare = cmp;
      if (w.size() != i + 2) return bad(fmt::format("expected '{} {} VALUE'", name, op));
      auto v = value_of(e.metric, w[i + 1]);
      if (!v) return need_value("VALUE");
      e.value = *v;
      return e;
    }
  }
  if (i >= w.size()) return bad(fmt::format("{} needs a value: {}", name, kForms));
  auto v = value_of(e.metric, w[i]);
  if (!v) return need_value("VALUE");
  e.value = *v;
  if (w.size() == i + 1) return e;  // exact
  if (w[i + 1] != "±" || w.size() != i + 3) {
    return bad(fmt::format("expected '{} VALUE ± TOL' after the value", name));
  }
  const std::string& tol = w[i + 2];
  bool relative = tol.size() > 1 && tol.back() == '%' && e.metric != Metric::kLoss &&
                  e.metric != Metric::kDuplicates && e.metric != Metric::kReordered;
  if (relative) {
    auto pct = parse_real(std::string_view(tol).substr(0, tol.size() - 1), 0, 1000);
    if (!pct) return bad(fmt::format("tolerance {}: expected a percentage from 0% to 1000%", tol));
    e.tolerance = e.value * *pct / 100;
  } else {
    auto t = value_of(e.metric, tol);
    if (!t) {
      return bad(fmt::format("{} tolerance {} needs {}{}", name, tol, metric_unit(e.metric),
                             e.metric == Metric::kLoss || e.metric == Metric::kDuplicates ||
                                     e.metric == Metric::kReordered
                                 ? ""
                                 : " or a percentage of the value"));
    }
    e.tolerance = *t;
  }
  return e;
}

Verdict check(const Expectation& e, const Stats& s, std::optional<double> throughput) {
  std::string name = metric_name(e);
  double m = 0;
  std::string shown;
  auto ms = [](double ns) { return fmt::format("{:.3f} ms", ns / 1e6); };
  switch (e.metric) {
    case Metric::kLoss:
      m = s.loss_pct;
      shown = fmt::format("{:.2f}% ({} of {})", m, s.lost, s.sent);
      break;
    case Metric::kRtt:
    case Metric::kJitter:
      if (!s.delay)
        return {false, fmt::format("{}: no probe came back (expected {})", name, e.text)};
      if (e.metric == Metric::kJitter) {
        m = static_cast<double>(s.jitter.count());
      } else {
        const DelayStats& d = *s.delay;
        const Duration all[] = {d.min, d.mean, d.p50, d.p90, d.p99, d.max};
        m = static_cast<double>(all[static_cast<int>(e.stat)].count());
      }
      shown = ms(m);
      break;
    case Metric::kThroughput:
      m = throughput.value_or(s.throughput_bps);
      shown = format_bitrate(m);
      break;
    case Metric::kDuplicates:
      m = static_cast<double>(s.duplicates);
      shown = fmt::format("{}", s.duplicates);
      break;
    case Metric::kReordered:
      m = static_cast<double>(s.reordered);
      shown = fmt::format("{}", s.reordered);
      break;
  }
  bool ok = false;
  switch (e.compare) {
    case Compare::kWithin:
      ok = std::fabs(m - e.value) <= e.tolerance * (1 + 1e-12) + 1e-9;
      break;
    case Compare::kLess:
      ok = m < e.value;
      break;
    case Compare::kLessEqual:
      ok = m <= e.value;
      break;
    case Compare::kGreater:
      ok = m > e.value;
      break;
    case Compare::kGreaterEqual:
      ok = m >= e.value;
      break;
  }
  return {ok, fmt::format("{} {} (expected {}): {}", name, shown, e.text, ok ? "pass" : "FAIL")};
}

}  // namespace vnet::probe
