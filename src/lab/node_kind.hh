#pragma once
// NodeKind: one kind of lab node (switch, host, router; later vm, external, service). A kind is
// one file implementing this interface plus one line in lab/registry.cc; the topology parser, the
// orchestrator, the scenario runner, `status`, the graph, the JSON Schema and the docs all reach
// kinds only through it (no branch on a kind's name anywhere else).
//
// Life of a node (docs/topology.md, "Crash and boot"):
//   parse → validate → plan                       when the file is loaded (no side effects)
//   create → attach (per link) → configure → start  `up`, and `start` (boot) after a power-off
//   kill  = power cut: every process gone (reaped), cables down, runtime state gone
//   stop  = clean shutdown (SIGTERM, deadline), then power off as kill
// A switch keeps its bridge in the dataplane while it is off: its kill darkens its cables and
// forgets what it learned, and its start alone is its boot (`up` configures it, never starts it).
// The default implementations fit a kind that has nothing to do in that phase.

#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/clock.hh"
#include "base/result.hh"
#include "lab/keys.hh"
#include "lab/topology.hh"

namespace vnet::lab {

class Reader;
class LabRuntime;
struct CapturedRun;

class NodeKind {
 public:
  virtual ~NodeKind() = default;

  virtual std::string_view name() const = 0;     // "host": messages, status, the graph
  virtual std::string_view section() const = 0;  // top-level list of the file: "hosts"
  virtual std::string_view doc() const = 0;      // a paragraph for docs/topology.md
  virtual const KeyTable& keys() const = 0;
  // Tables of the maps nested in this kind's values (interface, route, vrrp…): each becomes a
  // $defs entry named by its KeyTable::what in the schema, and a table in the docs.
  virtual std::vector<const KeyTable*> sub_tables() const { return {}; }

  // What the core may do with nodes of this kind.
  virtual bool is_switch() const { return false; }    // link endpoint "SW[:PORT]"; bridges
  virtual bool runs_probes() const { return false; }  // ping/tcp/exec run inside it
  // exec steps run inside it (through exec() below): every kind that runs probes, and VMs.
  virtual bool runs_commands() const { return runs_probes(); }
  virtual bool has_power() const { return false; }    // kill/stop/start apply
  virtual bool needs_netns() const { return false; }  // "<lab>-<node>" exists while it runs
  // Forwards between its interfaces: the only kind whose interfaces may be in two tenants
  // (lab/tenants.hh).
  virtual bool joins_tenants() const { return false; }

  // Why a node of this kind cannot run in a rootless lab (lab/rootless.hh), or "" when it can.
  virtual std::string rootless_refusal(const Node&) const { return {}; }

  // Fills n.spec and n.interfaces from the node's YAML map (keys already checked).
  virtual void parse(const YAML::Node& yaml, Node& n, Reader& r) const = 0;
  // Links the node's own keys declare (a network's `switch` and `vlan`), added after the file's
  // links and validated with them; their `where` is the node's key.
  virtual std::vector<Link> own_links(const Node&, Reader&) const { return {}; }
  // After every node and link is known: cross-node rules (gateways on-link, VRRP interfaces).
  virtual void validate(const Node&, Reader&) const {}
  // The VRRP configuration the node runs, if any (vrrp_master/failover steps, status).
  virtual const vrrp::KeepalivedConfig* vrrp(const Node&) const { return nullptr; }
  // The virtual servers of that configuration (keepalived's load-balancer half), if it has any
  // and they parse; `lb_where` is where the configuration is named in the lab file.
  virtual const lb::LbConfig* lb(const Node&) const { return nullptr; }
  // Addresses the node holds on `lo` (a DR real server's VIP), and where the file says so.
  virtual std::vector<packet::IpPrefix> loopback(const Node&) const { return {}; }
  virtual Where loopback_where(const Node& n) const { return n.where; }
  // The spanning-tree settings of a switch that runs it (lab/spanning_tree.hh), else null: loops
  // of switch links are allowed through such switches only; stp steps assert on them.
  virtual const StpBridge* spanning_tree(const Node&) const { return nullptr; }
  // Graphviz node attributes: shape and fill colour.
  // Switch ports the node's own keys take (a switch's tunnels): links get other numbers.
  virtual std::vector<uint32_t> reserved_ports(const Node&) const { return {}; }
  // Extra lines under the node's name in the graph (a switch's tunnels).
  virtual std::vector<std::string> graph_notes(const Node&) const { return {}; }
  virtual std::pair<std::string_view, std::string_view> graph_style() const {
    return {"ellipse", "#ffffff"};
  }

  // Runtime. `rt` is the running lab (lab/runtime.hh).
  virtual Status create(const Node&, LabRuntime&) const { return {}; }
  // Makes what carries the frames of node interface link.a.interface and returns the backend
  // spec for the switch port (io::make_backend form, e.g. "afpacket:DEV").
  virtual Result<std::string> attach(const Node& n, const Link&, LabRuntime&) const {
    return make_error(ENOTSUP, "{} nodes ({}) have no interfaces to link", name(), n.name);
  }
  // Node-side cable state for `link NODE SW up|down` (the node sees its carrier go).
  virtual Status set_link(const Node& n, const Link&, bool, LabRuntime&) const {
    return make_error(ENOTSUP, "{} nodes ({}) have no cables to pull", name(), n.name);
  }
  virtual Status configure(const Node&, LabRuntime&) const { return {}; }
  // Switches: port `port` of this switch, the end of link `l`, was just created (nothing is
  // attached to it yet); the kind applies what its keys say about the port (authentication).
  virtual Status port_created(const Node&, const Link&, uint32_t /*port*/, LabRuntime&) const {
    return {};
  }
  // Runs `command` in a shell inside the node, killed after `within`, keeping `limit` bytes of
  // each stream (exec steps). The default (lab/step_exec.cc) runs /bin/sh -c in the node's
  // namespace and view with the environment of command_env(); a VM runs it through its guest
  // agent, or its serial console when it has none (lab/vm_console.hh vm_exec).
  virtual Result<CapturedRun> exec(const Node& n, LabRuntime& rt, const std::string& command,
                                   Duration within, size_t limit) const;
  // A serial console whose output is logged (VMs): `console` steps wait for a line on it.
  virtual bool has_console() const { return false; }
  // OK when the console printed `text` in the node's current boot (since its last `up` or
  // `start`); EAGAIN naming the log and its last line while it has not.
  virtual Status console_shows(const Node& n, LabRuntime&, const std::string&) const {
    return make_error(ENOTSUP, "{} nodes ({}) have no serial console", name(), n.name);
  }
  virtual Status start(const Node&, LabRuntime&) const { return {}; }
  virtual Status kill(const Node& n, LabRuntime&) const {
    return make_error(ENOTSUP, "{} nodes ({}) cannot be killed", name(), n.name);
  }
  virtual Status stop(const Node& n, LabRuntime&) const {
    return make_error(ENOTSUP, "{} nodes ({}) cannot be stopped", name(), n.name);
  }
  // Kind-specific facts for `vnet lab status` and progress lines (services and power come from
  // the lab's state).
  virtual nlohmann::json status(const Node&, const Topology&) const {
    return nlohmann::json::object();
  }
};

}  // namespace vnet::lab
