#pragma once
// Graphviz rendering of a topology (`vnet lab graph`), meant to stay readable from two switches
// to a few dozen switches and VLANs.
//
// Layout (DOT, top to bottom), tiers decided from the topology alone by assign_tiers():
//   routers      every node of kind router, on one rank above the switches;
//   switches     by their place in the mesh of switch↔switch links: the switches with the most
//                distinct switch neighbours are the core (the top switch rank); every other
//                switch is ranked by its distance (in switch links) from the core, so a
//                core–distribution–access tree gets three ranks; a switch without switch links
//                goes to the lowest switch rank. With one switch rank it is called "switches";
//                otherwise the top is "core", the lowest "access", ranks between "distribution";
//   hosts        every other node, on the bottom rank.
// Edges run from the upper tier to the lower, so Graphviz keeps the ranks in that order.
//
// Links: one edge per cable (parallel cables are separate edges). A node's VLAN subinterfaces
// (PARENT.VID, modelled as links of their own) are folded into PARENT's cable, whose label then
// shows every VLAN the cable carries. An access link is drawn in its VLAN's colour and labelled
// "VLAN N"; a trunk is one line, labelled "trunk RANGES" (vid_ranges(): "10-20,50"): striped in
// its VLANs' colours when it carries at most kStripedTrunkMax VLANs, dark grey otherwise. When
// three or more trunks carry the same VLAN set, they are left unlabelled and the legend names
// that set once.
//
// Colours: every VLAN of the lab gets its own colour (vlan_colour(): hues spread evenly, in three
// lightness levels beyond 12 VLANs), listed in a legend cluster (VLAN → colour).
//
// Node labels: a node with at most kRouterAddressesListed addresses lists them ("eth0 ADDR");
// one with more (a router, typically) gets one line per physical interface: what its cable
// carries, how many VLAN subinterfaces ride it, and its addresses (theirs included) when at most
// two, else how many. Such a router is drawn as a rounded box instead of its kind's hexagon.
//
// Live state (`vnet lab graph NAME` of a running lab, LiveState): links that are down (a pulled
// cable, a powered-off node) dashed grey; a port that spanning tree blocks (role alternate or
// backup, or discarding while its link is up) marks its end of the edge with a bar ("tee") and the
// edge dashed; the root bridge drawn with a double border; a VRRP master's box bold with the
// instances it is master of. What could not be queried is listed in DOT comments.

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "bridge/port_config.hh"
#include "lab/topology.hh"

namespace vnet::lab {

inline constexpr size_t kStripedTrunkMax = 4;
inline constexpr size_t kRouterAddressesListed = 4;

// A VLAN set in ascending ranges: {10,11,12,20,50,51} → "10-12,20,50-51"; duplicates ignored;
// "" for none. Two consecutive VIDs are written as a range too.
std::string vid_ranges(std::vector<bridge::VlanId> vids);

// The colour ("#rrggbb") of the index-th of `count` VLANs of a lab (VLANs numbered in ascending
// VID order). Up to kSingleLightnessMax VLANs: hues spread evenly round the wheel (from blue), one
// lightness. More: ceil(count / 3) hues spread evenly, each in three lightness levels (medium,
// dark, light); VLAN i has hue i mod hues and level i div hues, so consecutive VLANs differ in
// hue and no two VLANs share a colour. Deterministic.
inline constexpr size_t kSingleLightnessMax = 12;
std::string vlan_colour(size_t index, size_t count);

struct Tiers {
  struct Rank {
    std::string name;                // "routers", "core", "distribution", "access", "switches",
                                     // "hosts"
    std::vector<std::string> nodes;  // in file order
  };
  std::vector<Rank> ranks;  // top to bottom; empty ranks left out
  // The rank's name of a node ("" when unknown).
  std::string tier_of(const std::string& node) const;
  // Index into ranks (ranks.size() when unknown).
  size_t rank_of(const std::string& node) const;
};
Tiers assign_tiers(const Topology& topo);

// What a running lab looks like now; every part is best effort.
struct LiveState {
  std::set<size_t> links_down;  // indices into Topology::links
  // Switch → its ports spanning tree keeps from forwarding.
  std::map<std::string, std::set<uint32_t>> blocked;
  std::set<std::string> root_bridges;
  // Router → the VRRP instances whose every virtual address it holds.
  std::map<std::string, std::vector<std::string>> vrrp_master;
  std::set<std::string> powered_off;
  std::vector<std::string> notes;  // what could not be queried (drawn without it)
};

// DOT text; `live` adds the live state.
std::string to_dot(const Topology& topo, const LiveState* live = nullptr);

// Queries the running lab `topo.name`: its state (powered-off nodes), each switch's `port/allprint`
// (a port administratively down or inactive = its cable is down) and `stp/show` (root bridge,
// blocked ports), and each VRRP router's addresses. A query that fails is noted and skipped.
LiveState query_live_state(const Topology& topo);

}  // namespace vnet::lab
