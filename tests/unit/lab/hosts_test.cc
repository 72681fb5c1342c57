// Labs across machines (lab/hosts.hh): placement, the VXLAN cables between machines, a
// machine's share, and the mistakes refused with file:line:col.

#include <gtest/gtest.h>

#include "lab/hosts.hh"
#include "lab/topology.hh"
#include "overlay/spec.hh"

using namespace vnet::lab;

namespace {

// core on m1 with r1 on it; acc1 (pc1, pc3) and acc2 (pc2) placed by vnet.
const char* kLab = R"(name: mh
machines:
  - {name: m1, address: 10.77.0.1}
  - {name: m2, address: 10.77.0.2, user: vnet, port: 2222}
  - {name: m3, address: 10.77.0.3}
switches:
  - {name: core, vlans: [10, 20], machine: m1}
  - {name: acc1, vlans: [10, 20]}
  - {name: acc2, vlans: [10, 20]}
hosts:
  - {name: pc1, interfaces: [{name: eth0, ipv4: 10.0.10.11/24}], machine: m2}
  - {name: pc3, interfaces: [{name: eth0, ipv4: 10.0.20.21/24}]}
  - {name: pc2, interfaces: [{name: eth0, ipv4: 10.0.10.12/24}]}
routers:
  - {name: r1, interfaces: [{name: eth0, ipv4: 10.0.10.1/24}]}
links:
  - {endpoints: [core, acc1], trunk: [10, 20]}
  - {endpoints: [acc2, core], trunk: [10, 20], native: 10}
  - {endpoints: [r1, core], vlan: 10}
  - {endpoints: [pc1, acc1], vlan: 10}
  - {endpoints: [pc3, acc1], vlan: 20}
  - {endpoints: [pc2, acc2], vlan: 10}
)";

Topology load(const std::string& text) {
  auto t = parse_topology(text, "mh.yaml");
  EXPECT_TRUE(t) << (t ? "" : t.error().message);
  return t ? std::move(*t) : Topology{};
}

std::string errors_of(const std::string& text) {
  auto r = parse_topology(text, "mh.yaml");
  return r ? std::string() : r.error().message;
}

std::string host_of(const Topology& t, const std::string& node) { return t.node(node)->host; }

}  // namespace

TEST(LabHosts, PlacementKeepsSwitchesWithTheirNodesAndBalancesTheRest) {
  Topology t = load(kLab);
  ASSERT_EQ(t.hosts.size(), 3u);
  EXPECT_EQ(t.hosts[1].user, "vnet");
  EXPECT_EQ(t.hosts[1].port, 2222);
  EXPECT_EQ(host_of(t, "core"), "m1");  // as written
  EXPECT_EQ(host_of(t, "r1"), "m1");    // with its switch
  EXPECT_EQ(host_of(t, "acc1"), "m2");  // where its placed node pc1 is
  EXPECT_EQ(host_of(t, "pc3"), "m2");
  EXPECT_EQ(host_of(t, "acc2"), "m3");  // no placed node: the least loaded machine
  EXPECT_EQ(host_of(t, "pc2"), "m3");
  // Deterministic: the same file, the same split.
  Topology again = load(kLab);
  for (auto& n : t.nodes) EXPECT_EQ(n.host, host_of(again, n.name)) << n.name;
}

TEST(LabHosts, CablesAcrossMachinesGetTheirOwnPortAndVnisWithoutCollision) {
  Topology t = load(kLab);
  auto cables = cross_cables(t);
  ASSERT_EQ(cables.size(), 2u);
  EXPECT_EQ(cables[0].udp_port, 4789);
  EXPECT_EQ(cables[1].udp_port, 4790);
  EXPECT_EQ(cables[0].vnis, (std::map<vnet::bridge::VlanId, uint32_t>{{10, 4106}, {20, 4116}}));
  EXPECT_EQ(cables[1].vnis, (std::map<vnet::bridge::VlanId, uint32_t>{{10, 8202}, {20, 8212}}));
  std::set<uint32_t> vnis;
  for (auto& c : cables) {
    for (auto& [vid, vni] : c.vnis) EXPECT_TRUE(vnis.insert(vni).second) << vni;
  }
}

