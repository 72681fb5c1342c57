#include "lb/checker.hh"

#include <gtest/gtest.h>

#include <functional>
#include <set>

using namespace vnet;
using namespace vnet::lb;
using namespace std::chrono_literals;

namespace {

// Drives one checker on a manual clock against a backend whose behaviour is a function of time:
// kUp answers at once, kRefuse fails at once (connection refused), kSilent never answers (the
// probe times out).
enum class Backend { kUp, kRefuse, kSilent };

struct Transition {
  TimePoint at;
  bool up;
};

struct Harness {
  Random random{1};
  TimePoint t0{std::chrono::seconds(1000)};
  Checker checker;
  std::vector<Transition> transitions;
  std::vector<TimePoint> probe_starts;
  std::vector<std::optional<int>> weights;

  explicit Harness(const CheckerTiming& t) : checker(t, t0, random) {}

  // Runs until `until`; the backend at time t is backend(t).
  void run(TimePoint until, const std::function<Backend(TimePoint)>& backend) {
    while (checker.next_deadline() <= until) {
      TimePoint now = checker.next_deadline();
      checker.tick(now);
      for (auto& a : checker.take_actions()) {
        if (auto* p = std::get_if<StartProbe>(&a)) {
          probe_starts.push_back(now);
          Backend b = backend(now);
          if (b == Backend::kUp) checker.on_outcome(p->id, now, ProbeOutcome::ok());
          if (b == Backend::kRefuse) checker.on_outcome(p->id, now, ProbeOutcome::failed());
        } else {
          record(now, a);
        }
      }
      for (auto& a : checker.take_actions()) record(now, a);
    }
  }
  void record(TimePoint now, const CheckerAction& a) {
    if (auto* s = std::get_if<CheckerState>(&a)) transitions.push_back({now, s->up});
    if (auto* w = std::get_if<DynamicWeight>(&a)) weights.push_back(w->weight);
  }
};

CheckerTiming tcp(Duration delay_loop, Duration timeout, unsigned retry, Duration dbr) {
  CheckerTiming t;
  t.delay_loop = delay_loop;
  t.timeout = timeout;
  t.retry = retry;
  t.delay_before_retry = dbr;
  return t;
}

// TCP_CHECK: a backend that stops answering just after a successful probe is removed exactly
// delay_loop + connect_timeout × (retry + 1) + delay_before_retry × retry later (the worst case
// the bound names), and not a nanosecond earlier.
TEST(Checker, TcpRemovalBoundIsExactInTheWorstCase) {
  struct Case {
    Duration delay_loop, timeout;
    unsigned retry;
    Duration dbr;
  };
  for (auto c : {Case{6s, 3s, 2, 1s}, Case{60s, 5s, 1, 1s}, Case{1s, 500ms, 0, 1s},
                 Case{2500ms, 250ms, 3, 100ms}, Case{10s, 2s, 5, 0s}}) {
    Harness h(tcp(c.delay_loop, c.timeout, c.retry, c.dbr));
    TimePoint fail_at{};
    // Healthy until the second successful probe; the failure begins the instant it succeeded.
    h.run(h.t0 + kBootstrapDelay + c.delay_loop, [](TimePoint) { return Backend::kUp; });
    ASSERT_EQ(h.probe_starts.size(), 2u);
    fail_at = h.probe_starts.back();
    Duration bound = c.delay_loop + c.timeout * (c.retry + 1) + c.dbr * c.retry;
    auto backend = [&](TimePoint t) { return t < fail_at ? Backend::kUp : Backend::kSilent; };
    h.run(fail_at + bound - 1ns, backend);
    EXPECT_TRUE(h.checker.up()) << "down before the bound " << bound.count();
    EXPECT_TRUE(h.transitions.empty());
    h.run(fail_at + bound, backend);
    ASSERT_EQ(h.transitions.size(), 1u);
    EXPECT_FALSE(h.transitions[0].up);
    EXPECT_EQ(h.transitions[0].at - fail_at, bound);
    // retry + 1 probes after the failure: the regular one and `retry` retries.
    EXPECT_EQ(h.probe_starts.size(), 2u + c.retry + 1);
  }
}

// A backend that refuses at once is removed sooner, and never later than the bound, wherever in
// the cycle it fails.
TEST(Checker, TcpRemovalWithinBoundAtAnyPhase) {
  Duration delay_loop = 6s, timeout = 3s, dbr = 1s;
  unsigned retry = 2;
  Duration bound = delay_loop + timeout * (retry + 1) + dbr * retry;
  for (Duration phase = 0ms; phase < delay_loop; phase += 250ms) {
    for (Backend failure : {Backend::kSilent, Backend::kRefuse}) {
      Harness h(tcp(delay_loop, timeout, retry, dbr));
      TimePoint fail_at = h.t0 + kBootstrapDelay + 1ms + phase;
      h.run(fail_at + bound + delay_loop,
            [&](TimePoint t) { return t < fail_at ? Backend::kUp : failure; });
      ASSERT_EQ(h.transitions.size(), 1u);
      EXPECT_LE(h.transitions[0].at - fail_at, bound) << "phase " << phase.count();
    }
  }
}

// Recovery: the first successful probe brings the checker up (no rise count in keepalived).
TEST(Checker, RecoveryOnTheFirstSuccess) {
  Harness h(tcp(5s, 2s, 1, 1s));
  TimePoint down_at = h.t0 + 10s, back_at = h.t0 + 40s;
  auto backend = [&](TimePoint t) {
    return t >= down_at && t < back_at ? Backend::kSilent : Backend::kUp;
  };
  h.run(h.t0 + 100s, backend);
  ASSERT_EQ(h.transitions.size(), 2u);
  EXPECT_FALSE(h.transitions[0].up);
  EXPECT_TRUE(h.transitions[1].up);
  // The first probe at or after back_at is the one that brings it up.
  TimePoint first_after = TimePoint::max();
  for (auto s : h.probe_starts) {
    if (s >= back_at) first_after = std::min(first_after, s);
  }
  EXPECT_EQ(h.transitions[1].at, first_after);
  // Within one delay_loop + retry cycle of the recovery: a down TCP_CHECK keeps retrying.
  EXPECT_LE(h.transitions[1].at - back_at, 5s + 2s + 1s);
}

TEST(Checker, BootFailureNeedsNoRetriesAndAlphaStartsDown) {
  Harness h(tcp(5s, 2s, 3, 1s));
  EXPECT_TRUE(h.checker.up());
  h.run(h.t0 + kBootstrapDelay, [](TimePoint) { return Backend::kRefuse; });
  ASSERT_EQ(h.transitions.size(), 1u);  // check_data.c: retry_it = retry at start
  EXPECT_EQ(h.transitions[0].at, h.t0 + kBootstrapDelay);

  CheckerTiming a = tcp(5s, 2s, 1, 1s);
  a.alpha = true;
  Harness ha(a);
  EXPECT_FALSE(ha.checker.up());
  ha.run(ha.t0 + kBootstrapDelay, [](TimePoint) { return Backend::kUp; });
  ASSERT_EQ(ha.transitions.size(), 1u);
  EXPECT_TRUE(ha.transitions[0].up);
  Harness hb(a);  // alpha and failing: stays down, no transition
  hb.run(hb.t0 + 30s, [](TimePoint) { return Backend::kRefuse; });
  EXPECT_TRUE(hb.transitions.empty());
  EXPECT_FALSE(hb.checker.up());
}

TEST(Checker, WarmupSpreadsTheFirstProbeFromTheSeed) {
  CheckerTiming t = tcp(10s, 1s, 1, 1s);
  t.warmup = 10s;
  std::set<TimePoint::rep> firsts;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    Random r(seed);
    TimePoint t0{std::chrono::seconds(1000)};
    Checker c(t, t0, r);
    EXPECT_GE(c.next_deadline(), t0 + kBootstrapDelay);
    EXPECT_LE(c.next_deadline(), t0 + kBootstrapDelay + 10s);
    firsts.insert(c.next_deadline().time_since_epoch().count());
    Random again(seed);
    EXPECT_EQ(Checker(t, t0, again).next_deadline(), c.next_deadline());  // replayable
  }
  EXPECT_GT(firsts.size(), 15u);
}

