// The link impairment engine alone (src/impair/), one link direction, on one core.
//
//   BM_ImpairPassThrough      no settings: offer + pop_due of each frame (the engine's floor)
//   BM_ImpairLossDelay        loss 1%, delay 10ms 2ms normal, FIFO: 1000 frames in flight, each
//                             offered and released 10 ms later (heap push/pop at depth ~1000)
//   BM_ImpairEveryKind        GE loss, normal jitter with reordering, rate 1gbit, limit 64kb,
//                             duplicate 1%, corrupt 1%, noise 10, reorder 5%
//
// Frames arrive 10 µs apart on a manual time line; each iteration is one offered frame and the
// releases due by then. `allocs_per_frame` counts heap allocations (malloc, calloc, realloc,
// and so operator new) in the timed loop after a warm-up; the engine's path must report 0.
#include <benchmark/benchmark.h>

#include "alloc_count.hh"

#include <atomic>
#include <cstdlib>

#include "impair/engine.hh"

using namespace vnet;
using namespace vnet::impair;

namespace {

void run(benchmark::State& state, std::string_view words) {
  auto settings = parse_settings(words);
  if (!settings) {
    state.SkipWithError(settings.error().message.c_str());
    return;
  }
  TimePoint now{std::chrono::seconds(1)};
  Engine engine(1, "a>b", *settings, now);
  Handle h = 0;
  Release r;
  uint64_t released = 0;
  auto step = [&] {
    now += std::chrono::microseconds(10);
    while (engine.pop_due(now, r)) ++released;
    engine.offer(now, 60 + static_cast<uint32_t>(h % 1400), h);
    ++h;
  };
  for (int i = 0; i < 20000; ++i) step();  // warm-up: the queue reaches its steady depth
  const uint64_t allocs_before = vnet::bench::allocations();
  for (auto _ : state) {
    step();
  }
  const uint64_t allocs = vnet::bench::allocations() - allocs_before;
  benchmark::DoNotOptimize(released);
  state.SetItemsProcessed(state.iterations());
  state.counters["allocs_per_frame"] =
      static_cast<double>(allocs) / static_cast<double>(state.iterations());
  state.counters["held"] = static_cast<double>(engine.counters().held_packets);
}

void BM_ImpairPassThrough(benchmark::State& state) { run(state, ""); }
void BM_ImpairLossDelay(benchmark::State& state) {
  run(state, "loss 1% delay 10ms 2ms distribution normal limit 100000");
}
void BM_ImpairEveryKind(benchmark::State& state) {
  run(state,
      "loss gemodel 1% 10% 100% 0% delay 10ms 2ms distribution normal jitter-reorder on "
      "rate 1gbit limit 64kb duplicate 1% corrupt 1% noise 10 reorder 5%");
}

BENCHMARK(BM_ImpairPassThrough);
BENCHMARK(BM_ImpairLossDelay);
BENCHMARK(BM_ImpairEveryKind);

}  // namespace

BENCHMARK_MAIN();