TEST(LabHosts, AShareHasItsNodesItsLinksAndAVxlanPortPerCable) {
  Topology t = load(kLab);
  auto m1 = share_of(t, "m1", "/run/netns/under");
  ASSERT_TRUE(m1);
  EXPECT_EQ(m1->switch_netns(), "mh-vnet-m1");
  EXPECT_EQ(m1->netns("r1"), "mh-r1");  // node namespaces as on one machine
  std::vector<std::string> nodes;
  for (auto& n : m1->nodes) nodes.push_back(n.name);
  EXPECT_EQ(nodes, (std::vector<std::string>{"core", "r1"}));
  ASSERT_EQ(m1->links.size(), 3u);
  // core–acc1: core is a in the file; in m1's share core is b and the far switch a.
  const Link& c1 = m1->links[0];
  EXPECT_FALSE(c1.switch_to_switch);
  EXPECT_EQ(c1.b.node, "core");
  EXPECT_EQ(c1.a.node, "acc1");
  EXPECT_EQ(c1.port_b, t.links[0].port_a);  // the port the one-machine plan gave it
  EXPECT_EQ(c1.backend,
            "vxlan:10.77.0.1:4789,map=10:4106,map=20:4116,flood=4106@10.77.0.2:4789,"
            "flood=4116@10.77.0.2:4789,netns=/run/netns/under");
  // A native VLAN crosses as its own VNI: both ends plain trunks.
  const Link& c2 = m1->links[1];
  EXPECT_EQ(c2.b.node, "core");
  EXPECT_FALSE(c2.mode.native_vlan.has_value());
  EXPECT_EQ(c2.backend,
            "vxlan:10.77.0.1:4790,map=10:8202,map=20:8212,flood=8202@10.77.0.3:4790,"
            "flood=8212@10.77.0.3:4790,netns=/run/netns/under");
  EXPECT_TRUE(m1->links[2].backend.empty());  // r1–core stays a veth
  // The other end of cable 2, and the backend parses as a vxlan port.
  auto m3 = share_of(t, "m3");
  ASSERT_TRUE(m3);
  const Link* far = nullptr;
  for (auto& l : m3->links) {
    if (!l.backend.empty()) far = &l;
  }
  ASSERT_NE(far, nullptr);
  EXPECT_EQ(far->b.node, "acc2");
  EXPECT_EQ(far->backend,
            "vxlan:10.77.0.3:4790,map=10:8202,map=20:8212,flood=8202@10.77.0.1:4790,"
            "flood=8212@10.77.0.1:4790");
  auto spec = vnet::overlay::parse_vtep_spec(std::string_view(m1->links[0].backend).substr(6));
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->netns, "/run/netns/under");
  EXPECT_EQ(spec->maps.size(), 2u);
  EXPECT_FALSE(share_of(t, "m9"));
}

TEST(LabHosts, IPv6Underlay) {
  std::string text = kLab;
  for (int i = 1; i <= 3; ++i) {
    auto at = text.find("10.77.0." + std::to_string(i));
    text.replace(at, 9, "fd77::" + std::to_string(i));
  }
  Topology t = load(text);
  auto m2 = share_of(t, "m2");
  ASSERT_TRUE(m2);
  EXPECT_EQ(m2->links[0].backend.substr(0, 36), "vxlan:[fd77::2]:4789,map=10:4106,map");
  EXPECT_NE(m2->links[0].backend.find("flood=4106@[fd77::1]:4789"), std::string::npos);
}

TEST(LabHosts, WithoutMachinesNothingChanges) {
  std::string text = kLab;
  text.erase(text.find("machines:"), text.find("switches:") - text.find("machines:"));
  for (auto key : {", machine: m1", ", machine: m2"}) text.erase(text.find(key), strlen(key));
  Topology t = load(text);
  EXPECT_TRUE(t.hosts.empty());
  EXPECT_EQ(t.switch_netns(), "mh-vnet");
  EXPECT_TRUE(cross_cables(t).empty());
  for (auto& n : t.nodes) EXPECT_EQ(n.host, "") << n.name;
}

