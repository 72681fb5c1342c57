// Packet-table tests for the 802.1Q bridge: frame in on port N → frames out, counters touched.
#include "bridge/bridge.hh"

#include <gtest/gtest.h>

#include <map>

#include "support/frames.hh"

using namespace vnet;
using namespace vnet::bridge;
using vnet::test::frame;
using vnet::test::frame_of_type;
using vnet::test::mac;
using vnet::test::tags;

namespace {

class BridgeTest : public ::testing::Test {
 protected:
  BridgeTest() : br("br0") {}
  void port(PortNo p, PortConfig c) {
    for (VlanId v : c.members()) {
      if (!br.vlan_exists(v)) {
        ASSERT_TRUE(br.create_vlan(v).ok());
      }
    }
    ASSERT_TRUE(br.add_port(p, c).ok());
    ASSERT_TRUE(br.set_active(p, true).ok());
  }
  // Sends one frame in on `in`; returns what came out, per port.
  std::map<PortNo, std::vector<packet::Frame>> send(PortNo in, packet::Frame f) {
    std::vector<packet::Frame> batch;
    batch.push_back(std::move(f));
    br.ingress(in, batch, now);
    std::map<PortNo, std::vector<packet::Frame>> out;
    br.drain([&](PortNo p, std::vector<packet::Frame>& fs) {
      for (auto& x : fs) out[p].push_back(std::move(x));
    });
    return out;
  }
  uint64_t drops(PortNo p, DropReason r) { return br.counters(p).drops[static_cast<size_t>(r)]; }
  Bridge br;
  TimePoint now{std::chrono::seconds(100)};
};

TEST_F(BridgeTest, UnknownUnicastFloodsOnlyWithinVlan) {
  port(1, PortConfig::access(10));
  port(2, PortConfig::access(10));
  port(3, PortConfig::access(20));
  port(4, PortConfig::access(10));
  auto out = send(1, frame(mac(99), mac(1)));
  EXPECT_EQ(out.size(), 2u);
  EXPECT_EQ(out.count(2), 1u);
  EXPECT_EQ(out.count(4), 1u);
  EXPECT_EQ(out.count(3), 0u);
  EXPECT_EQ(out.count(1), 0u);
}

TEST_F(BridgeTest, BroadcastAndMulticastFloodWithinVlan) {
  port(1, PortConfig::access(10));
  port(2, PortConfig::access(10));
  port(3, PortConfig::access(20));
  auto out = send(1, frame(packet::MacAddress::broadcast(), mac(1)));
  EXPECT_EQ(out.size(), 1u);
  EXPECT_EQ(out.count(2), 1u);
  out = send(3, frame(*packet::MacAddress::parse("01:00:5e:00:00:01"), mac(3)));
  EXPECT_TRUE(out.empty());
}

TEST_F(BridgeTest, LearnedUnicastGoesToOnePort) {
  port(1, PortConfig::access(10));
  port(2, PortConfig::access(10));
  port(3, PortConfig::access(10));
  send(2, frame(mac(1), mac(2)));  // learn mac 2 on port 2
  auto out = send(1, frame(mac(2), mac(1)));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.count(2), 1u);
  EXPECT_EQ(br.counters(2).tx_frames, 1u);
  EXPECT_EQ(br.counters(1).rx_frames, 1u);
  EXPECT_EQ(br.counters(1).rx_bytes, 60u);
}

