#pragma once
// The registries of node kinds and step kinds, filled by explicit calls (no static
// self-registration). Adding a kind or a step = one new file + one line in registry.cc.

#include <memory>
#include <string_view>
#include <vector>

#include "lab/node_kind.hh"
#include "lab/step.hh"

namespace vnet::lab {

class Registry {
 public:
  void add(std::unique_ptr<NodeKind> kind);
  void add(std::unique_ptr<StepKind> step);
  const std::vector<std::unique_ptr<NodeKind>>& kinds() const { return kinds_; }
  const std::vector<std::unique_ptr<StepKind>>& steps() const { return steps_; }
  const NodeKind* kind(std::string_view name) const;
  const StepKind* step(std::string_view name) const;

 private:
  std::vector<std::unique_ptr<NodeKind>> kinds_;
  std::vector<std::unique_ptr<StepKind>> steps_;
};

// Every built-in kind and step, registered once on first use.
const Registry& registry();

// Built-in kinds and steps (one file each; registry.cc lists them).
std::unique_ptr<NodeKind> make_switch_kind();
std::unique_ptr<NodeKind> make_host_kind();
std::unique_ptr<NodeKind> make_router_kind();
std::unique_ptr<NodeKind> make_external_kind();
std::unique_ptr<NodeKind> make_vm_kind();
std::unique_ptr<NodeKind> make_network_kind();
std::unique_ptr<NodeKind> make_uplink_kind();
std::unique_ptr<StepKind> make_ping_step();
std::unique_ptr<StepKind> make_ping6_step();
std::unique_ptr<StepKind> make_tcp_step();
std::unique_ptr<StepKind> make_http_step();
std::unique_ptr<StepKind> make_lb_real_step();
std::unique_ptr<StepKind> make_exec_step();
std::unique_ptr<StepKind> make_console_step();
std::unique_ptr<StepKind> make_link_step();
std::unique_ptr<StepKind> make_impair_step();
std::unique_ptr<StepKind> make_flap_step();
std::unique_ptr<StepKind> make_wait_until_step();
std::unique_ptr<StepKind> make_kill_step();
std::unique_ptr<StepKind> make_stop_step();
std::unique_ptr<StepKind> make_start_step();
std::unique_ptr<StepKind> make_vrrp_master_step();
std::unique_ptr<StepKind> make_failover_step();
std::unique_ptr<StepKind> make_stp_port_step();
std::unique_ptr<StepKind> make_root_bridge_step();
std::unique_ptr<StepKind> make_stream_step();
std::unique_ptr<StepKind> make_converge_step();
std::unique_ptr<StepKind> make_probe_step();
std::unique_ptr<StepKind> make_dhcp_step();
std::unique_ptr<StepKind> make_dns_step();
std::unique_ptr<StepKind> make_nac_port_step();

}  // namespace vnet::lab
