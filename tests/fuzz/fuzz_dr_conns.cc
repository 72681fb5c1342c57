// libFuzzer target: what the DR datapath logs (lb/dr_conns.hh): the first 14 bytes as the frame's
// Ethernet header and the rest as its IPv4 packet, parsed; then the same bytes as a run of
// segments (client port, real server and TCP flags from each 3 bytes) fed to a small tracker with
// a clock that moves by the bytes. Whatever the bytes: no read past the buffer, the tracker never
// holds more than its bound, and the counts it feeds never go negative.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "lb/dr_conns.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vnet::lb;
  std::vector<uint8_t> buf(data, data + size);
  std::span<const uint8_t> all(buf.data(), buf.size());
  if (size >= 14) (void)parse_dr_logged(all.first(14), all.subspan(14));

  ServiceKey service;
  service.addr = *Endpoint::parse("10.0.0.100", 80);
  DrConnTracker tracker(8);
  ConnCounts counts;
  counts.watch({service});
  vnet::TimePoint now{};
  const char* reals[] = {"10.1.0.1", "10.1.0.2", "10.1.0.3"};
  for (size_t i = 0; i + 3 <= size; i += 3) {
    DrSegment s{service, *Endpoint::parse("10.9.0.1", uint16_t(40000 + data[i] % 16)),
                *Endpoint::parse(reals[data[i + 1] % 3], 80), data[i + 2]};
    now += std::chrono::seconds(data[i + 1] >> 2);
    for (auto& e : tracker.expire(now)) (void)counts.on_event(e);
    if (auto e = tracker.on_segment(s, now)) (void)counts.on_event(*e);
    if (tracker.size() > 8) std::abort();
    for (auto* r : reals) {
      DestCounts c = counts.counts(service, *Endpoint::parse(r, 80));
      if (c.active < 0 || c.inactive < 0) std::abort();
    }
  }
  // Every connection expires eventually, and the counts return to zero.
  for (auto& e : tracker.expire(now + std::chrono::hours(1))) (void)counts.on_event(e);
  for (auto* r : reals) {
    if (!(counts.counts(service, *Endpoint::parse(r, 80)) == DestCounts{})) std::abort();
  }
  return 0;
}