TEST_F(BridgeTest, IndependentVlanLearning) {
  port(1, PortConfig::trunk({10, 20}));
  port(2, PortConfig::access(10));
  port(3, PortConfig::access(20));
  send(2, frame(mac(1), mac(5)));  // mac 5 learned in VLAN 10 on port 2
  // The same MAC as destination in VLAN 20 is unknown there: flooded within VLAN 20 only.
  auto out = send(1, frame(mac(5), mac(1), {20}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.count(3), 1u);
  EXPECT_EQ(br.fdb().lookup(10, mac(5), now), std::optional<PortNo>(2));
  EXPECT_EQ(br.fdb().lookup(20, mac(5), now), std::nullopt);
}

TEST_F(BridgeTest, TrunkTagsOnEgressAccessUntags) {
  port(1, PortConfig::trunk({10, 20}));
  port(2, PortConfig::access(10));
  auto out = send(2, frame(packet::MacAddress::broadcast(), mac(2)));
  ASSERT_EQ(out[1].size(), 1u);
  EXPECT_EQ(tags(out[1][0]), std::vector<uint16_t>{10});
  EXPECT_EQ(out[1][0].size(), 64u);
  out = send(1, frame(packet::MacAddress::broadcast(), mac(1), {10}));
  ASSERT_EQ(out[2].size(), 1u);
  EXPECT_TRUE(tags(out[2][0]).empty());
  EXPECT_EQ(out[2][0].size(), 60u);
}

TEST_F(BridgeTest, TrunkToTrunkKeepsTagAndPcp) {
  port(1, PortConfig::trunk({10}));
  port(2, PortConfig::trunk({10}));
  auto out = send(1, frame(packet::MacAddress::broadcast(), mac(1), {10}, 5));
  ASSERT_EQ(out[2].size(), 1u);
  EXPECT_EQ(tags(out[2][0]), std::vector<uint16_t>{10});
  EXPECT_EQ(out[2][0].data()[14] >> 5, 5);
}

TEST_F(BridgeTest, TaggedFrameOutsideMemberSetIsDroppedAndCounted) {
  port(1, PortConfig::trunk({10}));
  port(2, PortConfig::access(20));
  auto out = send(1, frame(packet::MacAddress::broadcast(), mac(1), {20}));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(drops(1, DropReason::kVlanNotMember), 1u);
}

TEST_F(BridgeTest, UntaggedOnTrunkWithoutNativeIsDropped) {
  port(1, PortConfig::trunk({10}));
  port(2, PortConfig::access(10));
  auto out = send(1, frame(packet::MacAddress::broadcast(), mac(1)));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(drops(1, DropReason::kUntaggedNotAllowed), 1u);
}

TEST_F(BridgeTest, NativeVlanUntaggedBothWays) {
  port(1, PortConfig::trunk({10, 20}, 10));
  port(2, PortConfig::access(10));
  port(3, PortConfig::access(20));
  auto out = send(1, frame(packet::MacAddress::broadcast(), mac(1)));  // untagged → VLAN 10
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out.count(2), 1u);
  out = send(2, frame(packet::MacAddress::broadcast(), mac(2)));
  ASSERT_EQ(out[1].size(), 1u);
  EXPECT_TRUE(tags(out[1][0]).empty());  // native leaves untagged
  out = send(3, frame(packet::MacAddress::broadcast(), mac(3)));
  EXPECT_EQ(tags(out[1][0]), std::vector<uint16_t>{20});
}

TEST_F(BridgeTest, PriorityTaggedTakesPvid) {
  port(1, PortConfig::access(10));
  port(2, PortConfig::access(10));
  auto out = send(1, frame(packet::MacAddress::broadcast(), mac(1), {0}, 3));
  ASSERT_EQ(out[2].size(), 1u);
  EXPECT_TRUE(tags(out[2][0]).empty());
}

TEST_F(BridgeTest, AccessPortRefusesTaggedFramesByDefault) {
  port(1, PortConfig::access(10));
  port(2, PortConfig::access(20));
  port(3, PortConfig::access(10));
  // 802.1Q §6.9: an access port admits only untagged and priority-tagged frames by default.
  EXPECT_TRUE(send(1, frame(packet::MacAddress::broadcast(), mac(1), {20})).empty());
  EXPECT_TRUE(send(1, frame(packet::MacAddress::broadcast(), mac(1), {10})).empty());
  EXPECT_EQ(drops(1, DropReason::kFrameTypeNotAdmitted), 2u);
  auto s_tagged =
      test::frame_with_tags(packet::MacAddress::broadcast(), mac(1), {{0x88a8, 0, false, 10}});
  EXPECT_TRUE(send(1, std::move(s_tagged)).empty());  // an S-tag is not "untagged"
  EXPECT_EQ(drops(1, DropReason::kFrameTypeNotAdmitted), 3u);
  EXPECT_EQ(send(1, frame(packet::MacAddress::broadcast(), mac(1))).count(3), 1u);
}

