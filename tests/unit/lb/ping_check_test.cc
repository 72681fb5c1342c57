#include "lb/ping_check.hh"

#include <gtest/gtest.h>

#include "packet/checksum.hh"

using namespace vnet;
using namespace vnet::lb;

namespace {

using Bytes = std::vector<uint8_t>;

TEST(PingCheck, EchoRequestBytes) {
  Bytes r = icmp_echo_request(false, 0x1234, 7);
  ASSERT_EQ(r.size(), 8u + kPingPayload);
  EXPECT_EQ(r[0], 8);
  EXPECT_EQ(r[1], 0);
  EXPECT_EQ(r[4], 0x12);
  EXPECT_EQ(r[5], 0x34);
  EXPECT_EQ(r[6], 0);
  EXPECT_EQ(r[7], 7);
  EXPECT_EQ(std::string(r.begin() + 8, r.begin() + 27), "keepalived check - ");
  EXPECT_EQ(packet::internet_checksum(r), 0);  // the checksum is right (RFC 792)
  Bytes r6 = icmp_echo_request(true, 1, 2);
  EXPECT_EQ(r6[0], 128);
  EXPECT_EQ(r6[2], 0);  // the kernel fills ICMPv6's checksum
  EXPECT_EQ(r6[3], 0);
}

Bytes reply_of(Bytes request, uint8_t type) {
  request[0] = type;
  return request;
}

TEST(PingCheck, ReplyMatching) {
  Bytes v4 = reply_of(icmp_echo_request(false, 0x1234, 7), 0);
  EXPECT_FALSE(icmp_echo_reply_problem(v4, false, false, std::nullopt, 7));
  EXPECT_FALSE(icmp_echo_reply_problem(v4, false, false, 0x1234, 7));
  EXPECT_EQ(icmp_echo_reply_problem(v4, false, false, 0x1235, 7),
            "echo reply for identifier 4660, not 4661");
  EXPECT_EQ(icmp_echo_reply_problem(v4, false, false, std::nullopt, 8),
            "echo reply with sequence 7, not 8");
  // Our own request (a raw socket pinging its own host) is not a reply.
  EXPECT_EQ(icmp_echo_reply_problem(icmp_echo_request(false, 0x1234, 7), false, false, 0x1234, 7),
            "ICMP type 8, not an echo reply");
  EXPECT_TRUE(icmp_echo_reply_problem(reply_of(icmp_echo_request(false, 1, 7), 3), false, false,
                                      std::nullopt, 7));
  EXPECT_EQ(
      icmp_echo_reply_problem(Bytes(v4.begin(), v4.begin() + 7), false, false, std::nullopt, 7),
      "truncated ICMP message (7 bytes)");
  // ICMPv6 echo reply is type 129 (RFC 4443 §4.2).
  Bytes v6 = reply_of(icmp_echo_request(true, 9, 3), 129);
  EXPECT_FALSE(icmp_echo_reply_problem(v6, true, false, std::nullopt, 3));
  EXPECT_TRUE(icmp_echo_reply_problem(v6, false, false, std::nullopt, 3));
}

// A raw IPv4 socket delivers the IP header: skipped by its IHL, options included.
TEST(PingCheck, RawIpv4HeaderIsSkipped) {
  Bytes icmp = reply_of(icmp_echo_request(false, 5, 1), 0);
  for (uint8_t ihl : {5, 6, 15}) {
    Bytes pkt(size_t(ihl) * 4, 0);
    pkt[0] = uint8_t(0x40 | ihl);
    pkt.insert(pkt.end(), icmp.begin(), icmp.end());
    EXPECT_FALSE(icmp_echo_reply_problem(pkt, false, true, 5, 1)) << int(ihl);
  }
  Bytes bad_ihl = {0x44, 0, 0, 0};
  EXPECT_EQ(icmp_echo_reply_problem(bad_ihl, false, true, 5, 1), "truncated IPv4 header");
  Bytes short_hdr = {0x45, 0, 0};
  EXPECT_EQ(icmp_echo_reply_problem(short_hdr, false, true, 5, 1), "truncated IPv4 header");
  EXPECT_EQ(icmp_echo_reply_problem(icmp, false, true, 5, 1), "not an IPv4 packet");
  EXPECT_EQ(icmp_echo_reply_problem(Bytes{}, false, true, 5, 1), "not an IPv4 packet");
}

}  // namespace
