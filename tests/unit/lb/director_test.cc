#include "lb/director.hh"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "lb/commands.hh"
#include "lb/keepalived_conf.hh"
#include "unit/vrrp/fake_host.hh"

using namespace vnet;
using namespace vnet::lb;
using namespace std::chrono_literals;
using vnet::vrrp::testing::FakeChildren;

namespace {

struct FakeDatapath final : Datapath {
  std::vector<Table> programmed;
  std::vector<Picks> programmed_picks;
  std::vector<std::pair<ServiceKey, std::optional<Endpoint>>> set_picks;
  int cleared = 0;
  Status program(const Table& t, const Picks& picks) override {
    programmed.push_back(t);
    programmed_picks.push_back(picks);
    return {};
  }
  Status set_pick(const ServiceKey& k, const std::optional<Endpoint>& e) override {
    set_picks.emplace_back(k, e);
    return {};
  }
  Status clear() override {
    ++cleared;
    return {};
  }
  // DR: which destination a rewritten frame's MAC is (as NftDatapath's hops); a destination
  // without one is not reached.
  std::map<packet::MacAddress, Endpoint> macs;
  bool reaches(const ServiceKey&, const Endpoint& dest) const override {
    if (macs.empty()) return true;
    return std::any_of(macs.begin(), macs.end(), [&](auto& m) { return m.second == dest; });
  }
  std::optional<Endpoint> dr_dest(const ServiceKey&, const packet::MacAddress& mac) const override {
    auto it = macs.find(mac);
    if (it == macs.end()) return std::nullopt;
    return it->second;
  }
};

// The Director on a manual clock: a MISC_CHECK's exit codes (fake children) drive the table the
// datapath is given — misc_dynamic weight, failure, a hung script cut off at misc_timeout.
TEST(Director, MiscCheckDrivesTheDatapathTable) {
  auto conf = parse_keepalived_conf_full(R"(
virtual_server 10.0.0.100 80 {
  protocol TCP
  lvs_sched rr
  lb_kind NAT
  delay_loop 2
  real_server 10.1.0.1 8000 {
    weight 1
    MISC_CHECK {
      misc_path /bin/chk
      misc_timeout 1
      misc_dynamic
      warmup 0
    }
  }
}
)",
                                         "k.conf");
  ASSERT_TRUE(conf) << conf.error().message;
  ManualClock clock;
  EventLoop loop(clock);
  FakeChildren children;
  FakeDatapath dp;
  Director d(loop, children, dp, 1);
  ASSERT_TRUE(d.start(conf->lb, conf->vrrp.global));
  ASSERT_EQ(dp.programmed.size(), 1u);
  ASSERT_EQ(dp.programmed[0][0].dests.size(), 1u);  // up at boot
  EXPECT_EQ(dp.programmed[0][0].dests[0].weight, 1);

  clock.advance(1s);  // bootstrap delay
  loop.run_timers();
  ASSERT_EQ(children.running(), 1u);
  EXPECT_EQ(children.children.back().command(), "/bin/chk");
  children.finish(children.children.back().pid, 7);  // misc_dynamic: weight 5
  ASSERT_EQ(dp.programmed.size(), 2u);
  EXPECT_EQ(dp.programmed[1][0].dests[0].weight, 5);

  clock.advance(2s);
  loop.run_timers();
  ASSERT_EQ(children.running(), 1u);
  children.finish(children.children.back().pid, 1);  // failure: MISC_CHECK has no retry
  ASSERT_EQ(dp.programmed.size(), 3u);
  EXPECT_TRUE(dp.programmed[2][0].dests.empty());
  auto shown = show_json(d, clock.now());
  EXPECT_EQ(shown[0]["reals"][0]["alive"], false);
  EXPECT_EQ(shown[0]["reals"][0]["checkers"][0]["last"]["detail"], "exit status 1");

  clock.advance(2s);
  loop.run_timers();
  ASSERT_EQ(children.running(), 1u);  // hangs
  clock.advance(1s);                  // misc_timeout
  loop.run_timers();
  EXPECT_TRUE(children.children[2].cancelled);
  EXPECT_EQ(show_json(d, clock.now())[0]["reals"][0]["checkers"][0]["last"]["detail"], "timed out");
  EXPECT_EQ(dp.programmed.size(), 3u);  // still down: nothing to rewrite