TEST_F(BridgeTest, AccessPortAdmittingAllStillRefusesForeignTags) {
  auto c = PortConfig::access(10);
  c.admit = AcceptableFrames::kAll;
  port(1, c);
  port(2, PortConfig::access(20));
  port(3, PortConfig::access(10));
  EXPECT_TRUE(send(1, frame(packet::MacAddress::broadcast(), mac(1), {20})).empty());
  EXPECT_EQ(drops(1, DropReason::kVlanNotMember), 1u);
  auto out = send(1, frame(packet::MacAddress::broadcast(), mac(1), {10}));
  ASSERT_EQ(out.count(3), 1u);  // its own VLAN's tag is accepted and removed
  EXPECT_TRUE(tags(out[3][0]).empty());
}

TEST_F(BridgeTest, DoubleTaggedFrameNeverLeavesUntaggedWithItsInnerTag) {
  // Classic VLAN hopping: outer tag = the access VLAN, inner tag = the victim VLAN. On a trunk
  // whose native VLAN is 10 the frame would leave untagged, starting with tag 20, and the next
  // switch would put it into VLAN 20.
  auto attacker = PortConfig::access(10);
  attacker.admit = AcceptableFrames::kAll;  // the default refuses it at once (test above)
  port(1, attacker);
  port(2, PortConfig::trunk({10, 20}, 10));  // native 10: the dangerous egress
  port(3, PortConfig::access(20));
  port(4, PortConfig::access(10));
  port(5, PortConfig::trunk({10, 20}));  // 10 leaves tagged here: the stack may go as it came
  auto out = send(1, frame(packet::MacAddress::broadcast(), mac(1), {10, 20}));
  EXPECT_EQ(out.count(3), 0u);  // never into VLAN 20
  EXPECT_EQ(out.count(2), 0u);  // not untagged with tag 20 in front
  EXPECT_EQ(out.count(4), 0u);  // nor to an access port of VLAN 10
  ASSERT_EQ(out.count(5), 1u);
  EXPECT_EQ(tags(out[5][0]), (std::vector<uint16_t>{10, 20}));
  EXPECT_EQ(drops(2, DropReason::kExposedTag), 1u);
  EXPECT_EQ(drops(4, DropReason::kExposedTag), 1u);
  EXPECT_EQ(br.fdb().lookup(20, mac(1), now), std::nullopt);
  EXPECT_EQ(br.fdb().lookup(10, mac(1), now), std::optional<PortNo>(1));
}

TEST_F(BridgeTest, KnownUnicastWithExposedTagIsDroppedNotFlooded) {
  auto attacker = PortConfig::access(10);
  attacker.admit = AcceptableFrames::kAll;
  port(1, attacker);
  port(2, PortConfig::access(10));
  port(3, PortConfig::trunk({10}));
  send(2, frame(mac(1), mac(2)));  // learn mac 2 on port 2
  auto out = send(1, frame(mac(2), mac(1), {10, 20}));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(drops(2, DropReason::kExposedTag), 1u);
}

TEST_F(BridgeTest, ReservedVidAndRuntsAreDropped) {
  port(1, PortConfig::trunk({10}));
  port(2, PortConfig::trunk({10}));
  EXPECT_TRUE(send(1, frame(packet::MacAddress::broadcast(), mac(1), {4095})).empty());
  EXPECT_EQ(drops(1, DropReason::kReservedVid), 1u);
  EXPECT_TRUE(send(1, packet::Frame::copy_of(std::vector<uint8_t>(10, 0))).empty());
  auto f = frame(packet::MacAddress::broadcast(), mac(1), {10});
  f.resize(16);  // tag cut in half
  EXPECT_TRUE(send(1, std::move(f)).empty());
  auto deep = frame(packet::MacAddress::broadcast(), mac(1), {10, 10, 10, 10, 10});
  EXPECT_TRUE(send(1, std::move(deep)).empty());  // more tags than the view's bound
  EXPECT_EQ(drops(1, DropReason::kMalformed), 3u);
}

TEST_F(BridgeTest, MulticastSourceDropped) {
  port(1, PortConfig::access(10));
  port(2, PortConfig::access(10));
  EXPECT_TRUE(send(1, frame(mac(2), packet::MacAddress::broadcast())).empty());
  EXPECT_EQ(drops(1, DropReason::kSourceMulticast), 1u);
  EXPECT_EQ(br.fdb().size(), 0u);
}

