#include <gtest/gtest.h>

#include "packet/arp.hh"
#include "packet/checksum.hh"
#include "packet/ethernet.hh"
#include "packet/ip.hh"
#include "packet/l4.hh"

using namespace vnet;
using namespace vnet::packet;

namespace {
std::vector<uint8_t> bytes(std::initializer_list<int> b) {
  std::vector<uint8_t> v;
  for (int x : b) v.push_back(static_cast<uint8_t>(x));
  return v;
}
MacAddress mac(const char* s) { return *MacAddress::parse(s); }
}  // namespace

TEST(Address, MacParseAndPrint) {
  EXPECT_EQ(mac("02:00:00:aa:BB:cc").to_string(), "02:00:00:aa:bb:cc");
  EXPECT_FALSE(MacAddress::parse("02:00:00:aa:bb").ok());
  EXPECT_FALSE(MacAddress::parse("02:00:00:aa:bb:cc:dd").ok());
  EXPECT_FALSE(MacAddress::parse("zz:00:00:aa:bb:cc").ok());
  EXPECT_TRUE(MacAddress::broadcast().is_multicast());
  EXPECT_FALSE(mac("02:00:00:00:00:01").is_multicast());
  EXPECT_EQ(MacAddress::from_u64(mac("02:01:02:03:04:05").to_u64()), mac("02:01:02:03:04:05"));
}

TEST(Address, PrefixContains) {
  auto a = *IpPrefix::parse("10.0.10.1/24");
  EXPECT_TRUE(a.contains(*IpPrefix::parse("10.0.10.200/32")));
  EXPECT_FALSE(a.contains(*IpPrefix::parse("10.0.11.1/32")));
  auto b = *IpPrefix::parse("fd00:10::1/64");
  EXPECT_TRUE(b.contains(*IpPrefix::parse("fd00:10::ffff/128")));
  EXPECT_FALSE(b.contains(*IpPrefix::parse("fd00:11::1/128")));
  EXPECT_FALSE(IpPrefix::parse("10.0.0.1/33").ok());
  EXPECT_FALSE(IpPrefix::parse("10.0.0.1").ok());
}

TEST(Ethernet, GoldenBytesAndRoundTrip) {
  EthernetHeader h{mac("ff:ff:ff:ff:ff:ff"), mac("02:00:00:00:00:01"), 0x0806};
  std::vector<uint8_t> out;
  ByteWriter w(out);
  encode(h, w);
  EXPECT_EQ(out, bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06}));
  ByteReader r(out);
  auto d = decode_ethernet(r);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(*d, h);
}

TEST(Ethernet, Truncated) {
  auto in = bytes({1, 2, 3});
  ByteReader r(in);
  auto d = decode_ethernet(r);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().message, "Ethernet header truncated: need 14 bytes, have 3");
}

TEST(VlanTag, GoldenBytes) {
  VlanTag t{5, false, 100, 0x0800};
  std::vector<uint8_t> out;
  ByteWriter w(out);
  encode(t, w);
  EXPECT_EQ(out, bytes({0xa0, 0x64, 0x08, 0x00}));
  ByteReader r(out);
  EXPECT_EQ(*decode_vlan(r), t);
  auto shortb = bytes({0xa0, 0x64});
  ByteReader r2(shortb);
  auto d = decode_vlan(r2);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().message, "802.1Q tag truncated: need 4 bytes, have 2");
}

TEST(VlanTag, DeiAndMaxVid) {
  VlanTag t{7, true, 4094, 0x86dd};
  std::vector<uint8_t> out;
  ByteWriter w(out);
  encode(t, w);
  EXPECT_EQ(out, bytes({0xff, 0xfe, 0x86, 0xdd}));
}

TEST(Arp, RoundTripAndGolden) {
  ArpPacket p{ArpPacket::kRequest, mac("02:00:00:00:00:01"), *Ipv4Address::parse("10.0.0.1"),
              MacAddress{}, *Ipv4Address::parse("10.0.0.2")};
  std::vector<uint8_t> out;
  ByteWriter w(out);
  encode(p, w);
  ASSERT_EQ(out.size(), 28u);
  EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + 8), bytes({0, 1, 8, 0, 6, 4, 0, 1}));
  EXPECT_EQ(std::vector<uint8_t>(out.begin() + 14, out.begin() + 18), bytes({10, 0, 0, 1}));
  ByteReader r(out);
  EXPECT_EQ(*decode_arp(r), p);
  out[4] = 8;  // hlen
  ByteReader r2(out);
  EXPECT_FALSE(decode_arp(r2).ok());
  std::vector<uint8_t> trunc(out.begin(), out.begin() + 20);
  ByteReader r3(trunc);
  EXPECT_FALSE(decode_arp(r3).ok());
}

// RFC 1071 example header (a classic): 45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7
TEST(Ipv4, GoldenChecksum) {
  Ipv4Header h;
  h.total_length = 0x73;
  h.flags_fragment = 0x4000;
  h.ttl = 64;
  h.protocol = 17;
  h.src = *Ipv4Address::parse("192.168.0.1");
  h.dst = *Ipv4Address::parse("192.168.0.199");
  std::vector<uint8_t> out;
  ByteWriter w(out);
  encode(h, w);
  EXPECT_EQ(out, bytes({0x45, 0,    0,    0x73, 0, 0, 0x40, 0,    0x40, 0x11,
                        0xb8, 0x61, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0,    0xc7}));
  ByteReader r(out);
  auto d = decode_ipv4(r);
  ASSERT_TRUE(d.ok());
  h.checksum = 0xb861;
  EXPECT_EQ(*d, h);
  out[11] ^= 1;
  ByteReader r2(out);
  EXPECT_FALSE(decode_ipv4(r2).ok());
}