  clock.advance(1s);
  loop.run_timers();
  children.finish(children.children.back().pid, 0);  // back, configured weight
  ASSERT_EQ(dp.programmed.size(), 4u);
  ASSERT_EQ(dp.programmed[3][0].dests.size(), 1u);
  EXPECT_EQ(dp.programmed[3][0].dests[0].weight, 1);

  d.shutdown();
  EXPECT_EQ(dp.cleared, 1);
}

// wlc on the nftables datapath: the choice for the next connection follows the connection counts
// fed from connection tracking, as IPVS's wlc would choose with the same counts (weights 2:1:1;
// overhead = 256 × active + inactive, compared against weight).
TEST(Director, WlcFollowsConnectionCounts) {
  auto conf = parse_keepalived_conf_full(R"(
virtual_server 10.0.0.100 80 {
  protocol TCP
  lb_kind NAT
  real_server 10.1.0.1 8000 {
    weight 2
  }
  real_server 10.1.0.2 8000 {
    weight 1
  }
  real_server 10.1.0.3 8000 {
    weight 1
  }
}
)",
                                         "k.conf");  // no lvs_sched: keepalived's default, wlc
  ASSERT_TRUE(conf) << conf.error().message;
  EXPECT_TRUE(nft_refusals(conf->lb).empty());
  ManualClock clock;
  EventLoop loop(clock);
  FakeChildren children;
  FakeDatapath dp;
  Director d(loop, children, dp, 1);
  ASSERT_TRUE(d.start(conf->lb, conf->vrrp.global));
  EXPECT_TRUE(d.follows_connections());
  auto vip = *Endpoint::parse("10.0.0.100", 80);
  auto rs = [](int i) { return *Endpoint::parse(("10.1.0." + std::to_string(i)).c_str(), 8000); };
  ServiceKey key;
  key.addr = vip;
  ASSERT_EQ(dp.programmed_picks.size(), 1u);
  EXPECT_EQ(dp.programmed_picks[0].at(key), rs(1));  // all idle: the first

  uint32_t next_id = 1;
  auto conn = [&](int real, bool established, ConnEvent::Kind kind, uint32_t id) {
    ConnEvent e;
    e.kind = kind;
    e.id = id;
    e.client = *Endpoint::parse("10.9.0.1", uint16_t(40000 + id));
    e.orig_dst = vip;
    e.reply_src = rs(real);
    e.established = established;
    d.on_conn_event(e);
  };
  // Two established connections on rs1 (overhead 512 / weight 2 = 256 per weight): rs2 is next.
  conn(1, true, ConnEvent::kNew, next_id++);
  conn(1, true, ConnEvent::kNew, next_id++);
  ASSERT_FALSE(dp.set_picks.empty());
  EXPECT_EQ(dp.set_picks.back().second, rs(2));
  // One in SYN_SENT on rs2 (inactive: overhead 1): rs3 is next.
  uint32_t syn = next_id++;
  conn(2, false, ConnEvent::kNew, syn);
  EXPECT_EQ(dp.set_picks.back().second, rs(3));
  EXPECT_EQ(d.conn_counts().counts(key, rs(2)), (DestCounts{0, 1}));
  // It becomes established (256), rs3 gets one too: rs1 512/2 = rs2 256/1 = rs3 256/1 → rs1.
  conn(2, true, ConnEvent::kUpdate, syn);
  conn(3, true, ConnEvent::kNew, next_id++);
  EXPECT_EQ(dp.set_picks.back().second, rs(1));
  EXPECT_EQ(d.picks().at(key), rs(1));
  // An event for another service changes nothing.
  size_t before = dp.set_picks.size();
  ConnEvent other;
  other.id = 999;
  other.orig_dst = *Endpoint::parse("10.0.0.200", 80);
  other.reply_src = rs(1);
  d.on_conn_event(other);
  EXPECT_EQ(dp.set_picks.size(), before);
  // rs2's connection ends: rs2 is next again.
  conn(2, true, ConnEvent::kDestroy, syn);
  EXPECT_EQ(dp.set_picks.back().second, rs(2));
  // After lost events, a dump replaces the counts: only rs1 busy → rs2.
  ConnEvent a;
  a.id = 50;
  a.orig_dst = vip;
  a.reply_src = rs(1);
  a.established = true;
  d.on_conn_resync({a});
  EXPECT_EQ(d.conn_counts().size(), 1u);
  EXPECT_EQ(d.picks().at(key), rs(2));
  d.shutdown();
}

