// RSTP (IEEE 802.1D-2004 clause 17) on simulated networks: election, roles, convergence,
// failures, with the loop-freedom property checked at every stable point.
#include "stp/rstp.hh"

#include <gtest/gtest.h>

#include <random>

#include "unit/stp/sim_expect.hh"

using namespace vnet;
using namespace vnet::stp;
using namespace vnet::stp::sim;
using namespace std::chrono_literals;

namespace {

BridgeId sim_id(size_t index, uint16_t priority = 32768) { return bridge_id(index, priority); }

struct Triangle {
  // A (root) — B, A — C, B — C; port numbers: A:1→B, A:2→C, B:1→A, B:2→C, C:1→A, C:2→B.
  Network net;
  size_t a = *net.add_bridge("A", with_priority(4096));
  size_t b = *net.add_bridge("B");
  size_t c = *net.add_bridge("C");
  size_t ab = net.link({a, 1}, {b, 1});
  size_t ac = net.link({a, 2}, {c, 1});
  size_t bc = net.link({b, 2}, {c, 2});
};

TEST(RstpSim, TwoBridgesElectTheLowerIdAndForwardWithinASecond) {
  Network net;
  size_t a = *net.add_bridge("A");
  size_t b = *net.add_bridge("B");
  net.link({a, 1}, {b, 1});
  // Proposal/agreement (§17.29.3): forwarding without waiting Forward Delay (15 s).
  ASSERT_TRUE(net.run_until(
      [&] {
        return net.state({a, 1}) == PortState::kForwarding &&
               net.state({b, 1}) == PortState::kForwarding;
      },
      1s))
      << net.dump();
  EXPECT_EQ(net.engine(a).status().root_id, sim_id(a));
  EXPECT_EQ(net.engine(b).status().root_id, sim_id(a));
  EXPECT_EQ(net.engine(b).status().root_port, 1u);
  EXPECT_EQ(net.engine(b).status().root_path_cost, 20000u);  // 1 Gb/s, Table 17-3
  EXPECT_EQ(net.role({a, 1}), PortRole::kDesignated);
  EXPECT_EQ(net.role({b, 1}), PortRole::kRoot);
  net.run_for(30s);
  EXPECT_TREE(net);
}

TEST(RstpSim, TriangleRolesRootDesignatedAlternate) {
  Triangle t;
  t.net.run_for(5s);
  auto& n = t.net;
  for (size_t i : {t.a, t.b, t.c}) EXPECT_EQ(n.engine(i).status().root_id, sim_id(t.a, 4096));
  EXPECT_FALSE(n.engine(t.a).status().root_port.has_value());
  EXPECT_EQ(n.role({t.a, 1}), PortRole::kDesignated);
  EXPECT_EQ(n.role({t.a, 2}), PortRole::kDesignated);
  EXPECT_EQ(n.role({t.b, 1}), PortRole::kRoot);
  EXPECT_EQ(n.role({t.c, 1}), PortRole::kRoot);
  // B and C are both one hop from the root: B's lower id makes it designated on B—C.
  EXPECT_EQ(n.role({t.b, 2}), PortRole::kDesignated);
  EXPECT_EQ(n.role({t.c, 2}), PortRole::kAlternate);
  EXPECT_EQ(n.state({t.c, 2}), PortState::kDiscarding);
  EXPECT_EQ(n.state({t.b, 2}), PortState::kForwarding);
  EXPECT_TREE(n);
}

TEST(RstpSim, RingOfSixAgreesOnRootAndCostAndBlocksOnePort) {
  Network net;
  std::vector<size_t> br;
  for (int i = 0; i < 6; ++i) br.push_back(*net.add_bridge(fmt::format("S{}", i)));
  for (size_t i = 0; i < 6; ++i) net.link({br[i], 2}, {br[(i + 1) % 6], 1});
  net.run_for(10s);
  EXPECT_TREE(net);
  // Hop counts from S0 around the ring: 0 1 2 3 2 1.
  const uint32_t hops[] = {0, 1, 2, 3, 2, 1};
  int alternates = 0;
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(net.engine(br[i]).status().root_id, sim_id(0)) << i;
    EXPECT_EQ(net.engine(br[i]).status().root_path_cost, hops[i] * 20000) << i;
    for (PortNo p : {1u, 2u}) alternates += net.role({br[i], p}) == PortRole::kAlternate;
  }
  EXPECT_EQ(alternates, 1);  // one port blocks the ring
}

