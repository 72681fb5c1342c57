#pragma once
// Topology: the model of a lab file (docs/topology.md), parsed from YAML and validated as a whole.
//
// A lab has nodes of registered kinds (switches: 802.1Q bridges hosted by one `vnet switch`
// dataplane; hosts and routers: network namespaces; more kinds plug in through the node-kind
// registry, lab/node_kind.hh), links (node interface ↔ switch port, or switch ↔ switch trunk cable)
// and scenarios (ordered steps of registered step kinds, lab/step.hh). load_topology() reports
// every mistake it finds, each with file:line:col and what was expected, rather than stopping at
// the first; whatever `up` would fail on (names the kernel refuses, collisions) is found here.
//
// Kind-specific settings live in the node's `spec` (a NodeSpec subclass owned by its kind), and a
// step's typed arguments in its StepSpec: the core model knows only what every kind shares.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hh"
#include "bridge/port_access.hh"
#include "bridge/port_config.hh"
#include "impair/settings.hh"
#include "lab/spanning_tree.hh"
#include "packet/address.hh"

namespace vnet::vrrp {
struct KeepalivedConfig;
}
namespace vnet::lb {
struct LbConfig;
}

namespace vnet::lab {

class NodeKind;
class StepKind;

struct Where {
  std::string file;
  int line = 0;  // 1-based; 0 = unknown
  int col = 0;   // 1-based; 0 = unknown
  // "file:line:col" (or "file:line" without a column).
  std::string str() const;
};

struct Diagnostic {
  Where where;
  std::string message;
  std::string str() const { return where.str() + ": " + message; }
};

struct Interface {
  std::string name;
  std::optional<packet::MacAddress> mac;  // as declared; the planner fills one in otherwise
  std::vector<packet::IpPrefix> addresses;
  std::string tenant;  // as declared ("" = the node's, or implied by its link: lab/tenants.hh)
  Where where;
};

// What a kind keeps about one node (e.g. a switch's VLANs, a host's routes).
struct NodeSpec {
  virtual ~NodeSpec() = default;
};

struct Node {
  std::string name;
  const NodeKind* kind = nullptr;
  std::string host;  // labs across hosts (lab/hosts.hh): as written, or placed by the loader
  std::vector<Interface> interfaces;
  std::shared_ptr<NodeSpec> spec;  // set by the kind's parse; never null after parsing
  std::string tenant;              // as declared ("" = none; lab/tenants.hh)
  Where where;
  // Filled by the planner: the MAC of each interface (declared or derived from the lab, node and
  // interface names, stable across runs and reboots), by interface name.
  std::map<std::string, packet::MacAddress> macs;