// wlc on a DR service: the counts come from the segments the datapath logs, stepped through
// IPVS's input-only TCP states (lb/dr_conns.hh): SYN inactive, its ACK active, and each state's
// timeout on the loop's clock; the real server is the one whose MAC the logged frame carries.
TEST(Director, DrWlcFollowsLoggedSegments) {
  auto conf = parse_keepalived_conf_full(R"(
virtual_server 10.0.0.100 80 {
  protocol TCP
  lb_kind DR
  real_server 10.1.0.1 80 {
  }
  real_server 10.1.0.2 80 {
  }
}
)",
                                         "k.conf");  // keepalived's default scheduler, wlc
  ASSERT_TRUE(conf) << conf.error().message;
  EXPECT_TRUE(nft_refusals(conf->lb).empty());
  ManualClock clock;
  EventLoop loop(clock);
  FakeChildren children;
  FakeDatapath dp;
  auto rs = [](int i) { return *Endpoint::parse(("10.1.0." + std::to_string(i)).c_str(), 80); };
  auto mac = [](int i) {
    return *packet::MacAddress::parse("02:00:00:00:85:0" + std::to_string(i));
  };
  dp.macs = {{mac(1), rs(1)}, {mac(2), rs(2)}};
  Director d(loop, children, dp, 1);
  ASSERT_TRUE(d.start(conf->lb, conf->vrrp.global));
  EXPECT_FALSE(d.follows_connections());  // no conntrack for DR
  EXPECT_TRUE(d.follows_dr_connections());
  ServiceKey key;
  key.addr = *Endpoint::parse("10.0.0.100", 80);
  ASSERT_EQ(dp.programmed_picks.size(), 1u);
  EXPECT_EQ(dp.programmed_picks[0].at(key), rs(1));
  auto segment = [&](int real, uint16_t port, uint8_t flags) {
    DrLogged l;
    l.dst = mac(real);
    l.client = *Endpoint::parse("10.9.0.1", port);
    l.vip = key.addr;
    l.flags = flags;
    d.on_dr_segment(l);
  };
  auto counts = [&](int real) { return d.conn_counts(key, Forwarding::kDr, rs(real)); };
  // A SYN to rs1: inactive there, rs2 is next.
  segment(1, 40001, kTcpSyn);
  EXPECT_EQ(counts(1), (DestCounts{0, 1}));
  ASSERT_FALSE(dp.set_picks.empty());
  EXPECT_EQ(dp.set_picks.back().second, rs(2));
  // Its ACK: active (256); a SYN and ACK to rs2: 256 each → the first, rs1.
  segment(1, 40001, kTcpAck);
  segment(2, 40002, kTcpSyn);
  segment(2, 40002, kTcpAck);
  EXPECT_EQ(counts(1), (DestCounts{1, 0}));
  EXPECT_EQ(counts(2), (DestCounts{1, 0}));
  EXPECT_EQ(dp.set_picks.back().second, rs(1));
  // A frame to a MAC the table does not have is not counted.
  DrLogged stray;
  stray.dst = *packet::MacAddress::parse("02:00:00:00:99:99");
  stray.vip = key.addr;
  stray.flags = kTcpSyn;
  d.on_dr_segment(stray);
  EXPECT_EQ(d.dr_unattributed(), 1u);
  // rs2's client closes (FIN_WAIT: inactive, 120 s): rs2 at 1 < rs1 at 256 → rs2.
  segment(2, 40002, kTcpFin | kTcpAck);
  EXPECT_EQ(counts(2), (DestCounts{0, 1}));
  EXPECT_EQ(dp.set_picks.back().second, rs(2));
  // FIN_WAIT expires at 120 s on the loop's clock; rs1's ESTABLISHED (900 s) stays.
  clock.advance(121s);
  loop.run_timers();
  EXPECT_EQ(counts(2), (DestCounts{}));
  EXPECT_EQ(counts(1), (DestCounts{1, 0}));
  clock.advance(800s);
  loop.run_timers();
  EXPECT_EQ(counts(1), (DestCounts{}));
  EXPECT_EQ(dp.set_picks.back().second, rs(1));  // both idle: the first
  d.shutdown();
}

