// RSTP protection features (BPDU guard, BPDU filter, root guard, loop guard), input checks
// (§9.3.4 looped-back BPDUs, times, malformed input), configuration validation and time.
#include <gtest/gtest.h>

#include <random>

#include "stp/rstp.hh"
#include "unit/stp/sim_expect.hh"

using namespace vnet;
using namespace vnet::stp;
using namespace vnet::stp::sim;
using namespace std::chrono_literals;

namespace {

Bpdu superior_rst() {
  Bpdu b;
  b.version = 2;
  b.type = BpduType::kRst;
  b.flags.role = BpduRole::kDesignated;
  b.root = b.bridge = BridgeId{0x0000'0200'0000'00ffULL};
  b.port = PortId::make(128, 1);
  return b;
}

bool has_event(const Network& net, std::string_view text) {
  for (const Event& e : net.events()) {
    if (e.text == text) return true;
  }
  return false;
}

// ---- BPDU guard and filter

TEST(RstpGuard, BpduGuardErrorDisablesTheEdgePortUntilCleared) {
  Network net;
  size_t a = *net.add_bridge("A");
  PortConfig host;
  host.admin_edge = true;
  host.bpdu_guard = true;
  ASSERT_TRUE(net.add_port({a, 1}, host));
  net.lan({{a, 1}});
  ASSERT_EQ(net.state({a, 1}), PortState::kForwarding);
  net.inject({a, 1}, superior_rst());
  ASSERT_EQ(net.error_disabled().size(), 1u);
  EXPECT_EQ(net.error_disabled()[0].port, 1u);
  auto st = *net.engine(a).port_status(1);
  EXPECT_TRUE(st.error_disabled);
  EXPECT_FALSE(st.enabled);
  EXPECT_EQ(net.state({a, 1}), PortState::kDiscarding);
  EXPECT_EQ(st.counters.bpdu_guard_trips, 1u);
  EXPECT_EQ(net.engine(a).status().root_id, bridge_id(a)) << "the BPDU was not processed";
  // It stays down: more BPDUs are counted, time does not bring it back.
  net.inject({a, 1}, superior_rst());
  net.run_for(60s);
  EXPECT_EQ(net.engine(a).port_status(1)->counters.rx_disabled, 1u);
  EXPECT_EQ(net.state({a, 1}), PortState::kDiscarding);
  // Cleared by management: an edge port again, forwarding at once.
  ASSERT_TRUE(net.engine(a).clear_error(1, net.now()).ok());
  net.settle();
  EXPECT_EQ(net.state({a, 1}), PortState::kForwarding);
  EXPECT_EQ(net.engine(a).clear_error(1, net.now()).error().code, EALREADY);
}

TEST(RstpGuard, BpduFilterNeitherSendsNorProcessesBpdus) {
  Network net;
  size_t a = *net.add_bridge("A");
  PortConfig filtered;
  filtered.bpdu_filter = true;
  ASSERT_TRUE(net.add_port({a, 1}, filtered));
  net.lan({{a, 1}});
  // Nothing heard: designated, and an edge after the edge delay (Max Age on a shared LAN).
  net.run_for(25s);
  net.inject({a, 1}, superior_rst());
  auto st = *net.engine(a).port_status(1);
  EXPECT_EQ(st.counters.rx_filtered, 1u);
  EXPECT_TRUE(st.oper_edge);
  EXPECT_EQ(st.counters.tx_rst + st.counters.tx_config, 0u);
  EXPECT_GT(st.counters.tx_filtered, 0u);
  EXPECT_TRUE(net.sent({a, 1}).empty());
  EXPECT_EQ(net.engine(a).status().root_id, bridge_id(a));
  EXPECT_EQ(net.state({a, 1}), PortState::kForwarding);
}

// ---- root guard

TEST(RstpGuard, RootGuardHoldsThePortDiscardingWhileSuperiorBpdusArrive) {
  Network net;
  size_t a = *net.add_bridge("A", with_priority(4096));
  size_t b = *net.add_bridge("B");
  size_t c = *net.add_bridge("C");
  net.link({a, 1}, {b, 1});
  PortConfig guarded;
  guarded.root_guard = true;
  ASSERT_TRUE(net.add_port({b, 2}, guarded));
  net.link({b, 2}, {c, 1});
  net.run_for(10s);
  ASSERT_EQ(net.state({b, 2}), PortState::kForwarding);
  EXPECT_TREE(net);

  // C claims the root with a better priority: B's guarded port may not become root port.
  ASSERT_TRUE(net.engine(c).configure(with_priority(0), net.now()).ok());
  net.settle();
  net.run_for(10s);
  auto st = *net.engine(b).port_status(2);
  EXPECT_TRUE(st.root_inconsistent);
  EXPECT_EQ(st.role, PortRole::kAlternate);
  EXPECT_EQ(net.state({b, 2}), PortState::kDiscarding);
  EXPECT_EQ(net.engine(b).status().root_id, bridge_id(a, 4096));
  EXPECT_EQ(net.engine(b).status().root_port, 1u);
  EXPECT_EQ(net.engine(a).status().root_id, bridge_id(a, 4096));
  EXPECT_TRUE(has_event(net, "B port 2 root-inconsistent set"));

  // C gives up the claim: the port becomes designated and forwards again.
  ASSERT_TRUE(net.engine(c).configure(with_priority(32768), net.now()).ok());
  net.settle();
  net.run_for(10s);
  st = *net.engine(b).port_status(2);
  EXPECT_FALSE(st.root_inconsistent);
  EXPECT_EQ(st.role, PortRole::kDesignated);
  EXPECT_EQ(net.state({b, 2}), PortState::kForwarding);
  EXPECT_TRUE(has_event(net, "B port 2 root-inconsistent cleared"));
  EXPECT_TREE(net);
}

// ---- loop guard

// Triangle A (root), B, C; C's port 2 (to B) is the alternate port. B's BPDUs to C stop while
// the link still carries data (a one-way control failure). Returns C port 2's state afterwards.
struct OneWayFailure {
  Network net;
  size_t a = *net.add_bridge("A", with_priority(4096));
  size_t b = *net.add_bridge("B");
  size_t c = *net.add_bridge("C");
  size_t bc = 0;
  explicit OneWayFailure(bool loop_guard) {
    net.link({a, 1}, {b, 1});
    net.link({a, 2}, {c, 1});
    PortConfig cfg;
    cfg.loop_guard = loop_guard;
    net.add_port({c, 2}, cfg);
    bc = net.link({b, 2}, {c, 2});
    net.run_for(10s);
  }
};

TEST(RstpGuard, WithoutLoopGuardASilentNeighbourMakesTheAlternatePortForward) {
  OneWayFailure f(false);
  ASSERT_EQ(f.net.role({f.c, 2}), PortRole::kAlternate);
  f.net.set_silent(f.bc, {f.b, 2}, true);
  f.net.run_for(20s);
  EXPECT_EQ(f.net.role({f.c, 2}), PortRole::kDesignated);
  EXPECT_EQ(f.net.state({f.c, 2}), PortState::kForwarding);
}

TEST(RstpGuard, LoopGuardKeepsTheAlternatePortDiscardingUntilBpdusReturn) {
  OneWayFailure f(true);
  auto& net = f.net;
  ASSERT_EQ(net.role({f.c, 2}), PortRole::kAlternate);
  f.net.set_silent(f.bc, {f.b, 2}, true);
  net.run_for(20s);
  auto st = *net.engine(f.c).port_status(2);
  EXPECT_TRUE(st.loop_inconsistent);
  EXPECT_EQ(net.state({f.c, 2}), PortState::kDiscarding);
  EXPECT_TRUE(has_event(net, "C port 2 loop-inconsistent set"));
  EXPECT_TREE(net);
  // B's BPDUs come back: the port is consistent and an alternate port again.
  net.set_silent(f.bc, {f.b, 2}, false);
  net.run_for(5s);
  st = *net.engine(f.c).port_status(2);
  EXPECT_FALSE(st.loop_inconsistent);
  EXPECT_EQ(st.role, PortRole::kAlternate);
  EXPECT_EQ(net.state({f.c, 2}), PortState::kDiscarding);
  EXPECT_TREE(net);
}

TEST(RstpGuard, LoopGuardOnTheRootPortLetsTheAlternateTakeOver) {
  OneWayFailure f(false);
  auto& net = f.net;
  PortConfig cfg;
  cfg.loop_guard = true;
  ASSERT_TRUE(net.engine(f.c).configure_port(1, cfg, net.now()).ok());
  net.settle();
  // A's BPDUs to C stop on A—C: C's root port ages out but is held discarding; the alternate
  // port to B becomes root port.
  net.set_silent(1, {f.a, 2}, true);
  net.run_for(20s);
  EXPECT_TRUE(net.engine(f.c).port_status(1)->loop_inconsistent);
  EXPECT_EQ(net.state({f.c, 1}), PortState::kDiscarding);
  EXPECT_EQ(net.role({f.c, 2}), PortRole::kRoot);
  EXPECT_EQ(net.state({f.c, 2}), PortState::kForwarding);
  EXPECT_TREE(net);
}

// ---- received BPDU checks

TEST(RstpInput, OwnBpduLoopedBackIsDroppedAndCounted) {
  Network net;
  size_t a = *net.add_bridge("A");
  size_t b = *net.add_bridge("B");
  net.link({a, 1}, {b, 1});
  net.run_for(10s);
  ASSERT_FALSE(net.sent({a, 1}).empty());
  Bpdu own = net.sent({a, 1}).back().second;
  std::string before = net.dump();
  net.inject({a, 1}, own);
  EXPECT_EQ(net.engine(a).port_status(1)->counters.rx_looped_back, 1u);
  EXPECT_EQ(net.dump(), before);
  // The same BPDU on another port of the bridge is information from a backup path, not a loop.
  net.lan({{a, 2}});
  net.inject({a, 2}, own);
  EXPECT_EQ(net.engine(a).port_status(2)->counters.rx_looped_back, 0u);
  EXPECT_EQ(net.role({a, 2}), PortRole::kBackup);
}

TEST(RstpInput, BpdusWithTimesOutOfRangeAreDroppedAndCounted) {
  Network net;
  size_t a = *net.add_bridge("A");
  net.lan({{a, 1}});
  net.run_for(5s);
  struct Case {
    const char* what;
    BpduTimes times;
  };
  const Case cases[] = {
      {"max age 41 s", {0, to_wire(41), to_wire(2), to_wire(15)}},
      {"max age 5 s", {0, to_wire(5), to_wire(2), to_wire(15)}},
      {"hello 0 s", {0, to_wire(20), 0, to_wire(15)}},
      {"hello 11 s", {0, to_wire(20), to_wire(11), to_wire(15)}},
      {"forward delay 3 s", {0, to_wire(20), to_wire(2), to_wire(3)}},
      {"forward delay 31 s", {0, to_wire(20), to_wire(2), to_wire(31)}},
      {"message age = max age", {to_wire(20), to_wire(20), to_wire(2), to_wire(15)}},
  };
  uint64_t n = 0;
  for (const Case& c : cases) {
    for (BpduType type : {BpduType::kConfig, BpduType::kRst}) {
      Bpdu b = superior_rst();
      b.type = type;
      b.version = type == BpduType::kRst ? 2 : 0;
      b.times = c.times;
      net.inject({a, 1}, b);
      EXPECT_EQ(net.engine(a).port_status(1)->counters.rx_bad_times, ++n) << c.what;
    }
  }
  EXPECT_EQ(net.engine(a).status().root_id, bridge_id(a));
  // In range at the edges: accepted.
  Bpdu ok = superior_rst();
  ok.times = {to_wire(39), to_wire(40), to_wire(10), to_wire(30)};
  net.inject({a, 1}, ok);
  EXPECT_EQ(net.engine(a).port_status(1)->counters.rx_bad_times, n);
  EXPECT_EQ(net.engine(a).port_status(1)->counters.rx_rst, 1u);
}

TEST(RstpInput, MalformedAndMisdirectedInputIsCounted) {
  Network net;
  size_t a = *net.add_bridge("A");
  net.lan({{a, 1}});
  Bpdu rst_v0 = superior_rst();
  rst_v0.version = 0;
  net.inject({a, 1}, rst_v0);
  Bpdu bogus = superior_rst();
  bogus.type = static_cast<BpduType>(0x55);
  net.inject({a, 1}, bogus);
  EXPECT_EQ(net.engine(a).port_status(1)->counters.rx_malformed, 2u);
  net.engine(a).receive(99, superior_rst(), net.now());
  EXPECT_EQ(net.engine(a).status().counters.rx_unknown_port, 1u);
  // Link events and mcheck on unknown ports are ignored.
  net.engine(a).link_up(99, 1000, true, net.now());
  net.engine(a).link_down(99, net.now());
  net.engine(a).mcheck(99, net.now());
  EXPECT_EQ(net.engine(a).status().root_id, bridge_id(a));
}

TEST(RstpInput, RandomBpdusAndLinkEventsNeverStallTheEngine) {
  std::mt19937 rng(7);
  auto r = Rstp::create(BridgeConfig{}, packet::MacAddress::from_u64(0x0200000000aa), TimePoint{});
  ASSERT_TRUE(r.ok());
  Rstp& e = *r;
  TimePoint now{};
  for (PortNo p = 1; p <= 4; ++p) {
    ASSERT_TRUE(e.add_port(p, PortConfig{}, now).ok());
    e.link_up(p, 1000, p != 4, now);
  }
  const BpduType types[] = {BpduType::kConfig, BpduType::kRst, BpduType::kTcn};
  for (int i = 0; i < 20000; ++i) {
    now += std::chrono::milliseconds(rng() % 400);
    PortNo port = 1 + rng() % 4;
    switch (rng() % 16) {
      case 0:
        e.link_down(port, now);
        break;
      case 1:
        e.link_up(port, 10 + rng() % 10000, rng() % 2, now);
        break;
      case 2:
        e.mcheck(port, now);
        break;
      default: {
        Bpdu b;
        b.type = types[rng() % 3];
        b.version = static_cast<uint8_t>(rng() % 4);
        b.flags.topology_change = rng() % 2;
        b.flags.proposal = rng() % 2;
        b.flags.role = static_cast<BpduRole>(rng() % 4);
        b.flags.learning = rng() % 2;
        b.flags.forwarding = rng() % 2;
        b.flags.agreement = rng() % 2;
        b.flags.topology_change_ack = rng() % 2;
        b.root = BridgeId{(uint64_t{rng()} << 32 | rng()) & 0xf000'0000'0000'00ffULL};
        b.root_path_cost = rng() % 3 ? rng() % 100000 : rng();
        b.bridge = BridgeId{(uint64_t{rng()} << 32 | rng()) & 0xf000'0000'0000'00ffULL};
        b.port = PortId{static_cast<uint16_t>(rng())};
        b.times = {static_cast<uint16_t>(rng() % (8 * 256)), to_wire(6 + rng() % 35),
                   to_wire(1 + rng() % 10), to_wire(4 + rng() % 27)};
        e.receive(port, b, now);
      }
    }
    e.tick(now);
    (void)e.take_actions();
  }
  EXPECT_EQ(e.status().counters.iteration_limit, 0u);
}

// ---- configuration

TEST(RstpConfig, BadBridgeConfigIsRefusedNamingTheFieldOrRelation) {
  struct Case {
    void (*edit)(BridgeConfig&);
    const char* message;
  };
  const Case cases[] = {
      {[](BridgeConfig& c) { c.priority = 1000; },
       "bridge priority 1000: expected 0–61440 in steps of 4096"},
      {[](BridgeConfig& c) { c.priority = 65535; },
       "bridge priority 65535: expected 0–61440 in steps of 4096"},
      {[](BridgeConfig& c) { c.system_id = 4096; }, "bridge system_id 4096: expected 0–4095"},
      {[](BridgeConfig& c) { c.force_version = 1; },
       "bridge force_version 1: expected 0 (STP) or 2 (RSTP)"},
      {[](BridgeConfig& c) { c.hello_time = 3; }, "bridge hello_time 3: expected 1–2 s"},
      {[](BridgeConfig& c) { c.max_age = 41; }, "bridge max_age 41: expected 6–40 s"},
      {[](BridgeConfig& c) { c.forward_delay = 3; }, "bridge forward_delay 3: expected 4–30 s"},
      {[](BridgeConfig& c) { c.tx_hold_count = 0; }, "bridge tx_hold_count 0: expected 1–10"},
      {[](BridgeConfig& c) { c.max_age = 30; },
       "bridge max_age 30 s breaks 2 × (forward_delay − 1 s) ≥ max_age (§17.14): 2 × (15 − 1) = "
       "28"},
      {[](BridgeConfig& c) { c.forward_delay = 4; },
       "bridge max_age 20 s breaks 2 × (forward_delay − 1 s) ≥ max_age (§17.14): 2 × (4 − 1) = 6"},
  };
  for (const Case& c : cases) {
    BridgeConfig cfg;
    c.edit(cfg);
    auto r = Rstp::create(cfg, packet::MacAddress::from_u64(1), TimePoint{});
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.error().message, c.message);
    EXPECT_EQ(r.error().code, EINVAL);
  }
  // The extremes that satisfy §17.14 are accepted.
  BridgeConfig edge;
  edge.forward_delay = 4;
  edge.max_age = 6;
  edge.hello_time = 2;
  EXPECT_TRUE(validate(edge).ok());
  edge.forward_delay = 30;
  edge.max_age = 40;
  edge.hello_time = 1;
  EXPECT_TRUE(validate(edge).ok());
}

TEST(RstpConfig, BadRuntimeConfigIsRefusedAndChangesNothing) {
  auto r = Rstp::create(BridgeConfig{}, packet::MacAddress::from_u64(1), TimePoint{});
  ASSERT_TRUE(r.ok());
  BridgeConfig bad;
  bad.max_age = 40;
  auto s = r->configure(bad, TimePoint{});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("2 × (forward_delay − 1 s) ≥ max_age"), std::string::npos);
  EXPECT_EQ(r->config().max_age, 20);
}

TEST(RstpConfig, BadPortConfigIsRefusedNamingPortAndField) {
  auto r = Rstp::create(BridgeConfig{}, packet::MacAddress::from_u64(1), TimePoint{});
  ASSERT_TRUE(r.ok());
  Rstp& e = *r;
  PortConfig c;
  c.priority = 100;
  EXPECT_EQ(e.add_port(5, c, TimePoint{}).error().message,
            "port 5: port priority 100: expected 0–240 in steps of 16");
  c = {};
  c.path_cost = 300'000'000;
  EXPECT_EQ(e.add_port(5, c, TimePoint{}).error().message,
            "port 5: port path_cost 300000000: expected 1–200000000 (long method) or 0 for "
            "automatic");
  c = {};
  c.bpdu_guard = c.bpdu_filter = true;
  EXPECT_FALSE(e.add_port(5, c, TimePoint{}).ok());
  EXPECT_EQ(e.add_port(0, PortConfig{}, TimePoint{}).error().message,
            "port 0: expected a port number 1–4095 (§9.2.7)");
  EXPECT_FALSE(e.add_port(4096, PortConfig{}, TimePoint{}).ok());
  ASSERT_TRUE(e.add_port(5, PortConfig{}, TimePoint{}).ok());
  EXPECT_EQ(e.add_port(5, PortConfig{}, TimePoint{}).error().code, EEXIST);
  EXPECT_EQ(e.remove_port(6, TimePoint{}).error().code, ENOENT);
  // The short method allows 16-bit costs only.
  BridgeConfig short_cost;
  short_cost.path_cost_method = PathCostMethod::kShort;
  ASSERT_TRUE(e.configure(short_cost, TimePoint{}).ok());
  c = {};
  c.path_cost = 70000;
  EXPECT_EQ(e.configure_port(5, c, TimePoint{}).error().message,
            "port 5: port path_cost 70000: expected 1–65535 (short method) or 0 for automatic");
}

TEST(RstpConfig, PathCostFromLinkSpeed) {
  // §17.14 Table 17-3 and 802.1D-1998 Table 8-5.
  struct Case {
    uint32_t mbps, long_cost, short_cost;
  };
  const Case cases[] = {{10, 2'000'000, 100}, {100, 200'000, 19}, {1000, 20'000, 4},
                        {10000, 2'000, 2},    {100000, 200, 2},   {0, 2'000'000, 100}};
  for (const Case& c : cases) {
    EXPECT_EQ(path_cost_for_speed(c.mbps, PathCostMethod::kLong), c.long_cost) << c.mbps;
    EXPECT_EQ(path_cost_for_speed(c.mbps, PathCostMethod::kShort), c.short_cost) << c.mbps;
  }
  // The port takes it when the link comes up, unless configured.
  Network net;
  size_t a = *net.add_bridge("A");
  net.link({a, 1}, {a, 2}, 100);
  EXPECT_EQ(net.engine(a).port_status(1)->path_cost, 200'000u);
  PortConfig fixed;
  fixed.path_cost = 7;
  ASSERT_TRUE(net.engine(a).configure_port(1, fixed, net.now()).ok());
  EXPECT_EQ(net.engine(a).port_status(1)->path_cost, 7u);
}

// ---- time

TEST(RstpTime, OneTickPerWholeSecondSinceCreationAndLongGapsAreSkipped) {
  TimePoint t0{std::chrono::seconds(500)};
  auto r = Rstp::create(BridgeConfig{}, packet::MacAddress::from_u64(1), t0);
  ASSERT_TRUE(r.ok());
  Rstp& e = *r;
  EXPECT_EQ(e.next_tick(), t0 + 1s);
  e.tick(t0 + 900ms);
  EXPECT_EQ(e.next_tick(), t0 + 1s);
  e.tick(t0 + 1s);
  EXPECT_EQ(e.next_tick(), t0 + 2s);
  e.tick(t0 + 500ms);  // backwards: nothing
  EXPECT_EQ(e.next_tick(), t0 + 2s);
  e.tick(t0 + 3600s + 10ms);  // suspended for an hour: the last 120 ticks run
  EXPECT_EQ(e.next_tick(), t0 + 3601s);
  EXPECT_EQ(e.status().counters.skipped_ticks, 3599u - Rstp::kMaxCatchUpTicks);
}

}  // namespace
