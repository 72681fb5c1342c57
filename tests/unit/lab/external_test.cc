// A switch's `clients:` (ports for VDE and QEMU stream clients started by hand) and the
// `external` node kind (a host interface as a switch port): what the parser takes, what it
// refuses with file:line:col, and the warning about trunks that let a host bypass a router.
#include <gtest/gtest.h>

#include "lab/graph.hh"
#include "lab/node_kind.hh"
#include "lab/topology.hh"

using namespace vnet::lab;

namespace {

std::string errors_of(const std::string& text) {
  auto r = parse_topology(text, "t.yaml");
  return r ? std::string() : r.error().message;
}

std::string warnings_of(const Topology& t) {
  std::string out;
  for (auto& w : t.warnings) out += w.str() + "\n";
  return out;
}

const std::string kHosts =
    "hosts:\n"
    "  - name: pc1\n    interfaces: [{name: eth0, ipv4: 10.0.10.1/24}]\n"
    "  - name: pc2\n    interfaces: [{name: eth0, ipv4: 10.0.20.1/24}]\n";

std::string client_lab(const std::string& clients) {
  return "name: t\nswitches:\n  - name: sw1\n    vlans: [10, 20]\n    clients:\n" + clients +
         kHosts +
         "links:\n  - {endpoints: [pc1, sw1], vlan: 10}\n  - {endpoints: [pc2, sw1], vlan: 20}\n";
}

TEST(LabClients, DeclaredPortsAreReservedWithTheirModes) {
  auto r = parse_topology(client_lab("      - {port: 1, vlan: 10}\n"
                                     "      - {port: 3, trunk: [10, 20], native: 20}\n"),
                          "t.yaml");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->links[0].port_b, 2u) << "links take ports no client port takes";
  EXPECT_EQ(r->links[1].port_b, 4u);
  const Node* sw = r->node("sw1");
  auto st = sw->kind->status(*sw, *r);
  ASSERT_EQ(st["clients"].size(), 2u) << st.dump();
  EXPECT_EQ(st["clients"][0]["mode"], "access 10");
  EXPECT_EQ(st["clients"][1]["port"], 3);
  auto dot = to_dot(*r);
  EXPECT_NE(dot.find("port 1: clients (access 10)"), std::string::npos) << dot;
}

TEST(LabClients, MistakesAreRefusedWithTheirPlace) {
  auto e = errors_of(client_lab("      - {port: 5, vlan: 30}\n"));
  EXPECT_NE(e.find("t.yaml:6:9: VLAN 30 is not declared on switch sw1"), std::string::npos) << e;
  e = errors_of(client_lab("      - {port: 5, vlan: 10}\n      - {port: 5, vlan: 20}\n"));
  EXPECT_NE(e.find("switch sw1: port 5 is declared twice"), std::string::npos) << e;
  e = errors_of(client_lab("      - {port: 5, vlan: 10, trunk: [20]}\n"));
  EXPECT_NE(e.find("a client port is either 'vlan: N' (access) or 'trunk: [..]'"),
            std::string::npos)
      << e;
  e = errors_of(client_lab("      - {vlan: 10}\n"));
  EXPECT_NE(e.find("t.yaml:6:9:"), std::string::npos) << e;
  EXPECT_NE(e.find("port"), std::string::npos) << e;
  // A link on a client port.
  std::string clash = client_lab("      - {port: 7, vlan: 10}\n");
  clash.replace(clash.find("[pc1, sw1]"), 10, "[pc1, \"sw1:7\"]");
  e = errors_of(clash);
  EXPECT_NE(e.find("switch sw1: port 7 is a client port and a link's port"), std::string::npos)
      << e;
}

std::string external_lab(const std::string& iface, const std::string& mode,
                         const std::string& more = "") {
  return "name: t\nswitches:\n  - name: sw1\n    vlans: [10, 20, 30]\n" + kHosts + more +
         "externals:\n  - name: up\n    interface: " + iface +
         "\n"
         "links:\n  - {endpoints: [pc1, sw1], vlan: 10}\n  - {endpoints: [pc2, sw1], vlan: 20}\n"
         "  - {endpoints: [up, sw1], " +
         mode + "}\n";
}

