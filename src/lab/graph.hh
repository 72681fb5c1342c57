#pragma once
// Graphviz rendering of a topology: each node drawn in its kind's style (switches as boxes,
// hosts as ellipses, routers as hexagons);
// each link labelled with its VLANs and coloured by its (first) VLAN.

#include <string>

#include "lab/topology.hh"

namespace vnet::lab {

std::string to_dot(const Topology& topo);

}  // namespace vnet::lab
