#include "lb/scheduler.hh"

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "base/random.hh"

using namespace vnet;
using namespace vnet::lb;

namespace {

Endpoint ip(const std::string& a, uint16_t port = 80) { return *Endpoint::parse(a, port); }

std::vector<Dest> dests(std::initializer_list<int> weights) {
  std::vector<Dest> out;
  int i = 1;
  for (int w : weights) out.push_back({ip("10.0.0." + std::to_string(i++)), w});
  return out;
}

std::unique_ptr<Scheduler> make(const std::string& name, const SchedulerOptions& o = {}) {
  auto s = make_scheduler(name, o);
  EXPECT_TRUE(s) << (s ? "" : s.error().message);
  return std::move(*s);
}

// Letters for destination indices: 0 -> 'A'.
std::string picks(Scheduler& s, std::span<const Dest> d, int n, const Flow& f = {}) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    auto k = s.schedule(d, f);
    out += k ? char('A' + *k) : '-';
  }
  return out;
}

// IPVS services are created empty and destinations added one by one (ipvsadm -a, keepalived's
// ADD_DEST); each addition calls the scheduler's add_dest hook.
void add_one_by_one(Scheduler& s, const std::vector<Dest>& all) {
  s.update({});
  for (size_t n = 1; n <= all.size(); ++n) s.update(std::span(all.data(), n));
}

TEST(RoundRobin, CyclesSkippingQuiescentAndOverloaded) {
  auto s = make("rr");
  auto d = dests({1, 0, 5, 1});
  d[3].overloaded = true;
  s->update(d);
  EXPECT_EQ(picks(*s, d, 6), "ACACAC");
  auto none = dests({0, 0});
  s->update(none);
  EXPECT_EQ(picks(*s, none, 1), "-");
}

TEST(RoundRobin, KeepsItsPlaceWhenTheListChanges) {
  auto s = make("rr");
  auto d = dests({1, 1, 1, 1});
  s->update(d);
  EXPECT_EQ(picks(*s, d, 2), "AB");  // cursor on B
  std::vector<Dest> without_b = {d[0], d[2], d[3]};
  s->update(without_b);  // B removed: continue after its predecessor A, i.e. with C
  EXPECT_EQ(picks(*s, without_b, 4), "BCAB");
}

// ip_vs_wrr.c for weights 4, 3, 2 (gcd 1, max 4). Added one by one as IPVS does, the current
// weight is 1 after the additions (dest_changed keeps cw when it is in range), so the first pass
// takes everyone, then the passes cw = 4, 3, 2, 1 repeat.
TEST(WeightedRoundRobin, SequenceOfIpvsForWeights432) {
  auto s = make("wrr");
  auto d = dests({4, 3, 2});
  add_one_by_one(*s, d);
  EXPECT_EQ(picks(*s, d, 3 + 9 * 3),
            "ABC"
            "AABABCABC"
            "AABABCABC"
            "AABABCABC");
}

TEST(WeightedRoundRobin, SequenceFromAFreshMark) {
  // One update from the empty state: cw starts at mw (as ip_vs_wrr_init_svc with the list).
  auto s = make("wrr");
  auto d = dests({4, 3, 2});
  s->update(d);
  EXPECT_EQ(picks(*s, d, 18),
            "AABABCABC"
            "AABABCABC");
}

TEST(WeightedRoundRobin, GcdStepping) {
  auto s = make("wrr");
  auto d = dests({4, 2});  // di = 2, mw = 4 - (2 - 1) = 3: passes cw = 3, 1
  s->update(d);
  EXPECT_EQ(picks(*s, d, 9), "AABAABAAB");
  auto fresh = make("wrr");
  auto e = dests({6, 4, 2});  // di = 2, mw = 5: passes 5, 3, 1
  fresh->update(e);
  EXPECT_EQ(picks(*fresh, e, 12), "AABABCAABABC");
  // On a scheduler with history, dest_changed keeps the current weight (rounded to the new gcd
  // grid): after "AABAABAAB" on 4, 2 the current weight is 1, so the next pass takes everyone.
  s->update(e);
  EXPECT_EQ(picks(*s, e, 12), "ABCAABABCAAB");
}