TEST(Checker, TimeoutAbortsTheProbeAndLateOutcomesAreIgnored) {
  Random r(1);
  TimePoint t0{std::chrono::seconds(1000)};
  Checker c(tcp(5s, 2s, 0, 1s), t0, r);
  c.tick(t0 + kBootstrapDelay);
  auto a = c.take_actions();
  ASSERT_EQ(a.size(), 1u);
  uint64_t id = std::get<StartProbe>(a[0]).id;
  EXPECT_EQ(std::get<StartProbe>(a[0]).timeout, 2s);
  EXPECT_EQ(c.next_deadline(), t0 + kBootstrapDelay + 2s);
  c.tick(t0 + kBootstrapDelay + 2s);
  a = c.take_actions();
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(std::get<AbortProbe>(a[0]).id, id);
  EXPECT_FALSE(std::get<CheckerState>(a[1]).up);
  c.on_outcome(id, t0 + kBootstrapDelay + 3s, ProbeOutcome::ok());  // too late
  EXPECT_FALSE(c.up());
  EXPECT_TRUE(c.take_actions().empty());
}

TEST(Checker, MiscExitStatusAsKeepalived) {
  EXPECT_TRUE(ProbeOutcome::from_exit_status(0, false).success);
  EXPECT_FALSE(ProbeOutcome::from_exit_status(1, false).success);
  EXPECT_FALSE(ProbeOutcome::from_exit_status(2, false).success);
  EXPECT_FALSE(ProbeOutcome::from_exit_status(1, true).success);
  auto z = ProbeOutcome::from_exit_status(0, true);
  EXPECT_TRUE(z.success);
  EXPECT_EQ(z.weight, std::nullopt);
  for (int code = 2; code <= 255; ++code) {
    auto o = ProbeOutcome::from_exit_status(code, true);
    EXPECT_TRUE(o.success) << code;
    EXPECT_EQ(o.weight, code - 2) << code;
  }
}

