#pragma once
// Hosts: a lab split over several machines (docs/multihost.md).
//
//   machines:                                     # (`hosts:` are the lab's host nodes)
//     - {name: h1, address: 192.0.2.1}            # the underlay address VXLAN cables use
//     - {name: h2, address: 192.0.2.2, user: vnet, port: 2222}   # ssh user/port (Ansible)
//   switches:
//     - {name: core, machine: h1}                 # placed by hand, or …
//     - {name: acc1}                              # … by place_nodes() below
//
// In the code (and on the command line, `--host`) a machine is a "host" (LabHost, Node::host).
//
// Placement (deterministic, from the file alone): a node keeps its `machine`; an unplaced switch
// goes where most of its placed non-switch neighbours are (ties: the host listed first), else to
// the host with the fewest nodes so far (ties: listed first), switches in file order; an unplaced
// node goes with the switch of its first link. A node and the switch it is linked to must be on
// one host (a veth joins them); only a link between two switches may cross hosts.
//
// Cross-host cables: each switch↔switch link whose ends are on different hosts becomes a VXLAN
// cable (overlay/, io/vxlan.cc): on each side a `vxlan:` switch port on that host's underlay
// address. Cable k (1-based, in link order among the cross-host links) uses UDP port 4789 + k − 1
// on both hosts (one vxlan port per address and UDP port) and VNI k·4096 + VID for each VLAN the
// trunk carries (collision-free up to 4095 cables), with the other host as the static head-end
// flood target of every VNI: no multicast in the underlay. A native VLAN crosses as its own VNI
// (both ends become plain trunks of the link's VLANs).
//
// A host's share (share_of) is the lab as that host brings it up with `vnet lab up FILE --host
// NAME`: its nodes, the links among them, and one port with a vxlan backend per cross-host cable
// of its switches. The lab keeps its name (so derived MACs and node namespaces "<lab>-<node>"
// are those of the one-host lab; nodes are on one host each, so they never collide) but its
// dataplane's namespace is "<lab>-vnet-<host>", so several hosts' shares can run on one machine.

#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

#include "base/result.hh"
#include "lab/keys.hh"
#include "lab/topology.hh"

namespace vnet::lab {

class Reader;
class NodeKind;

// The root table's `machines` key and the table of one machine ($defs "machine").
KeySpec hosts_key();
const KeyTable& host_keys();
// A node kind's table plus the `machine` key every node may have.
KeyTable node_keys(const NodeKind& kind);

// Parses the root's `machines` value into topo.hosts (before the nodes, whose `machine` refers
// to it).
void parse_hosts(const YAML::Node& value, Topology& topo, Reader& r);
// A node's `machine` key (if any) into node.host.
void parse_node_host(const YAML::Node& yaml, Node& node, Reader& r);
// After the links: places every node and refuses node links across hosts. No-op without hosts.
void place_nodes(Topology& topo, Reader& r);

struct CrossCable {
  size_t link = 0;  // index into Topology::links
  int number = 0;   // 1-based
  uint16_t udp_port = 0;
  std::map<bridge::VlanId, uint32_t> vnis;
};
constexpr uint16_t kCableUdpPortBase = 4789;
// The cross-host cables of a placed topology, in link order.
std::vector<CrossCable> cross_cables(const Topology& topo);

const LabHost* find_host(const Topology& topo, const std::string& name);

// The share of `host` (see above). `underlay_netns` names the network namespace holding the
// host's underlay address (vxlan `netns=`; empty: the dataplane's own).
Result<Topology> share_of(const Topology& topo, const std::string& host,
                          const std::string& underlay_netns = "");

// A path naming the network namespace this process runs in that outlives it: /proc/1/ns/net
// when it is the initial one, else the /run/netns entry bound to it (`ip netns exec`).
Result<std::string> own_netns_path();

// `vnet lab plan`: the split, one line per host, node and cable; and as JSON.
std::string plan_text(const Topology& topo);
nlohmann::json plan_json(const Topology& topo);

// An Ansible INI inventory of the file's hosts (group "vnet_lab"; ansible_host, ansible_port,
// ansible_user from the file; vnet_binary for every host).
std::string ansible_inventory(const Topology& topo, const std::string& vnet_binary);

}  // namespace vnet::lab
