#include "vrrp/advert.hh"

#include <gtest/gtest.h>
#include <pcap/pcap.h>

#include "base/byte_io.hh"
#include "packet/ip.hh"

using namespace vnet;
using namespace vnet::vrrp;

namespace {

IpPair v4pair(const char* src) {
  IpPair ip;
  ip.src4 = *packet::Ipv4Address::parse(src);
  ip.dst4 = packet::Ipv4Address{kMulticastV4};
  return ip;
}

TEST(Advert, V2GoldenBytesWithPassAuth) {
  Advert a;
  a.version = 2;
  a.vrid = 77;
  a.priority = 150;
  a.interval_cs = 100;
  a.v4 = {*packet::Ipv4Address::parse("10.77.0.254")};
  a.auth_type = AuthType::kSimpleText;
  std::memcpy(a.auth_data.data(), "secret", 6);
  auto b = encode_advert(a, v4pair("10.77.0.1"), ChecksumMode::kPseudoHeader);
  ASSERT_EQ(b.size(), 20u);
  EXPECT_EQ(std::vector<uint8_t>(b.begin(), b.begin() + 6),
            (std::vector<uint8_t>{0x21, 77, 150, 1, 1, 1}));
  EXPECT_EQ(std::vector<uint8_t>(b.begin() + 8, b.begin() + 12),
            (std::vector<uint8_t>{10, 77, 0, 254}));
  EXPECT_EQ(b[12], 's');
  auto d = decode_advert(b, v4pair("10.77.0.1"));
  ASSERT_TRUE(d.ok()) << d.error().message;
  a.checksum = d->checksum;
  EXPECT_EQ(*d, a);
}

TEST(Advert, V3Ipv4BothChecksumVariantsAreAcceptedAndReported) {
  Advert a;
  a.version = 3;
  a.vrid = 77;
  a.priority = 100;
  a.interval_cs = 10;
  a.v4 = {*packet::Ipv4Address::parse("10.77.0.254")};
  auto ip = v4pair("10.77.0.2");
  auto with = encode_advert(a, ip, ChecksumMode::kPseudoHeader);
  auto without = encode_advert(a, ip, ChecksumMode::kVrrpOnly);
  ASSERT_EQ(with.size(), 12u);
  EXPECT_NE(load_be16(&with[6]), load_be16(&without[6]));
  EXPECT_EQ(with[4] & 0x0f, 0);
  EXPECT_EQ(with[5], 10);  // 12-bit max adver int, centiseconds
  auto d1 = decode_advert(with, ip);
  auto d2 = decode_advert(without, ip);
  ASSERT_TRUE(d1.ok() && d2.ok());
  EXPECT_TRUE(d1->checksum_pseudo);
  EXPECT_FALSE(d2->checksum_pseudo);
  with[6] ^= 0x55;
  auto bad = decode_advert(with, ip);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, EPROTO);
}

TEST(Advert, V3Ipv6UsesThePseudoHeader) {
  Advert a;
  a.version = 3;
  a.ipv6 = true;
  a.vrid = 78;
  a.priority = 150;
  a.interval_cs = 100;
  a.v6 = {*packet::Ipv6Address::parse("fd00:77::254")};
  IpPair ip;
  ip.v6 = true;
  ip.src6 = *packet::Ipv6Address::parse("fe80::1");
  ip.dst6 = *packet::Ipv6Address::parse(kMulticastV6);
  auto b = encode_advert(a, ip, ChecksumMode::kVrrpOnly);  // the mode only matters for IPv4
  ASSERT_EQ(b.size(), 24u);
  auto d = decode_advert(b, ip);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->v6, a.v6);
  ip.src6 = *packet::Ipv6Address::parse("fe80::2");  // another source: the pseudo-header differs
  EXPECT_EQ(decode_advert(b, ip).error().code, EPROTO);
}

