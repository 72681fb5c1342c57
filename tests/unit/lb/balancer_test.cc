#include "lb/balancer.hh"

#include <gtest/gtest.h>

#include <map>

using namespace vnet;
using namespace vnet::lb;
using namespace std::chrono_literals;

namespace {

Endpoint ip(const std::string& a, uint16_t port = 80) { return *Endpoint::parse(a, port); }

CheckerConfig tcp_check(unsigned retry = 0) {
  CheckerConfig c;
  c.type = CheckerType::kTcp;
  c.timing.delay_loop = 5s;
  c.timing.timeout = 1s;
  c.timing.retry = retry;
  c.timing.delay_before_retry = 1s;
  return c;
}

VirtualServerConfig service(const std::string& vip, int n, int weight = 1) {
  VirtualServerConfig vs;
  vs.key.addr = ip(vip);
  vs.scheduler = "wrr";
  for (int i = 0; i < n; ++i) {
    RealServerConfig rs;
    rs.addr = ip("10.0.1." + std::to_string(i + 1));
    rs.weight = weight;
    rs.notify_up = "up " + rs.addr.to_string();
    rs.notify_down = "down " + rs.addr.to_string();
    rs.checkers.push_back(tcp_check());
    vs.reals.push_back(rs);
  }
  return vs;
}

// The director on a manual clock with a datapath replica that applies every change list (and so
// fails the test if one is out of order), and backends whose health the test sets.
struct Director {
  Random random{7};
  TimePoint now{std::chrono::seconds(1000)};
  Balancer balancer;
  Table datapath;
  std::vector<Change> log;  // every change, in order
  // Health of each checker's target, by (service, real); default healthy.
  std::map<std::pair<size_t, size_t>, bool> healthy;

  explicit Director(LbConfig c) : balancer(std::move(c), now, random) { take(balancer.start()); }

