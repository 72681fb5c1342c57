// How late the event loop's timers fire on the system clock (src/base/event_loop.hh): the
// precision link impairment's delays rest on. Each iteration arms one timer 2 ms ahead on a real
// EventLoop and runs the loop until it fires; the counters are percentiles of how late it ran
// (callback's clock read − deadline), in µs, over the iterations.
//
//   BM_TimerLateness/0     no wake-up lead: the loop sleeps in epoll until the timerfd fires
//   BM_TimerLateness/150   the switch's default lead: sleep until 150 µs before, then poll
//
// Run on an otherwise idle machine; a busy one shows up as a long tail, not as a bias:
//   ./build/release/bench/micro/vnet_bench_timer
#include <benchmark/benchmark.h>

#include <algorithm>
#include <vector>

#include "base/event_loop.hh"

using namespace vnet;

namespace {

void BM_TimerLateness(benchmark::State& state) {
  SystemClock clock;
  EventLoop loop(clock);
  loop.set_wake_lead(std::chrono::microseconds(state.range(0)));
  std::vector<double> late;
  for (auto _ : state) {
    const TimePoint due = clock.now() + std::chrono::milliseconds(2);
    bool fired = false;
    loop.add_timer_at(due, [&] {
      late.push_back(std::chrono::duration<double, std::micro>(clock.now() - due).count());
      fired = true;
    });
    while (!fired) loop.run_once(std::chrono::seconds(1));
  }
  std::sort(late.begin(), late.end());
  auto at = [&](double q) { return late[static_cast<size_t>(q * (late.size() - 1))]; };
  state.counters["late_p50_us"] = at(0.5);
  state.counters["late_p90_us"] = at(0.9);
  state.counters["late_p99_us"] = at(0.99);
  state.counters["late_max_us"] = late.back();
}

}  // namespace

BENCHMARK(BM_TimerLateness)->Arg(0)->Arg(150)->Iterations(300)->UseRealTime();

BENCHMARK_MAIN();