TEST_F(BridgeTest, SamePortIsFiltered) {
  port(1, PortConfig::access(10));
  port(2, PortConfig::access(10));
  send(1, frame(mac(9), mac(2)));
  EXPECT_TRUE(send(1, frame(mac(2), mac(3))).empty());
  EXPECT_EQ(drops(1, DropReason::kSamePort), 1u);
}

TEST_F(BridgeTest, StationMoveUpdatesPort) {
  port(1, PortConfig::access(10));
  port(2, PortConfig::access(10));
  port(3, PortConfig::access(10));
  send(1, frame(mac(9), mac(5)));
  send(2, frame(mac(9), mac(5)));
  EXPECT_EQ(br.fdb().lookup(10, mac(5), now), std::optional<PortNo>(2));
  auto out = send(3, frame(mac(5), mac(3)));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.count(2), 1u);
}

TEST_F(BridgeTest, AgeingForgetsAfterAgeingTime) {
  port(1, PortConfig::access(10));
  port(2, PortConfig::access(10));
  port(3, PortConfig::access(10));
  br.fdb().set_ageing_time(std::chrono::seconds(300));
  send(2, frame(mac(9), mac(2)));
  now += std::chrono::seconds(299);
  EXPECT_EQ(send(1, frame(mac(2), mac(1))).size(), 1u);
  now += std::chrono::seconds(302);
  EXPECT_EQ(send(3, frame(mac(2), mac(3))).size(), 2u);  // aged out → flooded
  EXPECT_EQ(br.fdb().age(now), 2u);                      // macs 2 and 1 expired; 3 fresh
  EXPECT_EQ(br.fdb().size(), 1u);
}

TEST_F(BridgeTest, StaticEntriesNeverAgeNorMove) {
  port(1, PortConfig::access(10));
  port(2, PortConfig::access(10));
  br.fdb().add_static(10, mac(7), 2);
  now += std::chrono::hours(24);
  EXPECT_EQ(br.fdb().age(now), 0u);
  auto out = send(1, frame(mac(7), mac(1)));
  EXPECT_EQ(out.count(2), 1u);
  EXPECT_TRUE(send(1, frame(mac(1), mac(7))).empty());  // mac 7 claimed on port 1
  EXPECT_EQ(drops(1, DropReason::kStaticMacConflict), 1u);
  EXPECT_EQ(br.fdb().lookup(10, mac(7), now), std::optional<PortNo>(2));
}

TEST_F(BridgeTest, MacLimitPerPort) {
  auto c = PortConfig::access(10);
  c.mac_limit = 2;
  port(1, c);
  port(2, PortConfig::access(10));
  EXPECT_EQ(send(1, frame(mac(99), mac(1))).size(), 1u);
  EXPECT_EQ(send(1, frame(mac(99), mac(2))).size(), 1u);
  EXPECT_TRUE(send(1, frame(mac(99), mac(3))).empty());
  EXPECT_EQ(drops(1, DropReason::kMacLimit), 1u);
  EXPECT_EQ(br.fdb().learned_on(1), 2u);
  EXPECT_EQ(send(1, frame(mac(99), mac(1))).size(), 1u);  // known MACs still pass
}

TEST_F(BridgeTest, DefaultMacLimitIs4096) { EXPECT_EQ(PortConfig{}.mac_limit, 4096u); }

TEST_F(BridgeTest, InactivePortsAreNotFloodedAndInactiveIngressDrops) {
  port(1, PortConfig::access(10));
  port(2, PortConfig::access(10));
  ASSERT_TRUE(br.set_active(2, false).ok());
  EXPECT_TRUE(send(1, frame(packet::MacAddress::broadcast(), mac(1))).empty());
  EXPECT_TRUE(send(2, frame(packet::MacAddress::broadcast(), mac(2))).empty());
  EXPECT_EQ(drops(2, DropReason::kPortInactive), 1u);
}

