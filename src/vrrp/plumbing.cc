#include "vrrp/plumbing.hh"

#include <fmt/format.h>

namespace vnet::vrrp {

packet::MacAddress virtual_mac(uint8_t vrid, bool ipv6) {
  return packet::MacAddress{
      {0x00, 0x00, 0x5e, 0x00, static_cast<uint8_t>(ipv6 ? 0x02 : 0x01), vrid}};
}

HostLayout host_layout(const InstanceConfig& c) {
  HostLayout l;
  l.advert_interface = c.interface;
  l.announce_interface = c.interface;
  if (c.use_vmac) {
    VmacOptions v;
    v.name = c.vmac_name.empty() ? fmt::format("vrrp.{}", c.vrid) : c.vmac_name;
    v.lower = c.interface;
    v.mac = virtual_mac(static_cast<uint8_t>(c.vrid), c.ipv6);
    v.ipv6 = c.ipv6;
    l.announce_interface = v.name;
    // A private-mode macvlan takes multicast frames whose source is its own MAC (the peer's
    // adverts, from the same VMAC) away from the lower device: receive them there too.
    if (!c.ipv6 && !c.vmac_xmit_base && c.unicast_peers.empty()) l.advert_interface = v.name;
    l.vmac = std::move(v);
  }
  for (auto* list : {&c.vips, &c.vips_excluded}) {
    for (auto& v : *list) {
      VipPlacement p{v.prefix, v.dev, v.label};
      if (p.dev.empty()) p.dev = l.vmac ? l.vmac->name : c.interface;
      if (p.label.rfind(p.dev, 0) != 0) p.label.clear();
      l.vips.push_back(std::move(p));
    }
  }
  return l;
}

PortOptions port_options(const InstanceConfig& c, const HostLayout& layout, ChecksumMode checksum) {
  PortOptions o;
  o.instance = c.name;
  o.interface = c.interface;
  o.advert_interface = layout.advert_interface;
  o.ipv6 = c.ipv6;
  o.checksum = checksum;
  o.unicast_src = c.unicast_src;
  o.unicast_peers = c.unicast_peers;
  for (auto& v : layout.vips) o.vips.push_back(v.prefix);
  return o;
}

std::string no_accept_ruleset(const NoAcceptSet& vips) {
  auto join = [](const auto& list) {
    std::string out;
    for (auto& a : list) out += (out.empty() ? "" : ", ") + a.to_string();
    return out;
  };
  std::string rules = "table inet vnet_vrrp\ndelete table inet vnet_vrrp\n";
  if (vips.empty()) return rules;
  rules +=
      "table inet vnet_vrrp {\n  chain input {\n"
      "    type filter hook input priority filter; policy accept;\n"
      "    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n";
  if (!vips.v4.empty()) rules += "    ip daddr { " + join(vips.v4) + " } drop\n";
  if (!vips.v6.empty()) rules += "    ip6 daddr { " + join(vips.v6) + " } drop\n";
  rules += "  }\n}\n";
  return rules;
}

}  // namespace vnet::vrrp