TEST(WeightedRoundRobin, ProportionalOverAPeriodAndNoneWhenAllZero) {
  auto s = make("wrr");
  auto d = dests({5, 0, 3, 7});
  add_one_by_one(*s, d);
  std::map<char, int> count;
  std::string seq = picks(*s, d, 15 * 20);
  for (char c : seq) ++count[c];
  // The first period may be shifted by the additions' cw; over 20 periods the shares are exact
  // to within one period.
  EXPECT_NEAR(count['A'], 100, 5);
  EXPECT_EQ(count['B'], 0);
  EXPECT_NEAR(count['C'], 60, 3);
  EXPECT_NEAR(count['D'], 140, 7);
  auto z = dests({0, 0});
  s->update(z);
  EXPECT_EQ(picks(*s, z, 2), "--");
  auto o = dests({2, 1});
  o[0].overloaded = o[1].overloaded = true;
  s->update(o);
  EXPECT_EQ(picks(*s, o, 2), "--");
}

TEST(LeastConnection, OverheadIsActiveTimes256PlusInactive) {
  EXPECT_EQ(conn_overhead({ip("10.0.0.1"), 1, 1, 0}), 256);
  EXPECT_EQ(conn_overhead({ip("10.0.0.1"), 1, 2, 7}), 519);
  auto s = make("lc");
  auto d = dests({1, 1, 1});
  d[0].active = 1;      // 256
  d[1].inactive = 255;  // 255
  d[2].inactive = 300;  // 300
  EXPECT_EQ(s->schedule(d, {}), 1u);
  d[1].inactive = 256;  // tie with A: the first wins
  EXPECT_EQ(s->schedule(d, {}), 0u);
  d[0].weight = 0;  // quiescent: skipped
  EXPECT_EQ(s->schedule(d, {}), 1u);
}

TEST(WeightedLeastConnection, OverheadPerWeight) {
  auto s = make("wlc");
  auto d = dests({2, 1});
  d[0].active = 2;      // 512 / 2 = 256
  d[1].inactive = 255;  // 255 / 1
  EXPECT_EQ(s->schedule(d, {}), 1u);
  d[1].inactive = 256;  // 256 / 1: tie, the first available wins
  EXPECT_EQ(s->schedule(d, {}), 0u);
  d[0].overloaded = true;
  EXPECT_EQ(s->schedule(d, {}), 1u);
  // Empty servers: the first; then the heavier weight absorbs more before the other is chosen.
  auto e = dests({3, 1});
  EXPECT_EQ(s->schedule(e, {}), 0u);
  e[0].active = 3;  // 768 / 3 = 256 > 0 / 1
  EXPECT_EQ(s->schedule(e, {}), 1u);
}

TEST(ShortestExpectedDelay, ActivePlusOnePerWeightFirstWinsTies) {
  // ip_vs_sed.c: overhead = active + 1 (inactive connections do not count), least
  // overhead / weight by cross multiplication, the first available destination on ties.
  auto s = make("sed");
  auto d = dests({3, 1});
  EXPECT_EQ(s->schedule(d, {}), 0u);  // 1/3 < 1/1
  d[0].active = 2;                    // 3/3 = 1/1: tie, the first wins
  EXPECT_EQ(s->schedule(d, {}), 0u);
  d[0].active = 3;  // 4/3 > 1/1
  EXPECT_EQ(s->schedule(d, {}), 1u);
  d[1].inactive = 1000;  // inactive does not count (wlc would now pick 0)
  EXPECT_EQ(s->schedule(d, {}), 1u);
  d[1].weight = 0;  // quiescent: never picked
  EXPECT_EQ(s->schedule(d, {}), 0u);
  d[0].overloaded = true;
  EXPECT_EQ(s->schedule(d, {}), std::nullopt);
  // Sed differs from wlc: with weights 1 and 2 and no connections wlc takes the first (0/1 =
  // 0/2), sed the heavier one (1/2 < 1/1).
  auto e = dests({1, 2});
  EXPECT_EQ(make("wlc")->schedule(e, {}), 0u);
  EXPECT_EQ(s->schedule(e, {}), 1u);
}

