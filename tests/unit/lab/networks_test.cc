// Networks (lab/networks.hh, lab/dnsmasq.hh, docs/networks.md): what a `networks:` entry becomes
// (the gateway's interface and its access port, static leases bound to the planner's MACs, the
// dnsmasq configuration, the nftables rules per mode), and every bad input refused on its line.

#include <gtest/gtest.h>

#include "lab/dnsmasq.hh"
#include "lab/networks.hh"
#include "lab/node_kind.hh"

using namespace vnet;
using namespace vnet::lab;

namespace {

const std::string kHead =
    "name: t\n"                                      // 1
    "switches:\n"                                    // 2
    "  - {name: sw, vlans: [10, 20]}\n"              // 3
    "hosts:\n"                                       // 4
    "  - {name: pc1, interfaces: [{name: eth0}]}\n"  // 5
    "  - {name: pc2, interfaces: [{name: eth0}]}\n"  // 6
    "links:\n"                                       // 7
    "  - {endpoints: [pc1, sw], vlan: 10}\n"         // 8
    "  - {endpoints: [pc2, sw], vlan: 20}\n"         // 9
    "networks:\n";                                   // 10
// Line 11 onwards: one network per test.
const std::string kOffice =
    "  - name: office\n"                                    // 11
    "    switch: sw\n"                                      // 12
    "    vlan: 10\n"                                        // 13
    "    subnet: 10.0.10.0/24\n"                            // 14
    "    uplink: {netns: out, address: 198.51.100.2/24}\n"  // 15
    "    dhcp:\n"                                           // 16
    "      ranges: [10.0.10.128-10.0.10.191]\n"             // 17
    "      hosts: [{node: pc1, address: 10.0.10.12}]\n"     // 18
    "      lease: 10m\n";                                   // 19

std::string refusal(const std::string& text) {
  auto r = parse_topology(text, "t.yaml");
  return r.ok() ? std::string("(accepted)") : r.error().message;
}

TEST(Networks, ANetworkIsAGatewayOnAnAccessPortOfItsVlan) {
  auto t = parse_topology(kHead + kOffice, "t.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  const Node* n = t->node("office");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->kind->name(), "network");
  ASSERT_EQ(n->interfaces.size(), 1u);
  EXPECT_EQ(n->interfaces[0].addresses[0].to_string(), "10.0.10.1/24");  // default: first host
  auto links = t->links_of("office");
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(links[0]->b.node, "sw");
  EXPECT_EQ(links[0]->mode.pvid(), 10);
  EXPECT_EQ(links[0]->mode.mode, bridge::PortConfig::Mode::kAccess);
  const auto& s = n->as<NetworkSpec>();
  EXPECT_EQ(s.mode, NetworkMode::kNat);
  EXPECT_EQ(s.uplink.peer.to_string(), "198.51.100.1");
  EXPECT_EQ(s.lease_time, std::chrono::seconds(600));
  // The static lease is bound to pc1's link on VLAN 10, whose MAC the planner chose.
  const Link* l = lease_link(*t, s, s.leases[0]);
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->a.node, "pc1");
  EXPECT_TRUE(t->node("pc1")->macs.count("eth0"));
  // Names the networks' DNS serves: gateways under the network's name, static leases.
  std::string hosts = network_hosts_file(*t);
  EXPECT_NE(hosts.find("10.0.10.1 office\n"), std::string::npos) << hosts;
  EXPECT_NE(hosts.find("10.0.10.12 pc1\n"), std::string::npos) << hosts;
}

struct Refusal {
  const char* what;
  std::string network;  // from line 11
  int line;
  const char* message;
};

TEST(Networks, BadInputIsRefusedOnItsLine) {
  const std::string head =
      "  - name: office\n    switch: sw\n    vlan: 10\n    subnet: 10.0.10.0/24\n";  // 11-14
  const std::string up = "    uplink: {netns: out}\n";
  const std::vector<Refusal> cases = {
      {"unknown mode", head + up + "    mode: natt\n", 16,
       "unknown mode 'natt': expected nat, route, isolated or open"},
      {"gateway outside the network", head + up + "    gateway: 10.0.11.1\n", 16,
       "gateway 10.0.11.1 is outside the network 10.0.10.0/24"},
      {"gateway is the broadcast address", head + up + "    gateway: 10.0.10.255\n", 16,
       "is outside the network"},
      {"overlapping ranges",
       head + up + "    dhcp:\n      ranges: [10.0.10.100-10.0.10.150, 10.0.10.150-10.0.10.199]\n",
       17, "dhcp range 10.0.10.150-10.0.10.199 overlaps range 10.0.10.100-10.0.10.150"},
      {"range outside the subnet", head + up + "    dhcp:\n      ranges: [10.0.9.1-10.0.9.5]\n", 17,
       "dhcp range 10.0.9.1-10.0.9.5 is outside the subnet 10.0.10.0/24"},
      {"range upside down", head + up + "    dhcp:\n      ranges: [10.0.10.9-10.0.10.5]\n", 17,
       "FROM is above TO"},
      {"range holding the gateway", head + up + "    dhcp:\n      ranges: [10.0.10.1-10.0.10.5]\n",
       17, "contains the gateway 10.0.10.1"},
      {"static lease outside the subnet",
       head + up + "    dhcp:\n      hosts: [{node: pc1, address: 10.0.12.5}]\n", 17,
       "static lease 10.0.12.5 is outside the subnet 10.0.10.0/24"},
      {"static lease of a node not on the VLAN",
       head + up + "    dhcp:\n      hosts: [{node: pc2, address: 10.0.10.5}]\n", 17,
       "static lease for pc2: no interface of it is linked to switch sw on VLAN 10"},
      {"static lease of an unknown node",
       head + up + "    dhcp:\n      hosts: [{node: pc9, address: 10.0.10.5}]\n", 17,
       "static lease for 'pc9': no such node"},
      {"static lease on the gateway",
       head + up + "    dhcp:\n      hosts: [{mac: '02:00:00:00:00:01', address: 10.0.10.1}]\n", 17,
       "static lease 10.0.10.1 is the gateway's address"},
      {"static lease by node and by MAC",
       head + up +
           "    dhcp:\n      hosts: [{node: pc1, mac: '02:00:00:00:00:01', address: 10.0.10.5}]\n",
       17, "a dhcp host is either {node: NODE, address: A} or {mac: MAC, address: A}"},
      {"unknown switch", "  - name: office\n    switch: sw9\n    subnet: 10.0.10.0/24\n" + up, 12,
       "network office: no switch named 'sw9'"},
      {"undeclared VLAN",
       "  - name: office\n    switch: sw\n    vlan: 30\n    subnet: 10.0.10.0/24\n" + up, 13,
       "VLAN 30 is not declared on switch sw"},
      {"subnet with host bits", "  - name: office\n    switch: sw\n    subnet: 10.0.10.1/24\n" + up,
       13, "has host bits set: expected the network address, 10.0.10.0/24"},
      {"nat without an uplink", head, 11, "mode nat needs an uplink"},
      {"uplink: something", head + "    uplink: outside\n", 15,
       "uplink 'outside': expected default (the host's default route), {interface: IF} or "
       "{netns: NAME}"},
      {"uplink with interface and netns", head + "    uplink: {interface: eth1, netns: out}\n", 15,
       "uplink has both interface (a host interface) and netns"},
      {"uplink interface not a name", head + "    uplink: {interface: 'a/b'}\n", 15,
       "uplink interface 'a/b': expected an interface name"},
      {"host uplink naming its veth", head + "    uplink: {interface: eth1, device: up9}\n", 15,
       "a host uplink's veth is named by vnet"},
      {"host uplink, mode open", head + "    mode: open\n    uplink: default\n", 16,
       "mode open adds no rules, so a host uplink would make the host forward"},
      {"uplink into the subnet", head + "    uplink: {netns: out, address: 10.0.10.200/24}\n", 15,
       "uplink address 10.0.10.200/24 overlaps the subnet 10.0.10.0/24"},
      {"two networks on one VLAN",
       head + up + "  - {name: again, switch: sw, vlan: 10, subnet: 10.0.11.0/24, mode: open}\n",
       16, "VLAN 10 of switch sw already has network office (line 11)"},
  };
  for (const auto& c : cases) {
    std::string m = refusal(kHead + c.network);
    EXPECT_NE(m.find(fmt::format("t.yaml:{}:", c.line)), std::string::npos) << c.what << ": " << m;
    EXPECT_NE(m.find(c.message), std::string::npos) << c.what << ": " << m;
  }
}

NetworkSpec office() {
  auto t = parse_topology(kHead + kOffice, "t.yaml");
  EXPECT_TRUE(t.ok()) << t.error().message;
  return t->node("office")->as<NetworkSpec>();
}

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(Networks, DnsmasqServesThePoolsTheStaticLeasesAndTheLabsNames) {
  NetworkSpec s = office();
  auto mac = *packet::MacAddress::parse("02:00:00:00:10:12");
  std::string c = dnsmasq_config(s, {{mac, *packet::Ipv4Address::parse("10.0.10.12"), "pc1"}},
                                 {"/st/office.hosts", "/st/office.leases", "/st/office.pid"}, "x");
  for (const char* l :
       {"interface=eth0", "bind-interfaces", "no-resolv", "no-hosts", "addn-hosts=/st/office.hosts",
        "domain=lab", "local=/lab/", "expand-hosts", "dhcp-leasefile=/st/office.leases",
        "dhcp-range=10.0.10.128,10.0.10.191,255.255.255.0,600",
        "dhcp-host=02:00:00:00:10:12,10.0.10.12,pc1,600", "dhcp-option=option:router,10.0.10.1",
        "dhcp-option=option:dns-server,10.0.10.1"})
    EXPECT_TRUE(has_line(c, l)) << l << " missing in\n" << c;
  EXPECT_EQ(c.find("enable-ra"), std::string::npos);
  EXPECT_EQ(c.find("no-ping"), std::string::npos);  // dnsmasq's and libvirt's default
  s.ping_check = false;
  EXPECT_TRUE(has_line(dnsmasq_config(s, {}, {"h", "l", "p"}, "x"), "no-ping"));
  // Isolated: no router offered; IPv6 advertised with router lifetime 0.
  s.mode = NetworkMode::kIsolated;
  s.subnet6 = *packet::IpPrefix::parse("fd00:10::/64");
  s.forwarders = {"192.0.2.53"};
  c = dnsmasq_config(s, {}, {"h", "l", "p"}, "x");
  EXPECT_TRUE(has_line(c, "dhcp-option=option:router")) << c;
  EXPECT_EQ(c.find("dhcp-option=option:router,"), std::string::npos) << c;
  EXPECT_TRUE(has_line(c, "server=192.0.2.53")) << c;
  EXPECT_TRUE(has_line(c, "enable-ra")) << c;
  EXPECT_TRUE(has_line(c, "dhcp-range=fd00:10::,ra-only,64")) << c;
  EXPECT_TRUE(has_line(c, "ra-param=eth0,0,0")) << c;
}

TEST(Networks, StaticLeasesWithoutPoolsStillServeDhcp) {
  NetworkSpec s = office();
  s.ranges.clear();
  auto mac = *packet::MacAddress::parse("02:00:00:00:10:12");
  std::string c = dnsmasq_config(s, {{mac, *packet::Ipv4Address::parse("10.0.10.12"), ""}},
                                 {"h", "l", "p"}, "x");
  EXPECT_TRUE(has_line(c, "dhcp-range=10.0.10.0,static,255.255.255.0,600")) << c;
  EXPECT_TRUE(has_line(c, "dhcp-host=02:00:00:00:10:12,10.0.10.12,600")) << c;
}

TEST(Networks, LeaseDatabaseIsReadUpToTheDhcpv6Part) {
  auto l = parse_dnsmasq_leases(
      "1764600000 02:00:00:00:10:12 10.0.10.12 pc1 01:02:00:00:00:10:12\n"
      "0 02:aa:bb:cc:dd:ee 10.0.10.130 * *\n"
      "garbage\n"
      "duid 00:01:00:01:2c:aa\n"
      "1764600000 1234 fd00:10::5 pc9 00:01\n");
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0], (DnsmasqLease{1764600000, "02:00:00:00:10:12", "10.0.10.12", "pc1"}));
  EXPECT_EQ(l[1], (DnsmasqLease{0, "02:aa:bb:cc:dd:ee", "10.0.10.130", ""}));
}

