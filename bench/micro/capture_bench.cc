// What a running capture costs the forwarding path, on one core (docs/capture.md).
//
//   BM_Capture/MODE  memory backend → Dataplane::poll_port → Bridge → memory backend, 60-byte
//                    frames, batches of 64 (as BM_DataplaneMemory in switch_bench.cc), with
//                    MODE 0: no capture (the baseline: one branch per batch per site);
//                    MODE 1: a capture of the egress port writing every frame (pcapng into its
//                            buffer, drained every batch as the console connection would);
//                    MODE 2: a capture whose BPF filter (arp) matches none of the frames;
//                    MODE 3: a mirror of the ingress port to a third port;
//                    MODE 4: the frames carry a VLAN tag, which the access port 1 does not
//                            admit: the bridge drops every one (frame_type_not_admitted), no
//                            capture (what a drop costs);
//                    MODE 5: as 4, with a capture of port 1 marking each drop with its reason.
// Compare items_per_second of MODE 1–3 with MODE 0 for the overhead, MODE 5 with MODE 4.
#include <benchmark/benchmark.h>

#include <cstring>

#include "alloc_count.hh"
#include "base/byte_io.hh"
#include "base/event_loop.hh"
#include "bridge/dataplane.hh"
#include "io/memory.hh"

using namespace vnet;

namespace {

packet::Frame make_frame(int dst, int src, bool tagged) {
  std::vector<uint8_t> b(60, 0);
  const uint8_t d[6] = {2, 2, 0, 0, 0, static_cast<uint8_t>(dst)};
  const uint8_t s[6] = {2, 1, 0, 0, 0, static_cast<uint8_t>(src)};
  std::memcpy(b.data(), d, 6);
  std::memcpy(b.data() + 6, s, 6);
  if (tagged) {
    store_be16(b.data() + 12, 0x8100);
    store_be16(b.data() + 14, 100);
    store_be16(b.data() + 16, 0x0800);
  } else {
    store_be16(b.data() + 12, 0x0800);
  }
  return packet::Frame::copy_of(b);
}

void BM_Capture(benchmark::State& state) {
  const int mode = static_cast<int>(state.range(0));
  ManualClock clock;
  EventLoop loop(clock);
  bridge::Dataplane dp(loop);
  auto* br = *dp.create_bridge("bench");
  auto [in_dp, in_peer] = io::MemoryBackend::pair("in", 1 << 16);
  auto [out_dp, out_peer] = io::MemoryBackend::pair("out", 1 << 16);
  auto [span_dp, span_peer] = io::MemoryBackend::pair("span", 1 << 16);
  (void)dp.attach(*br, 1, std::move(in_dp), false);
  (void)dp.attach(*br, 2, std::move(out_dp), false);
  (void)dp.attach(*br, 3, std::move(span_dp), false);
  // Learn the destinations on port 2.
  std::vector<packet::Frame> learn;
  for (int i = 0; i < 64; ++i) {
    std::vector<uint8_t> b(60, 0);
    const uint8_t s[6] = {2, 2, 0, 0, 0, static_cast<uint8_t>(i)};
    std::memset(b.data(), 0xff, 6);
    std::memcpy(b.data() + 6, s, 6);
    learn.push_back(packet::Frame::copy_of(b));
  }
  out_peer->send(learn);
  dp.poll_port(*br, 2);
  std::vector<packet::Frame> drop;
  in_peer->receive(drop, 1000);
  span_peer->receive(drop, 1000);

  const bool dropped = mode == 4 || mode == 5;
  std::shared_ptr<capture::Capture> cap;
  if (mode == 1 || mode == 2) {
    auto f = capture::Filter::compile(mode == 2 ? "arp" : "", 262144);
    cap = *dp.start_capture({{br, 2}}, capture::Options{}, std::move(*f), 0);
  } else if (mode == 5) {
    auto f = capture::Filter::compile("", 262144);
    cap = *dp.start_capture({{br, 1}}, capture::Options{}, std::move(*f), 0);
  } else if (mode == 3) {
    (void)dp.add_mirror(*br, 1, 3, true, true);
  }
  std::vector<packet::Frame> templ;
  for (int i = 0; i < 64; ++i) templ.push_back(make_frame(i, i, dropped));
  std::vector<packet::Frame> sink, burst;
  std::string drained;
  bool ok = true;
  auto step = [&] {
    burst.clear();
    for (auto& t : templ) burst.push_back(t.clone());
    in_peer->send(burst);
    dp.poll_port(*br, 1);
    sink.clear();
    out_peer->receive(sink, 64);
    ok = sink.size() == (dropped ? 0u : 64u);
    if (mode == 3) {
      sink.clear();
      span_peer->receive(sink, 64);
      ok = ok && sink.size() == 64;
    }
    if (cap) {
      drained.clear();
      cap->take(drained, SIZE_MAX);
    }
  };
  for (int i = 0; i < 200; ++i) step();
  for (auto _ : state) {
    step();
    if (!ok) state.SkipWithError("frames were not forwarded");
  }
  uint64_t frames = static_cast<uint64_t>(state.iterations()) * 64;
  state.SetItemsProcessed(static_cast<int64_t>(frames));
  if (cap) state.counters["lost"] = static_cast<double>(cap->counters(0).lost);
}
BENCHMARK(BM_Capture)->DenseRange(0, 5);

}  // namespace

BENCHMARK_MAIN();
