#pragma once
// Topology: the model of a lab file (docs/topology.md), parsed from YAML and validated as a whole.
//
// A lab has switches (802.1Q bridges hosted by one `vnet switch` dataplane), hosts and routers
// (network namespaces), links (node interface ↔ switch port, or switch ↔ switch trunk cable) and
// scenarios (ordered steps with expectations). load_topology() reports every mistake it finds,
// each with file:line and what was expected, rather than stopping at the first.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hh"
#include "bridge/port_config.hh"
#include "packet/address.hh"
#include "vrrp/keepalived_conf.hh"

namespace vnet::lab {

struct Where {
  std::string file;
  int line = 0;  // 1-based
  std::string str() const { return file + ":" + std::to_string(line); }
};

struct Diagnostic {
  Where where;
  std::string message;
  std::string str() const { return where.str() + ": " + message; }
};

struct Interface {
  std::string name;
  std::optional<packet::MacAddress> mac;
  std::vector<packet::IpPrefix> addresses;
  Where where;
};

struct Route {
  packet::IpPrefix to;  // "default" = 0.0.0.0/0 or ::/0
  std::string via;      // gateway address
  Where where;
};

// A router's VRRP daemon: keepalived.conf text (inline or from a file) run by `vnet vrrp` or,
// for comparison, by Debian's keepalived.
struct VrrpSpec {
  std::string config;           // keepalived.conf text
  std::string daemon = "vnet";  // vnet | keepalived
  vrrp::KeepalivedConfig parsed;
  Where where;
};

enum class NodeKind { kSwitch, kHost, kRouter };

struct Node {
  NodeKind kind = NodeKind::kHost;
  std::string name;
  std::vector<Interface> interfaces;
  std::vector<bridge::VlanId> vlans;  // switches
  std::optional<packet::Ipv4Address> gateway;
  std::optional<packet::Ipv6Address> gateway6;
  std::vector<Route> routes;
  std::string nftables;  // ruleset text (routers)
  std::vector<std::string> commands;
  std::vector<uint16_t> listen;  // TCP ports answered by a test service
  std::optional<VrrpSpec> vrrp;  // routers
  Where where;
  const Interface* interface(const std::string& n) const {
    for (auto& i : interfaces) {
      if (i.name == n) return &i;
    }
    return nullptr;
  }
};

struct Endpoint {
  std::string node;
  std::string interface;         // node side
  std::optional<uint32_t> port;  // switch side
};

struct Link {
  Endpoint a, b;  // for node↔switch links, a is the node and b the switch (normalised)
  bool switch_to_switch = false;
  bridge::PortConfig mode;  // switch side (both sides for switch↔switch)
  Where where;
  // Filled by the planner: switch port numbers and the veth name on the switch side.
  uint32_t port_a = 0, port_b = 0;
  std::string veth;
};

struct Step {
  enum class Kind {
    kPing,
    kTcp,
    kExec,
    kLink,
    kWaitUntil,
    kKill,
    kStop,
    kStart,
    kVrrpMaster,
    kFailover
  };
  Kind kind = Kind::kPing;
  // ping: A B; tcp: A B PORT; exec: NODE CMD; link: X Y up|down; kill/stop/start: NODE;
  // vrrp_master: GROUP NODE; failover: GROUP
  std::vector<std::string> args;
  bool ipv6 = false;   // ping6
  std::string expect;  // reach|unreachable, open|closed, exit code, up|down
  int exit_code = 0;
  double within_s = 0;      // wait_until deadline
  std::vector<Step> inner;  // wait_until: the condition (one step)
  std::string text;         // as written, for the report
  Where where;
};

struct Scenario {
  std::string name;
  std::vector<Step> steps;
  Where where;
};

struct Topology {
  std::string name;
  std::string file;
  std::vector<Node> nodes;  // switches, hosts and routers in file order
  std::vector<Link> links;
  std::vector<Scenario> scenarios;

  const Node* node(const std::string& n) const {
    for (auto& x : nodes) {
      if (x.name == n) return &x;
    }
    return nullptr;
  }
  std::vector<const Node*> of_kind(NodeKind k) const;
  // Namespace of a node: "<lab>-<node>"; the dataplane's: "<lab>-sw".
  std::string netns(const std::string& node) const { return name + "-" + node; }
  std::string switch_netns() const { return name + "-vnet"; }
  // An address of a node for probes: first IPv4 (or IPv6) address of any interface.
  std::optional<std::string> address_of(const std::string& node, bool v6) const;
  // VRRP groups (instance or sync group names) → the virtual addresses of their instances.
  std::vector<packet::IpPrefix> group_vips(const std::string& group) const;
  std::vector<std::string> vrrp_routers() const;
};

// Parses and validates. On failure the error message lists every diagnostic, one per line.
Result<Topology> load_topology(const std::string& path);
// Same, from text (tests); `file` names it in diagnostics.
Result<Topology> parse_topology(const std::string& text, const std::string& file);

}  // namespace vnet::lab
