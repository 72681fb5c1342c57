#pragma once
// Tenants (RFC 7364, docs/tenants.md): the top-level `tenants` key of a lab.
//
//   tenants:
//     - name: red
//       vlans: [10, 11]
//       vnis: {10: 5010}          # VLAN → VNI when stretched; the others are allocated
//       prefixes: [10.1.0.0/16]   # its address space (optional)
//
// RFC 7364 §2–3 asks that tenants be isolated in traffic and in address space: each tenant's
// virtual networks are its own, two tenants may use the same addresses and MACs, and traffic
// crosses from one to another only through a router or gateway the tenant configured. In a lab:
//   - a VLAN belongs to at most one tenant; each of its VLANs is carried as one VNI (0–16777215,
//     RFC 7348 §5) when stretched over an overlay, given or allocated (10000 + VID, or the next
//     free one), never two VLANs on one VNI;
//   - a node interface belongs to the tenant it names, else its node's (`tenant:` on a host or
//     router), else the tenant of the VLAN(s) its link carries; a link carrying VLANs of two
//     tenants, or putting a tenant's interface into another tenant's VLAN (or a VLAN of none),
//     is refused;
//   - only a router has interfaces in two tenants, each naming its tenant, and the subnets it
//     joins must not overlap (a router is one routing table: no VRF or NAT in the lab);
//   - addresses and MACs are unique per tenant (interfaces of no tenant share one space), and a
//     tenant's addresses lie in its prefixes when it declares some.
// The switches already keep VLANs apart (802.1Q, learning keyed by VLAN and MAC); these rules
// make a file that would join tenants outside a declared router an error with file:line.

#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

#include "lab/keys.hh"
#include "lab/topology.hh"

namespace vnet::lab {

class Reader;

constexpr uint32_t kMaxVni = 16777215;      // 24 bits (RFC 7348 §5)
constexpr uint32_t kTenantVniBase = 10000;  // an allocated VNI is 10000 + VID unless taken

// The root table's `tenants` key; the table of one tenant (`$defs` "tenant").
KeySpec tenants_key();
const KeyTable& tenant_keys();
// The `tenant` key of hosts, routers and interfaces, with its line of docs.
KeySpec tenant_ref_key(std::string doc);

// Parses the root's `tenants` value (if any) into topo.tenants: names, VLANs owned once, VNIs
// in range and without collision (allocating those not given), prefixes.
void parse_tenants(const YAML::Node& value, Topology& topo, Reader& r);
// Reads a `tenant:` value (a host's, a router's or an interface's) into `out`.
void parse_tenant_ref(const YAML::Node& value, std::string& out, Reader& r);
// After links are parsed and VLAN subinterfaces expanded: the membership rules above.
void validate_tenants(const Topology& topo, Reader& r);

const Tenant* find_tenant(const Topology& topo, const std::string& name);
// The tenant owning VLAN `vid`, if any.
const Tenant* vlan_tenant(const Topology& topo, bridge::VlanId vid);
// The VNI VLAN `vid` is carried as (a tenant's VLAN), if any.
std::optional<uint32_t> vlan_vni(const Topology& topo, bridge::VlanId vid);
// The tenant of a node interface ("" = none): declared on it, else on its node, else the
// first tenant owning a VLAN its link carries.
std::string interface_tenant(const Topology& topo, const Node& n, const Interface& i);

}  // namespace vnet::lab