TEST_F(BridgeTest, ReconfiguringPortFlushesItsEntries) {
  port(1, PortConfig::access(10));
  port(2, PortConfig::access(10));
  send(2, frame(mac(1), mac(2)));
  ASSERT_TRUE(br.create_vlan(20).ok());
  ASSERT_TRUE(br.configure_port(2, PortConfig::access(20)).ok());
  EXPECT_EQ(br.fdb().lookup(10, mac(2), now), std::nullopt);
  EXPECT_TRUE(send(1, frame(mac(2), mac(1))).empty());  // port 2 is no longer in VLAN 10
}

TEST_F(BridgeTest, VlanLifecycle) {
  EXPECT_FALSE(br.add_port(1, PortConfig::access(30)).ok());  // VLAN 30 does not exist
  ASSERT_TRUE(br.create_vlan(30).ok());
  EXPECT_FALSE(br.create_vlan(30).ok());
  EXPECT_FALSE(br.create_vlan(4095).ok());
  EXPECT_FALSE(br.create_vlan(0).ok());
  ASSERT_TRUE(br.add_port(1, PortConfig::access(30)).ok());
  EXPECT_EQ(br.remove_vlan(30).error().code, EADDRINUSE);
  ASSERT_TRUE(br.remove_port(1).ok());
  EXPECT_TRUE(br.remove_vlan(30).ok());
  EXPECT_FALSE(br.remove_vlan(1).ok());
}

packet::MacAddress group(uint8_t last) { return {{0x01, 0x80, 0xc2, 0x00, 0x00, last}}; }

TEST_F(BridgeTest, ReservedAddressesGoToTheControlHookAndAreNeverRelayed) {
  port(1, PortConfig::access(10));
  port(2, PortConfig::access(10));
  port(3, PortConfig::trunk({10}, 10));
  std::vector<std::pair<PortNo, std::vector<uint8_t>>> hooked;
  br.set_control_hook([&](PortNo p, packet::Frame&& f, TimePoint t) {
    EXPECT_EQ(t, now);
    hooked.emplace_back(p, std::vector<uint8_t>(f.bytes().begin(), f.bytes().end()));
  });
  // 802.1Q-2018 Table 8-1: 01-80-C2-00-00-00 … 0F (BPDU 00, LACP 02, EAPOL 03, LLDP 0E …).
  for (uint8_t last = 0; last <= 0x0f; ++last) {
    auto f = frame_of_type(group(last), mac(1), 0x8809);
    std::vector<uint8_t> sent(f.bytes().begin(), f.bytes().end());
    EXPECT_TRUE(send(1, std::move(f)).empty()) << int(last);
    ASSERT_EQ(hooked.size(), last + 1u);
    EXPECT_EQ(hooked.back().first, 1u);
    EXPECT_EQ(hooked.back().second, sent) << "the hook gets the frame as received";
  }
  EXPECT_EQ(br.counters(1).control, 16u);
  // Whatever the port state, and tagged or not: still the control plane's, never relayed.
  ASSERT_TRUE(br.set_port_state(1, PortState::kDiscarding).ok());
  for (uint8_t last : {0x00, 0x03, 0x0e}) {
    EXPECT_TRUE(send(1, frame_of_type(group(last), mac(1), 0x888e)).empty());
  }
  EXPECT_TRUE(send(3, frame(group(0x00), mac(3), {10})).empty());
  EXPECT_EQ(br.counters(1).control, 19u);
  EXPECT_EQ(br.counters(3).control, 1u);
  EXPECT_EQ(hooked.size(), 20u);
  EXPECT_EQ(br.counters(1).total_drops(), 0u);  // consumed, not dropped
  EXPECT_EQ(br.counters(2).tx_frames, 0u);
  EXPECT_EQ(br.fdb().size(), 0u);  // and not learned from
}

TEST_F(BridgeTest, WithoutAHookReservedFramesAreConsumedAndCounted) {
  port(1, PortConfig::access(10));
  port(2, PortConfig::access(10));
  EXPECT_TRUE(send(1, frame_of_type(group(0x0e), mac(1), 0x88cc)).empty());
  EXPECT_EQ(br.counters(1).control, 1u);
}

