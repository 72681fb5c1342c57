// Spanning tree wired into the dataplane (bridge/spanning_tree.hh): three bridges joined in a
// triangle of in-process cables, one host on each, driven through the event loop on a manual
// clock. What a user relies on: with spanning tree on, a loop carries every broadcast exactly
// once to every host and the storm guard never fires; a link failure on the tree heals through
// the blocked port; with spanning tree off the same loop is what the storm guard catches.
#include <gtest/gtest.h>

#include "bridge/dataplane.hh"
#include "io/memory.hh"
#include "support/frames.hh"

using namespace vnet;
using namespace vnet::bridge;
using namespace std::chrono_literals;
using vnet::test::frame;
using vnet::test::mac;

namespace {

class TriangleTest : public ::testing::Test {
 protected:
  // sw1 port 1 — sw2 port 1, sw2 port 2 — sw3 port 1, sw3 port 2 — sw1 port 2; hosts on port 5.
  TriangleTest() : loop(clock), dp(loop) {
    for (const char* n : {"sw1", "sw2", "sw3"}) sw.push_back(*dp.create_bridge(n));
    for (Bridge* b : sw) {
      EXPECT_TRUE(b->add_port(1).ok());
      EXPECT_TRUE(b->add_port(2).ok());
      auto [near, far] = io::MemoryBackend::pair(b->name() + ".host");
      EXPECT_TRUE(dp.attach(*b, 5, std::move(near), false).ok());
      hosts.push_back(std::move(far));
    }
  }
  void cable_up() {
    ASSERT_TRUE(dp.connect_cable(*sw[0], 1, *sw[1], 1).ok());
    ASSERT_TRUE(dp.connect_cable(*sw[1], 2, *sw[2], 1).ok());
    ASSERT_TRUE(dp.connect_cable(*sw[2], 2, *sw[0], 2).ok());
  }
  void stp_on(Bridge& b, uint16_t priority) {
    SpanningTree& t = dp.spanning_tree(b);
    stp::BridgeConfig c = t.config();
    c.priority = priority;
    ASSERT_TRUE(t.set_config(c, clock.now()).ok());
    stp::PortConfig host;
    host.admin_edge = true;
    ASSERT_TRUE(t.set_port_config(5, host, clock.now()).ok());
    ASSERT_TRUE(t.set_mode(StpMode::kRstp, clock.now()).ok());
    dp.stp_changed();
  }
  // Runs the loop for `seconds` of virtual time, 100 ms at a time.
  void advance(int seconds) {
    for (int i = 0; i < seconds * 10; ++i) {
      clock.advance(100ms);
      for (int k = 0; k < 4; ++k) loop.run_once(Duration{0});
    }
  }
  // The data frames host `host` received (the BPDUs its designated port sends are left out).
  std::vector<packet::Frame> take(size_t host) {
    std::vector<packet::Frame> in, out;
    hosts[host]->receive(in, 100000);
    for (auto& f : in) {
      if (!is_reserved_group_address(f.data())) out.push_back(std::move(f));
    }
    return out;
  }
  uint64_t storm_drops() {
    uint64_t n = 0;
    for (Bridge* b : sw)
      for (PortNo p : b->port_numbers())
        n += b->counters(p).drops[static_cast<size_t>(DropReason::kStormGuard)];
    return n;
  }
  // sw1 the root (4096), sw2 (32768), sw3 (61440), cabled and converged for 2 s.
  void converge() {
    stp_on(*sw[0], 4096);
    stp_on(*sw[1], 32768);
    stp_on(*sw[2], 61440);
    cable_up();
    advance(2);
  }
  // A broadcast from sw1's host, one second to travel: arrives once at sw2's and sw3's hosts.
  void expect_broadcast_reaches_both() {
    for (size_t h = 0; h < 3; ++h) take(h);
    std::vector<packet::Frame> v;
    v.push_back(frame(packet::MacAddress::broadcast(), mac(1)));
    hosts[0]->send(v);
    advance(1);
    EXPECT_EQ(take(1).size(), 1u) << "sw1's host reaches sw2's host around the triangle";
    EXPECT_EQ(take(2).size(), 1u);
    EXPECT_EQ(storm_drops(), 0u);
  }
  // Ports in the triangle that are not forwarding.
  int blocked() {
    int n = 0;
    for (Bridge* b : sw)
      for (PortNo p : {1u, 2u}) n += b->port_state(p) != PortState::kForwarding;
    return n;
  }
  ManualClock clock;
  EventLoop loop;
  Dataplane dp;
  std::vector<Bridge*> sw;
  std::vector<std::unique_ptr<io::MemoryBackend>> hosts;
};

TEST_F(TriangleTest, WithoutSpanningTreeTheLoopIsCaughtByTheStormGuard) {
  cable_up();
  std::vector<packet::Frame> v;
  v.push_back(frame(packet::MacAddress::broadcast(), mac(1)));
  hosts[0]->send(v);
  for (int k = 0; k < 4; ++k) loop.run_once(Duration{0});
  EXPECT_GT(storm_drops(), 0u) << "the positive control: this triangle is a loop";
  EXPECT_GT(take(1).size(), 1u) << "copies went round";
}

TEST_F(TriangleTest, RstpBlocksOnePortAndEveryBroadcastArrivesOnce) {
  converge();
  const stp::Rstp* e1 = dp.find_spanning_tree(*sw[0])->engine();
  const stp::Rstp* e3 = dp.find_spanning_tree(*sw[2])->engine();
  ASSERT_TRUE(e1 && e3);
  EXPECT_EQ(e3->status().root_id, e1->status().bridge_id) << "sw1 has the best priority";
  EXPECT_EQ(blocked(), 1) << "one port of the triangle discards";
  EXPECT_EQ(sw[2]->port_state(1), PortState::kDiscarding)
      << "sw3 (worst priority) blocks its port toward sw2";
  EXPECT_EQ(dp.find_spanning_tree(*sw[2])->engine()->port_status(1)->role,
            stp::PortRole::kAlternate);
  for (size_t h = 0; h < 3; ++h) take(h);

  for (size_t from = 0; from < 3; ++from) {
    std::vector<packet::Frame> v;
    v.push_back(frame(packet::MacAddress::broadcast(), mac(static_cast<int>(from + 1))));
    hosts[from]->send(v);
    advance(1);
    for (size_t to = 0; to < 3; ++to) {
      if (to == from) continue;
      EXPECT_EQ(take(to).size(), 1u) << "from host " << from << " to " << to;
    }
    EXPECT_TRUE(take(from).empty());
  }
  EXPECT_EQ(storm_drops(), 0u);
  EXPECT_EQ(dp.find_spanning_tree(*sw[0])->bad_bpdus(), 0u);
}

TEST_F(TriangleTest, ALinkFailureOnTheTreeHealsThroughTheAlternatePortWithinASecond) {
  converge();
  ASSERT_EQ(sw[2]->port_state(1), PortState::kDiscarding);
  // sw1—sw2 fails: sw2 must reach the root through sw3, whose alternate port takes over.
  ASSERT_TRUE(dp.set_link(*sw[0], 1, false).ok());
  advance(1);
  EXPECT_EQ(sw[2]->port_state(1), PortState::kForwarding);
  EXPECT_EQ(blocked(), 2) << "only the two ends of the failed cable are down";
  expect_broadcast_reaches_both();
  // The cable comes back: the tree returns to one blocked port, still no storm.
  ASSERT_TRUE(dp.set_link(*sw[0], 1, true).ok());
  advance(3);
  EXPECT_EQ(blocked(), 1);
  EXPECT_EQ(storm_drops(), 0u);
}

// A silent root-path cable (carrier up, nothing crosses): unlike a pulled cable nothing tells
// sw2 at once; it keeps its root port until the root's information there ages out, three hello
// times (2 s by default) after the last BPDU it received (802.1D-2004 §17.21.23), then heals
// through sw3 as before.
TEST_F(TriangleTest, ASilentRootPathCableHealsWhenTheRootsInformationAgesOut) {
  converge();
  ASSERT_EQ(sw[2]->port_state(1), PortState::kDiscarding);
  const stp::Rstp* e2 = dp.find_spanning_tree(*sw[1])->engine();
  ASSERT_EQ(e2->port_status(1)->role, stp::PortRole::kRoot);
  ASSERT_TRUE(dp.set_silent(*sw[0], 1, true).ok());
  advance(3);  // the last BPDU came at most 2 s before the fault: nothing has aged out yet
  EXPECT_TRUE(sw[0]->active(1));
  EXPECT_TRUE(sw[1]->active(1));
  EXPECT_EQ(e2->port_status(1)->role, stp::PortRole::kRoot) << "sw2 cannot know yet";
  EXPECT_EQ(sw[2]->port_state(1), PortState::kDiscarding);
  advance(4);  // 7 s after the fault: past 3 × hello since the last BPDU, one tick to spare
  EXPECT_EQ(sw[2]->port_state(1), PortState::kForwarding);
  EXPECT_EQ(e2->port_status(2)->role, stp::PortRole::kRoot) << "sw2 reaches the root via sw3";
  EXPECT_GT(sw[1]->counters(1).drops[static_cast<size_t>(DropReason::kLinkSilent)], 0u)
      << "sw2's BPDUs toward sw1 were dropped on the silent cable";
  expect_broadcast_reaches_both();
}

TEST_F(TriangleTest, TurningSpanningTreeOffForwardsEverywhereAndStopsTheTimer) {
  stp_on(*sw[0], 4096);
  advance(1);
  EXPECT_TRUE(dp.stp_timer_armed());
  ASSERT_TRUE(dp.spanning_tree(*sw[0]).set_mode(StpMode::kOff, clock.now()).ok());
  dp.stp_changed();
  advance(1);
  EXPECT_FALSE(dp.stp_timer_armed()) << "no tree on: nothing ticks";
  for (PortNo p : sw[0]->port_numbers()) EXPECT_EQ(sw[0]->port_state(p), PortState::kForwarding);
}

// A lab's `kill: SW` on the root bridge and its `start: SW` (lab/kind_switch.cc) in the
// dataplane's terms: every cable of sw1 down at both ends, its tree off, its FDB flushed; the
// others elect sw2; the boot turns the tree on again before the cables come back, and the engine
// it gets has forgotten everything (802.1D-2004 §17.19 BEGIN: it is its own root, no BPDU seen).
TEST_F(TriangleTest, ARootThatLosesPowerIsReplacedAndBootsWithAFreshTree) {
  stp_on(*sw[0], 4096);
  stp_on(*sw[1], 8192);
  stp_on(*sw[2], 32768);
  cable_up();
  advance(2);
  std::vector<packet::Frame> v;
  v.push_back(frame(packet::MacAddress::broadcast(), mac(1)));
  hosts[0]->send(v);
  advance(1);
  auto engine = [&](size_t i) { return dp.find_spanning_tree(*sw[i])->engine(); };
  ASSERT_TRUE(engine(0) && engine(1) && engine(2));
  const auto id1 = engine(0)->status().bridge_id, id2 = engine(1)->status().bridge_id;
  ASSERT_EQ(engine(2)->status().root_id, id1);
  ASSERT_GT(engine(0)->port_status(1)->counters.rx_rst, 0u) << "sw1 heard sw2 (the control)";
  ASSERT_GT(sw[0]->fdb().size(), 0u) << "sw1 learned host 1 (the control)";

  // Power cut.
  for (auto [b, p] : {std::pair{0, 1}, {1, 1}, {0, 2}, {2, 2}})
    ASSERT_TRUE(dp.set_link(*sw[b], p, false).ok());
  ASSERT_TRUE(dp.set_link(*sw[0], 5, false).ok());
  ASSERT_TRUE(dp.spanning_tree(*sw[0]).set_mode(StpMode::kOff, clock.now()).ok());
  sw[0]->fdb().flush();
  dp.stp_changed();
  advance(3);
  EXPECT_EQ(engine(0), nullptr);
  EXPECT_EQ(sw[0]->fdb().size(), 0u);
  EXPECT_EQ(engine(1)->status().root_id, id2) << "sw2 has the best priority left";
  EXPECT_EQ(engine(2)->status().root_id, id2);
  EXPECT_EQ(sw[2]->port_state(1), PortState::kForwarding) << "sw3 reaches sw2 directly now";

  // Boot: the tree first, then the cables.
  ASSERT_TRUE(dp.spanning_tree(*sw[0]).set_mode(StpMode::kRstp, clock.now()).ok());
  dp.stp_changed();
  ASSERT_TRUE(engine(0));
  EXPECT_EQ(engine(0)->status().root_id, id1) << "a fresh engine is its own root";
  EXPECT_EQ(engine(0)->port_status(1)->counters.rx_rst, 0u) << "and has heard nothing yet";
  EXPECT_EQ(engine(0)->status().topology_changes, 0u);
  for (auto [b, p] : {std::pair{0, 1}, {1, 1}, {0, 2}, {2, 2}, {0, 5}})
    ASSERT_TRUE(dp.set_link(*sw[b], p, true).ok());
  advance(3);
  EXPECT_EQ(engine(1)->status().root_id, id1) << "sw1 wins the root back";
  EXPECT_EQ(engine(2)->status().root_id, id1);
  EXPECT_EQ(blocked(), 1);
  EXPECT_EQ(storm_drops(), 0u);
}

TEST_F(TriangleTest, AFrameToTheBridgeGroupAddressThatIsNoBpduIsCounted) {
  stp_on(*sw[0], 4096);
  advance(1);
  std::vector<uint8_t> junk(60, 0);
  const uint8_t group[6] = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x00};
  std::copy(group, group + 6, junk.begin());
  junk[12] = 0x00;
  junk[13] = 0x26;  // an 802.3 length, then no LLC of spanning tree
  std::vector<packet::Frame> v;
  v.push_back(packet::Frame::copy_of(junk));
  hosts[0]->send(v);
  advance(1);
  EXPECT_EQ(dp.find_spanning_tree(*sw[0])->bad_bpdus(), 1u);
}