// MISC_CHECK: retry 0 by default, the delay runs from the script's start, dynamic weights come and
// go with exit codes, a final failure drops the dynamic weight.
TEST(Checker, MiscDynamicWeightAndScheduleFromStart) {
  CheckerTiming t = tcp(5s, 5s, 0, 1s);
  t.misc = true;
  Random r(1);
  TimePoint t0{std::chrono::seconds(1000)};
  Checker c(t, t0, r);
  std::vector<int> codes = {12, 12, 0, 7, 1, 0};
  std::vector<std::optional<int>> weights;
  std::vector<bool> states;
  TimePoint start = t0 + kBootstrapDelay;
  for (int code : codes) {
    ASSERT_EQ(c.next_deadline(), start);
    c.tick(start);
    auto a = c.take_actions();
    ASSERT_EQ(a.size(), 1u);
    uint64_t id = std::get<StartProbe>(a[0]).id;
    c.on_outcome(id, start + 2s, ProbeOutcome::from_exit_status(code, true));  // runs 2 s
    for (auto& x : c.take_actions()) {
      if (auto* w = std::get_if<DynamicWeight>(&x)) weights.push_back(w->weight);
      if (auto* s = std::get_if<CheckerState>(&x)) states.push_back(s->up);
    }
    start += 5s;  // from the start, not the end (which would be + 7 s)
  }
  std::vector<std::optional<int>> want_w = {10, std::nullopt, 5, std::nullopt};
  EXPECT_EQ(weights, want_w);
  EXPECT_EQ(states, (std::vector<bool>{false, true}));
}