TEST_F(BridgeTest, OtherGroupAddressesStillFlood) {
  port(1, PortConfig::access(10));
  port(2, PortConfig::access(10));
  port(3, PortConfig::access(10));
  int hooked = 0;
  br.set_control_hook([&](PortNo, packet::Frame&&, TimePoint) { ++hooked; });
  for (const char* dst : {"01:80:c2:00:00:10", "01:80:c2:00:00:20", "01:80:c2:00:01:00",
                          "01:00:5e:00:00:01", "33:33:00:00:00:01", "ff:ff:ff:ff:ff:ff"}) {
    auto out = send(1, frame(*packet::MacAddress::parse(dst), mac(1)));
    EXPECT_EQ(out.count(2), 1u) << dst;
    EXPECT_EQ(out.count(3), 1u) << dst;
  }
  EXPECT_EQ(hooked, 0);
  EXPECT_EQ(br.counters(1).control, 0u);
}

TEST_F(BridgeTest, PortStatesGovernLearningAndForwarding) {
  port(1, PortConfig::access(10));
  port(2, PortConfig::access(10));
  port(3, PortConfig::access(10));
  EXPECT_EQ(br.port_state(2), PortState::kForwarding);  // no spanning tree: forwarding
  auto bcast = [&](PortNo in) { return send(in, frame(packet::MacAddress::broadcast(), mac(in))); };

  ASSERT_TRUE(br.set_port_state(2, PortState::kDiscarding).ok());
  EXPECT_TRUE(bcast(2).empty());  // received: dropped before learning
  EXPECT_EQ(drops(2, DropReason::kPortDiscarding), 1u);
  EXPECT_EQ(br.fdb().lookup(10, mac(2), now), std::nullopt);
  auto out = bcast(1);  // nothing transmitted on a discarding port
  EXPECT_EQ(out.count(2), 0u);
  EXPECT_EQ(out.count(3), 1u);

  ASSERT_TRUE(br.set_port_state(2, PortState::kLearning).ok());
  EXPECT_TRUE(bcast(2).empty());  // learned, then dropped
  EXPECT_EQ(drops(2, DropReason::kPortLearning), 1u);
  EXPECT_EQ(br.fdb().lookup(10, mac(2), now), std::optional<PortNo>(2));
  out = bcast(1);
  EXPECT_EQ(out.count(2), 0u);
  EXPECT_EQ(out.count(3), 1u);
  out = send(1, frame(mac(2), mac(1)));  // known on port 2, which does not transmit yet
  EXPECT_EQ(out.count(2), 0u);

  ASSERT_TRUE(br.set_port_state(2, PortState::kForwarding).ok());
  out = send(1, frame(mac(2), mac(1)));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.count(2), 1u);
  out = bcast(2);
  EXPECT_EQ(out.count(1), 1u);
  EXPECT_EQ(out.count(3), 1u);

  // Flushing a port's entries (what spanning tree does on the way to discarding).
  EXPECT_EQ(br.fdb().flush(2), 1u);
  EXPECT_EQ(br.fdb().lookup(10, mac(2), now), std::nullopt);
  EXPECT_EQ(br.fdb().lookup(10, mac(1), now), std::optional<PortNo>(1));
  EXPECT_EQ(br.set_port_state(9, PortState::kLearning).error().code, ENXIO);
}

TEST_F(BridgeTest, SendControlWorksOnADiscardingPort) {
  port(1, PortConfig::access(10));
  port(2, PortConfig::access(10));
  ASSERT_TRUE(br.set_port_state(2, PortState::kDiscarding).ok());
  auto bpdu = frame_of_type(group(0x00), mac(2), 0x0026);
  ASSERT_TRUE(br.send_control(2, std::move(bpdu)).ok());
  std::map<PortNo, std::vector<packet::Frame>> out;
  br.drain([&](PortNo p, std::vector<packet::Frame>& fs) {
    for (auto& x : fs) out[p].push_back(std::move(x));
  });
  ASSERT_EQ(out[2].size(), 1u);
  EXPECT_EQ(out[2][0].data()[5], 0x00);
  EXPECT_EQ(br.counters(2).tx_frames, 1u);
  EXPECT_EQ(br.send_control(7, frame_of_type(group(0), mac(2), 0x26)).error().code, ENXIO);
  ASSERT_TRUE(br.set_active(1, false).ok());
  EXPECT_EQ(br.send_control(1, frame_of_type(group(0), mac(2), 0x26)).error().code, ENETDOWN);
  EXPECT_EQ(br.send_control(2, packet::Frame::copy_of(std::vector<uint8_t>(8, 0))).error().code,
            EINVAL);
}