TEST(Ipv4, RejectsBadVersionIhlAndTruncation) {
  auto b = bytes({0x65, 0, 0, 20, 0, 0, 0, 0, 64, 1, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2});
  ByteReader r(b);
  EXPECT_EQ(decode_ipv4(r).error().message, "IPv4 version is 6, expected 4");
  b[0] = 0x44;
  ByteReader r2(b);
  EXPECT_FALSE(decode_ipv4(r2).ok());
  b[0] = 0x46;  // IHL 24 but only 20 bytes
  ByteReader r3(b);
  EXPECT_FALSE(decode_ipv4(r3).ok());
}

TEST(Ipv4, OptionsRoundTrip) {
  Ipv4Header h;
  h.total_length = 24;
  h.protocol = 1;
  h.options = {0x94, 0x04, 0, 0};  // router alert
  h.src = *Ipv4Address::parse("10.0.0.1");
  h.dst = *Ipv4Address::parse("10.0.0.2");
  std::vector<uint8_t> out;
  ByteWriter w(out);
  encode(h, w);
  ASSERT_EQ(out.size(), 24u);
  ByteReader r(out);
  auto d = decode_ipv4(r);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->options, h.options);
}

TEST(Ipv6, RoundTripGolden) {
  Ipv6Header h;
  h.traffic_class = 0xb8;
  h.flow_label = 0x12345;
  h.payload_length = 8;
  h.next_header = 58;
  h.hop_limit = 255;
  h.src = *Ipv6Address::parse("fe80::1");
  h.dst = *Ipv6Address::parse("ff02::1");
  std::vector<uint8_t> out;
  ByteWriter w(out);
  encode(h, w);
  ASSERT_EQ(out.size(), 40u);
  EXPECT_EQ(std::vector<uint8_t>(out.begin(), out.begin() + 8),
            bytes({0x6b, 0x81, 0x23, 0x45, 0, 8, 58, 255}));
  ByteReader r(out);
  EXPECT_EQ(*decode_ipv6(r), h);
  out[0] = 0x4b;
  ByteReader r2(out);
  EXPECT_FALSE(decode_ipv6(r2).ok());
  std::vector<uint8_t> trunc(out.begin(), out.begin() + 39);
  ByteReader r3(trunc);
  EXPECT_FALSE(decode_ipv6(r3).ok());
}

TEST(Udp, ChecksumWithPseudoHeader) {
  auto src = *Ipv4Address::parse("10.0.0.1"), dst = *Ipv4Address::parse("10.0.0.2");
  std::vector<uint8_t> payload = {'h', 'i'};
  std::vector<uint8_t> out;
  ByteWriter w(out);
  UdpHeader h{1234, 53, 0, 0};
  uint32_t ph = pseudo_header_v4(src, dst, 17, 10);
  encode_udp(h, payload, ph, w);
  ASSERT_EQ(out.size(), 10u);
  EXPECT_TRUE(verify_l4_checksum(out, ph));
  ByteReader r(out);
  auto d = decode_udp(r);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->src_port, 1234);
  EXPECT_EQ(d->length, 10);
  out[8] ^= 0xff;
  EXPECT_FALSE(verify_l4_checksum(out, ph));
  auto bad = bytes({0, 1, 0, 2, 0, 4, 0, 0});
  ByteReader r2(bad);
  EXPECT_FALSE(decode_udp(r2).ok());
}

TEST(Icmp, EchoV4Golden) {
  IcmpEcho e{IcmpEcho::kV4Request, 0, 0, 0x1234, 1, {}};
  std::vector<uint8_t> out;
  ByteWriter w(out);
  encode_icmp_echo(e, 0, w);
  // 08 00 checksum 12 34 00 01 ; checksum = ~(0x0800 + 0x1234 + 0x0001) = ~0x1a35 = 0xe5ca
  EXPECT_EQ(out, bytes({8, 0, 0xe5, 0xca, 0x12, 0x34, 0, 1}));
  ByteReader r(out);
  auto d = decode_icmp_echo(r);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->identifier, 0x1234);
  EXPECT_EQ(d->checksum, 0xe5ca);
}

TEST(Icmp, EchoV6UsesPseudoHeader) {
  auto src = *Ipv6Address::parse("fd00::1"), dst = *Ipv6Address::parse("fd00::2");
  IcmpEcho e{IcmpEcho::kV6Request, 0, 0, 7, 9, {1, 2, 3}};
  std::vector<uint8_t> out;
  ByteWriter w(out);
  uint32_t ph = pseudo_header_v6(src, dst, 58, 11);
  encode_icmp_echo(e, ph, w);
  EXPECT_TRUE(verify_l4_checksum(out, ph));
  EXPECT_FALSE(verify_l4_checksum(out, 0));
  ByteReader r(out);
  auto d = decode_icmp_echo(r);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->data, (std::vector<uint8_t>{1, 2, 3}));
  out[0] = 3;  // destination unreachable: not an echo
  ByteReader r2(out);
  EXPECT_FALSE(decode_icmp_echo(r2).ok());
}
