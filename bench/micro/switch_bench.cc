// The switching core alone: 64-byte frames (60 bytes without FCS), known unicast between two
// ports, 1,000 learned MACs, on one core.
//
//   BM_BridgeIngress    Bridge::ingress + drain, frames recycled (the forwarding decision only)
//   BM_DataplaneMemory  memory backend → Dataplane::poll_port → Bridge → memory backend →
//                       receiver, frames built and freed each batch (what a backend would cost
//                       with zero syscalls per frame)
#include <benchmark/benchmark.h>

#include "base/byte_io.hh"
#include "base/event_loop.hh"
#include "bridge/dataplane.hh"
#include "io/memory.hh"

using namespace vnet;

namespace {

constexpr int kMacs = 1000;  // 500 behind each port
constexpr size_t kFrameSize = 60;

packet::MacAddress mac(int side, int i) {
  return packet::MacAddress{{0x02, static_cast<uint8_t>(side), 0, 0, static_cast<uint8_t>(i >> 8),
                             static_cast<uint8_t>(i)}};
}

packet::Frame make_frame(const packet::MacAddress& dst, const packet::MacAddress& src) {
  std::vector<uint8_t> b(kFrameSize, 0);
  std::memcpy(b.data(), dst.bytes.data(), 6);
  std::memcpy(b.data() + 6, src.bytes.data(), 6);
  store_be16(b.data() + 12, 0x0800);
  return packet::Frame::copy_of(b);
}

void learn_all(bridge::Bridge& br, TimePoint now) {
  std::vector<packet::Frame> one;
  for (int i = 0; i < kMacs / 2; ++i) {
    for (int side : {1, 2}) {
      one.clear();
      one.push_back(make_frame(packet::MacAddress::broadcast(), mac(side, i)));
      br.ingress(side, one, now);
    }
  }
  br.drain([](bridge::PortNo, std::vector<packet::Frame>&) {});
}

void BM_BridgeIngress(benchmark::State& state) {
  bridge::Bridge br("bench");
  (void)br.create_vlan(10);
  for (bridge::PortNo p : {1u, 2u}) {
    (void)br.add_port(p, bridge::PortConfig::access(10));
    (void)br.set_active(p, true);
  }
  TimePoint now{std::chrono::seconds(10)};
  learn_all(br, now);
  std::vector<packet::Frame> batch;
  for (int i = 0; i < 64; ++i) batch.push_back(make_frame(mac(2, (i * 7) % 500), mac(1, i % 500)));
  std::vector<packet::Frame> back;
  for (auto _ : state) {
    br.ingress(1, batch, now);
    back.clear();
    br.drain([&](bridge::PortNo, std::vector<packet::Frame>& out) {
      for (auto& f : out) back.push_back(std::move(f));
    });
    if (back.size() != 64) state.SkipWithError("frames were not forwarded as known unicast");
    batch.swap(back);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 64);
  state.counters["fdb"] = static_cast<double>(br.fdb().size());
}
BENCHMARK(BM_BridgeIngress);

void BM_DataplaneMemory(benchmark::State& state) {
  ManualClock clock;
  EventLoop loop(clock);
  bridge::Dataplane dp(loop);
  auto* br = *dp.create_bridge("bench");
  (void)br->create_vlan(10);
  auto [in_dp, in_peer] = io::MemoryBackend::pair("in", 1 << 16);
  auto [out_dp, out_peer] = io::MemoryBackend::pair("out", 1 << 16);
  (void)dp.attach(*br, 1, std::move(in_dp), false);
  (void)dp.attach(*br, 2, std::move(out_dp), false);
  (void)br->configure_port(1, bridge::PortConfig::access(10));
  (void)br->configure_port(2, bridge::PortConfig::access(10));
  learn_all(*br, clock.now());
  std::vector<packet::Frame> templ;
  for (int i = 0; i < 64; ++i) templ.push_back(make_frame(mac(2, (i * 7) % 500), mac(1, i % 500)));
  std::vector<packet::Frame> sink, burst;
  for (auto _ : state) {
    burst.clear();
    for (auto& t : templ) burst.push_back(t.clone());  // a backend copies frames in, too
    in_peer->send(burst);
    dp.poll_port(*br, 1);
    sink.clear();
    out_peer->receive(sink, 64);
    if (sink.size() != 64) state.SkipWithError("frames were not forwarded");
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * 64);
}
BENCHMARK(BM_DataplaneMemory);

}  // namespace

BENCHMARK_MAIN();
