#pragma once
// Networks as libvirt has them (docs/networks.md): a lab's `networks:` entry puts a gateway on a
// switch VLAN, with DHCP, DNS and router advertisements served by dnsmasq (lab/dnsmasq.hh), and
// forwarding toward an uplink by mode, with nftables rules:
//   nat       the network's IPv4 traffic leaves through the uplink masqueraded to the gateway's
//             uplink address; only connections from inside are let back in
//   route     forwarded to and from the uplink without translation (the outside needs a route
//             back; vnet adds it in a stand-in outside namespace, on the veth it made)
//   isolated  nothing is forwarded: the gateway answers DHCP, DNS and neighbour discovery only
//   open      forwarding on, no rules added
// Each network is a node of kind "network" (lab/kind_network.cc): its service namespace is
// "<lab>-<name>", its interface eth0 (on an access port of the VLAN, a link the kind declares
// itself) holds the gateway address, and its uplink is a veth "up0" into the namespace
// `uplink.netns` names (a stand-in for the outside), or, as root, into the host's namespace
// (`uplink: {interface: IF}` or `uplink: default`, the interface of the host's IPv4 default
// route), where vnet adds what libvirt adds: a route back in route mode, forwarding on the veth
// and on IF (per interface, net.ipv4.conf.IF.forwarding; the global switch is not touched), and
// the table host_uplink_ruleset() returns. `down` deletes the table and the veth and puts IF's
// forwarding back as it found it (restore_host_uplinks).
//
// This header holds the model and the pure parts (validation helpers, the nftables ruleset);
// nothing here touches the system.

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "bridge/port_config.hh"
#include "lab/topology.hh"
#include "packet/address.hh"

#include <nlohmann/json.hpp>

namespace vnet::lab {

enum class NetworkMode { kNat, kRoute, kIsolated, kOpen };
std::string_view to_string(NetworkMode m);

// A dynamic pool, both ends included (dnsmasq `dhcp-range`).
struct DhcpRange {
  packet::Ipv4Address from, to;
  Where where;
};

// A fixed address for one client: by node (the MAC of its interface on the network's VLAN, as
// the planner assigns it) or by MAC; `name` is its DNS name (the node's by default).
struct StaticLease {
  std::string node, interface;  // node form; interface empty = the node's link to the VLAN
  std::optional<packet::MacAddress> mac;
  packet::Ipv4Address address;
  std::string name;
  Where where;
};

struct NetworkUplink {
  std::string netns;         // the stand-in outside; empty = no uplink (or a host uplink)
  bool host = false;         // the veth's far end is in the host's namespace
  std::string interface;     // host uplink: the host interface; empty = the default route's
  packet::IpPrefix address;  // the gateway's end ("up0")
  packet::Ipv4Address peer;  // the outside end, the gateway's default route
  std::string device;        // the outside end's name
  Where where;
  bool present() const { return host || !netns.empty(); }
};

struct NetworkSpec final : NodeSpec {
  std::string switch_name;
  bridge::VlanId vlan = 1;
  NetworkMode mode = NetworkMode::kNat;
  packet::IpPrefix subnet;  // network address / length
  packet::Ipv4Address gateway;
  std::optional<packet::IpPrefix> subnet6;
  std::optional<packet::Ipv6Address> gateway6;
  bool ra = true;  // router advertisements when there is an IPv6 subnet
  std::vector<DhcpRange> ranges;
  std::vector<StaticLease> leases;
  std::chrono::seconds lease_time{3600};
  // dnsmasq pings an address before offering it (3 s without an answer); false = `no-ping`.
  bool ping_check = true;
  std::string domain = "lab";
  std::vector<std::string> forwarders;
  NetworkUplink uplink;
  Where switch_where, vlan_where;
};

// The interface names inside the service namespace.
inline constexpr const char* kNetworkLan = "eth0";
inline constexpr const char* kNetworkUplink = "up0";

// The link of node `lease.node` that reaches the network's VLAN (an access port of it, or a trunk
// whose native VLAN it is, on the network's switch), or null; `several` is set when more than one
// does and the lease names no interface.
const Link* lease_link(const Topology& t, const NetworkSpec& net, const StaticLease& lease,
                       bool* several = nullptr);

// The nftables ruleset (nft syntax) the service namespace loads for the network's mode; empty for
// `open`. Tables: `inet vnet_network` (forward, and input for isolated) and `ip vnet_network_nat`
// (masquerade, nat only).
std::string network_ruleset(const NetworkSpec& net);
// The tables network_ruleset() adds, "family name" each (status, tests).
std::vector<std::string> network_tables(const NetworkSpec& net);

// A host uplink's table in the host's namespace (nft syntax), for network `net` leaving through
// host interface `interface`: forwarding between the uplink veth (net.uplink.device) and
// `interface` only (NAT mode: masquerade to the interface's address, and only connections from
// the lab come back; route mode: both ways for the network's subnet), nothing else to or from the
// veth. `guard` (IF's forwarding was off before vnet turned it on) adds a drop for whatever else
// would now be forwarded from IF, so the host does not become a router for IF's network: frames
// from IF may go to vnet's uplink veths ("vnu*") only.
std::string host_uplink_ruleset(const NetworkSpec& net, const std::string& interface, bool guard);
// Its table, "family name".
std::string host_uplink_table(const NetworkSpec& net);

// The interface of the IPv4 default route with the lowest metric in /proc/net/route's text, or ""
// when there is none.
std::string default_route_interface(std::string_view proc_net_route);

// `down`: for every host uplink the lab recorded (facts.host_uplinks), deletes its table and veth
// in the host's namespace and puts the interface's forwarding back as `up` found it, unless
// another lab's uplink veth (vnu*) is still there (then it says so on `progress`).
Status restore_host_uplinks(const nlohmann::json& state, std::ostream& progress);

// The hosts file dnsmasq serves (one "ADDRESS NAME" per line, dnsmasq appends the domain): every
// declared address of every node of the lab, every network's gateway (under the network's name)
// and every network's static leases, so clients of one network resolve those of another.
std::string network_hosts_file(const Topology& t);

// `vnet lab status`: adds state["networks"][NAME] (what the network recorded: namespace, mode,
// tables, uplink) with "lease_list", the leases in its dnsmasq database (lab/kind_network.cc).
void add_network_status(nlohmann::json& state);

}  // namespace vnet::lab