TEST_F(BridgeTest, ControlHookMaySendAndChangeStateFromInside) {
  port(1, PortConfig::access(10));
  port(2, PortConfig::access(10));
  br.set_control_hook([&](PortNo p, packet::Frame&& f, TimePoint) {
    EXPECT_TRUE(br.set_port_state(p, PortState::kDiscarding).ok());
    EXPECT_TRUE(br.send_control(p, std::move(f)).ok());  // reflect it
  });
  auto out = send(1, frame_of_type(group(0), mac(1), 0x26));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.count(1), 1u);
  EXPECT_EQ(br.port_state(1), PortState::kDiscarding);
}

TEST(PortConfig, ParseAndPrint) {
  auto c = PortConfig::parse({"trunk", "10,20-22", "native", "10"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->to_string(), "trunk 10,20-22 native 10");
  EXPECT_TRUE(c->is_member(21));
  EXPECT_FALSE(c->egress_tagged(10));
  EXPECT_TRUE(c->egress_tagged(20));
  EXPECT_EQ(PortConfig::parse({"access", "10"})->to_string(), "access 10");
  EXPECT_FALSE(PortConfig::parse({"access", "4095"}).ok());
  EXPECT_FALSE(PortConfig::parse({"trunk", "10", "nat", "1"}).ok());
  EXPECT_FALSE(PortConfig::parse({"hybrid"}).ok());
  EXPECT_FALSE(parse_vlan_list("30-20").ok());
}

}  // namespace

// IEEE 802.1X-2010 §6.4: an unauthorised port passes EAPOL to the control plane and nothing
// else, either way; its source is reported (MAC authentication starts from it).
TEST_F(BridgeTest, UnauthorizedPortPassesOnlyControlFramesEitherWay) {
  port(1, PortConfig::access(10));
  port(2, PortConfig::access(10));
  port(3, PortConfig::access(10));
  send(1, frame(mac(2), mac(1)));  // learned while open
  ASSERT_TRUE(br.set_authorized(1, false).ok());
  EXPECT_FALSE(br.authorized(1));
  std::vector<std::pair<PortNo, packet::MacAddress>> seen;
  br.set_unauthorized_hook(
      [&](PortNo p, const packet::MacAddress& m, TimePoint) { seen.emplace_back(p, m); });
  int control = 0;
  br.set_control_hook([&](PortNo, packet::Frame&&, TimePoint) { ++control; });

  EXPECT_TRUE(send(1, frame(packet::MacAddress::broadcast(), mac(1))).empty());
  EXPECT_TRUE(send(1, frame(mac(2), mac(1))).empty());
  EXPECT_EQ(drops(1, DropReason::kUnauthorized), 2u);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].first, 1u);
  EXPECT_EQ(seen[0].second, mac(1));
  EXPECT_TRUE(send(1, frame_of_type(group(0x03), mac(1), 0x888e)).empty());
  EXPECT_EQ(control, 1);  // EAPOL still reaches the authenticator
  // Nothing reaches it: not a flood, not the unicast it had learned (flushed), not a static
  // entry's.
  auto out = send(2, frame(packet::MacAddress::broadcast(), mac(2)));
  EXPECT_EQ(out.count(1), 0u);
  EXPECT_EQ(out.count(3), 1u);
  out = send(2, frame(mac(1), mac(2)));
  EXPECT_EQ(out.count(1), 0u);
  br.fdb().add_static(10, mac(7), 1);
  out = send(3, frame(mac(7), mac(3)));
  EXPECT_EQ(out.count(1), 0u);
  EXPECT_EQ(br.counters(1).tx_frames, 0u);
  // Authorised again: both ways.
  ASSERT_TRUE(br.set_authorized(1, true).ok());
  out = send(1, frame(mac(2), mac(1)));
  EXPECT_EQ(out.count(2), 1u);
  out = send(2, frame(mac(1), mac(2)));
  EXPECT_EQ(out.count(1), 1u);
  EXPECT_EQ(br.set_authorized(9, false).error().code, ENXIO);
}
