// A switch's `tunnels:` (cables to the outside): specs checked by the backends' own parsers at
// parse time with file:line:col, VLANs declared, ports apart from the links', the graph notes.
#include <gtest/gtest.h>

#include "lab/graph.hh"
#include "lab/node_kind.hh"
#include "lab/topology.hh"

using namespace vnet::lab;

namespace {

std::string lab(const std::string& tunnels) {
  return "name: t\nswitches:\n  - name: sw1\n    vlans: [10, 20]\n    tunnels:\n" + tunnels +
         "hosts:\n  - name: pc1\n    interfaces: [{name: eth0, ipv4: 10.0.0.1/24}]\n"
         "links:\n  - endpoints: [pc1:eth0, sw1]\n    vlan: 10\n";
}

std::string errors_of(const std::string& text) {
  auto r = parse_topology(text, "t.yaml");
  return r ? std::string() : r.error().message;
}

TEST(LabTunnels, ValidTunnelsTakeTheirPortsAndShowInTheGraph) {
  auto r = parse_topology(
      lab("      - {port: 1, spec: \"vxlan:10.0.9.1,map=10:5010,map=20:5020\", trunk: [10, 20]}\n"
          "      - {port: 2, spec: \"udp://6000->10.0.9.2:6000\", vlan: 20}\n"
          "      - {port: 3, spec: \"vxlan://239.0.0.9/vni=9\", vlan: 10}\n"),
      "t.yaml");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->links.size(), 1u);
  EXPECT_EQ(r->links[0].port_b, 4u) << "the link's port is one no tunnel takes";
  auto dot = to_dot(*r);
  EXPECT_NE(dot.find("port 2: udp://6000->10.0.9.2:6000 (access 20)"), std::string::npos) << dot;
}

TEST(LabTunnels, MistakesAreRefusedWithTheirPlace) {
  auto e = errors_of(lab("      - {port: 1, spec: \"udp:10.0.9.1:6000\", vlan: 10}\n"));
  EXPECT_NE(e.find("t.yaml:6:25: switch sw1 tunnel on port 1: udp:10.0.9.1:6000: expected "
                   "remote=ADDR:PORT"),
            std::string::npos)
      << e;
  e = errors_of(lab("      - {port: 1, spec: \"tap:x\", vlan: 10}\n"));
  EXPECT_NE(e.find("expected vxlan:…, udp:…, udp://… or vxlan://…"), std::string::npos) << e;
  e = errors_of(lab("      - {port: 1, spec: \"vxlan:10.0.9.1,map=20:5020\", trunk: [10]}\n"));
  EXPECT_NE(e.find("the spec maps VLAN 20, which the port does not carry tagged"),
            std::string::npos)
      << e;
  e = errors_of(lab("      - {port: 1, spec: \"udp:10.0.9.1:1,remote=10.0.9.2:1\", vlan: 30}\n"));
  EXPECT_NE(e.find("VLAN 30 is not declared on switch sw1"), std::string::npos) << e;
  e =
      errors_of(lab("      - {port: 1, spec: \"udp:10.0.9.1:1,remote=10.0.9.2:1\"}\n"
                    "      - {port: 1, spec: \"udp:10.0.9.1:2,remote=10.0.9.2:2\"}\n"));
  EXPECT_NE(e.find("port 1 has two tunnels"), std::string::npos) << e;
  e = errors_of(
      lab("      - {port: 1, spec: \"udp:10.0.9.1:1,remote=10.0.9.2:1\", colour: red}\n"));
  EXPECT_NE(e.find("colour"), std::string::npos) << e;
  auto text = lab("      - {port: 1, spec: \"udp:10.0.9.1:1,remote=10.0.9.2:1\"}\n");
  text.replace(text.find("[pc1:eth0, sw1]"), 15, "[pc1:eth0, \"sw1:1\"]");
  e = errors_of(text);
  EXPECT_NE(e.find("port 1 is a tunnel and a link's port"), std::string::npos) << e;
}

}  // namespace