// lblc through the same pick map: the VIP keeps its real server while that one is not overloaded
// (active ≤ weight), where wlc would move at the first connection; then wlc's choice, kept in turn.
TEST(Director, LblcKeepsTheVipsServerUntilOverloaded) {
  auto conf = parse_keepalived_conf_full(R"(
virtual_server 10.0.0.100 80 {
  protocol TCP
  lb_kind NAT
  lvs_sched lblc
  real_server 10.1.0.1 8000 {
  }
  real_server 10.1.0.2 8000 {
  }
  real_server 10.1.0.3 8000 {
  }
}
)",
                                         "k.conf");
  ASSERT_TRUE(conf) << conf.error().message;
  EXPECT_TRUE(nft_refusals(conf->lb).empty());
  ManualClock clock;
  EventLoop loop(clock);
  FakeChildren children;
  FakeDatapath dp;
  Director d(loop, children, dp, 1);
  ASSERT_TRUE(d.start(conf->lb, conf->vrrp.global));
  EXPECT_TRUE(d.follows_connections());
  auto vip = *Endpoint::parse("10.0.0.100", 80);
  auto rs = [](int i) { return *Endpoint::parse(("10.1.0." + std::to_string(i)).c_str(), 8000); };
  ServiceKey key;
  key.addr = vip;
  ASSERT_EQ(dp.programmed_picks.size(), 1u);
  EXPECT_EQ(dp.programmed_picks[0].at(key), rs(1));
  auto conn = [&](int real, ConnEvent::Kind kind, uint32_t id) {
    ConnEvent e;
    e.kind = kind;
    e.id = id;
    e.client = *Endpoint::parse("10.9.0.1", uint16_t(40000 + id));
    e.orig_dst = vip;
    e.reply_src = rs(real);
    e.established = true;
    d.on_conn_event(e);
  };
  conn(1, ConnEvent::kNew, 1);  // active 1 = weight 1: kept (wlc would pick rs2 now)
  EXPECT_EQ(d.picks().at(key), rs(1));
  conn(1, ConnEvent::kNew, 2);  // active 2 > weight while rs2 and rs3 are idle: overloaded
  EXPECT_EQ(d.picks().at(key), rs(2));
  conn(1, ConnEvent::kDestroy, 1);
  conn(1, ConnEvent::kDestroy, 2);
  conn(2, ConnEvent::kNew, 3);  // rs1 idle again, rs2 at its weight: rs2 kept
  EXPECT_EQ(d.picks().at(key), rs(2));
  d.shutdown();
}

// SIGHUP with a probe running: a real server inserted before the probed one moves its checker
// (real 0 → real 1); the probe's outcome, arriving after the reload, must reach the moved
// checker (a failure takes 10.1.0.1 out), and a real server down at the reload is re-added when
// its check passes again.
TEST(Director, ReloadMovesRunningProbesAndReAdds) {
  auto text = [](bool extra) {
    std::string t =
        "virtual_server 10.0.0.100 80 {\n  protocol TCP\n  lvs_sched rr\n"
        "  lb_kind NAT\n  delay_loop 2\n";
    auto real = [](const char* a, const char* chk) {
      return fmt::format(
          "  real_server {} 8000 {{\n    MISC_CHECK {{\n      misc_path {}\n"
          "      misc_timeout 5\n      warmup 0\n    }}\n  }}\n",
          a, chk);
    };
    if (extra) t += real("10.1.0.9", "/bin/new");
    t += real("10.1.0.1", "/bin/one");
    t += real("10.1.0.2", "/bin/two");
    return t + "}\n";
  };
  auto conf = parse_keepalived_conf_full(text(false), "k.conf");
  ASSERT_TRUE(conf) << conf.error().message;
  ManualClock clock;
  EventLoop loop(clock);
  FakeChildren children;
  FakeDatapath dp;
  Director d(loop, children, dp, 1);
  ASSERT_TRUE(d.start(conf->lb, conf->vrrp.global));
  auto in_table = [&](const char* a) {
    for (auto& dst : dp.programmed.back()[0].dests) {
      if (dst.addr.address_string() == a) return true;
    }
    return false;
  };
  clock.advance(1s);
  loop.run_timers();
  ASSERT_EQ(children.running(), 2u);
  auto pid_of = [&](const std::string& cmd) {
    for (auto& c : children.children) {
      if (c.command() == cmd && !c.done && !c.cancelled) return int(c.pid);
    }
    return -1;
  };
  children.finish(pid_of("/bin/two"), 1);  // 10.1.0.2 fails: out
  EXPECT_FALSE(in_table("10.1.0.2"));
  clock.advance(2s);
  loop.run_timers();
  int one = pid_of("/bin/one");
  ASSERT_GT(one, 0);

  auto next = parse_keepalived_conf_full(text(true), "k.conf");
  ASSERT_TRUE(next) << next.error().message;
  ASSERT_TRUE(d.reload(next->lb, next->vrrp.global));
  EXPECT_FALSE(in_table("10.1.0.2"));  // down at the reload: stays out
  children.finish(one, 1);             // the probe started before the reload fails
  EXPECT_FALSE(in_table("10.1.0.1")) << "the outcome did not reach the moved checker";
  auto shown = show_json(d, clock.now());
  EXPECT_EQ(shown[0]["reals"][1]["address"], "10.1.0.1:8000");
  EXPECT_EQ(shown[0]["reals"][1]["checkers"][0]["last"]["detail"], "exit status 1");

  for (int round = 0; round < 3 && !in_table("10.1.0.2"); ++round) {
    clock.advance(2s);
    loop.run_timers();
    int two = pid_of("/bin/two");
    if (two > 0) children.finish(two, 0);
  }
  EXPECT_TRUE(in_table("10.1.0.2")) << "recovered after the reload, not re-added";
  d.shutdown();
}

