#pragma once
// Orchestrator: brings a validated Topology up as namespaces, links and one `vnet switch`
// dataplane, powers nodes off and on for scenarios, reports status, and takes labs down.
//
// Ownership: everything a lab creates is recorded in its state directory (lab/state.hh) right
// after it exists and before anything could lose track of it; `down` and the cleanup of a failed
// `up` remove exactly what was recorded. A namespace that existed before `up` (another lab's,
// someone else's) makes `up` fail and is never touched, nor are its processes.
//
// Order of `up`: the dataplane's namespace and process → switches (bridges, VLANs) → cables
// between switches → per node: create (namespace) → per link: attach (veth) + switch port →
// configure (addresses, routes, nftables) → start (services) → wait until every service has
// lived through its first second and passed its readiness check. Each phase runs through the
// node-kind registry (lab/node_kind.hh); the dataplane is driven through lab/switch_client.hh.
//
// Interruption: lab/interrupt.hh records SIGINT/SIGTERM; `up` stops between phases and removes
// what it created, in the normal flow (never inside the signal handler).

#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.hh"
#include "lab/runtime.hh"
#include "lab/topology.hh"

namespace vnet::lab {

bool lab_is_up(const std::string& lab);
std::vector<std::string> list_labs();
// The dataplane's console socket of a running lab.
std::string lab_console(const std::string& name);

// Brings the lab up; `progress` gets one line per phase. On failure (or interruption) everything
// this call created is removed again and the error says what failed. The returned runtime stays
// usable for scenarios; `topo` must outlive it.
Result<std::unique_ptr<LabRuntime>> lab_up(const Topology& topo, const std::string& vnet_binary,
                                           std::ostream& progress);
// A runtime for a lab that is already up (state loaded; dataplane connected on first use).
Result<std::unique_ptr<LabRuntime>> lab_open(const Topology& topo, const std::string& vnet_binary);
// By lab name: removes what the state recorded (processes, namespaces), then the state.
Status lab_down(const std::string& name, std::ostream& progress);
Result<nlohmann::json> lab_status(const std::string& name);
Result<int> lab_exec(const std::string& name, const std::string& node,
                     const std::vector<std::string>& argv);

// Node power for scenarios (docs/topology.md "Crash and boot"):
//   kill  = power cut: every process killed and reaped, cables down, runtime state gone;
//   stop  = clean shutdown (SIGTERM, deadline, then SIGKILL), then off as kill;
//   start = boot: declared configuration applied afresh, services started; fails if a service
//           exits within its first second or its readiness check fails.
enum class Power { kKill, kStop, kStart };
Status node_power(LabRuntime& rt, const std::string& node, Power op);

}  // namespace vnet::lab