TEST(RstpSim, NewLinkForwardsByProposalAgreementWellUnderForwardDelay) {
  Network net;
  size_t a = *net.add_bridge("A", with_priority(4096));
  size_t b = *net.add_bridge("B");
  size_t c = *net.add_bridge("C");
  net.link({a, 1}, {b, 1});
  net.run_for(20s);  // A—B converged; C alone
  TimePoint start = net.now();
  net.link({b, 2}, {c, 1});
  ASSERT_TRUE(net.run_until(
      [&] {
        return net.state({b, 2}) == PortState::kForwarding &&
               net.state({c, 1}) == PortState::kForwarding;
      },
      30s));
  EXPECT_LT(net.now() - start, 1s) << "forward delay is 15 s; proposal/agreement needs none";
  EXPECT_EQ(net.engine(c).status().root_id, sim_id(a, 4096));
  EXPECT_EQ(net.engine(c).status().root_path_cost, 40000u);
  EXPECT_TREE(net);
}

TEST(RstpSim, DirectFailureOnRootPathAlternateForwardsAtOnce) {
  Triangle t;
  t.net.run_for(10s);
  ASSERT_EQ(t.net.role({t.c, 2}), PortRole::kAlternate);
  TimePoint start = t.net.now();
  t.net.set_up(t.ac, false);
  // The alternate port becomes root port and forwards without Forward Delay (§17.29.2).
  ASSERT_TRUE(t.net.run_until(
      [&] {
        return t.net.state({t.c, 2}) == PortState::kForwarding;
      },
      30s));
  EXPECT_LT(t.net.now() - start, 1s);
  EXPECT_EQ(t.net.role({t.c, 2}), PortRole::kRoot);
  EXPECT_EQ(t.net.engine(t.c).status().root_path_cost, 40000u);
  EXPECT_TREE(t.net);
  t.net.run_for(30s);
  EXPECT_TREE(t.net);
  // The link comes back: C's root port moves back to the direct link, still a tree.
  t.net.set_up(t.ac, true);
  t.net.run_for(5s);
  EXPECT_EQ(t.net.role({t.c, 1}), PortRole::kRoot);
  EXPECT_EQ(t.net.role({t.c, 2}), PortRole::kAlternate);
  EXPECT_TREE(t.net);
}

TEST(RstpSim, IndirectFailureIsDetectedAfterThreeHelloTimes) {
  Triangle t;
  t.net.run_for(10s);
  TimePoint start = t.net.now();
  // A—C stops carrying anything but the carrier stays up (a failed middle box).
  t.net.set_dead(t.ac, true);
  ASSERT_TRUE(t.net.run_until(
      [&] {
        return t.net.role({t.c, 2}) == PortRole::kRoot;
      },
      30s))
      << t.net.dump();
  Duration took = t.net.now() - start;
  // rcvdInfoWhile = 3 × Hello Time (§17.21.23); the last BPDU came up to one Hello Time earlier.
  EXPECT_GE(took, 4s);
  EXPECT_LE(took, 7s);
  ASSERT_TRUE(t.net.run_until([&] { return t.net.state({t.c, 2}) == PortState::kForwarding; }, 1s));
  t.net.run_for(30s);
  EXPECT_TREE(t.net);
  EXPECT_EQ(t.net.engine(t.c).status().root_path_cost, 40000u);
}

TEST(RstpSim, RingWhoseRootFailsElectsTheNextAndStaysATree) {
  Network net;
  std::vector<size_t> br;
  for (int i = 0; i < 5; ++i) br.push_back(*net.add_bridge(fmt::format("R{}", i)));
  std::vector<size_t> links;
  for (size_t i = 0; i < 5; ++i) links.push_back(net.link({br[i], 2}, {br[(i + 1) % 5], 1}));
  net.run_for(10s);
  EXPECT_TREE(net);
  // R0 dies: both its links lose carrier.
  net.set_up(links[0], false);
  net.set_up(links[4], false);
  net.run_for(30s);
  for (size_t i = 1; i < 5; ++i) EXPECT_EQ(net.engine(br[i]).status().root_id, sim_id(1)) << i;
  EXPECT_EQ(net.engine(br[4]).status().root_path_cost, 60000u);
  EXPECT_TREE(net);
}