TEST(LabHosts, MistakesAreRefusedWithTheirPlace) {
  auto with = [](std::string a, const std::string& b) {
    std::string s = kLab;
    s.replace(s.find(a), a.size(), b);
    return errors_of(s);
  };
  EXPECT_NE(with("machine: m1}", "machine: m7}")
                .find("mh.yaml:7:44: node core: no machine named 'm7' (machines: m1, m2, m3)"),
            std::string::npos);
  EXPECT_NE(with("{name: m3,", "{name: m2,")
                .find("mh.yaml:5:12: machine name 'm2' is used twice (first at line 4)"),
            std::string::npos);
  EXPECT_NE(with("10.77.0.3", "10.77.0.1")
                .find("mh.yaml:5:25: machine m3: address 10.77.0.1 is also the address of the "
                      "machine at line 3"),
            std::string::npos);
  EXPECT_NE(
      with("10.77.0.3", "10.77.0.300").find("mh.yaml:5:25: machine m3: address '10.77.0.300'"),
      std::string::npos);
  EXPECT_NE(with("10.77.0.3", "fd77::3").find("every machine's underlay address is of one family"),
            std::string::npos);
  // A placed node takes its unplaced switch along (acc2 goes to m1 with pc2)…
  EXPECT_EQ(with("{name: pc2, interfaces: [{name: eth0, ipv4: 10.0.10.12/24}]}",
                 "{name: pc2, interfaces: [{name: eth0, ipv4: 10.0.10.12/24}], machine: m1}"),
            "");
  // … but a host on one machine linked to a switch placed on another is refused, with what to
  // do instead.
  std::string placed = kLab;
  placed.replace(placed.find("{name: acc2, vlans: [10, 20]}"), 29,
                 "{name: acc2, vlans: [10, 20], machine: m3}");
  placed.replace(placed.find("10.0.10.12/24}]}"), 16, "10.0.10.12/24}], machine: m1}");
  EXPECT_NE(errors_of(placed).find(
                "mh.yaml:22:5: link pc2:eth0–acc2 crosses machines (pc2 on m1, acc2 on m3): only "
                "links between two switches may cross machines"),
            std::string::npos)
      << errors_of(placed);
  // `machine:` without `machines:`.
  std::string text = kLab;
  text.erase(text.find("machines:"), text.find("switches:") - text.find("machines:"));
  EXPECT_NE(errors_of(text).find("node core is placed on machine 'm1' but the lab has no machines"),
            std::string::npos);
}

TEST(LabHosts, TheVxlanNetnsOptionTakesAnAbsolutePath) {
  auto ok = vnet::overlay::parse_vtep_spec("10.0.0.1,map=10:10,netns=/proc/1/ns/net");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->netns, "/proc/1/ns/net");
  auto bad = vnet::overlay::parse_vtep_spec("10.0.0.1,map=10:10,netns=under");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("expected an absolute path"), std::string::npos);
}

TEST(LabHosts, PlanAndInventory) {
  Topology t = load(kLab);
  std::string plan = plan_text(t);
  EXPECT_NE(plan.find("machine m1 "), std::string::npos);
  EXPECT_NE(plan.find("core r1"), std::string::npos);
  EXPECT_NE(plan.find("cable core@m1 – acc1@m2 udp 4789 vlan:vni 10:4106 20:4116"),
            std::string::npos)
      << plan;
  std::string inv = ansible_inventory(t, "/usr/bin/vnet");
  EXPECT_NE(inv.find("[vnet_lab]\nm1 ansible_host=10.77.0.1\nm2 ansible_host=10.77.0.2 "
                     "ansible_port=2222 ansible_user=vnet\nm3 ansible_host=10.77.0.3\n"),
            std::string::npos)
      << inv;
  EXPECT_NE(inv.find("vnet_binary=/usr/bin/vnet"), std::string::npos);
}
