#pragma once
// Node interfaces as topology files write them (shared by every kind whose nodes have NICs):
//   interfaces: [{name: eth0, mac: 02:…, ipv4: 10.0.0.1/24 | [..], ipv6: …, addresses: [..]}]
// Names are what the kernel accepts for a network device: 1..15 letters, digits, '-' or '_',
// starting with a letter, and not one of the names every namespace reserves (lo, all, default).

#include <yaml-cpp/yaml.h>

#include <vector>

#include "lab/keys.hh"
#include "lab/topology.hh"

namespace vnet::lab {

class Reader;
class LabRuntime;

const KeyTable& interface_keys();
// The `interfaces` list of node `node`; an absent key gives none. `table` is interface_keys() or
// a kind's extension of it (its own keys are the kind's to read).
std::vector<Interface> parse_interfaces(const YAML::Node& list, const std::string& node, Reader& r,
                                        const KeyTable& table = interface_keys());

// Makes the carrier of link l for a node whose interfaces live in its namespace
// (Topology::netns): a veth pair, the node end named l.a.interface with the planner's MAC, the
// switch end l.device in the dataplane's namespace, up; returns the switch port's backend spec
// ("afpacket:DEV"). A leftover device of that name in the dataplane's namespace is replaced.
Result<std::string> attach_namespace_link(const Node& n, const Link& l, LabRuntime& rt);

}  // namespace vnet::lab