  const Interface* interface(const std::string& n) const {
    for (auto& i : interfaces) {
      if (i.name == n) return &i;
    }
    return nullptr;
  }
  template <typename T>
  const T& as() const {
    return static_cast<const T&>(*spec);
  }
  template <typename T>
  T& as() {
    return static_cast<T&>(*spec);
  }
};

struct Endpoint {
  std::string node;
  std::string interface;         // node side
  std::optional<uint32_t> port;  // switch side, as written
};

struct Link {
  Endpoint a, b;  // for node↔switch links, a is the node and b the switch (normalised)
  bool switch_to_switch = false;
  bridge::PortConfig mode;  // switch side (both sides for switch↔switch)
  // Spanning-tree settings of the switch ports at a (switch↔switch only) and b; set only where
  // that switch runs spanning tree.
  StpPort stp_a, stp_b;
  // Impairment declared by the link's `impair` key (lab/link_impair.hh): of the frames a sends
  // toward b, and of those b sends toward a; none when unset.
  std::optional<impair::Settings> impair_ab, impair_ba;
  // Port authentication of the switch port (end b of a node link; lab/port_auth.hh): the
  // methods and the link's own timers (the switch's `auth` fills the others at `up`).
  std::optional<bridge::PortAuthSettings> auth;
  Where auth_where;
  // ARP sender filter of the switch port (end b of a node link; bridge/arp_filter.hh): ARP the
  // node sends claiming one of these addresses is dropped (a DR real server and its VIPs).
  std::vector<packet::Ipv4Address> drop_arp_for;
  Where drop_arp_where;
  Where where;
  // Filled by the planner: switch port numbers and, for node links, the name of the switch-side
  // device in the dataplane's namespace (unique, at most 15 characters).
  uint32_t port_a = 0, port_b = 0;
  std::string device;
  // In a host's share (lab/hosts.hh): a cross-host cable, realised as switch b's port port_b
  // with this backend (a `vxlan:` spec); a is the far switch. Empty otherwise.
  std::string backend;
};

// A step's typed arguments, owned by its kind.
struct StepSpec {
  virtual ~StepSpec() = default;
};

struct Step {
  const StepKind* kind = nullptr;
  std::shared_ptr<const StepSpec> spec;  // null when the step did not parse
  std::string text;                      // as written, for the report
  Where where;
  template <typename T>
  const T& as() const {
    return static_cast<const T&>(*spec);
  }
};

struct Scenario {
  std::string name;
  std::vector<Step> steps;
  Where where;
};

// A capture `up` starts (the `captures` key, lab/captures.hh).
struct LabCapture {
  std::string node;  // a node with `interface`, or a switch with `port`
  std::string interface;
  std::optional<uint32_t> port;
  bool pre = false;                // point: pre (before impairment) or post
  std::string direction = "both";  // in | out | both
  std::string filter;              // BPF; compiled when the file was loaded
  Where where;
};

// A tenant (RFC 7364 §2): its VLANs, the VNI each is carried as when stretched over an overlay,
// and its address space (lab/tenants.hh).
struct TenantVlan {
  bridge::VlanId vid = 0;
  uint32_t vni = 0;  // given in the file, or allocated by the parser
  bool vni_given = false;
  Where where;
};

struct Tenant {
  std::string name;
  std::vector<TenantVlan> vlans;
  std::vector<packet::IpPrefix> prefixes;  // its address space; empty = any
  Where where;
};

// A machine of a lab across hosts (lab/hosts.hh).
struct LabHost {
  std::string name;
  std::string address;  // underlay (IPv4 or IPv6, canonical): where its VXLAN cables end
  bool v6 = false;
  std::string user;  // ssh (Ansible); empty: Ansible's default
  int port = 0;      // ssh; 0: Ansible's default
  Where where;
};

struct Topology {
  std::string name;
  std::vector<LabHost> hosts;  // empty: a lab on one machine
  std::string share;           // the host whose share this is (lab/hosts.hh), else empty
  std::string file;
  std::vector<Node> nodes;  // in file order, kind by kind
  std::vector<Link> links;
  std::vector<Scenario> scenarios;
  std::vector<LabCapture> captures;
  std::string capture_dir;  // the files' directory, relative paths anchored at the lab file's
  std::vector<Tenant> tenants;
  // What `validate` (and `up`) warn about, by position: valid, but likely not what the author
  // wants (an external trunk that lets a host bypass a router, lab/kind_external.cc).
  std::vector<Diagnostic> warnings;

  const Node* node(const std::string& n) const;
  Node* node(const std::string& n);
  bool is_switch(const std::string& n) const;
  std::vector<const Node*> switches() const;
  std::vector<const Node*> of_kind(std::string_view kind) const;
  // Namespace of a node: "<lab>-<node>"; the dataplane's: "<lab>-vnet".
  std::string netns(const std::string& node) const { return name + "-" + node; }
  // In a host's share: "<lab>-vnet-<host>" (shares of several hosts may run on one machine).
  std::string switch_netns() const { return name + "-vnet" + (share.empty() ? "" : "-" + share); }
  // An address of a node for probes: first IPv4 (or IPv6) address of any interface.
  std::optional<std::string> address_of(const std::string& node, bool v6) const;
  // VRRP: the keepalived configuration a node runs, if its kind has one.
  const vrrp::KeepalivedConfig* vrrp_config(const Node& n) const;
  // VRRP groups (instance or sync group names) → the virtual addresses of their instances.
  std::vector<packet::IpPrefix> group_vips(const std::string& group) const;
  std::vector<std::string> vrrp_routers() const;
  // The links of one node (node↔switch links whose node end it is).
  std::vector<const Link*> links_of(const std::string& node) const;
};

struct LoadOptions {
  // Run every router's VRRP with this daemon instead of the file's ("vnet" or "keepalived"), to
  // compare daemons on one topology (`--vrrp-daemon`).
  std::string vrrp_daemon;
};

// Parses, validates and plans. On failure the error message lists every diagnostic, one per line,
// sorted by position.
Result<Topology> load_topology(const std::string& path, const LoadOptions& options = {});
// Same, from text (tests); `file` names it in diagnostics and anchors relative paths.
Result<Topology> parse_topology(const std::string& text, const std::string& file,
                                const LoadOptions& options = {});

// Fills port numbers, switch-side device names and interface MACs (idempotent; load_topology
// already did it).
void plan(Topology& topo);

}  // namespace vnet::lab
