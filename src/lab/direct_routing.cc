#include "lab/direct_routing.hh"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "lab/node_kind.hh"
#include "lb/config.hh"

namespace vnet::lab {
namespace {

// The IPv4 VIPs of a virtual server: its address, or its group's (ranges expanded).
std::vector<packet::Ipv4Address> vips_of(const lb::VirtualServerConfig& vs,
                                         const lb::LbConfig& conf) {
  std::vector<packet::Ipv4Address> out;
  if (vs.key.kind == lb::ServiceKey::kAddress) {
    if (!vs.key.addr.v6) out.push_back(vs.key.addr.v4);
    return out;
  }
  if (vs.key.kind != lb::ServiceKey::kGroup) return out;
  for (const auto& g : conf.groups) {
    if (g.name != vs.key.group) continue;
    for (const auto& m : g.members) {
      if (m.fwmark || m.first.v6) continue;
      uint32_t first = m.first.v4.value;
      uint32_t last = m.range_end ? (first & ~0xffu) | (m.range_end & 0xffu) : first;
      for (uint32_t a = first; a <= last && a >= first; ++a) out.push_back({a});
    }
  }
  return out;
}

// The node and interface holding `addr` on an interface of the lab.
std::pair<const Node*, const Interface*> holder(const Topology& t, packet::Ipv4Address addr) {
  for (const auto& n : t.nodes) {
    for (const auto& i : n.interfaces) {
      for (const auto& a : i.addresses) {
        if (!a.v6 && a.v4addr == addr) return {&n, &i};
      }
    }
  }
  return {nullptr, nullptr};
}

}  // namespace

void check_direct_routing_arp(const Topology& topo, Reader& r) {
  std::set<std::pair<std::string, uint32_t>> warned;  // (real server node, VIP)
  for (const auto& director : topo.nodes) {
    const lb::LbConfig* conf = director.kind->lb(director);
    if (!conf) continue;
    for (const auto& vs : conf->services) {
      if (vs.forwarding != lb::Forwarding::kDr) continue;
      for (packet::Ipv4Address vip : vips_of(vs, *conf)) {
        for (const auto& real : vs.reals) {
          if (real.addr.v6) continue;
          auto [node, iface] = holder(topo, real.addr.v4);
          if (!node || node == &director) continue;
          std::string held;
          for (const auto& p : node->kind->loopback(*node)) {
            if (!p.v6 && p.v4addr == vip)
              held = "lo (loopback, line " +
                     std::to_string(node->kind->loopback_where(*node).line) + ")";
          }
          for (const auto& i : node->interfaces) {
            for (const auto& a : i.addresses) {
              if (held.empty() && !a.v6 && a.v4addr == vip) held = i.name;
            }
          }
          if (held.empty()) continue;  // it cannot answer for an address it does not hold
          const Link* link = nullptr;
          for (const Link* l : topo.links_of(node->name)) {
            if (l->a.interface == iface->name) link = l;
          }
          if (!link) continue;  // an unlinked interface is an error of its own
          const auto& filter = link->drop_arp_for;
          if (std::find(filter.begin(), filter.end(), vip) != filter.end()) continue;
          if (!warned.insert({node->name, vip.value}).second) continue;
          r.warn(link->where,
                 fmt::format(
                     "{} is a real server of {}'s lb_kind DR virtual server {} ({}) and "
                     "holds {} on {}: it answers ARP for it and can take the VIP's "
                     "traffic from the director; add 'drop_arp_for: [{}]' to this link "
                     "({}:{}–{}) so the switch drops its ARP for the VIP (what arp_ignore=1 and "
                     "arp_announce=2 do on a real host)",
                     node->name, director.name, vs.key.str(), vs.where.str(), vip.to_string(), held,
                     vip.to_string(), node->name, iface->name, link->b.node));
        }
      }
    }
  }
}

}  // namespace vnet::lab
