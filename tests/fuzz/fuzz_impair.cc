// libFuzzer target: the impairment settings parser and engine. The input's first line is a
// settings command; the rest drives arrivals (3 bytes each: size 0–65535, then a time step of
// 0–255 × 37 µs). Checked: a parsed value formats back to itself; the engine never holds more
// than its limits, releases copies in non-decreasing time, and accounts for every copy
// (released + held + queue-full drops = copies made).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "impair/engine.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vnet;
  using namespace vnet::impair;
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nl = in.find('\n');
  const std::string_view command = in.substr(0, nl);
  auto settings = parse_settings(command);
  if (!settings) return 0;
  auto again = parse_settings(format_settings(*settings));
  if (!again || !(*again == *settings)) std::abort();
  if (settings->delay > std::chrono::seconds(10)) return 0;  // keep runs short

  TimePoint now{std::chrono::seconds(1)};
  Engine engine(7, "a>b", *settings, now);
  uint64_t copies = 0;
  TimePoint last_release{};
  Release r;
  const std::string_view rest = nl == std::string_view::npos ? "" : in.substr(nl + 1);
  for (size_t i = 0; i + 3 <= rest.size(); i += 3) {
    const auto b = [&](size_t k) { return static_cast<uint8_t>(rest[i + k]); };
    const uint32_t frame = uint32_t{b(0)} << 8 | b(1);
    now += std::chrono::microseconds(37 * b(2));
    const Verdict v = engine.offer(now, frame, i);
    copies += v.copies;
    for (uint8_t c = 0; c < v.copies; ++c) {
      if (v.copy[c].drop == Cause::kNone && v.copy[c].due < now) std::abort();
      for (uint8_t k = 0; k < v.copy[c].flip_count; ++k) {
        if (v.copy[c].flips[k] >= frame * 8) std::abort();
      }
    }
    const Counters& n = engine.counters();
    if (n.held_packets > settings->limit_packets) std::abort();
    if (settings->limit_bytes != 0 && n.held_bytes > settings->limit_bytes) std::abort();
    while (engine.pop_due(now, r)) {
      if (r.due < last_release || r.due > now) std::abort();
      last_release = r.due;
    }
    if (auto d = engine.next_deadline(); d && *d <= now) std::abort();
  }
  const Counters& n = engine.counters();
  if (n.released + n.held_packets + n.drops(Cause::kQueueFull) != copies) std::abort();
  return 0;
}
