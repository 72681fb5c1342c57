#include "lb/dns_check.hh"

#include <gtest/gtest.h>

using namespace vnet::lb;

namespace {

using Bytes = std::vector<uint8_t>;

// RFC 1035 §4.1: header (ID, RD, QDCOUNT 1), QNAME labels, QTYPE, QCLASS IN.
TEST(DnsCheck, QueryBytes) {
  Bytes want = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
                0x00, 0x00, 7,    'e',  'x',  'a',  'm',  'p',  'l',  'e',
                3,    'o',  'r',  'g',  0,    0x00, 0x01, 0x00, 0x01};
  EXPECT_EQ(dns_query(0x1234, "example.org", 1), want);
  EXPECT_EQ(dns_query(0x1234, "example.org.", 1), want);  // the trailing dot is the root
}

TEST(DnsCheck, DefaultIsSoaOfTheRoot) {
  DnsCheck c;
  EXPECT_EQ(c.type, 6);
  Bytes want = {0xbe, 0xef, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
                0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x01};
  EXPECT_EQ(dns_query(0xbeef, c.name, c.type), want);
  EXPECT_EQ(dns_query(0xbeef, ".", c.type), want);
}

TEST(DnsCheck, TypeWords) {
  EXPECT_EQ(dns_type_from_name("A"), 1);
  EXPECT_EQ(dns_type_from_name("aaaa"), 28);
  EXPECT_EQ(dns_type_from_name("Mx"), 15);
  EXPECT_EQ(dns_type_from_name("TXT"), 16);
  EXPECT_EQ(dns_type_from_name("NS"), 2);
  EXPECT_EQ(dns_type_from_name("CNAME"), 5);
  EXPECT_EQ(dns_type_from_name("DNSKEY"), 48);
  EXPECT_FALSE(dns_type_from_name("PTR"));
  EXPECT_FALSE(dns_type_from_name(""));
  EXPECT_FALSE(dns_type_from_name("AA"));
  EXPECT_EQ(dns_type_name(6), "SOA");
  EXPECT_EQ(dns_type_name(12), "12");
}

TEST(DnsCheck, NameProblems) {
  EXPECT_FALSE(dns_name_problem(""));
  EXPECT_FALSE(dns_name_problem("."));
  EXPECT_FALSE(dns_name_problem("a.b.c."));
  EXPECT_EQ(dns_name_problem(".a"), "empty label");
  EXPECT_EQ(dns_name_problem("a..b"), "empty label");
  EXPECT_EQ(dns_name_problem("a.."), "empty label");
  EXPECT_FALSE(dns_name_problem(std::string(63, 'x') + ".org"));
  EXPECT_TRUE(dns_name_problem(std::string(64, 'x') + ".org"));
  std::string name;
  while (name.size() < 250) name += "abcdefghi.";
  EXPECT_TRUE(dns_name_problem(name + "abcdefghi"));
}

Bytes reply(uint16_t id, uint16_t flags, size_t size = 12) {
  Bytes r(size, 0);
  r[0] = uint8_t(id >> 8);
  r[1] = uint8_t(id);
  r[2] = uint8_t(flags >> 8);
  r[3] = uint8_t(flags);
  return r;
}

// keepalived's rule: reply with the ID and QR → RCODE 0 passes, any other RCODE fails; anything
// else is not a reply to us and is waited past.
TEST(DnsCheck, ReplyVerdicts) {
  EXPECT_EQ(dns_reply_verdict(reply(7, 0x8180), 7).kind, DnsVerdict::kSuccess);
  EXPECT_EQ(dns_reply_verdict(reply(7, 0x8580, 40), 7).kind, DnsVerdict::kSuccess);  // AA
  auto nx = dns_reply_verdict(reply(7, 0x8183), 7);
  EXPECT_EQ(nx.kind, DnsVerdict::kFailure);
  EXPECT_EQ(nx.detail, "rcode 3 (NXDOMAIN)");
  EXPECT_EQ(dns_reply_verdict(reply(7, 0x8182), 7).detail, "rcode 2 (SERVFAIL)");
  EXPECT_EQ(dns_reply_verdict(reply(7, 0x8185), 7).detail, "rcode 5 (REFUSED)");
  EXPECT_EQ(dns_reply_verdict(reply(7, 0x818b), 7).detail, "rcode 11");
  EXPECT_EQ(dns_reply_verdict(reply(8, 0x8180), 7).kind, DnsVerdict::kIgnore);  // another ID
  EXPECT_EQ(dns_reply_verdict(reply(7, 0x0100), 7).kind, DnsVerdict::kIgnore);  // a query
  EXPECT_EQ(dns_reply_verdict(reply(7, 0x8180, 11), 7).kind, DnsVerdict::kIgnore);
  EXPECT_EQ(dns_reply_verdict({}, 7).kind, DnsVerdict::kIgnore);
  // Our own query echoed back (a UDP echo server on port 53) is no answer.
  EXPECT_EQ(dns_reply_verdict(dns_query(7, "example.org", 1), 7).kind, DnsVerdict::kIgnore);
}

}  // namespace
