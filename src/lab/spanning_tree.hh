#pragma once
// Spanning tree in a lab: what a topology file says about it (docs/topology.md, "Spanning tree")
// and the rules `validate` applies to it.
//
// A switch runs IEEE 802.1D-2004 RSTP (`stp: rstp`), the same bridge speaking 802.1D-1998 STP
// (`stp: stp`, Force Protocol Version 0, §17.13.4) or nothing (`stp: off`, the default: no BPDUs,
// every port forwarding). Its bridge priority (§17.13.7) and times (§17.13.5, §17.13.6, §17.13.8)
// are optional; what is not written keeps the default of §17.14 Table 17-1, and the times written
// and defaulted together must satisfy 2 × (Forward Delay − 1 s) ≥ Max Age ≥ 2 × (Hello Time + 1 s)
// (§17.14). A link gives the bridge ports at its switch ends a path cost (§17.13.11), a port
// priority (§17.13.10) and, toward a node, AdminEdge (§17.13.1): one value for every end, or a map
// {SWITCH: VALUE} per end.
//
// Loops: a loop of switch links circulates broadcasts for ever unless every switch on it runs
// spanning tree (a switch without it consumes BPDUs, so its neighbours never learn of the loop).
// check_switch_loops() allows loops and parallel links through such switches only, and refuses
// any other loop naming every link of it (file:line) and the switches that run no spanning tree.

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bridge/spanning_tree.hh"
#include "lab/keys.hh"

namespace vnet::lab {

class Reader;
struct Link;
struct Node;
struct Topology;

using bridge::StpMode;  // off, stp, rstp: the dataplane's modes and words

// §17.14 Tables 17-1 and 17-2: ranges (the defaults are stp::BridgeConfig's).
inline constexpr uint32_t kStpMaxBridgePriority = 61440, kStpBridgePriorityStep = 4096;
inline constexpr uint32_t kStpMaxPortPriority = 240, kStpPortPriorityStep = 16;
inline constexpr uint32_t kStpMaxPathCost = 200000000;  // §17.14 Table 17-3, 32-bit costs

// A switch's spanning-tree settings; unset values keep the bridge's defaults.
struct StpBridge {
  StpMode mode = StpMode::kOff;
  std::optional<uint32_t> priority;       // 0–61440, a multiple of 4096
  std::optional<uint32_t> hello_time;     // seconds, 1–2
  std::optional<uint32_t> max_age;        // seconds, 6–40
  std::optional<uint32_t> forward_delay;  // seconds, 4–30
  bool runs() const { return mode != StpMode::kOff; }
};

// One bridge port's settings; unset values keep the bridge's defaults (cost from the link speed,
// priority 128, not an edge port but auto-edge).
struct StpPort {
  std::optional<uint32_t> cost;      // 1–200,000,000
  std::optional<uint32_t> priority;  // 0–240, a multiple of 16
  std::optional<bool> edge;          // AdminEdge
  bool empty() const { return !cost && !priority && !edge; }
};

// The keys a switch and a link add to their tables (stp, stp_priority…; stp_cost, edge…).
std::vector<KeySpec> stp_switch_keys();
std::vector<KeySpec> stp_link_keys();

// The switch map's stp keys (keys already checked).
StpBridge parse_stp_bridge(const YAML::Node& yaml, const std::string& sw, Reader& r);
// The link map's stp keys into link.stp_a/stp_b, for the ends whose switch runs spanning tree
// (link.a/b and switch_to_switch already set; nodes parsed). A node link's switch port is an edge
// port unless `edge: false`.
void parse_stp_link(const YAML::Node& yaml, Link& link, Reader& r);
// Refuses every loop of switch links (parallel links included) through a switch that runs no
// spanning tree: one diagnostic per loop, at the link that closes it.
void check_switch_loops(const Topology& t, Reader& r);

// The switch's settings if it runs spanning tree, else null.
const StpBridge* spanning_tree(const Topology& t, const std::string& node);

// The spanning tree `root` belongs to: root first, then in file order every switch running
// spanning tree that switch links join to it through switches running spanning tree and for
// which `on(switch)` holds (a switch without spanning tree consumes BPDUs; one that is powered
// off sends none, so the switches beyond it elect their own root).
std::vector<std::string> spanning_tree_members(const Topology& t, const std::string& root,
                                               const std::function<bool(const std::string&)>& on);

}  // namespace vnet::lab
