#pragma once
// Strict parsing of numbers and durations from configuration text, console words and topology
// values. Nothing here is lenient: "12abc", "", " 3", "1e3" for an integer, or a value outside the
// range is an error whose message quotes the text and says what was expected, so a caller only
// prefixes where it was found ("file:line: 'weight' abc: expected a whole number from -254 to
// 254"). Never use atoi/strtol directly: they turn garbage into 0.
//
// Durations: a decimal number with a unit — "us", "ms", "s", "m" (minutes), "h" — e.g. "1.5s",
// "500ms", "20us". A caller that accepts a bare number (keepalived's seconds) passes the unit
// that a bare number means; otherwise a unit is required.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "base/clock.hh"
#include "base/result.hh"

namespace vnet {

// A whole decimal number (optional leading '-') in [lo, hi].
// Error: "'abc': expected a whole number from 0 to 255".
Result<int64_t> parse_int(std::string_view text, int64_t lo, int64_t hi);

// The same, converted to an integer type whose range holds [lo, hi].
template <typename T>
Result<T> parse_int_as(std::string_view text, int64_t lo, int64_t hi) {
  auto v = parse_int(text, lo, hi);
  if (!v) return v.error();
  return static_cast<T>(*v);
}

// A decimal real number ("0.5", "3", "-1.25"; no exponent, no inf/nan) in [lo, hi].
// Error: "'x': expected a number from 0 to 10".
Result<double> parse_real(std::string_view text, double lo, double hi);

// A bit rate with tc(8)'s units: "bit", "kbit", "mbit", "gbit", "tbit" (powers of 1000 bits per
// second) or "bps", "kbps", "mbps", "gbps" (bytes per second), e.g. "10mbit", "1.5kbps"; a unit is
// required. Rounded to whole bits per second, in [1, max_bps]. Error: "'10': expected a rate
// like 10mbit …"; callers usually replace it with their own (the key and its range).
Result<uint64_t> parse_bitrate(std::string_view text, uint64_t max_bps);

enum class DurationUnit { kNone, kMicroseconds, kMilliseconds, kSeconds };

// A duration in [lo, hi]. `bare` is the unit of a number written without one (kNone: a unit is
// required). Error: "'5x': expected a duration like 500ms or 1.5s from 10ms to 600s".
Result<Duration> parse_duration(std::string_view text, Duration lo, Duration hi,
                                DurationUnit bare = DurationUnit::kNone);

// "1.5s", "250ms", "20us": the shortest exact text for a duration (for messages and reports).
std::string format_duration(Duration d);

}  // namespace vnet