TEST(RstpSim, BridgeWithBetterPriorityTakesOverAsRoot) {
  Network net;
  size_t a = *net.add_bridge("A");
  size_t b = *net.add_bridge("B");
  size_t c = *net.add_bridge("C");
  net.link({a, 1}, {b, 1});
  net.link({b, 2}, {c, 1});
  net.link({c, 2}, {a, 2});
  net.run_for(10s);
  EXPECT_EQ(net.engine(c).status().root_id, sim_id(a));
  size_t d = *net.add_bridge("D", with_priority(0));
  net.link({d, 1}, {c, 3});
  net.run_for(10s);
  for (size_t i : {a, b, c, d}) EXPECT_EQ(net.engine(i).status().root_id, sim_id(d, 0)) << i;
  EXPECT_EQ(net.engine(c).status().root_port, 3u);
  EXPECT_EQ(net.engine(a).status().root_path_cost, 40000u);
  EXPECT_EQ(net.engine(b).status().root_path_cost, 40000u);
  EXPECT_TREE(net);
  // The same from a configuration change at run time: A becomes the best bridge.
  ASSERT_TRUE(net.engine(a).configure(with_priority(0), net.now()).ok());
  net.settle();
  net.run_for(10s);
  // Equal priority 0: A's lower MAC wins.
  for (size_t i : {a, b, c, d}) EXPECT_EQ(net.engine(i).status().root_id, sim_id(a, 0)) << i;
  EXPECT_TREE(net);
}

TEST(RstpSim, RootElectionAndCostsMatchShortestPathsOnRandomGraphs) {
  for (uint32_t seed = 1; seed <= 6; ++seed) {
    std::mt19937 rng(seed);
    Network net;
    const size_t n = 8;
    for (size_t i = 0; i < n; ++i) {
      BridgeConfig c;
      c.priority = static_cast<uint16_t>(4096 * (rng() % 16));
      net.add_bridge(fmt::format("N{}", i), c);
    }
    // A random spanning tree plus extra links; speeds 100 Mb/s, 1 Gb/s or 10 Gb/s.
    const uint32_t speeds[] = {100, 1000, 10000};
    std::vector<PortNo> next_port(n, 1);
    std::vector<std::vector<std::pair<size_t, uint32_t>>> adj(n);
    auto connect = [&](size_t x, size_t y) {
      uint32_t speed = speeds[rng() % 3];
      net.link({x, next_port[x]++}, {y, next_port[y]++}, speed);
      adj[x].push_back({y, path_cost_for_speed(speed, PathCostMethod::kLong)});
      adj[y].push_back({x, path_cost_for_speed(speed, PathCostMethod::kLong)});
    };
    for (size_t i = 1; i < n; ++i) connect(i, rng() % i);
    for (int k = 0; k < 6; ++k) connect(rng() % n, rng() % n);
    net.run_for(20s);
    SCOPED_TRACE(fmt::format("seed {}\n{}", seed, net.dump()));
    EXPECT_TREE(net);
    // The root is the lowest bridge id; each bridge's root path cost is its shortest path.
    size_t root = 0;
    for (size_t i = 1; i < n; ++i) {
      if (net.engine(i).status().bridge_id < net.engine(root).status().bridge_id) root = i;
    }
    std::vector<uint64_t> dist(n, UINT64_MAX);
    dist[root] = 0;
    for (size_t round = 0; round < n; ++round) {  // Bellman-Ford
      for (size_t x = 0; x < n; ++x) {
        for (auto [y, cost] : adj[x]) {
          if (x != y && dist[x] != UINT64_MAX) dist[y] = std::min(dist[y], dist[x] + cost);
        }
      }
    }
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(net.engine(i).status().root_id, net.engine(root).status().bridge_id) << i;
      EXPECT_EQ(net.engine(i).status().root_path_cost, dist[i]) << i;
    }
  }
}

