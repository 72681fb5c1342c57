// Rootless labs (lab/rootless.hh) and the uplink node kind (lab/kind_uplink.cc): what a lab run
// without root is refused for, each at its file:line, and what the uplink's keys take.
#include <gtest/gtest.h>

#include "lab/rootless.hh"
#include "lab/topology.hh"

using namespace vnet::lab;

namespace {

const std::string kBase =
    "name: t\n"                                              // 1
    "switches:\n"                                            // 2
    "  - {name: sw1, vlans: [10, 20]}\n"                     // 3
    "hosts:\n"                                               // 4
    "  - name: pc1\n"                                        // 5
    "    interfaces: [{name: eth0, ipv4: 10.0.10.1/24}]\n";  // 6

std::string refusals_of(const std::string& text) {
  auto t = parse_topology(text, "t.yaml");
  EXPECT_TRUE(t) << (t ? "" : t.error().message);
  if (!t) return "";
  std::string out;
  for (auto& d : rootless::refusals(*t)) out += d.str() + "\n";
  return out;
}

TEST(Rootless, NamespaceHostsAndAnUplinkNeedNoRoot) {
  EXPECT_EQ(refusals_of(kBase + "uplinks:\n"
                                "  - name: up1\n"
                                "links:\n"
                                "  - {endpoints: [pc1, sw1], vlan: 10}\n"
                                "  - {endpoints: [up1, sw1], vlan: 10}\n"),
            "");
}

TEST(Rootless, AHostInterfaceIsRefusedAtItsLineWithTheReason) {
  std::string r = refusals_of(kBase +
                              "externals:\n"           // 7
                              "  - name: wan\n"        // 8
                              "    interface: eth9\n"  // 9
                              "links:\n"
                              "  - {endpoints: [pc1, sw1]}\n"
                              "  - {endpoints: [wan, sw1]}\n");
  EXPECT_NE(r.find("t.yaml:8:"), std::string::npos) << r;
  EXPECT_NE(r.find("external wan cannot run in a rootless lab"), std::string::npos) << r;
  EXPECT_NE(r.find("AF_PACKET"), std::string::npos) << r;
  EXPECT_EQ(std::count(r.begin(), r.end(), '\n'), 1) << r;
}

TEST(Uplink, KeysAreCheckedAtTheirLine) {
  auto bad = parse_topology(kBase +
                                "uplinks:\n"                                       // 7
                                "  - {name: up1, via: slirp4netns, mtu: 70000}\n"  // 8
                                "links:\n"
                                "  - {endpoints: [pc1, sw1]}\n"
                                "  - {endpoints: [up1, sw1]}\n",
                            "t.yaml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("t.yaml:8:"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("expected passt"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("mtu"), std::string::npos) << bad.error().message;
}

TEST(Uplink, ItsOneInterfaceIsTheLinkEnd) {
  auto t = parse_topology(kBase +
                              "uplinks:\n"
                              "  - name: up1\n"
                              "links:\n"
                              "  - {endpoints: [pc1, sw1]}\n"
                              "  - {endpoints: ['up1:uplink', sw1], vlan: 20}\n",
                          "t.yaml");
  ASSERT_TRUE(t) << t.error().message;
  const Node* n = t->node("up1");
  ASSERT_NE(n, nullptr);
  ASSERT_EQ(n->interfaces.size(), 1u);
  EXPECT_EQ(n->interfaces[0].name, "uplink");
  EXPECT_EQ(t->links_of("up1").size(), 1u);
}

}  // namespace