  void take(const Step& s) {
    auto r = apply_changes(datapath, s.changes);
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(datapath, balancer.table());
    log.insert(log.end(), s.changes.begin(), s.changes.end());
    for (auto& p : s.probes) {
      if (auto* start = std::get_if<StartProbe>(&p.action)) {
        auto h = healthy.find({p.ref.service, p.ref.real});
        bool ok = h == healthy.end() || h->second;
        take(balancer.on_outcome(p.ref, start->id, now,
                                 ok ? ProbeOutcome::ok() : ProbeOutcome::failed()));
      }
    }
  }
  // Runs every timer up to `until`.
  void run_until(TimePoint until) {
    while (balancer.next_deadline() <= until) {
      now = std::max(now, balancer.next_deadline());
      take(balancer.tick(now));
    }
    now = until;
  }
  void run_for(Duration d) { run_until(now + d); }
  std::vector<Change> since(size_t mark) const {
    return std::vector<Change>(log.begin() + long(mark), log.end());
  }
  const TableDest* dest(size_t s, const Endpoint& a) const {
    for (auto& d : datapath[s].dests) {
      if (d.addr == a) return &d;
    }
    return nullptr;
  }
};

std::vector<Change::Kind> kinds(const std::vector<Change>& v) {
  std::vector<Change::Kind> k;
  for (auto& c : v) k.push_back(c.kind);
  return k;
}

TEST(Balancer, BootTableAndRemovalAndReAdd) {
  LbConfig c;
  c.services.push_back(service("10.0.0.100", 3));
  Director d(c);
  ASSERT_EQ(d.datapath.size(), 1u);
  EXPECT_EQ(d.datapath[0].dests.size(), 3u);
  EXPECT_EQ(kinds(d.log), (std::vector<Change::Kind>{Change::kAddService, Change::kAddDest,
                                                     Change::kAddDest, Change::kAddDest}));
  d.run_for(10s);
  size_t mark = d.log.size();
  d.healthy[{0, 1}] = false;
  d.run_for(10s);
  EXPECT_EQ(d.dest(0, ip("10.0.1.2")), nullptr);
  auto ch = d.since(mark);
  ASSERT_EQ(ch.size(), 2u);
  EXPECT_EQ(ch[0].kind, Change::kDelDest);
  EXPECT_EQ(ch[1].kind, Change::kNotifyDown);
  EXPECT_EQ(ch[1].script, "down 10.0.1.2:80");
  mark = d.log.size();
  d.healthy[{0, 1}] = true;
  d.run_for(10s);
  ASSERT_NE(d.dest(0, ip("10.0.1.2")), nullptr);
  EXPECT_EQ(d.dest(0, ip("10.0.1.2"))->weight, 1);
  EXPECT_EQ(kinds(d.since(mark)), (std::vector<Change::Kind>{Change::kAddDest, Change::kNotifyUp}));
}

TEST(Balancer, InhibitOnFailureSetsWeightZero) {
  LbConfig c;
  c.services.push_back(service("10.0.0.100", 2, 5));
  c.services[0].reals[0].inhibit = true;
  Director d(c);
  d.healthy[{0, 0}] = false;
  size_t mark = d.log.size();
  d.run_for(10s);
  ASSERT_NE(d.dest(0, ip("10.0.1.1")), nullptr);
  EXPECT_EQ(d.dest(0, ip("10.0.1.1"))->weight, 0);
  EXPECT_EQ(d.since(mark)[0].kind, Change::kEditDest);
  d.healthy[{0, 0}] = true;
  d.run_for(10s);
  EXPECT_EQ(d.dest(0, ip("10.0.1.1"))->weight, 5);
}

TEST(Balancer, QuorumLossBringsTheSorryServerInOrder) {
  LbConfig c;
  c.services.push_back(service("10.0.0.100", 3));
  auto& vs = c.services[0];
  vs.quorum = 2;
  vs.sorry_server = ip("10.0.9.9");
  vs.quorum_up = "qup";
  vs.quorum_down = "qdown";
  Director d(c);
  d.healthy[{0, 0}] = false;
  d.run_for(10s);
  EXPECT_TRUE(d.balancer.quorum_up(0));  // 2 >= 2
  size_t mark = d.log.size();
  d.healthy[{0, 1}] = false;
  d.run_for(10s);
  EXPECT_FALSE(d.balancer.quorum_up(0));
  ASSERT_EQ(d.datapath[0].dests.size(), 1u);
  EXPECT_TRUE(d.datapath[0].dests[0].sorry);
  EXPECT_EQ(d.datapath[0].dests[0].addr, ip("10.0.9.9"));
  // Old destinations leave before the sorry server comes (keepalived PR #1370's order).
  auto ch = d.since(mark);
  EXPECT_EQ(kinds(ch),
            (std::vector<Change::Kind>{Change::kDelDest, Change::kDelDest, Change::kAddDest,
                                       Change::kNotifyDown, Change::kQuorumDown}));
  EXPECT_EQ(ch.back().script, "qdown");
  mark = d.log.size();
  d.healthy[{0, 0}] = true;
  d.run_for(10s);
  EXPECT_TRUE(d.balancer.quorum_up(0));
  EXPECT_EQ(d.datapath[0].dests.size(), 2u);
  EXPECT_EQ(d.dest(0, ip("10.0.9.9")), nullptr);
  EXPECT_EQ(d.since(mark).back().kind, Change::kQuorumUp);
}

TEST(Balancer, HysteresisAndNextQuorum) {
  // quorum 3, hysteresis 1: up needs 4, down below 2.
  EXPECT_TRUE(next_quorum(true, 2, 3, 1));
  EXPECT_FALSE(next_quorum(true, 1, 3, 1));
  EXPECT_FALSE(next_quorum(false, 3, 3, 1));
  EXPECT_TRUE(next_quorum(false, 4, 3, 1));
  EXPECT_FALSE(next_quorum(true, 0, 1, 0));
  LbConfig c;
  c.services.push_back(service("10.0.0.100", 4));
  c.services[0].quorum = 3;
  c.services[0].hysteresis = 1;
  c.services[0].sorry_server = ip("10.0.9.9");
  Director d(c);
  for (size_t r = 0; r < 3; ++r) {
    d.healthy[{0, r}] = false;
    d.run_for(10s);
    EXPECT_EQ(d.balancer.quorum_up(0), r < 2) << r + 1 << " down";
  }
  d.healthy[{0, 0}] = true;
  d.run_for(10s);
  EXPECT_FALSE(d.balancer.quorum_up(0));  // 2 < 4
  d.healthy[{0, 1}] = true;
  d.run_for(10s);
  EXPECT_FALSE(d.balancer.quorum_up(0));  // 3 < 4
  d.healthy[{0, 2}] = true;
  d.run_for(10s);
  EXPECT_TRUE(d.balancer.quorum_up(0));
}

TEST(Balancer, SorryServerInhibitAndAlphaAndOmega) {
  LbConfig c;
  c.services.push_back(service("10.0.0.100", 2));
  auto& vs = c.services[0];
  vs.sorry_server = ip("10.0.9.9");
  vs.sorry_server_inhibit = true;
  vs.omega = true;
  vs.reals[1].checkers[0].timing.alpha = true;
  Director d(c);
  ASSERT_NE(d.dest(0, ip("10.0.9.9")), nullptr);
  EXPECT_EQ(d.dest(0, ip("10.0.9.9"))->weight, 0);  // inhibited while quorum holds
  EXPECT_EQ(d.dest(0, ip("10.0.1.2")), nullptr);    // alpha: not in until it passes
  d.run_for(2s);
  EXPECT_NE(d.dest(0, ip("10.0.1.2")), nullptr);
  auto stop = d.balancer.shutdown();
  EXPECT_EQ(kinds(stop.changes),
            (std::vector<Change::Kind>{Change::kDelService, Change::kNotifyDown,
                                       Change::kNotifyDown, Change::kQuorumDown}));
  LbConfig quiet;
  quiet.services.push_back(service("10.0.0.100", 2));
  Director q(quiet);
  EXPECT_EQ(kinds(q.balancer.shutdown().changes), (std::vector<Change::Kind>{Change::kDelService}));
}

TEST(Balancer, MiscDynamicWeightEditsTheDestination) {
  LbConfig c;
  c.services.push_back(service("10.0.0.100", 1, 3));
  CheckerConfig m;
  m.type = CheckerType::kMisc;
  m.misc_dynamic = true;
  m.timing.delay_loop = 5s;
  m.timing.timeout = 5s;
  m.timing.retry = 0;
  m.timing.misc = true;
  c.services[0].reals[0].checkers = {m};
  Random random(1);
  TimePoint now{std::chrono::seconds(1000)};
  Balancer b(c, now, random);
  Table dp;
  ASSERT_TRUE(apply_changes(dp, b.start().changes));
  now += kBootstrapDelay;
  auto step = b.tick(now);
  ASSERT_EQ(step.probes.size(), 1u);
  auto id = std::get<StartProbe>(step.probes[0].action).id;
  auto out = b.on_outcome({0, 0, 0}, id, now, ProbeOutcome::from_exit_status(12, true));
  ASSERT_EQ(out.changes.size(), 1u);
  EXPECT_EQ(out.changes[0].kind, Change::kEditDest);
  EXPECT_EQ(out.changes[0].weight, 10);
  ASSERT_TRUE(apply_changes(dp, out.changes));
  EXPECT_EQ(dp, b.table());
}

// keepalived #1720: a real server that is down at a reload stays down (no instant re-add) and
// comes back when its checker passes; a live one that leaves the file is removed with its
// notify_down; an unchanged live one is not touched.
TEST(Balancer, ReloadKeepsDownServersDownUntilTheyRecover) {
  LbConfig c;
  c.services.push_back(service("10.0.0.100", 3, 2));
  Director d(c);
  d.healthy[{0, 0}] = false;
  d.run_for(10s);
  ASSERT_EQ(d.dest(0, ip("10.0.1.1")), nullptr);
  LbConfig n = c;
  n.services[0].reals.pop_back();     // 10.0.1.3 leaves
  n.services[0].reals[1].weight = 4;  // 10.0.1.2 changes weight
  Step s = d.balancer.reload(n, d.now);
  size_t mark = d.log.size();
  d.take(s);
  auto ch = d.since(mark);
  ASSERT_EQ(ch.size(), 3u);
  EXPECT_EQ(ch[0].kind, Change::kDelDest);
  EXPECT_EQ(ch[0].dest, ip("10.0.1.3"));
  EXPECT_EQ(ch[1].kind, Change::kEditDest);
  EXPECT_EQ(ch[1].weight, 4);
  EXPECT_EQ(ch[2].kind, Change::kNotifyDown);
  EXPECT_EQ(ch[2].script, "down 10.0.1.3:80");
  EXPECT_EQ(s.moved.size(), 2u);
  EXPECT_FALSE(d.balancer.real_alive(0, 0));
  EXPECT_EQ(d.dest(0, ip("10.0.1.1")), nullptr);
  d.run_for(10s);
  EXPECT_EQ(d.dest(0, ip("10.0.1.1")), nullptr);  // still failing: still out
  d.healthy[{0, 0}] = true;
  d.run_for(10s);
  ASSERT_NE(d.dest(0, ip("10.0.1.1")), nullptr);  // recovered after the reload: back
  EXPECT_EQ(d.dest(0, ip("10.0.1.1"))->weight, 2);
}

// A group service's table entry carries the group's entries and the scheduler flags; a reload
// that changes either edits the service (the datapath reprograms its match and hash).
TEST(Balancer, GroupEntriesAndFlagsFollowAReload) {
  LbConfig c;
  c.services.push_back(service("10.0.0.100", 2));
  c.services[0].key = ServiceKey{ServiceKey::kGroup, {}, 0, "web", Protocol::kTcp};
  c.services[0].scheduler = "mh";
  c.groups.push_back(VirtualServerGroup{"web", {GroupMember{ip("10.0.0.1"), 10}}, {}});
  Director d(c);
  ASSERT_EQ(d.datapath.size(), 1u);
  EXPECT_EQ(d.datapath[0].group, c.groups[0].members);
  LbConfig n = c;
  n.groups[0].members.push_back(GroupMember{{}, 0, 7});
  n.services[0].sched_flags = {"mh-port"};
  Step s = d.balancer.reload(n, d.now);
  size_t mark = d.log.size();
  d.take(s);  // the replica applies the edit and must equal the balancer's table
  auto ch = d.since(mark);
  ASSERT_EQ(ch.size(), 1u);
  EXPECT_EQ(ch[0].kind, Change::kEditService);
  EXPECT_EQ(d.datapath[0].group.size(), 2u);
  EXPECT_EQ(d.datapath[0].sched_flags, std::vector<std::string>{"mh-port"});
}

TEST(Balancer, ApplyRefusesOutOfOrderChanges) {
  Table t;
  ServiceKey k;
  k.addr = ip("10.0.0.1");
  auto r = apply_changes(t, {{Change::kAddDest, k, ip("10.0.1.1"), 1, {}}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "cannot add dest 10.0.1.1:80 weight 1 in 10.0.0.1:80/TCP: no such service");
}

// ---- the property: the table is a function of the checkers' states ---------------------------

// The expected table from first principles (keepalived ipwrapper.c), independent of table_for():
// per service, from the checkers' states as the balancer reports them and its quorum state.
Table oracle(const Balancer& b) {
  Table t;
  const LbConfig& c = b.config();
  for (size_t s = 0; s < c.services.size(); ++s) {
    const auto& vs = c.services[s];
    TableService ts{vs.key, vs.scheduler, vs.forwarding, vs.persistence_timeout, {}};
    bool sorry_on = vs.sorry_server && !b.quorum_up(s);
    for (size_t r = 0; r < vs.reals.size(); ++r) {
      bool up = true;
      std::optional<int> dyn;
      for (size_t k = 0; k < vs.reals[r].checkers.size(); ++k) {
        const Checker& ch = b.checker({s, r, k});
        up = up && ch.up();
        if (!dyn) dyn = ch.dynamic_weight();
      }
      int w = dyn.value_or(vs.reals[r].weight);
      if (up && !sorry_on) {
        ts.dests.push_back({vs.reals[r].addr, w, false, int(r)});
      } else if (vs.reals[r].inhibit) {
        ts.dests.push_back({vs.reals[r].addr, 0, false, int(r)});
      }
    }
    if (vs.sorry_server && (sorry_on || vs.sorry_server_inhibit))
      ts.dests.push_back(
          {*vs.sorry_server, sorry_on ? vs.sorry_weight : 0, true, int(vs.reals.size())});
    std::sort(ts.dests.begin(), ts.dests.end(),
              [](const TableDest& a, const TableDest& x) { return a.addr < x.addr; });
    t.push_back(ts);
  }
  return t;
}

LbConfig random_config(Random& r, int services) {
  LbConfig c;
  for (int s = 0; s < services; ++s) {
    VirtualServerConfig vs =
        service("10.0.0." + std::to_string(100 + s), int(r.between(1, 5)), int(r.between(1, 4)));
    for (auto& rs : vs.reals) {
      rs.inhibit = r.chance(0.3);
      rs.weight = int(r.between(0, 5));
      if (r.chance(0.3)) rs.checkers.push_back(tcp_check(unsigned(r.between(0, 1))));
      if (r.chance(0.2)) {
        CheckerConfig m;
        m.type = CheckerType::kMisc;
        m.misc_dynamic = true;
        m.timing = tcp_check().timing;
        m.timing.misc = true;
        rs.checkers.push_back(m);
      }
      if (r.chance(0.1)) rs.checkers[0].timing.alpha = true;
    }
    if (r.chance(0.5)) vs.sorry_server = ip("10.0.9." + std::to_string(s + 1));
    vs.sorry_server_inhibit = vs.sorry_server && r.chance(0.5);
    vs.quorum = unsigned(r.between(1, 6));
    vs.hysteresis = unsigned(r.between(0, vs.quorum - 1));
    c.services.push_back(vs);
  }
  return c;
}

// Random probe outcomes: each probe fails with probability p_fail; MISC_CHECK exit codes include
// dynamic weights.
struct Chaos {
  Random r;
  Balancer& b;
  Table datapath;
  TimePoint now;
  int recoveries = 0;  // real servers that came back up while quorum held, each checked
  double p_fail = 0.4;
  Chaos(uint64_t seed, Balancer& bal, TimePoint t) : r(seed), b(bal), now(t) {}

  bool heal = false;  // every probe answered, every backend healthy
  void take(const Step& s) {
    auto r2 = apply_changes(datapath, s.changes);
    ASSERT_TRUE(r2) << r2.error().message;
    ASSERT_EQ(datapath, b.table());
    ASSERT_EQ(datapath, oracle(b));
    for (auto& c : s.changes) {
      if (c.kind != Change::kNotifyUp) continue;
      // A recovered real server is in the table at once with its weight (unless the sorry
      // server holds the service).
      const TableService* ts = nullptr;
      for (auto& x : datapath) {
        if (x.key == c.service) ts = &x;
      }
      ASSERT_NE(ts, nullptr);
      bool sorry_on = false;
      for (auto& d : ts->dests) sorry_on |= d.sorry && d.weight > 0;
      if (sorry_on) continue;
      bool present = false;
      for (auto& d : ts->dests) present |= d.addr == c.dest && !d.sorry;
      ASSERT_TRUE(present) << "recovered " << c.dest.to_string() << " not re-added";
      ++recoveries;
    }
    for (auto& p : s.probes) {
      auto* st = std::get_if<StartProbe>(&p.action);
      if (!st || (!heal && r.chance(0.1))) continue;  // 10 %: no answer, the timeout decides
      CheckerType t =
          b.config().services[p.ref.service].reals[p.ref.real].checkers[p.ref.checker].type;
      ProbeOutcome o;
      if (t == CheckerType::kMisc) {
        int code = r.chance(p_fail) ? 1 : r.chance(0.5) ? 0 : int(r.between(2, 12));
        o = ProbeOutcome::from_exit_status(code, true);
      } else {
        o = r.chance(p_fail) ? ProbeOutcome::failed() : ProbeOutcome::ok();
      }
      take(b.on_outcome(p.ref, st->id, now, o));
    }
  }
  void run(int steps) {
    for (int i = 0; i < steps; ++i) {
      now = b.next_deadline();
      take(b.tick(now));
    }
  }
  // Every backend healthy for a while: every real server must be back with its weight.
  void heal_and_check() {
    p_fail = 0;
    heal = true;
    TimePoint until = now + 60s;
    while (b.next_deadline() <= until) {
      now = b.next_deadline();
      take(b.tick(now));
    }
    const LbConfig& c = b.config();
    for (size_t s = 0; s < c.services.size(); ++s) {
      for (size_t r2 = 0; r2 < c.services[s].reals.size(); ++r2) {
        EXPECT_TRUE(b.real_alive(s, r2)) << c.services[s].reals[r2].addr.to_string();
      }
    }
  }
};

TEST(BalancerProperty, TableIsAFunctionOfCheckerStatesAndRecoveredServersReturn) {
  int recoveries = 0;
  for (uint64_t seed = 1; seed <= 150; ++seed) {
    Random cr(seed);
    LbConfig c = random_config(cr, int(cr.between(1, 3)));
    Random warm(seed);
    TimePoint t0{std::chrono::seconds(1000)};
    Balancer b(c, t0, warm);
    Chaos chaos(seed * 31, b, t0);
    chaos.take(b.start());
    chaos.run(300);
    chaos.heal_and_check();
    if (HasFatalFailure()) return;
    recoveries += chaos.recoveries;
  }
  EXPECT_GT(recoveries, 1000);  // the property was exercised, not vacuous
}

// Reload (SIGHUP) in the middle of random sequences: unchanged real servers keep their state,
// changed weights are edited, removed servers leave, new ones join, and servers that were down
// at the reload come back when they recover (keepalived #1720).
TEST(BalancerProperty, ReloadKeepsStateAndRecoveredServersReturn) {
  int kept_down = 0;
  for (uint64_t seed = 1; seed <= 100; ++seed) {
    Random cr(seed);
    LbConfig c = random_config(cr, 2);
    Random warm(seed);
    TimePoint t0{std::chrono::seconds(1000)};
    Balancer b(c, t0, warm);
    Chaos chaos(seed * 17, b, t0);
    chaos.take(b.start());
    chaos.run(150);
    // The new configuration: service 0 unchanged, its first real server's weight changed, a real
    // server added; service 1 replaced by a new one.
    LbConfig n = c;
    std::vector<bool> alive_before, up_before;
    for (size_t r = 0; r < c.services[0].reals.size(); ++r) {
      alive_before.push_back(b.real_alive(0, r));
      up_before.push_back(b.checker({0, r, 0}).up());
    }
    n.services[0].reals[0].weight = 9;
    RealServerConfig extra = n.services[0].reals[0];
    extra.addr = ip("10.0.1.77");
    extra.weight = 2;
    extra.checkers = {tcp_check()};
    n.services[0].reals.push_back(extra);
    n.services[1] = service("10.0.0.201", 2, 3);
    Step s = b.reload(n, chaos.now);
    chaos.take(s);
    if (HasFatalFailure()) return;
    for (size_t r = 0; r < alive_before.size(); ++r) {
      EXPECT_EQ(b.real_alive(0, r), alive_before[r]) << "seed " << seed << " real " << r;
      EXPECT_EQ(b.checker({0, r, 0}).up(), up_before[r]);
      kept_down += !alive_before[r];
    }
    EXPECT_TRUE(b.real_alive(0, alive_before.size()));  // the new server, no alpha: alive
    for (auto& [from, to] : s.moved) EXPECT_EQ(from.service, 0u);
    chaos.run(150);
    chaos.heal_and_check();
    if (HasFatalFailure()) return;
  }
  EXPECT_GT(kept_down, 20);  // reloads happened with servers down
}

}  // namespace
