#pragma once
// Expectations on a probe stream's figures (probe/stream.hh), as the lab step `probe` writes
// them under `expect:`, one per line:
//
//   METRIC VALUE ± TOL     |measured − VALUE| ≤ TOL ("+-" works as "±")
//   METRIC VALUE           measured == VALUE
//   METRIC < VALUE         also <=, >, >=
//
//   METRIC      unit of VALUE and TOL
//   loss        percent: "10%"; a tolerance in % is in percentage points (loss 10% ± 3%)
//   rtt STAT    STAT min, mean, p50, p90, p99 or max; a duration with a unit (40ms, 250us)
//   jitter      a duration
//   throughput  a bit rate (9.5mbit; units as parse_bitrate)
//   duplicates  a whole number of probes
//   reordered   a whole number of probes
// For rtt, jitter and throughput a tolerance may also be relative: "± 5%" of VALUE.
// Values and tolerances are never negative. Errors quote the line and say the expected form:
// "'rtt p50 40': rtt p50 VALUE needs a duration ≥ 0 with a unit (40ms, 250us)".

#include <optional>
#include <string>
#include <string_view>

#include "base/result.hh"
#include "probe/stream.hh"

namespace vnet::probe {

enum class Metric { kLoss, kRtt, kJitter, kThroughput, kDuplicates, kReordered };
enum class RttStat { kMin, kMean, kP50, kP90, kP99, kMax };
enum class Compare { kWithin, kLess, kLessEqual, kGreater, kGreaterEqual };

struct Expectation {
  std::string text;  // as written
  Metric metric = Metric::kLoss;
  RttStat stat = RttStat::kMean;
  Compare compare = Compare::kWithin;
  double value = 0;      // canonical units: percent, nanoseconds, bits/s, probes
  double tolerance = 0;  // absolute, canonical units (a relative one is resolved at parse)
};

// The forms above; the error names the expected form of the metric it found.
Result<Expectation> parse_expectation(std::string_view text);

struct Verdict {
  bool passed = false;
  // "rtt p50 40.012 ms (expected 40ms ± 2ms): pass"
  std::string detail;
};
// `throughput` overrides the stats' own (e.g. measured one-way at the reflector).
Verdict check(const Expectation& e, const Stats& s, std::optional<double> throughput = {});

}  // namespace vnet::probe
