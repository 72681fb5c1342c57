#pragma once
// LabRuntime: what node kinds and scenario steps may do to a running lab. The orchestrator
// implements it over the lab's state directory, its namespaces and its dataplane; kinds never
// touch the state file, spawn processes or talk to the dataplane except through it, so every
// namespace and process a lab creates is recorded before anyone can lose track of it, and `down`
// removes exactly that.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/result.hh"
#include "io/netlink.hh"
#include "lab/switch_client.hh"
#include "lab/topology.hh"

namespace vnet::lab {

// A process a node runs: a test listener, a user command, a VRRP daemon.
struct ServiceSpec {
  std::vector<std::string> argv;
  std::string what;      // "pc1 listener", "r1 vrrp (vnet)", "pc1: CMD" — status and errors
  std::string log_file;  // stdout and stderr appended here
  // A daemon must keep running: any exit in its first second fails the boot. A one-shot command
  // may finish; only a failing exit (non-zero status or a signal) in its first second fails.
  bool daemon = true;
  // Readiness, polled (every few ms, up to ready_within) once the process is up; empty = none.
  std::function<Status()> ready;
  std::chrono::milliseconds ready_within{5000};  // a VM's boot takes longer (lab/kind_vm.cc)
  int fd3 = -1;  // a descriptor the process gets as its fd 3 (an uplink's connected socket)
};

class LabRuntime {
 public:
  virtual ~LabRuntime() = default;
  virtual const Topology& topo() const = 0;
  virtual const std::string& vnet_binary() const = 0;
  virtual const std::string& state_dir() const = 0;

  // The lab's dataplane (connected on first use).
  virtual Result<SwitchClient*> dataplane() = 0;
  // A netlink route socket inside namespace ns (cached until the namespace is destroyed).
  virtual Result<io::Netlink*> netlink(const std::string& ns) = 0;

  // Creates namespace ns (refused, and left alone, if it exists) and records it in the state.
  virtual Status create_netns(const std::string& ns) = 0;
  // Removes a namespace this lab recorded (its interfaces go with it). Others are refused.
  virtual Status destroy_netns(const std::string& ns) = 0;

  // Gives node n a view of its own (lab/node_view.hh: hostname, /etc files, private /run, /tmp,
  // /var/lib) inside namespace ns and records its holder process; every later process of n
  // (services, `exec` steps, `vnet lab exec`) enters it. `dns` fills the node's resolv.conf.
  virtual Status create_view(const Node& n, const std::string& ns,
                             const std::vector<std::string>& dns) = 0;
  // The holder of node's view while it runs; 0 for a node without one (`isolate: false`), -1
  // when its holder is gone (spawning into it then fails rather than run on the host's files).
  virtual pid_t view_of(const std::string& node) const = 0;

  // Starts a service of node n inside namespace ns and records its pid before it can run. An
  // empty ns is the namespace `vnet lab up` was started from (the host's, or for a rootless lab
  // the user's own: lab/rootless.hh).
  virtual Status start_service(const Node& n, const std::string& ns, ServiceSpec s) = 0;
  // Waits until every service started since the last call has lived through its first second
  // (a one-shot may have finished cleanly) and passed its readiness check. The error names the
  // service, how it ended and the tail of its log.
  virtual Status await_services() = 0;

  // Records the node's power state (status shows it; probes skip nodes that are off).
  virtual Status set_power(const Node& n, bool on) = 0;
  virtual bool powered(const std::string& node) const = 0;

  // Records what `status` shows and `down` needs about node: the state's `facts[key][node]`
  // becomes `value` (lab/state.hh), before the change it describes is made.
  virtual Status record_fact(const std::string& key, const std::string& node,
                             nlohmann::json value) = 0;
};

// The environment a node's shell commands (`commands`, `exec` steps) run in, as an argv prefix
// ("/usr/bin/env", "VNET_LAB=…", …): VNET_LAB and VNET_NODE name the lab and node,
// VNET_LAB_DIR is the topology file's directory (scripts next to it) and VNET_RUN_DIR the node's
// own directory in the lab's state directory (created here, mode 0700; it survives kill/start and
// goes with `down`). Errors: the directory cannot be created.
Result<std::vector<std::string>> command_env(const LabRuntime& rt, const std::string& node);

}  // namespace vnet::lab