const std::string kRouter =
    "routers:\n  - name: r1\n    interfaces:\n      - {name: eth0}\n"
    "      - {name: eth0.10, ipv4: 10.0.10.254/24}\n"
    "      - {name: eth0.20, ipv4: 10.0.20.254/24}\n";
const std::string kRouterLink = "  - {endpoints: [r1:eth0, sw1], trunk: [10, 20]}\n";

TEST(LabExternal, AnInterfaceIsALinkEndLikeAnyOther) {
  // A VLAN device's name is the host's: no subinterface of the lab's is made of it.
  auto r = parse_topology(external_lab("enp3s0.100", "trunk: [10, 20]"), "t.yaml");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->links.size(), 3u);
  const Link& l = r->links[2];
  EXPECT_EQ(l.a.node, "up");
  EXPECT_EQ(l.a.interface, "enp3s0.100");
  EXPECT_EQ(l.mode.to_string(), "trunk 10,20");
  EXPECT_EQ(r->node("up")->kind->name(), "external");
  EXPECT_FALSE(r->node("up")->kind->has_power());
  EXPECT_TRUE(r->warnings.empty()) << warnings_of(*r) << "no router: nothing to bypass";
}

TEST(LabExternal, BadInterfaceNamesAndMissingKeysAreRefused) {
  auto e = errors_of(external_lab("eth/0", "vlan: 10"));
  EXPECT_NE(e.find("t.yaml:12:16: external up: interface 'eth/0': expected an interface name"),
            std::string::npos)
      << e;
  e = errors_of(external_lab("averyveryverylongname", "vlan: 10"));
  EXPECT_NE(e.find("external up: interface 'averyveryverylongname'"), std::string::npos) << e;
  std::string unlinked = external_lab("eth9", "vlan: 10");
  unlinked.erase(unlinked.find("  - {endpoints: [up, sw1]"));
  e = errors_of(unlinked);
  EXPECT_NE(e.find("interface up:eth9 is not connected"), std::string::npos) << e;
  std::string twice = external_lab("eth9", "vlan: 10");
  twice.replace(twice.find("links:"), 0, "  - name: up2\n    interface: eth9\n");
  twice += "  - {endpoints: [up2, sw1], vlan: 20}\n";
  e = errors_of(twice);
  EXPECT_NE(e.find("t.yaml:14:16: external up2: interface eth9 is external up's already (line 11)"),
            std::string::npos)
      << e;
  e = errors_of("name: t\nswitches: [{name: sw1}]\nexternals:\n  - name: up\n");
  EXPECT_NE(e.find("t.yaml:4:5:"), std::string::npos) << e;
  EXPECT_NE(e.find("interface"), std::string::npos) << e;
}

TEST(LabExternal, ATrunkOfVlansARouterRoutesBetweenIsWarnedAboutAtItsLine) {
  auto r =
      parse_topology(external_lab("eth9", "trunk: [10, 20, 30]", kRouter) + kRouterLink, "t.yaml");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->warnings.size(), 1u) << warnings_of(*r);
  EXPECT_EQ(r->warnings[0].where.line, 22) << warnings_of(*r);
  EXPECT_NE(r->warnings[0].message.find(
                "external up (interface eth9) carries VLANs 10, 20 to the outside network, and "
                "r1 routes between them"),
            std::string::npos)
      << warnings_of(*r);
}

TEST(LabExternal, NoWarningWhereTheTrunkCannotBypassTheRouter) {
  // One routed VLAN on the trunk (30 is not routed), or an access attachment.
  for (const char* mode : {"trunk: [10, 30]", "vlan: 10"}) {
    auto r = parse_topology(external_lab("eth9", mode, kRouter) + kRouterLink, "t.yaml");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_TRUE(r->warnings.empty()) << mode << ": " << warnings_of(*r);
  }
}

}  // namespace
