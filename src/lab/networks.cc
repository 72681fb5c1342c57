#include "lab/networks.hh"

#include <fmt/format.h>

#include <set>

#include "lab/node_kind.hh"

namespace vnet::lab {

std::string_view to_string(NetworkMode m) {
  switch (m) {
    case NetworkMode::kNat:
      return "nat";
    case NetworkMode::kRoute:
      return "route";
    case NetworkMode::kIsolated:
      return "isolated";
    case NetworkMode::kOpen:
      return "open";
  }
  return "?";
}

const Link* lease_link(const Topology& t, const NetworkSpec& net, const StaticLease& lease,
                       bool* several) {
  const Link* found = nullptr;
  int n = 0;
  for (const Link* l : t.links_of(lease.node)) {
    if (l->b.node != net.switch_name) continue;
    if (!lease.interface.empty() && l->a.interface != lease.interface) continue;
    if (l->mode.pvid() != net.vlan) continue;  // untagged on the VLAN: where DHCP clients are
    if (!found) found = l;
    ++n;
  }
  if (several) *several = n > 1;
  return found;
}

std::string network_ruleset(const NetworkSpec& net) {
  std::string lan = kNetworkLan, up = kNetworkUplink;
  std::string v4 = net.subnet.to_string();
  std::string out;
  switch (net.mode) {
    case NetworkMode::kOpen:
      return "";
    case NetworkMode::kIsolated:
      // libvirt's isolated network: the gateway serves the network, nothing crosses it.
      out += "table inet vnet_network {\n";
      out += "  chain forward {\n    type filter hook forward priority filter; policy drop;\n  }\n";
      out += "  chain input {\n    type filter hook input priority filter; policy drop;\n";
      out += "    iifname \"lo\" accept\n";
      out += "    ct state established,related accept\n";
      out += fmt::format("    iifname \"{}\" udp dport {{ 53, 67 }} accept\n", lan);
      out += fmt::format("    iifname \"{}\" tcp dport 53 accept\n", lan);
      // Neighbour discovery and router solicitations (RFC 4861 §4): IPv6 needs them on-link.
      out += fmt::format(
          "    iifname \"{}\" icmpv6 type {{ nd-neighbor-solicit, nd-neighbor-advert, "
          "nd-router-solicit }} accept\n",
          lan);
      out += fmt::format("    iifname \"{}\" udp dport 547 accept\n", lan);
      out += "  }\n}\n";
      return out;
    case NetworkMode::kNat:
    case NetworkMode::kRoute:
      break;
  }
  bool nat = net.mode == NetworkMode::kNat;
  out += "table inet vnet_network {\n";
  out += "  chain forward {\n    type filter hook forward priority filter; policy drop;\n";
  out += fmt::format("    iifname \"{}\" oifname \"{}\" ip saddr {} accept\n", lan, up, v4);
  if (nat) {
    // RFC 4787 §4: only mappings made from inside let traffic back in.
    out += fmt::format(
        "    iifname \"{}\" oifname \"{}\" ip daddr {} ct state established,related accept\n", up,
        lan, v4);
  } else {
    out += fmt::format("    iifname \"{}\" oifname \"{}\" ip daddr {} accept\n", up, lan, v4);
  }
  out += "  }\n}\n";
  if (nat) {
    out += "table ip vnet_network_nat {\n";
    out += "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n";
    out += fmt::format("    oifname \"{}\" ip saddr {} masquerade\n", up, v4);
    out += "  }\n}\n";
  }
  return out;
}

std::vector<std::string> network_tables(const NetworkSpec& net) {
  switch (net.mode) {
    case NetworkMode::kOpen:
      return {};
    case NetworkMode::kNat:
      return {"inet vnet_network", "ip vnet_network_nat"};
    case NetworkMode::kRoute:
    case NetworkMode::kIsolated:
      return {"inet vnet_network"};
  }
  return {};
}

std::string network_hosts_file(const Topology& t) {
  std::string out;
  std::set<std::string> lines;
  auto add = [&](const std::string& address, const std::string& name) {
    std::string line = address + " " + name + "\n";
    if (lines.insert(line).second) out += line;
  };
  for (const Node& n : t.nodes) {
    for (const Interface& i : n.interfaces) {
      for (const auto& a : i.addresses) add(a.address_string(), n.name);
    }
  }
  for (const Node* n : t.of_kind("network")) {
    for (const StaticLease& l : n->as<NetworkSpec>().leases) {
      if (!l.name.empty()) add(l.address.to_string(), l.name);
    }
  }
  return out;
}

}  // namespace vnet::lab