TEST(RstpSim, LinkBetweenTwoPortsOfOneBridgeMakesABackupPort) {
  Network net;
  size_t a = *net.add_bridge("A");
  size_t b = *net.add_bridge("B");
  net.link({a, 3}, {b, 1});
  net.link({a, 1}, {a, 2});  // a loop cable
  net.run_for(10s);
  EXPECT_EQ(net.role({a, 1}), PortRole::kDesignated);
  EXPECT_EQ(net.role({a, 2}), PortRole::kBackup);
  EXPECT_EQ(net.state({a, 2}), PortState::kDiscarding);
  EXPECT_TREE(net);
}

TEST(RstpSim, SharedLanGivesDesignatedBackupAndRootPorts) {
  Network net;
  size_t a = *net.add_bridge("A");
  size_t b = *net.add_bridge("B");
  net.lan({{a, 1}, {a, 2}, {b, 1}});
  net.run_for(40s);
  EXPECT_EQ(net.role({a, 1}), PortRole::kDesignated);
  EXPECT_EQ(net.role({a, 2}), PortRole::kBackup);
  EXPECT_EQ(net.role({b, 1}), PortRole::kRoot);
  EXPECT_FALSE(net.engine(b).port_status(1)->oper_p2p);
  EXPECT_TREE(net);
}

TEST(RstpSim, TreeCheckFindsTheCycleWhenNoBpduIsExchanged) {
  // Positive control for check_tree(): with BPDU filter on every port nothing blocks.
  Network net;
  PortConfig filtered;
  filtered.bpdu_filter = true;
  size_t x = *net.add_bridge("X"), y = *net.add_bridge("Y"), z = *net.add_bridge("Z");
  for (size_t b : {x, y, z}) {
    for (PortNo p : {1u, 2u}) ASSERT_TRUE(net.add_port({b, p}, filtered));
  }
  net.link({x, 1}, {y, 1});
  net.link({y, 2}, {z, 1});
  net.link({z, 2}, {x, 2});
  net.run_for(60s);
  EXPECT_NE(net.check_tree().find("forwarding cycle"), std::string::npos) << net.dump();
}

// ---- edge ports

TEST(RstpEdge, AdminEdgePortForwardsAtOnceAndLosesEdgeOnABpdu) {
  Network net;
  size_t a = *net.add_bridge("A");
  PortConfig edge;
  edge.admin_edge = true;
  ASSERT_TRUE(net.add_port({a, 1}, edge));
  net.lan({{a, 1}});
  EXPECT_EQ(net.state({a, 1}), PortState::kForwarding);
  EXPECT_TRUE(net.engine(a).port_status(1)->oper_edge);
  // A bridge appears behind it: it sends a superior BPDU; the port is no longer an edge.
  Bpdu superior;
  superior.version = 2;
  superior.type = BpduType::kRst;
  superior.flags.role = BpduRole::kDesignated;
  superior.root = superior.bridge = BridgeId{1};
  superior.port = PortId::make(128, 1);
  net.inject({a, 1}, superior);
  EXPECT_FALSE(net.engine(a).port_status(1)->oper_edge);
  EXPECT_EQ(net.role({a, 1}), PortRole::kRoot);
}

TEST(RstpEdge, AutoEdgePortWithNoBridgeBehindItForwardsAfterTheEdgeDelay) {
  Network net;
  size_t a = *net.add_bridge("A");
  size_t b = *net.add_bridge("B");
  net.link({a, 1}, {b, 1});
  net.run_for(5s);
  // A host behind port 2, silent. Alone on a (half-duplex) LAN, it is made point-to-point.
  PortConfig p2p;
  p2p.p2p = AdminP2p::kForceTrue;
  ASSERT_TRUE(net.add_port({a, 2}, p2p));
  TimePoint start = net.now();
  net.lan({{a, 2}}, 1000);
  ASSERT_TRUE(net.run_until([&] { return net.state({a, 2}) == PortState::kForwarding; }, 30s));
  // §17.25: edgeDelayWhile (Migrate Time, 3 s on a point-to-point link) ran out while proposing.
  EXPECT_LE(net.now() - start, 4s);
  EXPECT_TRUE(net.engine(a).port_status(2)->oper_edge);
  // A port facing a bridge never becomes an edge.
  EXPECT_FALSE(net.engine(a).port_status(1)->oper_edge);
}

}  // namespace
