// Router-on-a-stick in the lab's model: interfaces named PARENT.VID ride PARENT's trunk. Each
// becomes a link of its own to an access port of VID on the parent's switch, the parent's trunk
// stops carrying VID (so no frame of VID reaches the node twice), and the subinterface shares
// the parent's MAC. Mistakes are reported where they are written.

#include <gtest/gtest.h>

#include "lab/topology.hh"

using namespace vnet;
using namespace vnet::lab;

namespace {

std::string lab(const std::string& router_ifaces, const std::string& link) {
  return "name: s\nswitches:\n  - name: sw1\n    vlans: [10, 20, 30]\n"
         "routers:\n  - name: r1\n    interfaces:\n" +
         router_ifaces + "links:\n  - endpoints: [r1:eth0, sw1]\n" + link;
}

const std::string kIfaces =
    "      - {name: eth0}\n"
    "      - {name: eth0.10, ipv4: 10.0.10.1/24}\n"
    "      - {name: eth0.20, ipv4: 10.0.20.1/24}\n";

const Link* link_of(const Topology& t, const std::string& iface) {
  for (auto& l : t.links) {
    if (!l.switch_to_switch && l.a.interface == iface) return &l;
  }
  return nullptr;
}

TEST(VlanSubinterface, EachRidesTheTrunkAsAnAccessPortOfItsVlan) {
  auto t = parse_topology(lab(kIfaces, "    trunk: [10, 20, 30]\n"), "s.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  const Link* parent = link_of(*t, "eth0");
  const Link* v10 = link_of(*t, "eth0.10");
  const Link* v20 = link_of(*t, "eth0.20");
  ASSERT_TRUE(parent && v10 && v20);
  EXPECT_EQ(v10->b.node, "sw1");
  EXPECT_EQ(v10->mode.to_string(), "access 10");
  EXPECT_EQ(v20->mode.to_string(), "access 20");
  // The parent's port keeps only the VLAN without a subinterface.
  EXPECT_FALSE(parent->mode.trunk_vlans.test(10));
  EXPECT_FALSE(parent->mode.trunk_vlans.test(20));
  EXPECT_TRUE(parent->mode.trunk_vlans.test(30));
  // Three different switch ports and switch-side devices.
  EXPECT_NE(parent->port_b, v10->port_b);
  EXPECT_NE(v10->port_b, v20->port_b);
  EXPECT_NE(v10->device, v20->device);
  EXPECT_LE(v10->device.size(), 15u);
  const Node* r1 = t->node("r1");
  EXPECT_EQ(r1->macs.at("eth0.10"), r1->macs.at("eth0"));
  EXPECT_EQ(r1->macs.at("eth0.20"), r1->macs.at("eth0"));
}

TEST(VlanSubinterface, ADeclaredMacIsKept) {
  auto t = parse_topology(lab("      - {name: eth0}\n"
                              "      - {name: eth0.10, mac: 02:00:00:00:10:10}\n",
                              "    trunk: [10]\n"),
                          "s.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->node("r1")->macs.at("eth0.10").to_string(), "02:00:00:00:10:10");
}

TEST(VlanSubinterface, MistakesAreReportedWhereTheyAreWritten) {
  auto err = [](const std::string& ifaces, const std::string& link) {
    auto t = parse_topology(lab(ifaces, link), "s.yaml");
    return t ? std::string() : t.error().message;
  };
  EXPECT_NE(err("      - {name: eth0}\n      - {name: eth0.40}\n", "    trunk: [10]\n")
                .find("s.yaml:9:9: interface r1:eth0.40 needs VLAN 40 tagged on eth0's link"),
            std::string::npos)
      << err("      - {name: eth0}\n      - {name: eth0.40}\n", "    trunk: [10]\n");
  EXPECT_NE(err("      - {name: eth0}\n      - {name: eth0.10}\n", "    vlan: 10\n")
                .find("needs VLAN 10 tagged on eth0's link"),
            std::string::npos);
  EXPECT_NE(
      err("      - {name: eth0}\n      - {name: eth0.10}\n", "    trunk: [10]\n    native: 10\n")
          .find("VLAN 10 is the native VLAN of eth0's trunk"),
      std::string::npos);
  EXPECT_NE(err("      - {name: eth0}\n      - {name: eth1.10}\n", "    trunk: [10]\n")
                .find("is a VLAN subinterface of eth1, which r1 does not have"),
            std::string::npos);
  EXPECT_NE(err("      - {name: eth0}\n      - {name: eth0.5000}\n", "    trunk: [10]\n")
                .find("interface name 'eth0.5000': expected NAME or NAME.VID"),
            std::string::npos);
  EXPECT_NE(err("      - {name: eth0}\n      - {name: eth0.10}\n",
                "    trunk: [10]\n  - endpoints: [r1:eth0.10, sw1]\n    vlan: 10\n")
                .find("r1:eth0.10 rides eth0's trunk: it needs no link of its own"),
            std::string::npos);
}

}  // namespace
