#pragma once
// Orchestrator: brings a validated Topology up as namespaces, veth pairs and one `vnet switch`
// dataplane, and takes it down again.
//
// Everything created is recorded in the lab's state directory (/run/vnet/labs/NAME/state.json,
// or $VNET_STATE_DIR/NAME) *before* it is created, so `down` removes exactly that even after a
// crash or a half-finished `up`. Names derive from the lab's name, so labs coexist:
// namespaces "<lab>-<node>" and "<lab>-vnet" (the dataplane's), veths named in those namespaces.
//
// Ordering of `up`: namespaces → veth pairs (switch end in <lab>-vnet) → dataplane process →
// bridges, VLANs, ports and cables through its console → addresses, routes, forwarding,
// nftables through netlink/libnftables → node commands and test listeners.

#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.hh"
#include "lab/topology.hh"

namespace vnet::lab {

std::string state_root();
std::string state_dir(const std::string& lab);
bool lab_is_up(const std::string& lab);

// Fills port numbers and veth names into the topology's links.
void plan(Topology& topo);

// progress: one line per phase. On failure everything created so far is removed again.
Status lab_up(Topology& topo, const std::string& vnet_binary, std::ostream& progress);
// By lab name. Removes what the state recorded; with a topology also the names it implies.
Status lab_down(const std::string& name, const Topology* topo, std::ostream& progress);
Result<nlohmann::json> lab_status(const std::string& name);
std::vector<std::string> list_labs();
Result<int> lab_exec(const std::string& name, const std::string& node,
                     const std::vector<std::string>& argv);
// The dataplane's console socket of a running lab.
std::string lab_console(const std::string& name);

// Node lifecycle for scenarios (the lab must be up and planned):
//   kill: the node crashes — every process in its namespace gets SIGKILL and its links lose
//         carrier (the switch ends go down); addresses stay, as on a crashed machine;
//   stop: clean shutdown — SIGTERM, wait until the processes are gone;
//   start: links up again, then its services (listeners, commands, VRRP daemon) start.
Status node_kill(const Topology& topo, const std::string& node);
Status node_stop(const Topology& topo, const std::string& node);
Status node_start(const Topology& topo, const std::string& node, const std::string& vnet_binary);

}  // namespace vnet::lab
