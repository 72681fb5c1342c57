#include "lab/tenants.hh"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "base/parse.hh"
#include "lab/node_kind.hh"
#include "lab/reader.hh"

namespace vnet::lab {

using bridge::VlanId;
using nlohmann::json;

namespace {

constexpr const char* kTenantName = "^[A-Za-z][A-Za-z0-9_-]{0,23}$";

std::string names_of(const Topology& t) {
  std::string out;
  for (auto& x : t.tenants) out += (out.empty() ? "" : ", ") + x.name;
  return out.empty() ? "none declared" : out;
}

std::string label(const std::string& tenant) {
  return tenant.empty() ? "no tenant" : "tenant " + tenant;
}

const Link* link_of(const Topology& t, const std::string& node, const std::string& iface) {
  for (auto& l : t.links) {
    if (!l.switch_to_switch && l.a.node == node && l.a.interface == iface) return &l;
  }
  return nullptr;
}

// The VNI of a `vnis` entry, or nullopt after a diagnostic.
std::optional<uint32_t> parse_vni(const YAML::Node& n, Reader& r) {
  auto s = r.str(n, "VNI");
  if (!s) return std::nullopt;
  auto v = parse_int(*s, 0, kMaxVni);
  if (v) return static_cast<uint32_t>(*v);
  if (auto any = parse_int(*s, INT64_MIN, INT64_MAX)) {
    r.error(n, fmt::format("VNI {} out of range, expected 0..{} (24 bits, RFC 7348 §5)", *any,
                           kMaxVni));
  } else {
    r.error(n, fmt::format("'{}' is not a VNI: expected a number from 0 to {}", *s, kMaxVni));
  }
  return std::nullopt;
}

void parse_one(const YAML::Node& n, Topology& t, Reader& r,
               std::map<VlanId, std::pair<std::string, int>>& owners) {
  Tenant tn;
  tn.where = r.at(n);
  if (!r.check_keys(n, tenant_keys()) || !n["name"]) return;
  auto name = r.name(n["name"], "tenant name", 24);
  if (!name) return;
  tn.name = *name;
  if (const Tenant* other = find_tenant(t, tn.name)) {
    r.error(n["name"], fmt::format("tenant name '{}' is used twice (first at line {})", tn.name,
                                   other->where.line));
    return;
  }
  for (auto v : r.list(n["vlans"], fmt::format("tenant {} vlans", tn.name))) {
    auto vid = r.vid(v, fmt::format("tenant {}", tn.name));
    if (!vid) continue;
    auto [it, fresh] = owners.emplace(*vid, std::pair{tn.name, r.at(v).line});
    if (!fresh) {
      r.error(v, fmt::format("VLAN {} belongs to {} already (line {}): a VLAN belongs to at most "
                             "one tenant",
                             *vid, label(it->second.first), it->second.second));
      continue;
    }
    tn.vlans.push_back(TenantVlan{*vid, 0, false, r.at(v)});
  }
  if (auto m = n["vnis"]) {
    if (!m.IsMap()) {
      r.error(m,
              fmt::format("tenant {} vnis: expected a map VLAN: VNI, like {{10: 5010}}", tn.name));
    } else {
      for (auto it = m.begin(); it != m.end(); ++it) {
        auto vid = r.vid(it->first, fmt::format("tenant {} vnis", tn.name));
        auto vni = parse_vni(it->second, r);
        if (!vid || !vni) continue;
        auto v = std::find_if(tn.vlans.begin(), tn.vlans.end(),
                              [&](const TenantVlan& x) { return x.vid == *vid; });
        if (v == tn.vlans.end()) {
          r.error(it->first, fmt::format("tenant {}: VLAN {} has a VNI but is not one of its vlans",
                                         tn.name, *vid));
          continue;
        }
        v->vni = *vni;
        v->vni_given = true;
        v->where = r.at(it->second);
      }
    }
  }
  auto add_prefix = [&](const YAML::Node& p) {
    auto s = r.str(p, "tenant prefix");
    if (!s) return;
    auto pfx = packet::IpPrefix::parse(*s);
    if (!pfx) return r.error(p, pfx.error().message);
    tn.prefixes.push_back(*pfx);
  };
  if (auto p = n["prefixes"]) {
    if (p.IsSequence()) {
      for (auto x : p) add_prefix(x);
    } else {
      add_prefix(p);
    }
  }
  t.tenants.push_back(std::move(tn));
}

// Given VNIs first (a collision is an error at the second), then 10000 + VID or the next free
// one for the others, in file order.
void assign_vnis(Topology& t, Reader& r) {
  std::map<uint32_t, std::string> used;  // VNI → "VLAN 10 of tenant red (line 6)"
  for (auto& tn : t.tenants) {
    for (auto& v : tn.vlans) {
      if (!v.vni_given) continue;
      std::string what =
          fmt::format("VLAN {} of tenant {} (line {})", v.vid, tn.name, v.where.line);
      auto [it, fresh] = used.emplace(v.vni, what);
      if (!fresh)
        r.error(v.where,
                fmt::format("VNI {} of VLAN {} (tenant {}) collides with {}: a VNI carries "
                            "one VLAN",
                            v.vni, v.vid, tn.name, it->second));
    }
  }
  for (auto& tn : t.tenants) {
    for (auto& v : tn.vlans) {
      if (v.vni_given) continue;
      uint32_t vni = kTenantVniBase + v.vid;
      while (used.count(vni)) ++vni;  // at most as many steps as VLANs declared
      v.vni = vni;
      used.emplace(vni, fmt::format("VLAN {} of tenant {} (allocated)", v.vid, tn.name));
    }
  }
}

// Two interface prefixes overlap when the shorter one's network holds the other's address.
bool overlap(const packet::IpPrefix& a, const packet::IpPrefix& b) {
  if (a.v6 != b.v6) return false;
  return a.length <= b.length ? a.contains(b) : b.contains(a);
}

void check_link(const Topology& t, const Link& l, Reader& r) {
  const Node* n = t.node(l.a.node);
  const Interface* i = n ? n->interface(l.a.interface) : nullptr;
  if (!i) return;
  std::string declared = !i->tenant.empty() ? i->tenant : n->tenant;
  std::string where = fmt::format("{}:{}", n->name, i->name);
  // Each VLAN the link carries, with its tenant ("" = none).
  std::vector<std::pair<VlanId, std::string>> carried;
  for (VlanId v : l.mode.members()) {
    const Tenant* owner = vlan_tenant(t, v);
    carried.emplace_back(v, owner ? owner->name : "");
  }
  for (auto& [v, owner] : carried) {
    auto& [v0, owner0] = carried.front();
    if (owner != owner0) {
      return r.error(l.where, fmt::format("the link of {} carries VLAN {} of {} and VLAN {} of "
                                          "{}: a node interface belongs to one tenant (a router "
                                          "joins tenants with an interface in each)",
                                          where, v0, label(owner0), v, label(owner)));
    }
  }
  if (carried.empty()) return;
  auto& [vid, owner] = carried.front();
  if (!declared.empty()) {
    if (!find_tenant(t, declared) || owner == declared) return;
    if (owner.empty()) {
      return r.error(l.where, fmt::format("{} is in tenant {} but its link puts it into VLAN {}, "
                                          "which belongs to no tenant: add {} to {}'s vlans",
                                          where, declared, vid, vid, declared));
    }
    return r.error(l.where,
                   fmt::format("{} is in tenant {} but its link puts it into VLAN {} of tenant {}: "
                               "tenants meet only through a router with an interface in each",
                               where, declared, vid, owner));
  }
  if (!owner.empty() && n->kind->joins_tenants()) {
    r.error(l.where, fmt::format("{} {}: interface {} is in VLAN {} of tenant {}: name the tenant "
                                 "of each router interface (tenant: {}), so that where tenants "
                                 "meet is written in the file",
                                 n->kind->name(), n->name, i->name, vid, owner, owner));
  }
}

void check_node(const Topology& t, const Node& n, Reader& r) {
  if (!n.tenant.empty() && !find_tenant(t, n.tenant))
    r.error(n.where, fmt::format("{} {}: unknown tenant '{}' (tenants: {})", n.kind->name(), n.name,
                                 n.tenant, names_of(t)));
  std::vector<std::string> of(n.interfaces.size());
  std::map<std::string, std::string> joined;  // tenant → its first interface
  for (size_t k = 0; k < n.interfaces.size(); ++k) {
    const Interface& i = n.interfaces[k];
    if (!i.tenant.empty() && !find_tenant(t, i.tenant)) {
      r.error(i.where, fmt::format("interface {}:{}: unknown tenant '{}' (tenants: {})", n.name,
                                   i.name, i.tenant, names_of(t)));
    }
    of[k] = interface_tenant(t, n, i);
    if (!of[k].empty()) joined.emplace(of[k], i.name);
    const Tenant* tn = find_tenant(t, of[k]);
    if (!tn || tn->prefixes.empty()) continue;
    for (auto& a : i.addresses) {
      bool inside = false;
      for (auto& p : tn->prefixes) inside |= p.contains(a);
      if (inside) continue;
      std::string space;
      for (auto& p : tn->prefixes) space += (space.empty() ? "" : ", ") + p.to_string();
      r.error(i.where, fmt::format("{}:{}: address {} is outside tenant {}'s address space ({})",
                                   n.name, i.name, a.to_string(), tn->name, space));
    }
  }
  if (joined.size() > 1 && !n.kind->joins_tenants()) {
    auto a = joined.begin(), b = std::next(a);
    r.error(n.where, fmt::format("{} {} has interfaces in tenant {} ({}) and tenant {} ({}): only "
                                 "a router joins tenants",
                                 n.kind->name(), n.name, a->first, a->second, b->first, b->second));
  }
  if (!n.kind->joins_tenants()) return;
  // A router is one routing table: subnets of different tenants on it must not overlap.
  for (size_t x = 0; x < n.interfaces.size(); ++x) {
    for (size_t y = x + 1; y < n.interfaces.size(); ++y) {
      if (of[x] == of[y]) continue;
      for (auto& a : n.interfaces[x].addresses) {
        for (auto& b : n.interfaces[y].addresses) {
          if (!overlap(a, b)) continue;
          r.error(n.interfaces[y].where,
                  fmt::format("{} {}: {} {} ({}) overlaps {} {} ({}): a router joins tenants "
                              "only where their address spaces do not overlap (one routing "
                              "table, no VRF or NAT)",
                              n.kind->name(), n.name, n.interfaces[y].name, b.to_string(),
                              label(of[y]), n.interfaces[x].name, a.to_string(), label(of[x])));
        }
      }
    }
  }
}

}  // namespace

KeySpec tenants_key() {
  return {"tenants", schema::list(schema::ref("tenant")),
          "tenants (RFC 7364): their VLANs, VNIs and address spaces, kept apart "
          "(docs/tenants.md)"};
}

const KeyTable& tenant_keys() {
  static const KeyTable t{
      "tenant",
      {
          {"name", schema::pattern(kTenantName), "1–24 letters, digits, - or _", true},
          {"vlans", schema::ref("vids"), "its VLANs; a VLAN belongs to at most one tenant", true},
          {"vnis",
           {{"type", "object"},
            {"patternProperties", {{"^[0-9]+$", schema::integer(0, kMaxVni)}}},
            {"additionalProperties", false}},
           "VLAN: VNI it is carried as when stretched over VXLAN (0–16777215, unique in the "
           "lab); a VLAN without one gets 10000 + VID, or the next free VNI"},
          {"prefixes", schema::ref("prefixes"),
           "its address space: every address of its interfaces lies in one of these"},
      }};
  return t;
}

KeySpec tenant_ref_key(std::string doc) {
  return {"tenant", schema::pattern(kTenantName), std::move(doc)};
}

void parse_tenants(const YAML::Node& value, Topology& t, Reader& r) {
  std::map<VlanId, std::pair<std::string, int>> owners;
  for (auto n : r.list(value, "tenants")) parse_one(n, t, r, owners);
  assign_vnis(t, r);
}

void parse_tenant_ref(const YAML::Node& value, std::string& out, Reader& r) {
  if (!value) return;
  if (auto s = r.name(value, "tenant", 24)) out = *s;
}

void validate_tenants(const Topology& t, Reader& r) {
  for (auto& l : t.links) {
    if (!l.switch_to_switch) check_link(t, l, r);
  }
  for (auto& n : t.nodes) {
    if (!n.kind->is_switch()) check_node(t, n, r);
  }
}

const Tenant* find_tenant(const Topology& t, const std::string& name) {
  for (auto& x : t.tenants) {
    if (x.name == name) return &x;
  }
  return nullptr;
}

const Tenant* vlan_tenant(const Topology& t, VlanId vid) {
  for (auto& x : t.tenants) {
    for (auto& v : x.vlans) {
      if (v.vid == vid) return &x;
    }
  }
  return nullptr;
}

std::optional<uint32_t> vlan_vni(const Topology& t, VlanId vid) {
  for (auto& x : t.tenants) {
    for (auto& v : x.vlans) {
      if (v.vid == vid) return v.vni;
    }
  }
  return std::nullopt;
}

std::string interface_tenant(const Topology& t, const Node& n, const Interface& i) {
  if (!i.tenant.empty()) return i.tenant;
  if (!n.tenant.empty()) return n.tenant;
  const Link* l = link_of(t, n.name, i.name);
  if (!l) return "";
  for (VlanId v : l->mode.members()) {
    if (const Tenant* owner = vlan_tenant(t, v)) return owner->name;
  }
  return "";
}

}  // namespace vnet::lab