TEST(NeverQueue, FirstIdleServerElseSed) {
  auto s = make("nq");
  auto d = dests({1, 5, 1});
  d[0].active = 1;
  d[1].active = 2;
  EXPECT_EQ(s->schedule(d, {}), 2u);  // the only idle one, whatever the weights
  d[2].inactive = 50;                 // inactive connections do not make it busy
  EXPECT_EQ(s->schedule(d, {}), 2u);
  d[2].active = 1;  // all busy: sed, (2+1)/5 < (1+1)/1
  EXPECT_EQ(s->schedule(d, {}), 1u);
  d[1].active = 9;  // 10/5 = 2/1: tie, the first in list order
  EXPECT_EQ(s->schedule(d, {}), 0u);
  d[0].active = 0;
  d[2].active = 0;  // two idle: the first one in list order
  EXPECT_EQ(s->schedule(d, {}), 0u);
  d[0].weight = 0;  // quiescent idle server is skipped
  EXPECT_EQ(s->schedule(d, {}), 2u);
}

TEST(WeightedFailover, HighestWeightFirstOnTies) {
  auto s = make("fo");
  auto d = dests({2, 5, 5});
  d[1].active = 1000;  // connections do not matter
  EXPECT_EQ(s->schedule(d, {}), 1u);
  d[1].overloaded = true;
  EXPECT_EQ(s->schedule(d, {}), 2u);
  d[2].weight = 0;
  EXPECT_EQ(s->schedule(d, {}), 0u);
}

TEST(WeightedOverflow, HighestWeightUntilActiveExceedsIt) {
  auto s = make("ovf");
  auto d = dests({3, 1});
  d[0].active = 3;  // active == weight: still eligible (ip_vs_ovf.c skips active > weight)
  EXPECT_EQ(s->schedule(d, {}), 0u);
  d[0].active = 4;
  EXPECT_EQ(s->schedule(d, {}), 1u);
  d[1].active = 2;
  EXPECT_EQ(s->schedule(d, {}), std::nullopt);
}

TEST(SourceHash, BucketsAndHashAsIpvs) {
  // hash_32(0x0a000001, 8) = 39, hash_32(0x0a000002, 8) = 137, hash_32(0xc0a80001, 8) = 192
  // (computed by hand from GOLDEN_RATIO_32 = 0x61C88647).
  EXPECT_EQ(source_hash_bucket({ip("10.0.0.1", 0)}, false), 39u);
  EXPECT_EQ(source_hash_bucket({ip("10.0.0.2", 0)}, false), 137u);
  EXPECT_EQ(source_hash_bucket({ip("192.168.0.1", 0)}, false), 192u);
  auto s = make("sh");
  auto d = dests({1, 1, 1});  // buckets 0,1,2,0,1,2,...: bucket b -> b % 3
  s->update(d);
  EXPECT_EQ(s->schedule(d, {ip("10.0.0.1", 1234)}), 39u % 3);
  EXPECT_EQ(s->schedule(d, {ip("10.0.0.2", 1)}), 137u % 3);
  EXPECT_EQ(s->schedule(d, {ip("192.168.0.1", 9)}), 192u % 3);
  auto w = dests({2, 1});  // buckets A,A,B,A,A,B,...: bucket b -> A unless b % 3 == 2
  s->update(w);
  EXPECT_EQ(s->schedule(w, {ip("10.0.0.1")}), 39u % 3 == 2 ? 1u : 0u);
  EXPECT_EQ(s->schedule(w, {ip("10.0.0.2")}), 137u % 3 == 2 ? 1u : 0u);
}

TEST(SourceHash, QuiescentServerDropsWithoutFallbackAndReselectsWithIt) {
  auto d = dests({1, 1, 1});
  Flow f{ip("10.0.0.1")};  // bucket 39 -> index 0
  d[0].weight = 0;
  auto plain = make("sh");
  plain->update(d);
  EXPECT_EQ(plain->schedule(d, f), std::nullopt);
  SchedulerOptions o;
  o.sh_fallback = true;
  auto fb = make("sh", o);
  fb->update(d);
  auto k = fb->schedule(d, f);
  ASSERT_TRUE(k);
  EXPECT_NE(*k, 0u);
}

// The fraction of `flows` whose destination differs between two schedulers (compared by address).
double moved(Scheduler& a, std::span<const Dest> da, Scheduler& b, std::span<const Dest> db,
             const std::vector<Flow>& flows) {
  int n = 0;
  for (auto& f : flows) {
    auto x = a.schedule(da, f), y = b.schedule(db, f);
    if (!x || !y || da[*x].addr != db[*y].addr) ++n;
  }
  return double(n) / double(flows.size());
}

