// ARP sender filter (bridge/arp_filter.hh): the verdict on its own, then as the bridge applies it
// on a port (dropped and counted on the ingress port, nothing forwarded, nothing learned).
#include "bridge/arp_filter.hh"

#include <gtest/gtest.h>

#include <map>

#include "base/byte_io.hh"
#include "bridge/bridge.hh"
#include "packet/arp.hh"
#include "support/frames.hh"

using namespace vnet;
using namespace vnet::bridge;
using vnet::test::mac;

namespace {

const packet::Ipv4Address kVip = *packet::Ipv4Address::parse("10.0.20.100");
const packet::Ipv4Address kReal = *packet::Ipv4Address::parse("10.0.20.11");
const packet::Ipv4Address kClient = *packet::Ipv4Address::parse("10.0.20.50");

// dst ← src, then C-tags with `vids` (outermost first), EtherType ARP, the packet, 18 bytes of
// padding (a minimum-size frame, as on the wire).
packet::Frame arp_frame(const packet::MacAddress& dst, const packet::MacAddress& src, uint16_t op,
                        packet::Ipv4Address sender, packet::Ipv4Address target,
                        std::initializer_list<uint16_t> vids = {}) {
  std::vector<uint8_t> b;
  ByteWriter w(b);
  packet::ArpPacket p;
  p.operation = op;
  p.sender_mac = src;
  p.sender_ip = sender;
  p.target_mac = op == packet::ArpPacket::kReply ? dst : packet::MacAddress{};
  p.target_ip = target;
  encode(p, w);
  w.zeros(18);
  return test::frame_carrying(dst, src, vids, 0x0806, b);
}

ArpVerdict verdict(const packet::Frame& f, std::vector<packet::Ipv4Address> deny = {kVip}) {
  packet::TagStack tags;
  EXPECT_EQ(packet::parse_tag_stack(f.bytes(), tags), packet::TagStackError::kNone);
  return arp_filter_verdict(f.bytes(), tags, deny);
}

TEST(ArpFilter, ReplyFromTheVipIsDenied) {
  EXPECT_EQ(verdict(arp_frame(mac(50), mac(11), packet::ArpPacket::kReply, kVip, kClient)),
            ArpVerdict::kDeny);
}

TEST(ArpFilter, GratuitousArpAndRequestsWithTheVipAsSenderAreDenied) {
  auto bcast = packet::MacAddress::broadcast();
  // Gratuitous request (sender = target = VIP) and reply: an announcement.
  EXPECT_EQ(verdict(arp_frame(bcast, mac(11), packet::ArpPacket::kRequest, kVip, kVip)),
            ArpVerdict::kDeny);
  EXPECT_EQ(verdict(arp_frame(bcast, mac(11), packet::ArpPacket::kReply, kVip, kVip)),
            ArpVerdict::kDeny);
  // A request for the client sent from the VIP (arp_announce=0 picks the packet's source).
  EXPECT_EQ(verdict(arp_frame(bcast, mac(11), packet::ArpPacket::kRequest, kVip, kClient)),
            ArpVerdict::kDeny);
}

TEST(ArpFilter, OtherArpAndOtherFramesPass) {
  auto bcast = packet::MacAddress::broadcast();
  // The real server's own address, asking for the VIP or answering for itself.
  EXPECT_EQ(verdict(arp_frame(bcast, mac(11), packet::ArpPacket::kRequest, kReal, kVip)),
            ArpVerdict::kPass);
  EXPECT_EQ(verdict(arp_frame(mac(50), mac(11), packet::ArpPacket::kReply, kReal, kClient)),
            ArpVerdict::kPass);
  // IPv4 (not ARP) from the VIP: the real server's DR replies.
  EXPECT_EQ(verdict(test::frame(mac(50), mac(11))), ArpVerdict::kPass);
  // Nothing listed: nothing is even parsed.
  EXPECT_EQ(verdict(arp_frame(mac(50), mac(11), packet::ArpPacket::kReply, kVip, kClient), {}),
            ArpVerdict::kPass);
}

TEST(ArpFilter, TaggedArpIsReadAfterItsTags) {
  EXPECT_EQ(verdict(arp_frame(mac(50), mac(11), packet::ArpPacket::kReply, kVip, kClient, {20})),
            ArpVerdict::kDeny);
  EXPECT_EQ(
      verdict(arp_frame(mac(50), mac(11), packet::ArpPacket::kReply, kVip, kClient, {100, 20})),
      ArpVerdict::kDeny);
  EXPECT_EQ(verdict(arp_frame(mac(50), mac(11), packet::ArpPacket::kReply, kReal, kClient, {20})),
            ArpVerdict::kPass);
}

TEST(ArpFilter, TruncatedArpIsMalformedAtEveryLength) {
  auto full = arp_frame(mac(50), mac(11), packet::ArpPacket::kReply, kVip, kClient, {20});
  const size_t arp_end = 14 + 4 + 28;  // header, tag, ARP (no padding)
  for (size_t len = 18 + 2; len < arp_end; ++len) {
    auto f = packet::Frame::copy_of(full.bytes().subspan(0, len));
    EXPECT_EQ(verdict(f), ArpVerdict::kMalformed) << len << " bytes";
  }
  auto exact = packet::Frame::copy_of(full.bytes().subspan(0, arp_end));
  EXPECT_EQ(verdict(exact), ArpVerdict::kDeny);
}

TEST(ArpFilter, NonIpv4ArpPassesAndOddLengthsAreHonoured) {
  auto f = arp_frame(mac(50), mac(11), packet::ArpPacket::kReply, kVip, kClient);
  f.data()[14 + 2] = 0x86;  // ptype 0x86dd: no IPv4 sender to compare
  f.data()[14 + 3] = 0xdd;
  EXPECT_EQ(verdict(f), ArpVerdict::kPass);
  // hlen 255 announces more address bytes than the frame holds: malformed, not read past.
  auto g = arp_frame(mac(50), mac(11), packet::ArpPacket::kReply, kVip, kClient);
  g.data()[14 + 4] = 255;
  EXPECT_EQ(verdict(g), ArpVerdict::kMalformed);
}

class ArpFilterBridge : public ::testing::Test {
 protected:
  ArpFilterBridge() : br("br0") {
    EXPECT_TRUE(br.create_vlan(20).ok());
    for (PortNo p : {1u, 2u}) {
      EXPECT_TRUE(br.add_port(p, PortConfig::access(20)).ok());
      EXPECT_TRUE(br.set_active(p, true).ok());
    }
    EXPECT_TRUE(br.add_port(3, PortConfig::trunk({20})).ok());
    EXPECT_TRUE(br.set_active(3, true).ok());
  }
  std::map<PortNo, size_t> send(PortNo in, packet::Frame f) {
    std::vector<packet::Frame> batch;
    batch.push_back(std::move(f));
    br.ingress(in, batch, TimePoint{std::chrono::seconds(1)});
    std::map<PortNo, size_t> out;
    br.drain([&](PortNo p, std::vector<packet::Frame>& fs) { out[p] += fs.size(); });
    return out;
  }
  uint64_t drops(PortNo p, DropReason r) { return br.counters(p).drops[static_cast<size_t>(r)]; }
  Bridge br;
};

TEST_F(ArpFilterBridge, TheFilteredPortsVipArpIsDroppedAndCountedOthersFlow) {
  ASSERT_TRUE(br.set_drop_arp_for(2, {kVip}).ok());
  auto bcast = packet::MacAddress::broadcast();
  // Port 2 (a real server) announces the VIP: dropped, counted, not learned.
  EXPECT_TRUE(send(2, arp_frame(bcast, mac(11), packet::ArpPacket::kReply, kVip, kVip)).empty());
  EXPECT_EQ(drops(2, DropReason::kArpFiltered), 1u);
  EXPECT_EQ(br.fdb().size(), 0u);
  // The same from port 1 (the director): flooded to 2 and 3.
  auto out = send(1, arp_frame(bcast, mac(1), packet::ArpPacket::kReply, kVip, kVip));
  EXPECT_EQ(out, (std::map<PortNo, size_t>{{2, 1}, {3, 1}}));
  // Port 2 asking for the VIP with its own address: passes.
  out = send(2, arp_frame(bcast, mac(11), packet::ArpPacket::kRequest, kReal, kVip));
  EXPECT_EQ(out, (std::map<PortNo, size_t>{{1, 1}, {3, 1}}));
  // Its IPv4 from the VIP passes (DR replies go straight to the client).
  EXPECT_EQ(send(2, test::frame(mac(1), mac(11))).size(), 1u);
  EXPECT_EQ(drops(2, DropReason::kArpFiltered), 1u);
  EXPECT_EQ(br.counters(2).total_drops(), 1u);
}

TEST_F(ArpFilterBridge, TaggedArpOnATrunkAndTruncatedArp) {
  ASSERT_TRUE(br.set_drop_arp_for(3, {kVip}).ok());
  EXPECT_TRUE(
      send(3, arp_frame(mac(50), mac(11), packet::ArpPacket::kReply, kVip, kClient, {20})).empty());
  EXPECT_EQ(drops(3, DropReason::kArpFiltered), 1u);
  auto full = arp_frame(mac(50), mac(11), packet::ArpPacket::kReply, kReal, kClient, {20});
  EXPECT_TRUE(send(3, packet::Frame::copy_of(full.bytes().subspan(0, 30))).empty());
  EXPECT_EQ(drops(3, DropReason::kMalformed), 1u);
  // The same truncated frame on a port without the filter is not parsed as ARP: it floods.
  auto short_untagged = arp_frame(mac(50), mac(12), packet::ArpPacket::kReply, kReal, kClient);
  EXPECT_EQ(send(1, packet::Frame::copy_of(short_untagged.bytes().subspan(0, 26))).size(), 2u);
  // Off again: the VIP's ARP passes.
  ASSERT_TRUE(br.set_drop_arp_for(3, {}).ok());
  EXPECT_EQ(
      send(3, arp_frame(mac(50), mac(11), packet::ArpPacket::kReply, kVip, kClient, {20})).size(),
      2u);
  EXPECT_FALSE(br.set_drop_arp_for(9, {kVip}).ok());
}

}  // namespace
