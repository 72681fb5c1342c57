// Tenants in the lab's model (lab/tenants.hh, RFC 7364): two tenants may reuse one address plan
// and one set of MACs, each VLAN belongs to one tenant and is carried as one VNI, and tenants
// meet only at a router interface that names its tenant. Each rule is checked both ways: the
// file that keeps it is accepted, the file that breaks it is refused on the line at fault.

#include "lab/tenants.hh"

#include <gtest/gtest.h>

using namespace vnet;
using namespace vnet::lab;

namespace {

// A lab with one switch carrying VLANs 10, 20, 30 and 40, the given tenants, nodes and links.
std::string lab(const std::string& tenants, const std::string& nodes, const std::string& links) {
  return "name: t\nswitches:\n  - name: sw1\n    vlans: [10, 20, 30, 40]\n" + tenants + nodes +
         "links:\n" + links;
}

const std::string kRedBlue =
    "tenants:\n"
    "  - {name: red, vlans: [10], prefixes: [10.1.0.0/16]}\n"
    "  - {name: blue, vlans: [20, 30], prefixes: [10.1.0.0/16]}\n";

// The same address plan and MACs in red (VLAN 10) and blue (VLAN 20).
const std::string kTwins =
    "hosts:\n"
    "  - {name: r1, interfaces: [{name: eth0, mac: '02:00:00:00:01:01', ipv4: 10.1.0.1/24}]}\n"
    "  - {name: b1, interfaces: [{name: eth0, mac: '02:00:00:00:01:01', ipv4: 10.1.0.1/24}]}\n";
const std::string kTwinLinks =
    "  - {endpoints: [r1, sw1], vlan: 10}\n"
    "  - {endpoints: [b1, sw1], vlan: 20}\n";

struct Refusal {
  const char* what;
  std::string text;
  int line;             // where the diagnostic must be (1-based)
  const char* message;  // a part of it
};

std::string refusal(const std::string& text) {
  auto r = parse_topology(text, "t.yaml");
  return r.ok() ? std::string("(accepted)") : r.error().message;
}

TEST(Tenants, TwoTenantsMayReuseAnAddressPlanAndMacs) {
  auto t = parse_topology(lab(kRedBlue, kTwins, kTwinLinks), "t.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  const Node* r1 = t->node("r1");
  const Node* b1 = t->node("b1");
  EXPECT_EQ(interface_tenant(*t, *r1, r1->interfaces[0]), "red");
  EXPECT_EQ(interface_tenant(*t, *b1, b1->interfaces[0]), "blue");
  // Without tenants the same file reuses addresses and MACs within one space: refused, as before.
  std::string shared = refusal(lab("", kTwins, kTwinLinks));
  EXPECT_NE(shared.find("t.yaml:7:"), std::string::npos) << shared;
  EXPECT_NE(shared.find("duplicate address 10.1.0.1 (also on r1:eth0)"), std::string::npos);
  EXPECT_NE(shared.find("duplicate MAC 02:00:00:00:01:01 (also on r1:eth0)"), std::string::npos);
}

TEST(Tenants, VnisAreGivenOrAllocatedWithoutCollision) {
  auto t = parse_topology(lab("tenants:\n"
                              "  - {name: red, vlans: [10, 20], vnis: {20: 10010}}\n"
                              "  - {name: blue, vlans: [30, 40], vnis: {40: 0}}\n",
                              "", ""),
                          "t.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  // Given: 20 → 10010, 40 → 0 (the range's low end). Allocated: 10 would be 10010, which VLAN 20
  // has, so the next free one; 30 → 10030.
  EXPECT_EQ(vlan_vni(*t, 20), 10010u);
  EXPECT_EQ(vlan_vni(*t, 40), 0u);
  EXPECT_EQ(vlan_vni(*t, 10), 10011u);
  EXPECT_EQ(vlan_vni(*t, 30), 10030u);
  EXPECT_EQ(vlan_vni(*t, 1), std::nullopt);
  EXPECT_EQ(vlan_tenant(*t, 30)->name, "blue");
  EXPECT_EQ(vlan_tenant(*t, 1), nullptr);
  auto top = parse_topology(
      lab("tenants:\n  - {name: red, vlans: [10], vnis: {10: 16777215}}\n", "", ""), "t.yaml");
  ASSERT_TRUE(top.ok()) << top.error().message;
  EXPECT_EQ(vlan_vni(*top, 10), kMaxVni);
}

TEST(Tenants, MembershipIsDeclaredOrImpliedByTheLinksVlan) {
  auto t = parse_topology(
      lab(kRedBlue,
          "hosts:\n"
          "  - {name: h1, interfaces: [{name: eth0, ipv4: 10.1.0.1/24}]}\n"  // implied: red
          "  - {name: h2, tenant: blue, interfaces: [{name: eth0, ipv4: 10.1.0.1/24}]}\n"
          "  - {name: h3, interfaces: [{name: eth0, ipv4: 192.168.0.1/24}]}\n"  // VLAN 1: none
          "routers:\n"
          "  - name: gw\n"
          "    interfaces:\n"
          "      - {name: eth0}\n"
          "      - {name: eth0.10, tenant: red, ipv4: 10.1.0.254/24}\n"
          "      - {name: eth1, tenant: blue, ipv4: 10.1.1.254/24}\n",
          "  - {endpoints: [h1, sw1], vlan: 10}\n"
          "  - {endpoints: [h2, sw1], vlan: 30}\n"
          "  - {endpoints: [h3, sw1]}\n"
          "  - {endpoints: [gw:eth0, sw1], trunk: [10]}\n"
          "  - {endpoints: [gw:eth1, sw1], vlan: 20}\n"),
      "t.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  auto of = [&](const char* node, const char* iface) {
    const Node* n = t->node(node);
    return interface_tenant(*t, *n, *n->interface(iface));
  };
  EXPECT_EQ(of("h1", "eth0"), "red");
  EXPECT_EQ(of("h2", "eth0"), "blue");
  EXPECT_EQ(of("h3", "eth0"), "");
  EXPECT_EQ(of("gw", "eth0.10"), "red");
  EXPECT_EQ(of("gw", "eth1"), "blue");
}

TEST(Tenants, TheExampleIsValid) {
  auto t = load_topology(VNET_EXAMPLES_DIR "/tenants.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  ASSERT_EQ(t->tenants.size(), 2u);
  EXPECT_EQ(vlan_vni(*t, 10), 5010u);
  EXPECT_EQ(vlan_vni(*t, 20), kTenantVniBase + 20);
  const Node* gw = t->node("gw");
  EXPECT_EQ(interface_tenant(*t, *gw, *gw->interface("eth0")), "red");
  EXPECT_EQ(interface_tenant(*t, *gw, *gw->interface("eth1")), "");
  // The same MACs in both tenants, as declared.
  EXPECT_EQ(t->node("red1")->macs.at("eth0"), t->node("blue1")->macs.at("eth0"));
}

// Every refusal, with the line it must name.
TEST(Tenants, EachBrokenRuleIsRefusedOnItsLine) {
  const std::string two_tenants =
      "tenants:\n"                        // 5
      "  - {name: red, vlans: [10]}\n"    // 6
      "  - {name: blue, vlans: [20]}\n";  // 7
  const std::vector<Refusal> cases = {
      {"a VLAN in two tenants",
       lab("tenants:\n  - {name: red, vlans: [10]}\n  - {name: blue, vlans: [20, 10]}\n", "", ""),
       7, "VLAN 10 belongs to tenant red already (line 6): a VLAN belongs to at most one tenant"},
      {"a tenant named twice",
       lab("tenants:\n  - {name: red, vlans: [10]}\n  - {name: red, vlans: [20]}\n", "", ""), 7,
       "tenant name 'red' is used twice (first at line 6)"},
      {"colliding VNIs",
       lab("tenants:\n  - {name: red, vlans: [10], vnis: {10: 7}}\n"
           "  - {name: blue, vlans: [20], vnis: {20: 7}}\n",
           "", ""),
       7, "VNI 7 of VLAN 20 (tenant blue) collides with VLAN 10 of tenant red (line 6)"},
      {"a VNI past 24 bits",
       lab("tenants:\n  - {name: red, vlans: [10], vnis: {10: 16777216}}\n", "", ""), 6,
       "VNI 16777216 out of range, expected 0..16777215"},
      {"a negative VNI", lab("tenants:\n  - {name: red, vlans: [10], vnis: {10: -1}}\n", "", ""), 6,
       "VNI -1 out of range"},
      {"a VNI for a VLAN not the tenant's",
       lab("tenants:\n  - {name: red, vlans: [10], vnis: {20: 5020}}\n", "", ""), 6,
       "tenant red: VLAN 20 has a VNI but is not one of its vlans"},
      {"a tenant's node in another tenant's VLAN",
       lab(two_tenants,
           "hosts:\n  - {name: h1, tenant: red, interfaces: [{name: eth0}]}\n",  // 8-9
           "  - {endpoints: [h1, sw1], vlan: 20}\n"),                            // 11
       11, "h1:eth0 is in tenant red but its link puts it into VLAN 20 of tenant blue"},
      {"a tenant's interface in a VLAN of no tenant",
       lab(two_tenants, "hosts:\n  - {name: h1, interfaces: [{name: eth0, tenant: red}]}\n",
           "  - {endpoints: [h1, sw1], vlan: 30}\n"),
       11,
       "h1:eth0 is in tenant red but its link puts it into VLAN 30, which belongs to no tenant"},
      {"a link carrying two tenants' VLANs",
       lab(two_tenants, "hosts:\n  - {name: h1, interfaces: [{name: eth0}]}\n",
           "  - {endpoints: [h1, sw1], trunk: [10, 20]}\n"),
       11, "the link of h1:eth0 carries VLAN 10 of tenant red and VLAN 20 of tenant blue"},
      {"a link carrying a tenant's VLAN and one of no tenant",
       lab(two_tenants, "hosts:\n  - {name: h1, interfaces: [{name: eth0}]}\n",
           "  - {endpoints: [h1, sw1], trunk: [10], native: 30}\n"),
       11, "the link of h1:eth0 carries VLAN 10 of tenant red and VLAN 30 of no tenant"},
      {"a host joining two tenants",
       lab(two_tenants, "hosts:\n  - {name: h1, interfaces: [{name: eth0}, {name: eth1}]}\n",
           "  - {endpoints: ['h1:eth0', sw1], vlan: 10}\n"
           "  - {endpoints: ['h1:eth1', sw1], vlan: 20}\n"),
       9, "host h1 has interfaces in tenant blue (eth1) and tenant red (eth0): only a router"},
      {"a router interface not naming its tenant",
       lab(two_tenants,
           "routers:\n  - {name: gw, interfaces: [{name: eth0, tenant: red}, {name: eth1}]}\n",
           "  - {endpoints: ['gw:eth0', sw1], vlan: 10}\n"
           "  - {endpoints: ['gw:eth1', sw1], vlan: 20}\n"),
       12, "router gw: interface eth1 is in VLAN 20 of tenant blue: name the tenant"},
      {"a router joining overlapping address spaces",
       lab(two_tenants,
           "routers:\n  - name: gw\n    interfaces:\n"                   // 8-10
           "      - {name: eth0, tenant: red, ipv4: 10.1.0.254/24}\n"    // 11
           "      - {name: eth1, tenant: blue, ipv4: 10.1.128.1/16}\n",  // 12
           "  - {endpoints: ['gw:eth0', sw1], vlan: 10}\n"
           "  - {endpoints: ['gw:eth1', sw1], vlan: 20}\n"),
       12, "router gw: eth1 10.1.128.1/16 (tenant blue) overlaps eth0 10.1.0.254/24 (tenant red)"},
      {"an address twice in one tenant",
       lab(two_tenants,
           "hosts:\n"
           "  - {name: h1, interfaces: [{name: eth0, ipv4: 10.1.0.1/24}]}\n"   // 9
           "  - {name: h2, interfaces: [{name: eth0, ipv4: 10.1.0.1/24}]}\n",  // 10
           "  - {endpoints: [h1, sw1], vlan: 10}\n  - {endpoints: [h2, sw1], vlan: 10}\n"),
       10, "duplicate address 10.1.0.1 in tenant red (also on h1:eth0)"},
      {"a MAC twice in one tenant",
       lab(two_tenants,
           "hosts:\n"
           "  - {name: h1, interfaces: [{name: eth0, mac: '02:00:00:00:00:07'}]}\n"
           "  - {name: h2, interfaces: [{name: eth0, mac: '02:00:00:00:00:07'}]}\n",
           "  - {endpoints: [h1, sw1], vlan: 20}\n  - {endpoints: [h2, sw1], vlan: 20}\n"),
       10, "duplicate MAC 02:00:00:00:00:07 in tenant blue (also on h1:eth0)"},
      {"an address outside the tenant's space",
       lab("tenants:\n  - {name: red, vlans: [10], prefixes: [10.1.0.0/16, fd00:1::/48]}\n",
           "hosts:\n  - {name: h1, interfaces: [{name: eth0, ipv6: 'fd00:2::1/64'}]}\n",
           "  - {endpoints: [h1, sw1], vlan: 10}\n"),
       8,
       "h1:eth0: address fd00:2::1/64 is outside tenant red's address space (10.1.0.0/16, "
       "fd00:1::/48)"},
      {"an unknown tenant on a node",
       lab(two_tenants, "hosts:\n  - {name: h1, tenant: green, interfaces: [{name: eth0}]}\n",
           "  - {endpoints: [h1, sw1], vlan: 10}\n"),
       9, "host h1: unknown tenant 'green' (tenants: red, blue)"},
      {"an unknown tenant on an interface",
       lab("", "hosts:\n  - {name: h1, interfaces: [{name: eth0, tenant: green}]}\n",
           "  - {endpoints: [h1, sw1]}\n"),
       6, "interface h1:eth0: unknown tenant 'green' (tenants: none declared)"},
      {"a misspelt tenant key", lab("tenants:\n  - {name: red, vlan: [10]}\n", "", ""), 6,
       "unknown key 'vlan' in tenant"},
  };
  for (auto& c : cases) {
    std::string m = refusal(c.text);
    std::string at = "t.yaml:" + std::to_string(c.line) + ":";
    bool found = false;
    std::istringstream lines(m);
    for (std::string d; std::getline(lines, d);)
      found |= d.rfind(at, 0) == 0 && d.find(c.message) != std::string::npos;
    EXPECT_TRUE(found) << c.what << ": expected '" << at << " …" << c.message << "', got:\n"
                       << m << "\nin:\n"
                       << c.text;
  }
}

}  // namespace