// The seminar's core: core1 (the root) and core2 joined by a cable, access switches each cabled
// to both (port 1 to core1, port 2 to core2), a host on each core, hello time 1 s. When the
// core1–core2 cable is pulled, core2 first believes itself the root and says so on every port;
// the access switches answer at once with core1's information, core2 takes its new root port
// through one of them and agrees. A cable is a link: what a bridge sent first must arrive first.
// Were a cable to deliver a bridge's later BPDUs before its earlier ones, stale information would
// arrive as news: a port that had agreed and forwards reads an old designated claim as a dispute
// (802.1D-2004 §17.21.10) and goes discarding, and the extra exchanges use up the ports' transmit
// budget (txCount, §17.19.44), which with a 1 s hello time the periodic BPDU keeps spent — so the
// answers that would heal the tree wait for the next tick, up to a hello time. The tree must heal
// without waiting for any tick.
class DualHomedTest : public ::testing::Test {
 protected:
  static constexpr int kAccess = 6;
  static constexpr PortNo kHostPort = 20;
  DualHomedTest() : loop(clock), dp(loop) {
    core1 = *dp.create_bridge("core1");
    core2 = *dp.create_bridge("core2");
    for (int i = 0; i < kAccess; ++i) acc.push_back(*dp.create_bridge(fmt::format("acc{}", i + 1)));
    for (Bridge* b : {core1, core2}) {
      auto [near, far] = io::MemoryBackend::pair(b->name() + ".host");
      EXPECT_TRUE(dp.attach(*b, kHostPort, std::move(near), false).ok());
      hosts.push_back(std::move(far));
    }
    for (Bridge* b : all()) {
      for (PortNo p = 1; p <= kAccess + 1; ++p) EXPECT_TRUE(b->add_port(p).ok());
    }
    stp_on(*core1, 4096);
    stp_on(*core2, 8192);
    for (Bridge* b : acc) stp_on(*b, 32768);
    EXPECT_TRUE(dp.connect_cable(*core1, 1, *core2, 1).ok());
    for (int i = 0; i < kAccess; ++i) {
      auto p = static_cast<PortNo>(i + 2);
      EXPECT_TRUE(dp.connect_cable(*acc[i], 1, *core1, p).ok());
      EXPECT_TRUE(dp.connect_cable(*acc[i], 2, *core2, p).ok());
    }
  }
  std::vector<Bridge*> all() {
    std::vector<Bridge*> v{core1, core2};
    v.insert(v.end(), acc.begin(), acc.end());
    return v;
  }
  void stp_on(Bridge& b, uint16_t priority) {
    SpanningTree& t = dp.spanning_tree(b);
    stp::BridgeConfig c = t.config();
    c.priority = priority;
    c.hello_time = 1;
    ASSERT_TRUE(t.set_config(c, clock.now()).ok());
    if (b.has_port(kHostPort)) {
      stp::PortConfig host;
      host.admin_edge = true;
      ASSERT_TRUE(t.set_port_config(kHostPort, host, clock.now()).ok());
    }
    ASSERT_TRUE(t.set_mode(StpMode::kRstp, clock.now()).ok());
    dp.stp_changed();
  }
  void advance(Duration d, Duration step) {
    for (Duration t{0}; t < d; t += step) {
      clock.advance(step);
      for (int k = 0; k < 4; ++k) loop.run_once(Duration{0});
    }
  }
  const stp::Rstp& engine(Bridge* b) { return *dp.find_spanning_tree(*b)->engine(); }
  // Data frames host `h` received.
  size_t take(size_t h) {
    std::vector<packet::Frame> in;
    hosts[h]->receive(in, 100000);
    return static_cast<size_t>(std::count_if(in.begin(), in.end(), [](const packet::Frame& f) {
      return !is_reserved_group_address(f.data());
    }));
  }
  ManualClock clock;
  EventLoop loop;
  Dataplane dp;
  Bridge *core1 = nullptr, *core2 = nullptr;
  std::vector<Bridge*> acc;
  std::vector<std::unique_ptr<io::MemoryBackend>> hosts;
};

