// Gratuitous ARP and unsolicited NA frames, decoded back with the codecs; golden bytes for the
// NA (RFC 4861 §4.4) with a checksum verified independently.
#include "vrrp/announce.hh"

#include <gtest/gtest.h>

#include "packet/arp.hh"
#include "packet/checksum.hh"
#include "packet/ethernet.hh"
#include "packet/ip.hh"
#include "packet/l4.hh"

namespace vnet::vrrp {
namespace {

const auto kMac = *packet::MacAddress::parse("02:00:00:00:66:01");

TEST(Announce, GratuitousArpIsARequestFromTheVipToBroadcast) {
  auto vip = *packet::Ipv4Address::parse("10.66.0.254");
  auto f = gratuitous_arp(kMac, vip);
  ByteReader r(f);
  auto eth = packet::decode_ethernet(r);
  ASSERT_TRUE(eth.ok());
  EXPECT_EQ(eth->dst, packet::MacAddress::broadcast());
  EXPECT_EQ(eth->src, kMac);
  EXPECT_EQ(eth->ether_type, 0x0806);
  auto arp = packet::decode_arp(r);
  ASSERT_TRUE(arp.ok());
  EXPECT_EQ(*arp, (packet::ArpPacket{packet::ArpPacket::kRequest, kMac, vip,
                                     packet::MacAddress::broadcast(), vip}));
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(Announce, UnsolicitedNaComesFromTheVipWithTheOverrideFlag) {
  auto vip = *packet::Ipv6Address::parse("fd00:77::254");
  auto all_nodes = *packet::Ipv6Address::parse("ff02::1");
  auto f = unsolicited_na(kMac, vip);
  ByteReader r(f);
  auto eth = packet::decode_ethernet(r);
  ASSERT_TRUE(eth.ok());
  EXPECT_EQ(eth->dst.to_string(), "33:33:00:00:00:01");
  EXPECT_EQ(eth->ether_type, 0x86dd);
  auto ip = packet::decode_ipv6(r);
  ASSERT_TRUE(ip.ok());
  EXPECT_EQ(ip->src, vip);
  EXPECT_EQ(ip->dst, all_nodes);
  EXPECT_EQ(ip->hop_limit, 255);
  EXPECT_EQ(ip->next_header, 58);
  EXPECT_EQ(ip->payload_length, 32);
  auto body = r.rest();
  EXPECT_TRUE(packet::verify_l4_checksum(
      body, packet::pseudo_header_v6(vip, all_nodes, 58, static_cast<uint32_t>(body.size()))));
  auto na = decode_neighbor_advert(r);
  ASSERT_TRUE(na.ok()) << na.error().message;
  EXPECT_FALSE(na->router);
  EXPECT_FALSE(na->solicited);
  EXPECT_TRUE(na->override);
  EXPECT_EQ(na->target, vip);
  EXPECT_EQ(na->target_mac, kMac);
  // Golden: type 136, code 0, checksum, flags O (0x20), target, option 2 length 1, MAC.
  std::vector<uint8_t> want_head = {136, 0};
  EXPECT_EQ(std::vector<uint8_t>(body.begin(), body.begin() + 2), want_head);
  EXPECT_EQ(std::vector<uint8_t>(body.begin() + 4, body.begin() + 8),
            (std::vector<uint8_t>{0x20, 0, 0, 0}));
  EXPECT_EQ(std::vector<uint8_t>(body.begin() + 24, body.end()),
            (std::vector<uint8_t>{2, 1, 0x02, 0, 0, 0, 0x66, 0x01}));
}

TEST(Announce, NeighborAdvertDecodeRejectsBadInput) {
  std::vector<uint8_t> bytes;
  ByteWriter w(bytes);
  NeighborAdvert na;
  na.target_mac = kMac;
  encode(na, 0, w);
  {
    ByteReader r(std::span<const uint8_t>(bytes).first(20));
    EXPECT_FALSE(decode_neighbor_advert(r).ok()) << "truncated";
  }
  auto zero_len = bytes;
  zero_len[25] = 0;
  ByteReader r1(zero_len);
  EXPECT_FALSE(decode_neighbor_advert(r1).ok()) << "option of length 0";
  auto past_end = bytes;
  past_end[25] = 2;
  ByteReader r2(past_end);
  EXPECT_FALSE(decode_neighbor_advert(r2).ok()) << "option past the end";
  auto not_na = bytes;
  not_na[0] = 135;
  ByteReader r3(not_na);
  EXPECT_FALSE(decode_neighbor_advert(r3).ok()) << "a solicitation";
  ByteReader r4(bytes);
  auto ok = decode_neighbor_advert(r4);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, na);
}

TEST(Announce, ABurstIsCountFramesPerVipInVipOrder) {
  std::vector<packet::IpPrefix> vips = {*packet::IpPrefix::parse("10.0.0.1/24"),
                                        *packet::IpPrefix::parse("fd00::1/64")};
  auto b = announcement_burst(kMac, vips, 3);
  ASSERT_EQ(b.size(), 6u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(b[i], gratuitous_arp(kMac, vips[0].v4addr));
  for (int i = 3; i < 6; ++i) EXPECT_EQ(b[i], unsolicited_na(kMac, vips[1].v6addr));
  EXPECT_TRUE(announcement_burst(kMac, vips, 0).empty());
}

}  // namespace
}  // namespace vnet::vrrp
