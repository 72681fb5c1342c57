// RSTP (IEEE 802.1D-2004 clause 17) on simulated networks: election, roles, convergence,
// failures, with the loop-freedom property checked at every stable point.
#include "stp/rstp.hh"

#include <gtest/gtest.h>

#include "unit/stp/sim.hh"

using namespace vnet;
using namespace vnet::stp;
using namespace vnet::stp::sim;
using namespace std::chrono_literals;

namespace {

constexpr uint64_t kMacBase = 0x020000000000ULL;

// The id the simulator gives bridge `index` with `priority` (its MAC is kMacBase + index + 1).
BridgeId sim_id(size_t index, uint16_t priority = 32768) {
  return BridgeId{uint64_t{priority} << 48 | (kMacBase + index + 1)};
}

BridgeConfig with_priority(uint16_t priority) {
  BridgeConfig c;
  c.priority = priority;
  return c;
}

#define EXPECT_TREE(net)                  \
  do {                                    \
    std::string why = (net).check_tree(); \
    EXPECT_EQ(why, "") << (net).dump();   \
  } while (0)

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

}  // namespace