TEST(Checker, MigrateKeepsStateAndSchedule) {
  Harness h(tcp(5s, 2s, 1, 1s));
  h.run(h.t0 + 30s, [](TimePoint) { return Backend::kRefuse; });
  ASSERT_FALSE(h.checker.up());
  Checker m = Checker::migrate(h.checker, tcp(5s, 2s, 1, 1s));
  EXPECT_FALSE(m.up());
  EXPECT_EQ(m.next_deadline(), h.checker.next_deadline());
}

}  // namespace

namespace {

// UDP_CHECK without require_reply (layer4.c udp_socket_state()): a server that says nothing
// passes at every timeout; one that errors (ICMP port unreachable) is removed.
TEST(Checker, QuietUdpPassesAtTheTimeout) {
  CheckerTiming t = tcp(5s, 2s, 1, 1s);
  t.timeout_passes = true;
  t.retry_only_up = true;
  Harness h(t);
  h.run(h.t0 + 60s, [](TimePoint) { return Backend::kSilent; });
  EXPECT_TRUE(h.checker.up());
  EXPECT_TRUE(h.transitions.empty());
  // Each probe runs its full timeout, then the next delay_loop later: 1 s + k × (2 s + 5 s).
  ASSERT_GE(h.probe_starts.size(), 3u);
  EXPECT_EQ(h.probe_starts[1] - h.probe_starts[0], 7s);
  Harness r(t);
  r.run(r.t0 + 60s,
        [&](TimePoint at) { return at < r.t0 + 20s ? Backend::kSilent : Backend::kRefuse; });
  ASSERT_EQ(r.transitions.size(), 1u);
  EXPECT_FALSE(r.transitions[0].up);
}

// The engine reports the quiet timeout as a passing abort (lb/show says so).
TEST(Checker, QuietTimeoutAbortSaysItPassed) {
  Random random{1};
  CheckerTiming t = tcp(5s, 2s, 1, 1s);
  t.timeout_passes = true;
  TimePoint t0{std::chrono::seconds(10)};
  Checker c(t, t0, random);
  c.tick(c.next_deadline());
  auto start = c.take_actions();
  ASSERT_EQ(start.size(), 1u);
  c.tick(c.next_deadline());
  auto a = c.take_actions();
  ASSERT_FALSE(a.empty());
  auto* abort = std::get_if<AbortProbe>(&a[0]);
  ASSERT_NE(abort, nullptr);
  EXPECT_TRUE(abort->success);
}

// DNS_CHECK, UDP_CHECK, PING_CHECK (dns_final(), udp_epilog(), icmp_epilog()): a checker that is
// down probes every delay_loop, without retries; TCP_CHECK retries even when down.
TEST(Checker, DownDatagramCheckersDoNotRetry) {
  for (bool only_up : {false, true}) {
    CheckerTiming t = tcp(10s, 1s, 2, 3s);
    t.retry_only_up = only_up;
    Harness h(t);
    h.run(h.t0 + 100s, [](TimePoint) { return Backend::kRefuse; });
    ASSERT_EQ(h.transitions.size(), 1u);  // down at boot (the first failure)
    std::vector<Duration> gaps;
    for (size_t i = 1; i < h.probe_starts.size(); ++i)
      gaps.push_back(h.probe_starts[i] - h.probe_starts[i - 1]);
    ASSERT_GE(gaps.size(), 4u);
    if (only_up) {
      for (auto g : gaps) EXPECT_EQ(g, 10s);
    } else {
      EXPECT_EQ(gaps[0], 10s);
      EXPECT_EQ(gaps[1], 3s);  // retries while down
      EXPECT_EQ(gaps[2], 3s);
      EXPECT_EQ(gaps[3], 10s);
    }
  }
}

}  // namespace
