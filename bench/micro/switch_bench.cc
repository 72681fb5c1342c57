// The switching core alone, on one core.
//
//   BM_BridgeIngress         Bridge::ingress + drain of 64-byte frames (60 without FCS), known
//                            unicast between two ports, 1,000 learned MACs, frames recycled: the
//                            forwarding decision only
//   BM_DataplaneMemory/SIZE  memory backend → Dataplane::poll_port → Bridge → memory backend →
//                            receiver, every frame a fresh pooled buffer (as a backend receiving
//                            it would take one) that dies at the receiver: what forwarding costs
//                            with zero syscalls per frame. SIZE 60: a minimum frame; 65000: a TCP
//                            GSO super-frame with its virtio-net metadata (passed through whole).
//
// Every benchmark reports `allocs_per_frame`: heap allocations (malloc, calloc, realloc, and so
// operator new) per forwarded frame in the timed loop, after a warm-up. This binary replaces the
// allocator entry points with counting ones that call glibc's. The forwarding path must report 0.
#include <benchmark/benchmark.h>

#include "alloc_count.hh"

#include <atomic>
#include <cstdlib>

#include "base/byte_io.hh"
#include "base/event_loop.hh"
#include "bridge/dataplane.hh"
#include "io/memory.hh"

// --- allocation counting ---------------------------------------------------------------------

using namespace vnet;

namespace {

constexpr int kMacs = 1000;  // 500 behind each port
constexpr size_t kMinFrame = 60;
constexpr int kWarmup = 200;  // batches before counting: pools, queues and vectors reach size

packet::MacAddress mac(int side, int i) {
  return packet::MacAddress{{0x02, static_cast<uint8_t>(side), 0, 0, static_cast<uint8_t>(i >> 8),
                             static_cast<uint8_t>(i)}};
}

packet::Frame make_frame(const packet::MacAddress& dst, const packet::MacAddress& src,
                         size_t size = kMinFrame) {
  std::vector<uint8_t> b(size, 0);
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

void report_allocs(benchmark::State& state, uint64_t allocs, uint64_t frames) {
  state.counters["allocs_per_frame"] =
      frames ? static_cast<double>(allocs) / static_cast<double>(frames) : 0.0;
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
  auto step = [&] {
    br.ingress(1, batch, now);
    back.clear();
    br.drain([&](bridge::PortNo, std::vector<packet::Frame>& out) {
      for (auto& f : out) back.push_back(std::move(f));
    });
    batch.swap(back);
  };
  for (int i = 0; i < kWarmup; ++i) step();
  uint64_t allocs = vnet::bench::allocations();
  for (auto _ : state) {
    step();
    if (batch.size() != 64) state.SkipWithError("frames were not forwarded as known unicast");
  }
  uint64_t frames = static_cast<uint64_t>(state.iterations()) * 64;
  report_allocs(state, vnet::bench::allocations() - allocs, frames);
  state.SetItemsProcessed(static_cast<int64_t>(frames));
  state.counters["fdb"] = static_cast<double>(br.fdb().size());
}
BENCHMARK(BM_BridgeIngress);

void BM_DataplaneMemory(benchmark::State& state) {
  size_t size = static_cast<size_t>(state.range(0));
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
  for (int i = 0; i < 64; ++i) {
    templ.push_back(make_frame(mac(2, (i * 7) % 500), mac(1, i % 500), size));
    if (size > 1514) {  // a TCPv4 GSO super-frame, as a TAP or veth port hands it over
      templ.back().offload.gso_type = 1;
      templ.back().offload.gso_size = 1448;
      templ.back().offload.flags = packet::OffloadInfo::kNeedsCsum;
      templ.back().offload.csum_start = 34;
      templ.back().offload.csum_offset = 16;
    }
  }
  std::vector<packet::Frame> sink, burst;
  bool ok = true;
  auto step = [&] {
    burst.clear();
    for (auto& t : templ) burst.push_back(t.clone());  // a backend receives into a fresh buffer
    in_peer->send(burst);
    dp.poll_port(*br, 1);
    sink.clear();
    out_peer->receive(sink, 64);
    ok = sink.size() == 64 && sink.back().size() == size;
  };
  for (int i = 0; i < kWarmup; ++i) step();
  uint64_t allocs = vnet::bench::allocations();
  for (auto _ : state) {
    step();
    if (!ok) state.SkipWithError("frames were not forwarded");
  }
  uint64_t frames = static_cast<uint64_t>(state.iterations()) * 64;
  report_allocs(state, vnet::bench::allocations() - allocs, frames);
  state.SetItemsProcessed(static_cast<int64_t>(frames));
  state.SetBytesProcessed(static_cast<int64_t>(frames * size));
}
BENCHMARK(BM_DataplaneMemory)->Arg(60)->Arg(65000);

}  // namespace

BENCHMARK_MAIN();