TEST(Advert, MalformedAreRefused) {
  auto ip = v4pair("10.0.0.1");
  EXPECT_EQ(decode_advert(std::vector<uint8_t>{0x31, 1, 100}, ip).error().code,
            EBADMSG);  // truncated
  EXPECT_EQ(decode_advert(std::vector<uint8_t>{0x41, 1, 100, 0, 0, 100, 0, 0}, ip).error().code,
            EBADMSG);  // version 4
  EXPECT_EQ(decode_advert(std::vector<uint8_t>{0x32, 1, 100, 0, 0, 100, 0, 0}, ip).error().code,
            EBADMSG);  // type 2
  EXPECT_EQ(decode_advert(std::vector<uint8_t>{0x31, 1, 100, 3, 0, 100, 0, 0}, ip).error().code,
            EBADMSG);  // 3 addrs, none
  EXPECT_EQ(decode_advert(std::vector<uint8_t>{0x31, 1, 100, 0, 0, 0, 0, 0}, ip).error().code,
            EBADMSG);  // interval 0
  IpPair v6;
  v6.v6 = true;
  EXPECT_EQ(decode_advert(std::vector<uint8_t>(20, 0x21), v6).error().code,
            EBADMSG);  // v2 over IPv6
}

// keepalived 2.2.7's own advertisements, from the captures in tests/data (README.md there).
struct Seen {
  int adverts = 0, v2 = 0, v3 = 0, v6 = 0, pseudo = 0, prio0 = 0;
};

Seen decode_capture(const std::string& name) {
  Seen seen;
  char err[PCAP_ERRBUF_SIZE];
  std::string path = std::string(VNET_TEST_DATA_DIR) + "/" + name;
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  EXPECT_NE(p, nullptr) << err;
  if (!p) return seen;
  pcap_pkthdr* h;
  const u_char* data;
  while (pcap_next_ex(p, &h, &data) == 1) {
    ByteReader r({data, h->caplen});
    r.skip(12);
    uint16_t et = r.u16();
    if (et == 0x8100) {
      r.skip(2);
      et = r.u16();
    }
    IpPair ip;
    std::span<const uint8_t> msg;
    if (et == 0x0800) {
      auto hdr = packet::decode_ipv4(r);
      if (!hdr || hdr->protocol != kProtocol) continue;
      EXPECT_EQ(hdr->ttl, 255);
      ip.src4 = hdr->src;
      ip.dst4 = hdr->dst;
      msg = r.rest().first(hdr->total_length - hdr->header_length());
    } else if (et == 0x86dd) {
      auto hdr = packet::decode_ipv6(r);
      if (!hdr || hdr->next_header != kProtocol) continue;
      EXPECT_EQ(hdr->hop_limit, 255);
      ip.v6 = true;
      ip.src6 = hdr->src;
      ip.dst6 = hdr->dst;
      msg = r.rest().first(hdr->payload_length);
    } else {
      continue;
    }
    auto a = decode_advert(msg, ip);
    EXPECT_TRUE(a.ok()) << name << ": " << a.error().message;
    if (!a) continue;
    ++seen.adverts;
    seen.v2 += a->version == 2;
    seen.v3 += a->version == 3;
    seen.v6 += a->ipv6;
    seen.pseudo += a->version == 3 && !a->ipv6 && a->checksum_pseudo;
    seen.prio0 += a->priority == 0;
    // Re-encoding reproduces keepalived's bytes exactly.
    auto again = encode_advert(
        *a, ip, a->checksum_pseudo ? ChecksumMode::kPseudoHeader : ChecksumMode::kVrrpOnly);
    EXPECT_EQ(std::vector<uint8_t>(msg.begin(), msg.end()), again) << name;
  }
  pcap_close(p);
  return seen;
}

TEST(AdvertInterop, KeepalivedV2Capture) {
  Seen s = decode_capture("keepalived-vrrpv2-advert1s-sigterm.pcap");
  EXPECT_GT(s.adverts, 10);
  EXPECT_EQ(s.v2, s.adverts);
  EXPECT_GE(s.prio0, 1);  // a priority-0 advert on each SIGTERM
}

TEST(AdvertInterop, KeepalivedV3Ipv4UsesThePseudoHeader) {
  Seen s = decode_capture("keepalived-vrrpv3-advert100ms-sigkill.pcap");
  EXPECT_GT(s.adverts, 10);
  EXPECT_EQ(s.v3, s.adverts);
  EXPECT_EQ(s.pseudo, s.adverts);  // keepalived 2.2.7 includes the IPv4 pseudo-header
}

TEST(AdvertInterop, KeepalivedV3Ipv6) {
  Seen s = decode_capture("keepalived-vrrpv3-ipv6-advert1s-sigterm.pcap");
  EXPECT_GT(s.adverts, 5);
  EXPECT_EQ(s.v6, s.adverts);
  EXPECT_GE(s.prio0, 1);
}

}  // namespace
