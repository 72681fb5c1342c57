// check_direct_routing_arp (lab/direct_routing.hh): a DR real server that holds the VIP warns
// unless its switch port filters its ARP for it; NAT, servers without the VIP and servers
// outside the lab do not.
#include "lab/direct_routing.hh"

#include <gtest/gtest.h>

#include <string>

#include "lab/topology.hh"

using namespace vnet::lab;

namespace {

// One director (d1, keepalived config inline from line 12), one real server r1 on sw1.
std::string lab(const std::string& lb_kind, const std::string& r1_extra,
                const std::string& link_extra, const std::string& real = "10.0.0.11") {
  return "name: dr\n"
         "switches:\n"
         "  - name: sw1\n"
         "hosts:\n"
         "  - name: r1\n"
         "    interfaces: [{name: eth0, ipv4: 10.0.0.11/24}]\n" +
         r1_extra +
         "routers:\n"
         "  - name: d1\n"
         "    interfaces: [{name: eth0, ipv4: 10.0.0.1/24}]\n"
         "    keepalived:\n"
         "      config: |\n"
         "        virtual_server 10.0.0.100 80 {\n"
         "          lb_kind " +
         lb_kind +
         "\n"
         "          protocol TCP\n"
         "          real_server " +
         real +
         " 80 {\n"
         "          }\n"
         "        }\n"
         "links:\n"
         "  - endpoints: [d1, sw1]\n"
         "  - endpoints: [r1, sw1]\n" +
         link_extra;
}

std::vector<Diagnostic> warnings(const std::string& text) {
  auto t = parse_topology(text, "dr.yaml");
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
  if (!t.ok()) return {};
  return t->warnings;
}

TEST(DirectRoutingArp, RealServerHoldingTheVipOnLoWarnsAtItsLink) {
  auto w = warnings(lab("DR", "    loopback: 10.0.0.100/32\n", ""));
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].where.file, "dr.yaml");
  EXPECT_EQ(w[0].where.line, 21);  // the link r1–sw1
  const std::string& m = w[0].message;
  EXPECT_NE(m.find("r1 is a real server of d1's lb_kind DR virtual server 10.0.0.100:80/TCP "
                   "(dr.yaml:13)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("holds 10.0.0.100 on lo (loopback, line 7)"), std::string::npos) << m;
  EXPECT_NE(m.find("add 'drop_arp_for: [10.0.0.100]' to this link (r1:eth0–sw1)"),
            std::string::npos)
      << m;
}

TEST(DirectRoutingArp, TheSwitchFilterOnTheLinkSilencesIt) {
  EXPECT_TRUE(warnings(lab("DR", "    loopback: 10.0.0.100/32\n", "    drop_arp_for: 10.0.0.100\n"))
                  .empty());
  // A filter for another address does not.
  EXPECT_EQ(warnings(lab("DR", "    loopback: 10.0.0.100/32\n", "    drop_arp_for: [10.0.0.99]\n"))
                .size(),
            1u);
}

TEST(DirectRoutingArp, NoWarningWithoutTheVipOrWithoutDr) {
  EXPECT_TRUE(warnings(lab("DR", "", "")).empty());  // r1 does not hold the VIP
  EXPECT_TRUE(warnings(lab("NAT", "    loopback: 10.0.0.100/32\n", "")).empty());
  // A real server that is no lab node.
  EXPECT_TRUE(warnings(lab("DR", "    loopback: 10.0.0.100/32\n", "", "10.0.0.77")).empty());
}

TEST(DirectRoutingArp, LoopbackAndDropArpForAreChecked) {
  auto bad = parse_topology(
      lab("DR", "    loopback: [10.0.0.100]\n", "    drop_arp_for: [fd00::1]\n"), "dr.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("dr.yaml:7:"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("loopback '10.0.0.100': expected ADDRESS/PREFIXLEN"),
            std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find("drop_arp_for 'fd00::1': expected an IPv4 address"),
            std::string::npos)
      << bad.error().message;
  // The filter reaches the link.
  auto ok =
      parse_topology(lab("DR", "", "    drop_arp_for: [10.0.0.100, 10.0.0.101]\n"), "dr.yaml");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  ASSERT_EQ(ok->links.size(), 2u);
  EXPECT_EQ(ok->links[1].drop_arp_for.size(), 2u);
  EXPECT_EQ(ok->links[1].drop_arp_where.line, 21);
}

}  // namespace