TEST_F(DualHomedTest, PullingTheCoreLinkHealsThroughAnAccessSwitchWithoutWaitingForATick) {
  advance(20s, 100ms);  // settled, and every port's transmit budget back (§17.19.44 txCount)
  // The control: core2 reaches the root directly, every access switch's core2 uplink is an
  // alternate port, and core2's host reaches core1's.
  ASSERT_EQ(engine(core2).port_status(1)->role, stp::PortRole::kRoot);
  for (Bridge* b : acc) {
    ASSERT_EQ(engine(b).port_status(1)->role, stp::PortRole::kRoot) << b->name();
    ASSERT_EQ(engine(b).port_status(2)->role, stp::PortRole::kAlternate) << b->name();
  }
  take(0);
  std::vector<packet::Frame> v;
  v.push_back(frame(packet::MacAddress::broadcast(), mac(2)));
  hosts[1]->send(v);
  advance(1ms, 1ms);
  ASSERT_EQ(take(0), 1u);

  // 100 ms past the last tick, far from the next one.
  advance(100ms, 1ms);
  ASSERT_TRUE(dp.set_link(*core1, 1, false).ok());
  advance(10ms, 1ms);
  const auto root_port = engine(core2).status().root_port;
  ASSERT_TRUE(root_port) << "core2 found a way to core1";
  EXPECT_EQ(engine(core2).status().root_id, engine(core1).status().bridge_id);
  EXPECT_EQ(core2->port_state(*root_port), PortState::kForwarding);
  for (Bridge* b : acc) {
    EXPECT_EQ(engine(b).port_status(2)->role, stp::PortRole::kDesignated) << b->name();
    EXPECT_EQ(b->port_state(2), PortState::kForwarding)
        << b->name() << "'s port toward core2 agreed and forwards";
  }
  v.clear();
  v.push_back(frame(packet::MacAddress::broadcast(), mac(2)));
  hosts[1]->send(v);
  advance(1ms, 1ms);
  EXPECT_EQ(take(0), 1u) << "core2's host reaches core1's through an access switch";
}

}  // namespace
