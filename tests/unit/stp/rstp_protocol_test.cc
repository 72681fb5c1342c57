// RSTP protocol details: STP compatibility and migration (§17.24), topology change (§17.31),
// Port Transmit (§17.26).
#include <gtest/gtest.h>

#include "stp/rstp.hh"
#include "unit/stp/sim_expect.hh"

using namespace vnet;
using namespace vnet::stp;
using namespace vnet::stp::sim;
using namespace std::chrono_literals;

namespace {

std::optional<Bpdu> last_sent(Network& net, PortRef r) {
  const auto& s = net.sent(r);
  if (s.empty()) return std::nullopt;
  return s.back().second;
}

size_t sent_since(Network& net, PortRef r, TimePoint since, std::optional<BpduType> type = {}) {
  size_t n = 0;
  for (const auto& [at, b] : net.sent(r)) n += at >= since && (!type || b.type == *type);
  return n;
}

// When the port first reached `state` at or after `since`.
std::optional<TimePoint> reached(Network& net, size_t b, PortNo port, std::string_view state,
                                 TimePoint since) {
  std::string text = fmt::format("{} port {} {}", net.name(b), port, state);
  for (const Event& e : net.events()) {
    if (e.at >= since && e.text == text) return e.at;
  }
  return std::nullopt;
}

// ---- STP compatibility

TEST(RstpCompat, PortFacingAnStpBridgeSendsConfigBpdusAndWaitsForwardDelays) {
  Network net;
  size_t a = *net.add_bridge("A", with_priority(4096));
  size_t s = *net.add_bridge("S", stp_only());
  net.set_legacy(s, true);
  TimePoint start = net.now();
  net.link({a, 1}, {s, 1});
  net.run_for(60s);
  auto status = *net.engine(a).port_status(1);
  EXPECT_FALSE(status.send_rstp);
  ASSERT_TRUE(last_sent(net, {a, 1}));
  EXPECT_EQ(last_sent(net, {a, 1})->type, BpduType::kConfig);
  EXPECT_EQ(sent_since(net, {a, 1}, start + 10s, BpduType::kRst), 0u);
  EXPECT_EQ(net.role({a, 1}), PortRole::kDesignated);
  EXPECT_EQ(net.role({s, 1}), PortRole::kRoot);
  // No proposal/agreement with STP: discarding (STP's listening) at least Forward Delay, then
  // learning for Forward Delay (§17.29.3 with forwardDelay = FwdDelay, §17.20.6).
  for (size_t b : {a, s}) {
    auto learning = reached(net, b, 1, "learning", start);
    auto forwarding = reached(net, b, 1, "forwarding", start);
    ASSERT_TRUE(learning && forwarding) << net.name(b);
    EXPECT_GE(*learning - start, 15s) << net.name(b);
    EXPECT_GE(*forwarding - *learning, 14s) << net.name(b);
    EXPECT_LE(*forwarding - *learning, 16s) << net.name(b);
  }
  EXPECT_TREE(net);
}

TEST(RstpCompat, ReturnsToRstpWhenTheDesignatedBridgeSpeaksRstpAgain) {
  Network net;
  size_t a = *net.add_bridge("A");
  BridgeConfig legacy = stp_only();
  legacy.priority = 4096;  // S is the root: its port is designated and sends every Hello Time
  size_t s = *net.add_bridge("S", legacy);
  net.set_legacy(s, true);
  net.link({a, 1}, {s, 1});
  net.run_for(60s);
  ASSERT_FALSE(net.engine(a).port_status(1)->send_rstp);
  ASSERT_EQ(net.role({a, 1}), PortRole::kRoot);
  // S is upgraded to RSTP and sends RST BPDUs; A's port, sensing (§17.24 SENSING: rcvdRSTP while
  // not sendRSTP), goes back to RSTP.
  net.set_legacy(s, false);
  legacy.force_version = 2;
  ASSERT_TRUE(net.engine(s).configure(legacy, net.now()).ok());
  net.settle();
  net.run_for(10s);
  EXPECT_TRUE(net.engine(a).port_status(1)->send_rstp);
  EXPECT_TRUE(net.engine(s).port_status(1)->send_rstp);
  EXPECT_EQ(last_sent(net, {s, 1})->type, BpduType::kRst);
  EXPECT_EQ(net.state({a, 1}), PortState::kForwarding);
  EXPECT_TREE(net);
}

TEST(RstpCompat, McheckBringsBackRstpOnceTheStpBridgeHasLeftTheLan) {
  // A and C share a LAN with a legacy STP bridge S: both fall back to Config BPDUs. When S
  // leaves, A and C keep speaking STP to each other until management asks for mcheck (§17.19.13).
  Network net;
  size_t a = *net.add_bridge("A", with_priority(4096));
  size_t c = *net.add_bridge("C");
  size_t s = *net.add_bridge("S", stp_only());
  net.set_legacy(s, true);
  net.lan({{a, 1}, {c, 1}, {s, 1}});
  net.run_for(60s);
  ASSERT_FALSE(net.engine(a).port_status(1)->send_rstp);
  ASSERT_FALSE(net.engine(c).port_status(1)->send_rstp);
  net.set_port_up({s, 1}, false);
  net.run_for(30s);
  EXPECT_FALSE(net.engine(a).port_status(1)->send_rstp) << "no migration without mcheck";
  EXPECT_FALSE(net.engine(c).port_status(1)->send_rstp);
  net.engine(a).mcheck(1, net.now());
  net.settle();
  net.run_for(10s);
  EXPECT_TRUE(net.engine(a).port_status(1)->send_rstp);
  EXPECT_TRUE(net.engine(c).port_status(1)->send_rstp);
  EXPECT_EQ(last_sent(net, {c, 1})->type, BpduType::kRst);
  EXPECT_TREE(net);
}

TEST(RstpCompat, McheckTowardsAStillLegacyBridgeFallsBackAgain) {
  Network net;
  size_t a = *net.add_bridge("A", with_priority(4096));
  size_t s = *net.add_bridge("S", stp_only());
  net.set_legacy(s, true);
  net.link({a, 1}, {s, 1});
  net.run_for(60s);
  TimePoint at = net.now();
  net.engine(a).mcheck(1, at);
  net.settle();
  EXPECT_TRUE(net.engine(a).port_status(1)->send_rstp);
  net.run_for(10s);
  EXPECT_GE(sent_since(net, {a, 1}, at, BpduType::kRst), 1u);
  EXPECT_FALSE(net.engine(a).port_status(1)->send_rstp);
  EXPECT_EQ(last_sent(net, {a, 1})->type, BpduType::kConfig);
  EXPECT_TREE(net);
}

// ---- topology change

TEST(RstpTopologyChange, APortGoingForwardingPropagatesTcAndFlushesTheOtherPorts) {
  Network net;
  size_t a = *net.add_bridge("A", with_priority(4096));
  size_t b = *net.add_bridge("B");
  size_t c = *net.add_bridge("C");
  net.link({a, 1}, {b, 1});
  net.link({b, 2}, {c, 1});
  PortConfig edge;
  edge.admin_edge = true;
  ASSERT_TRUE(net.add_port({b, 4}, edge));
  net.lan({{b, 4}});
  net.run_for(30s);  // every topology change of the start-up is over
  ASSERT_FALSE(net.engine(b).status().topology_change);
  uint64_t changes_b = net.engine(b).status().topology_changes;
  auto flushes = [&](size_t br, PortNo p) { return net.flushes({br, p}); };
  uint64_t b1 = flushes(b, 1), b2 = flushes(b, 2), b4 = flushes(b, 4), a1 = flushes(a, 1),
           c1 = flushes(c, 1);

  // D joins behind B's port 3: D's root port goes forwarding (§17.31 DETECTED), its TC reaches
  // B, which flushes every other non-edge port and passes the TC on to A and C.
  size_t d = *net.add_bridge("D");
  TimePoint start = net.now();
  net.link({b, 3}, {d, 1});
  net.run_for(1s);
  EXPECT_GE(net.engine(d).status().topology_changes, 1u);
  EXPECT_GT(net.engine(b).status().topology_changes, changes_b);
  EXPECT_GT(flushes(b, 1), b1);
  EXPECT_GT(flushes(b, 2), b2);
  EXPECT_EQ(flushes(b, 4), b4) << "edge ports are not flushed";
  bool tc_to_a = false, tc_to_c = false;
  for (const auto& [at, bpdu] : net.sent({b, 1}))
    tc_to_a |= at >= start && bpdu.flags.topology_change;
  for (const auto& [at, bpdu] : net.sent({b, 2}))
    tc_to_c |= at >= start && bpdu.flags.topology_change;
  EXPECT_TRUE(tc_to_a);
  EXPECT_TRUE(tc_to_c);
  // A and C got it on their only port; they have no other port to flush.
  EXPECT_EQ(flushes(a, 1), a1);
  EXPECT_EQ(flushes(c, 1), c1);
  // tcWhile = HelloTime + 1 (§17.21.7): the change is over after a few seconds.
  net.run_for(10s);
  EXPECT_FALSE(net.engine(b).status().topology_change);
  EXPECT_TREE(net);
}

TEST(RstpTopologyChange, AnEdgePortGoingForwardingIsNoTopologyChange) {
  Network net;
  size_t a = *net.add_bridge("A");
  size_t b = *net.add_bridge("B");
  net.link({a, 1}, {b, 1});
  net.run_for(30s);
  uint64_t before = net.engine(a).status().topology_changes;
  PortConfig edge;
  edge.admin_edge = true;
  ASSERT_TRUE(net.add_port({a, 2}, edge));
  net.lan({{a, 2}});
  net.run_for(5s);
  EXPECT_EQ(net.state({a, 2}), PortState::kForwarding);
  EXPECT_EQ(net.engine(a).status().topology_changes, before);
}

TEST(RstpTopologyChange, StpBridgeSendsTcnUntilTheDesignatedBridgeAcknowledges) {
  Network net;
  size_t a = *net.add_bridge("A", with_priority(4096));
  size_t s = *net.add_bridge("S", stp_only());
  net.set_legacy(s, true);
  net.link({a, 1}, {s, 1});
  net.run_for(60s);
  ASSERT_EQ(net.role({s, 1}), PortRole::kRoot);
  uint64_t tcn_before = net.engine(a).port_status(1)->counters.rx_tcn;
  // A new segment behind S: its designated port goes forwarding after 2 × Forward Delay.
  TimePoint start = net.now();
  net.lan({{s, 2}});
  net.run_for(40s);
  ASSERT_EQ(net.state({s, 2}), PortState::kForwarding);
  // S's root port sent TCN BPDUs (§17.26 TRANSMIT_TCN), A received them and answered with the
  // TCA flag (§17.31 NOTIFIED_TC: tcAck), which ended S's tcWhile (ACKNOWLEDGED).
  EXPECT_GE(sent_since(net, {s, 1}, start, BpduType::kTcn), 1u);
  EXPECT_GT(net.engine(a).port_status(1)->counters.rx_tcn, tcn_before);
  bool tca = false;
  for (const auto& [at, bpdu] : net.sent({a, 1})) {
    tca |= at >= start && bpdu.type == BpduType::kConfig && bpdu.flags.topology_change_ack;
  }
  EXPECT_TRUE(tca);
  TimePoint quiet = net.now();
  net.run_for(20s);
  EXPECT_EQ(sent_since(net, {s, 1}, quiet, BpduType::kTcn), 0u) << "TCNs stop once acknowledged";
  // A, the root, set TC in its Config BPDUs for Max Age + Forward Delay (§17.21.7, STP).
  EXPECT_GE(net.engine(a).status().topology_changes, 1u);
  EXPECT_TREE(net);
}

// ---- Port Transmit

TEST(RstpTransmit, DesignatedPortSendsOneBpduPerHelloTime) {
  Network net;
  size_t a = *net.add_bridge("A");
  size_t b = *net.add_bridge("B");
  net.link({a, 1}, {b, 1});
  net.run_for(30s);
  TimePoint start = net.now();
  net.run_for(20s);
  size_t n = sent_since(net, {a, 1}, start, BpduType::kRst);
  EXPECT_GE(n, 10u);
  EXPECT_LE(n, 11u);
}

// Floods port 1 of a lone bridge with BPDUs whose root path cost alternates, so that every one
// changes what port 2 must announce (newInfo), all at one instant.
size_t burst_sent_on_port_2(uint8_t tx_hold_count) {
  Network net;
  BridgeConfig cfg;
  cfg.tx_hold_count = tx_hold_count;
  size_t x = *net.add_bridge("X", cfg);
  net.lan({{x, 1}});
  net.lan({{x, 2}});
  net.run_for(30s);
  TimePoint at = net.now();
  for (int i = 0; i < 20; ++i) {
    Bpdu b;
    b.version = 2;
    b.type = BpduType::kRst;
    b.flags.role = BpduRole::kDesignated;
    b.root = b.bridge = BridgeId{uint64_t{4096} << 48 | 0x0200000000ffULL};
    b.root_path_cost = i % 2 ? 10 : 20;
    b.port = PortId::make(128, 1);
    net.inject({x, 1}, b);
  }
  return sent_since(net, {x, 2}, at);
}

TEST(RstpTransmit, TxHoldCountLimitsBpdusPerSecond) {
  // §17.26: at most TxHoldCount transmissions until txCount is decremented by the next tick.
  EXPECT_EQ(burst_sent_on_port_2(6), 6u);
  EXPECT_EQ(burst_sent_on_port_2(3), 3u);
  EXPECT_EQ(burst_sent_on_port_2(10), 10u);
}

}  // namespace