TEST(Networks, EachModeAddsItsRules) {
  NetworkSpec s = office();
  std::string nat = network_ruleset(s);
  EXPECT_NE(nat.find("oifname \"up0\" ip saddr 10.0.10.0/24 masquerade"), std::string::npos) << nat;
  EXPECT_NE(nat.find("ct state established,related accept"), std::string::npos) << nat;
  EXPECT_NE(nat.find("policy drop"), std::string::npos) << nat;
  EXPECT_EQ(network_tables(s),
            (std::vector<std::string>{"inet vnet_network", "ip vnet_network_nat"}));
  s.mode = NetworkMode::kRoute;
  std::string route = network_ruleset(s);
  EXPECT_EQ(route.find("masquerade"), std::string::npos) << route;
  EXPECT_NE(route.find("iifname \"up0\" oifname \"eth0\" ip daddr 10.0.10.0/24 accept"),
            std::string::npos)
      << route;
  s.mode = NetworkMode::kIsolated;
  std::string iso = network_ruleset(s);
  EXPECT_EQ(iso.find("masquerade"), std::string::npos) << iso;
  EXPECT_EQ(iso.find("oifname \"up0\""), std::string::npos) << iso;  // nothing forwarded
  EXPECT_NE(iso.find("udp dport { 53, 67 } accept"), std::string::npos) << iso;
  s.mode = NetworkMode::kOpen;
  EXPECT_EQ(network_ruleset(s), "");
  EXPECT_TRUE(network_tables(s).empty());
}