std::vector<Flow> random_flows(uint64_t seed, int n) {
  Random r(seed);
  std::vector<Flow> out;
  for (int i = 0; i < n; ++i) {
    Endpoint e;
    e.v4.value = uint32_t(r.between(0, 0xffffffff));
    out.push_back({e});
  }
  return out;
}

TEST(Maglev, TableSizeIsIpvsDefaultAndValidated) {
  EXPECT_EQ(SchedulerOptions{}.mh_table_size, 4093u);  // primes[CONFIG_IP_VS_MH_TAB_INDEX(12) - 8]
  SchedulerOptions bad;
  bad.mh_table_size = 1000;
  auto s = make_scheduler("mh", bad);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("mh table size 1000: expected one of 251,"), std::string::npos);
}

TEST(Maglev, EqualServersShareTheFlows) {
  for (uint32_t size : {251u, 4093u}) {
    SchedulerOptions o;
    o.mh_table_size = size;
    auto s = make("mh", o);
    auto d = dests({1, 1, 1, 1, 1});
    s->update(d);
    std::map<size_t, int> count;
    auto flows = random_flows(7, 50'000);
    for (auto& f : flows) ++count[*s->schedule(d, f)];
    for (auto& [k, c] : count) EXPECT_NEAR(c, 10'000, 10'000 * 0.08) << "size " << size;
  }
}

TEST(Maglev, WeightsGiveProportionalShares) {
  auto s = make("mh");
  auto d = dests({3, 1});
  s->update(d);
  int a = 0;
  auto flows = random_flows(11, 40'000);
  for (auto& f : flows) a += *s->schedule(d, f) == 0;
  EXPECT_NEAR(double(a) / 40'000, 0.75, 0.02);
}

// The worst share of flows that move when one of n equal servers is removed, or added back.
double worst_disruption(uint32_t size, int n, const std::vector<Flow>& flows) {
  double worst = 0;
  for (int gone = 0; gone < n; ++gone) {
    SchedulerOptions o;
    o.mh_table_size = size;
    std::vector<Dest> all;
    for (int i = 0; i < n; ++i) all.push_back({ip("10.1.0." + std::to_string(i + 1)), 1});
    std::vector<Dest> fewer = all;
    fewer.erase(fewer.begin() + gone);
    auto before = make("mh", o), after = make("mh", o);
    before->update(all);
    after->update(fewer);
    worst = std::max(worst, moved(*before, all, *after, fewer, flows));
    worst = std::max(worst, moved(*after, fewer, *before, all, flows));
  }
  return worst;
}

// The Maglev property (anchors §4(d)): removing one of N equal real servers moves at most
// 1/N + 1 % of flows, and adding one back at most as many. Maglev meets it with a table large
// against N (Eisenbud et al. §3.4 use M = 65537): here the largest IPVS table below 2^16.
TEST(Maglev, RemovingOneOfNMovesAtMostOneNthPlusOnePercent) {
  auto flows = random_flows(42, 100'000);
  for (int n : {2, 3, 5, 8, 10}) {
    EXPECT_LE(worst_disruption(65521, n, flows), 1.0 / n + 0.01) << n << " servers";
  }
}

// At IPVS's default table (4093) the same property does not hold for every N: permutation
// collisions move up to about 1/N + 2 % in the worst case (measured here: N = 5, 22.0 %;
// N = 10, 11.4 %; random permutations in place of our hash give 20.6 % and 11.5 %, so it is
// Maglev's, not the hash's). At 251 entries (the smallest IPVS table) it is farther off (N = 10:
// 18.6 %). This guards the measured figures.
TEST(Maglev, DisruptionAtTheDefaultTable) {
  auto flows = random_flows(42, 100'000);
  for (int n : {2, 3, 5, 8, 10}) {
    EXPECT_LE(worst_disruption(4093, n, flows), 1.0 / n + 0.025) << n << " servers";
  }
  EXPECT_GT(worst_disruption(251, 10, flows), 1.0 / 10 + 0.05);
}

TEST(Maglev, QuiescentServerKeepsItsSlotsFallbackReselects) {
  auto d = dests({1, 1, 1});
  auto s = make("mh");
  s->update(d);
  auto flows = random_flows(3, 2000);
  std::vector<std::optional<size_t>> first;
  for (auto& f : flows) first.push_back(s->schedule(d, f));
  d[1].overloaded = true;  // no update: IPVS overload does not rebuild the table
  SchedulerOptions o;
  o.mh_fallback = true;
  auto fb = make("mh", o);
  fb->update(dests({1, 1, 1}));
  for (size_t i = 0; i < flows.size(); ++i) {
    auto now = s->schedule(d, flows[i]);
    if (first[i] == 1u) {
      EXPECT_EQ(now, std::nullopt);
      auto re = fb->schedule(d, flows[i]);
      ASSERT_TRUE(re);
      EXPECT_NE(*re, 1u);
    } else {
      EXPECT_EQ(now, first[i]);  // the others are not disturbed
    }
  }
}

TEST(Schedulers, NamesAndErrors) {
  for (auto n : {"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf",
                 "mh", "twos"})
    EXPECT_TRUE(is_ipvs_scheduler(n)) << n;
  EXPECT_FALSE(is_ipvs_scheduler("random"));
  for (auto n : {"rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf",
                 "mh", "twos"}) {
    auto made = make_scheduler(n);
    ASSERT_TRUE(made) << n;
    EXPECT_EQ((*made)->name(), n);
  }
  auto s = make_scheduler("random");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message,
            "unknown scheduler 'random': expected one of rr, wrr, lc, wlc, lblc, lblcr, dh, sh, "
            "sed, nq, fo, ovf, mh, twos");
}

TEST(DestinationHash, BucketsAndHashAsIpvs) {
  // ip_vs_dh_hashkey: (ntohl(addr) * 2654435761) & 255; 10.0.0.100 → 0x0a000064 → bucket 36,
  // 10.0.0.1 → 177 (computed: python3 -c 'print((0x0a000064*2654435761) % 2**32 & 255)').
  EXPECT_EQ(dest_hash_bucket(0x0a000064u), 36u);
  EXPECT_EQ(dest_hash_bucket(0x0a000001u), 177u);
  auto d = dests({5, 1, 1});
  auto t = dest_hash_table(d);  // ip_vs_dh_reassign: one bucket each in turn, weights ignored
  ASSERT_EQ(t.size(), 256u);
  for (size_t b = 0; b < t.size(); ++b) EXPECT_EQ(t[b], int(b % 3));
  auto s = make("dh");
  s->update(d);
  Flow f;
  f.daddr = ip("10.0.0.100");
  EXPECT_EQ(picks(*s, d, 4, f), "AAAA");  // bucket 36 → 36 % 3 = 0, for every client
  f.daddr = ip("10.0.0.1");
  EXPECT_EQ(picks(*s, d, 1, f), "A");  // 177 % 3 = 0
  f.daddr = ip("10.0.0.2");            // (0x0a000002 * 2654435761) & 255 = 98: 98 % 3 = 2
  EXPECT_EQ(picks(*s, d, 1, f), "C");
  d[2].weight = 0;  // quiescent: its buckets schedule nothing (no fallback in ip_vs_dh.c)
  EXPECT_EQ(picks(*s, d, 1, f), "-");
  s->update({});
  EXPECT_EQ(s->schedule({}, f), std::nullopt);
  EXPECT_EQ(dest_hash_table({}), std::vector<int>(256, -1));
}

TEST(Maglev, TableOfTheDatapathIsTheSchedulersTable) {
  auto d = dests({1, 1, 1});
  auto t = maglev_table(d, 4093);
  ASSERT_EQ(t.size(), 4093u);
  std::map<int, int> n;
  for (int x : t) ++n[x];
  EXPECT_EQ(n.count(-1), 0u);                                       // every slot filled
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(n[i], 4093 / 3, 2) << i;  // Maglev: within one slot
  auto w = dests({3, 1, 0});
  auto tw = maglev_table(w, 251);
  std::map<int, int> m;
  for (int x : tw) ++m[x];
  EXPECT_EQ(m.count(2), 0u);  // weight 0: no slot (ip_vs_mh_permutate: turns 0)
  EXPECT_NEAR(m[0], 188, 2);  // 3/4 of 251
  EXPECT_EQ(maglev_table(dests({0, 0}), 251), std::vector<int>(251, -1));
  // The same table the scheduler looks flows up in: a flow's choice is one of the table's.
  auto s = make("mh", SchedulerOptions{.mh_table_size = 251});
  s->update(w);
  for (int c = 1; c < 50; ++c) {
    Flow f{ip("192.168.0." + std::to_string(c), 1000)};
    auto k = s->schedule(w, f);
    ASSERT_TRUE(k);
    EXPECT_NE(*k, 2u);
  }
}

// ip_vs_twos.c: r = rand % (Σw + 1); the first destination where r - Σ(w so far) <= 0. With
// three weight-1 servers r ∈ {0,1,2,3} lands on A, A, B, C: the first server is drawn half the
// time (the kernel's "+1").
TEST(PowerOfTwo, DrawsAsIpvsAndKeepsTheLessLoaded) {
  auto d = dests({1, 1, 1});
  auto s = make("twos", SchedulerOptions{.seed = 7});
  s->update(d);
  std::map<char, int> n;
  for (char c : picks(*s, d, 4000)) ++n[c];
  // Equal overheads: the first draw stands. A 1/2, B 1/4, C 1/4.
  EXPECT_NEAR(n['A'], 2000, 150);
  EXPECT_NEAR(n['B'], 1000, 150);
  EXPECT_NEAR(n['C'], 1000, 150);
  // A idle, B and C loaded: A wins whenever either draw is A: 1 - 1/4 = 3/4.
  d[1].active = d[2].active = 100;
  n.clear();
  for (char c : picks(*s, d, 4000)) ++n[c];
  EXPECT_NEAR(n['A'], 3000, 150);
  // B idle, A and C loaded: B wins whenever either draw is B: 1 - (3/4)^2 = 7/16; otherwise the
  // first draw stands (equal overheads): A 1/2 × 3/4 = 3/8, C 1/4 × 3/4 = 3/16.
  d[0].active = 100;
  d[1].active = 0;
  n.clear();
  for (char c : picks(*s, d, 4000)) ++n[c];
  EXPECT_NEAR(n['B'], 1750, 150);
  EXPECT_NEAR(n['A'], 1500, 150);
  EXPECT_NEAR(n['C'], 750, 150);
  // Quiescent and overloaded servers are never drawn; none available: nothing.
  d[1].weight = 0;
  d[2].overloaded = true;
  EXPECT_EQ(picks(*s, d, 20), std::string(20, 'A'));
  d[0].weight = 0;
  EXPECT_EQ(picks(*s, d, 1), "-");
}

TEST(PowerOfTwo, SeededRunsReplay) {
  auto d = dests({2, 3, 5});
  auto a = make("twos", SchedulerOptions{.seed = 42});
  auto b = make("twos", SchedulerOptions{.seed = 42});
  auto c = make("twos", SchedulerOptions{.seed = 43});
  std::string pa = picks(*a, d, 64), pb = picks(*b, d, 64), pc = picks(*c, d, 64);
  EXPECT_EQ(pa, pb);
  EXPECT_NE(pa, pc);
}

Flow to(const std::string& daddr, TimePoint now = TimePoint{}) {
  Flow f;
  f.daddr = ip(daddr);
  f.now = now;
  return f;
}

// ip_vs_lblc.c: a destination address keeps its real server until that one has more active
// connections than its weight while another is below half of its weight; then wlc's choice.
TEST(LocalityLeastConnection, KeepsTheServerUntilOverloaded) {
  auto d = dests({4, 4, 4});
  auto s = make("lblc");
  s->update(d);
  d[0].active = 1;  // wlc: B (the first of the least loaded)
  EXPECT_EQ(picks(*s, d, 1, to("10.9.0.1")), "B");
  d[1].active = 4;  // = weight: not overloaded, kept although A and C are less loaded
  EXPECT_EQ(picks(*s, d, 3, to("10.9.0.1")), "BBB");
  EXPECT_EQ(picks(*s, d, 1, to("10.9.0.2")), "C");  // another address: its own choice
  d[1].active = 5;  // > weight, and A (1 × 2 < 4) is below half its weight: rescheduled
  EXPECT_EQ(picks(*s, d, 1, to("10.9.0.1")), "C");  // wlc: C (0) before A (1)
  EXPECT_EQ(picks(*s, d, 1, to("10.9.0.1")), "C");  // and kept
  // Over weight, but nobody below half of its weight: not overloaded in lblc's sense.
  d = dests({2, 2, 2});
  auto t = make("lblc");
  t->update(d);
  EXPECT_EQ(picks(*t, d, 1, to("10.9.0.1")), "A");
  d[0].active = 9;
  d[1].active = d[2].active = 1;
  EXPECT_EQ(picks(*t, d, 1, to("10.9.0.1")), "A");
  d[2].active = 0;  // C: 0 × 2 < 2
  EXPECT_EQ(picks(*t, d, 1, to("10.9.0.1")), "C");
  // A quiescent or removed server is replaced at once.
  d = dests({1, 1});
  auto u = make("lblc");
  EXPECT_EQ(picks(*u, d, 1, to("10.9.0.1")), "A");
  d[0].weight = 0;
  EXPECT_EQ(picks(*u, d, 1, to("10.9.0.1")), "B");
  d.erase(d.begin() + 1);
  d[0].weight = 1;
  EXPECT_EQ(picks(*u, d, 1, to("10.9.0.1")), "A");
}

TEST(LocalityLeastConnection, EntryExpiresAfterItsIdleTime) {
  auto d = dests({1, 1});
  auto s = make("lblc", SchedulerOptions{.expiration = std::chrono::hours(24)});
  TimePoint t0{};
  EXPECT_EQ(picks(*s, d, 1, to("10.9.0.1", t0)), "A");
  d[0].active = 1;  // = weight: kept
  d[1].active = 0;
  EXPECT_EQ(picks(*s, d, 1, to("10.9.0.1", t0 + std::chrono::hours(23))), "A");
  // Used 23 h ago: still there 24 h after the first use.
  EXPECT_EQ(picks(*s, d, 1, to("10.9.0.1", t0 + std::chrono::hours(46))), "A");
  // Unused for more than 24 h: forgotten, scheduled afresh (B, the less loaded).
  EXPECT_EQ(picks(*s, d, 1, to("10.9.0.1", t0 + std::chrono::hours(71))), "B");
}

// ip_vs_lblcr.c: a set per destination address; its least loaded member serves, an overloaded
// one makes wlc's choice join; a set unchanged for the expiration time loses its most loaded.
TEST(LocalityLeastConnectionReplicated, SetGrowsOnOverloadAndShrinksWhenStable) {
  auto d = dests({2, 2, 2});
  auto s = make("lblcr", SchedulerOptions{.expiration = std::chrono::hours(1)});
  TimePoint t0{};
  EXPECT_EQ(picks(*s, d, 1, to("10.9.0.1", t0)), "A");  // set {A}
  d[0].active = 3;                                      // A overloaded, C below half
  d[1].active = 1;
  EXPECT_EQ(picks(*s, d, 1, to("10.9.0.1", t0)), "C");  // wlc's choice joins: set {C, A}
  d[2].active = 2;  // C at its weight: the set's least loaded, C (2/2) before A (3/2), serves
  EXPECT_EQ(picks(*s, d, 1, to("10.9.0.1", t0)), "C");
  d[2].active = 4;  // the set minimum is now A (3 < 4), overloaded: B (0 × 2 < 2) is below half
  d[1].active = 0;  // its weight; wlc picks B, the set is {B, C, A}
  EXPECT_EQ(picks(*s, d, 1, to("10.9.0.1", t0)), "B");
  d[1].active = 1;  // B 1/2 is the set's least loaded
  EXPECT_EQ(picks(*s, d, 1, to("10.9.0.1", t0 + std::chrono::minutes(30))), "B");
  // Unchanged for over an hour: the most loaded (C, 4/2) leaves; B still serves.
  EXPECT_EQ(picks(*s, d, 1, to("10.9.0.1", t0 + std::chrono::minutes(61))), "B");
  // The set is {B, A} now: with B at 9 its minimum is A (3/2 < 9/2), overloaded since C (out of
  // the set) is below half its weight; wlc's choice, C, joins again and serves.
  d[1].active = 9;
  d[2].active = 0;
  EXPECT_EQ(picks(*s, d, 1, to("10.9.0.1", t0 + std::chrono::minutes(62))), "C");
  d[2].active = 1;  // {C, B, A}: C (1/2) is the least loaded and not overloaded
  EXPECT_EQ(picks(*s, d, 1, to("10.9.0.1", t0 + std::chrono::minutes(63))), "C");
}

}  // namespace
