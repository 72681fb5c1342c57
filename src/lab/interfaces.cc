#include "lab/interfaces.hh"

#include <set>

#include "base/parse.hh"
#include "lab/reader.hh"
#include "lab/tenants.hh"

namespace vnet::lab {

const KeyTable& interface_keys() {
  static const KeyTable t{
      "interface",
      {
          {"name", schema::ref("interfaceName"),
           "device name inside the node (eth0); NAME.VID (eth0.10) is a VLAN subinterface riding "
           "NAME's trunk",
           true},
          {"mac", schema::ref("mac"),
           "unicast MAC; without one the lab derives a stable one from the lab, node and "
           "interface names"},
          {"ipv4", schema::ref("prefixes"), "IPv4 address(es) with prefix length"},
          {"ipv6", schema::ref("prefixes"), "IPv6 address(es) with prefix length"},
          {"addresses", schema::list(schema::ref("prefix")), "addresses of either family"},
          tenant_ref_key("the interface's tenant (docs/tenants.md): a router's interfaces in "
                         "several tenants each name theirs; without it, the node's, else the "
                         "tenant of the VLAN its link carries"),
      }};
  return t;
}

namespace {

const std::set<std::string> kReserved = {"lo", "all", "default"};

Interface parse_one(const YAML::Node& n, const std::string& node, Reader& r,
                    const KeyTable& table) {
  Interface i;
  i.where = r.at(n);
  if (!r.check_keys(n, table)) return i;
  if (n["name"]) {
    // PARENT.VID: a VLAN subinterface riding PARENT's trunk (the topology expands it).
    auto full = r.str(n["name"], "interface name");
    auto dot = full ? full->find('.') : std::string::npos;
    if (full && dot != std::string::npos) {
      auto vid = parse_int(std::string_view(*full).substr(dot + 1), 1, 4094);
      if (!vid || full->size() > 15 || !Reader::valid_name(full->substr(0, dot), 15)) {
        r.error(n["name"], fmt::format("interface name '{}': expected NAME or NAME.VID (a VLAN "
                                       "subinterface, VID 1..4094), at most 15 characters",
                                       *full));
      } else {
        i.name = *full;
      }
    } else if (auto s = r.name(n["name"], "interface name", 15)) {
      i.name = *s;
      if (kReserved.count(i.name))
        r.error(n["name"], fmt::format("interface name '{}' is reserved in every network "
                                       "namespace (lo, all, default): choose another",
                                       i.name));
    }
  }
  if (n["mac"]) {
    if (auto s = r.str(n["mac"], "mac")) {
      auto m = packet::MacAddress::parse(*s);
      if (!m) {
        r.error(n["mac"], m.error().message);
      } else if (m->is_multicast() || m->is_zero()) {
        r.error(n["mac"], fmt::format("MAC {} is not a unicast address", *s));
      } else {
        i.mac = *m;
      }
    }
  }
  auto add = [&](const YAML::Node& a, std::optional<bool> want_v6) {
    auto s = r.str(a, "address");
    if (!s) return;
    auto p = packet::IpPrefix::parse(*s);
    if (!p) return r.error(a, p.error().message);
    if (want_v6 && p->v6 != *want_v6)
      return r.error(a, fmt::format("'{}' is not an IPv{} address", *s, *want_v6 ? 6 : 4));
    i.addresses.push_back(*p);
  };
  for (const char* key : {"ipv4", "ipv6"}) {
    auto v = n[key];
    if (!v) continue;
    bool v6 = std::string(key) == "ipv6";
    if (v.IsSequence()) {
      for (auto a : v) add(a, v6);
    } else {
      add(v, v6);
    }
  }
  for (auto a : r.list(n["addresses"], "addresses")) add(a, std::nullopt);
  parse_tenant_ref(n["tenant"], i.tenant, r);
  (void)node;
  return i;
}

}  // namespace

std::vector<Interface> parse_interfaces(const YAML::Node& list, const std::string& node, Reader& r,
                                        const KeyTable& table) {
  std::vector<Interface> out;
  for (auto i : r.list(list, "interfaces")) out.push_back(parse_one(i, node, r, table));
  std::set<std::string> seen;
  for (auto& i : out) {
    if (!i.name.empty() && !seen.insert(i.name).second)
      r.error(i.where, fmt::format("node {}: interface {} is declared twice", node, i.name));
  }
  return out;
}

}  // namespace vnet::lab