TEST(Networks, AHostUplinkForwardsBetweenItsVethAndTheInterfaceOnly) {
  auto t = parse_topology(kHead +
                              "  - {name: office, switch: sw, vlan: 10, subnet: 10.0.10.0/24, "
                              "uplink: {interface: eth1}}\n",
                          "t.yaml");
  ASSERT_TRUE(t.ok()) << t.error().message;
  NetworkSpec s = t->node("office")->as<NetworkSpec>();
  EXPECT_TRUE(s.uplink.host);
  EXPECT_EQ(s.uplink.interface, "eth1");
  // A transfer /30 of its own in 100.64.0.0/10, shared with no other lab or network by design.
  EXPECT_EQ(s.uplink.address.length, 30);
  EXPECT_EQ(s.uplink.address.v4addr.value >> 22, (100u << 2) | 1u) << s.uplink.address.to_string();
  EXPECT_EQ(s.uplink.peer.value + 1, s.uplink.address.v4addr.value);
  EXPECT_TRUE(s.uplink.device.starts_with("vnu")) << s.uplink.device;
  auto u = parse_topology(kHead +
                              "  - {name: staff, switch: sw, vlan: 10, subnet: 10.0.10.0/24, "
                              "uplink: {interface: eth1}}\n",
                          "t.yaml");
  ASSERT_TRUE(u.ok());
  EXPECT_NE(u->node("staff")->as<NetworkSpec>().uplink.address.to_string(),
            s.uplink.address.to_string());

  packet::IpPrefix transfer = s.uplink.address;
  transfer.v4addr.value &= ~3u;
  std::string dev = s.uplink.device, net = transfer.to_string();
  std::string nat = host_uplink_ruleset(s, "eth1", true);
  EXPECT_NE(nat.find("table inet vnet_up_" + dev + " {"), std::string::npos) << nat;
  EXPECT_NE(nat.find(fmt::format("iifname \"{}\" oifname \"eth1\" ip saddr {} accept", dev, net)),
            std::string::npos)
      << nat;
  EXPECT_NE(nat.find(fmt::format("iifname \"eth1\" oifname \"{}\" ip daddr {} ct state "
                                 "established,related accept",
                                 dev, net)),
            std::string::npos)
      << nat;
  EXPECT_NE(nat.find(fmt::format("oifname \"eth1\" ip saddr {} masquerade", net)),
            std::string::npos)
      << nat;
  EXPECT_NE(nat.find(fmt::format("iifname \"{}\" drop", dev)), std::string::npos) << nat;
  EXPECT_NE(nat.find(fmt::format("oifname \"{}\" drop", dev)), std::string::npos) << nat;
  EXPECT_NE(nat.find("iifname \"eth1\" oifname != \"vnu*\" drop"), std::string::npos) << nat;
  EXPECT_EQ(host_uplink_ruleset(s, "eth1", false).find("vnu*"), std::string::npos);
  s.mode = NetworkMode::kRoute;
  std::string route = host_uplink_ruleset(s, "eth1", false);
  EXPECT_EQ(route.find("masquerade"), std::string::npos) << route;
  EXPECT_NE(
      route.find(fmt::format("iifname \"eth1\" oifname \"{}\" ip daddr 10.0.10.0/24 accept", dev)),
      std::string::npos)
      << route;
  s.mode = NetworkMode::kIsolated;
  std::string iso = host_uplink_ruleset(s, "eth1", false);
  EXPECT_EQ(iso.find("accept\n"), std::string::npos) << iso;  // nothing crosses
}

TEST(Networks, TheDefaultRouteIsTheLowestMetricOne) {
  const std::string head =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n";
  EXPECT_EQ(default_route_interface(head), "");
  EXPECT_EQ(default_route_interface(head +
                                    "eth0\t0002A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"),
            "");  // a subnet route only
  EXPECT_EQ(default_route_interface(
                head + "eth0\t00000000\t0102A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0\n" +
                "wlan0\t00000000\t0101A8C0\t0003\t0\t0\t100\t00000000\t0\t0\t0\n" +
                "eth9\t00000000\t0101A8C0\t0002\t0\t0\t10\t00000000\t0\t0\t0\n"),
            "wlan0");  // eth9's route is not up (no RTF_UP)
}

}  // namespace