// lb/show's counters (ipvsadm -Ln --stats): each real server's as the datapath reports them
// (0 for one it has not counted yet), the service's the sum, null where nothing is counted.
TEST(Director, ShowsTheDatapathCounters) {
  auto conf = parse_keepalived_conf_full(R"(
virtual_server 10.0.0.100 80 {
  lvs_sched rr
  lb_kind NAT
  sorry_server 10.1.0.9 8000
  real_server 10.1.0.1 8000 {
  }
  real_server 10.1.0.2 8000 {
  }
}
virtual_server 10.0.0.101 80 {
  lvs_sched rr
  lb_kind DR
  real_server 10.1.0.1 80 {
  }
}
virtual_server fwmark 7 {
  lvs_sched rr
  lb_kind NAT
  real_server 10.1.0.1 8000 {
  }
}
)",
                                         "k.conf");
  ASSERT_TRUE(conf) << conf.error().message;
  ManualClock clock;
  EventLoop loop(clock);
  FakeChildren children;
  FakeDatapath dp;
  Director d(loop, children, dp, 1);
  ASSERT_TRUE(d.start(conf->lb, conf->vrrp.global));
  auto key = [&](size_t i) { return conf->lb.services[i].key; };
  Stats stats;
  stats[key(0)].dests[*Endpoint::parse("10.1.0.1", 8000)] = Counters{3, 20, 15, 1400, 9000};
  stats[key(0)].dests[*Endpoint::parse("10.1.0.9", 8000)] = Counters{1, 5, 4, 300, 700};
  stats[key(1)].conns_counted = false;
  stats[key(1)].dests[*Endpoint::parse("10.1.0.1", 80)] = Counters{0, 7, 0, 500, 0};
  auto shown = show_json(d, clock.now(), stats);
  auto& r1 = shown[0]["reals"][0];
  EXPECT_EQ(r1["conns"], 3);
  EXPECT_EQ(r1["inpkts"], 20);
  EXPECT_EQ(r1["outpkts"], 15);
  EXPECT_EQ(r1["inbytes"], 1400);
  EXPECT_EQ(r1["outbytes"], 9000);
  EXPECT_EQ(shown[0]["reals"][1]["conns"], 0);  // counted, nothing yet
  EXPECT_EQ(shown[0]["sorry_server"]["conns"], 1);
  EXPECT_EQ(shown[0]["conns"], 4);  // the sum, sorry server included (an IPVS destination)
  EXPECT_EQ(shown[0]["inpkts"], 25);
  EXPECT_EQ(shown[0]["outbytes"], 9700);
  EXPECT_TRUE(shown[1]["conns"].is_null());  // DR: no connection tracking
  EXPECT_TRUE(shown[1]["reals"][0]["conns"].is_null());
  EXPECT_EQ(shown[1]["reals"][0]["inpkts"], 7);
  EXPECT_EQ(shown[1]["outpkts"], 0);
  for (const char* f : {"conns", "inpkts", "outpkts", "inbytes", "outbytes"}) {
    EXPECT_TRUE(shown[2][f].is_null()) << f;  // not counted (fwmark)
    EXPECT_TRUE(shown[2]["reals"][0][f].is_null()) << f;
  }
  d.shutdown();
}

}  // namespace
