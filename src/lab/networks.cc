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

std::string host_uplink_table(const NetworkSpec& net) {
  return "inet vnet_up_" + net.uplink.device;
}

std::string host_uplink_ruleset(const NetworkSpec& net, const std::string& interface, bool guard) {
  const std::string& dev = net.uplink.device;
  bool nat = net.mode == NetworkMode::kNat;
  // What crosses: the transfer network's address (the gateway masquerades to it) in nat mode,
  // the network's own subnet in route mode.
  std::string lab = net.subnet.to_string();
  if (nat) {
    packet::IpPrefix p = net.uplink.address;
    p.v4addr.value &= p.length == 0 ? 0u : ~((1u << (32 - p.length)) - 1);
    lab = p.to_string();
  }
  std::string out = fmt::format("table {} {{\n", host_uplink_table(net));
  out += "  chain forward {\n    type filter hook forward priority filter; policy accept;\n";
  if (net.mode == NetworkMode::kNat || net.mode == NetworkMode::kRoute) {
    out +=
        fmt::format("    iifname \"{}\" oifname \"{}\" ip saddr {} accept\n", dev, interface, lab);
    out += fmt::format("    iifname \"{}\" oifname \"{}\" ip daddr {}{} accept\n", interface, dev,
                       lab, nat ? " ct state established,related" : "");
  }
  out += fmt::format("    iifname \"{}\" drop\n    oifname \"{}\" drop\n", dev, dev);
  if (guard) out += fmt::format("    iifname \"{}\" oifname != \"vnu*\" drop\n", interface);
  out += "  }\n";
  if (nat) {
    out += "  chain postrouting {\n    type nat hook postrouting priority srcnat; policy accept;\n";
    out += fmt::format("    oifname \"{}\" ip saddr {} masquerade\n", interface, lab);
    out += "  }\n";
  }
  out += "}\n";
  return out;
}

std::string default_route_interface(std::string_view text) {
  // Iface Destination Gateway Flags RefCnt Use Metric Mask ... (hex, host byte order)
  std::string best;
  long best_metric = -1;
  size_t pos = text.find('\n');  // the header line
  while (pos != std::string_view::npos && pos + 1 < text.size()) {
    size_t end = text.find('\n', pos + 1);
    std::string_view line = text.substr(
        pos + 1, end == std::string_view::npos ? std::string_view::npos : end - pos - 1);
    pos = end;
    std::vector<std::string_view> f;
    size_t i = 0;
    while (i < line.size()) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      size_t j = i;
      while (j < line.size() && line[j] != ' ' && line[j] != '\t') ++j;
      if (j > i) f.push_back(line.substr(i, j - i));
      i = j;
    }
    if (f.size() < 8 || f[1] != "00000000" || f[7] != "00000000") continue;
    unsigned flags = std::strtoul(std::string(f[3]).c_str(), nullptr, 16);
    if (!(flags & 0x1)) continue;  // RTF_UP
    long metric = std::strtol(std::string(f[6]).c_str(), nullptr, 10);
    if (best_metric < 0 || metric < best_metric) {
      best = std::string(f[0]);
      best_metric = metric;
    }
  }
  return best;
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
