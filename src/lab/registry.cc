#include "lab/registry.hh"

namespace vnet::lab {

void Registry::add(std::unique_ptr<NodeKind> kind) { kinds_.push_back(std::move(kind)); }
void Registry::add(std::unique_ptr<StepKind> step) { steps_.push_back(std::move(step)); }

const NodeKind* Registry::kind(std::string_view name) const {
  for (auto& k : kinds_) {
    if (k->name() == name) return k.get();
  }
  return nullptr;
}

const StepKind* Registry::step(std::string_view name) const {
  for (auto& s : steps_) {
    if (s->name() == name) return s.get();
  }
  return nullptr;
}

const Registry& registry() {
  static const Registry r = [] {
    Registry r;
    // Node kinds, in the order their sections appear in docs and the schema.
    r.add(make_switch_kind());
    r.add(make_host_kind());
    r.add(make_router_kind());
    r.add(make_external_kind());
    r.add(make_vm_kind());
    r.add(make_network_kind());  // after the switches: a network names its switch
    r.add(make_uplink_kind());
    // Scenario steps.
    r.add(make_ping_step());
    r.add(make_ping6_step());
    r.add(make_tcp_step());
    r.add(make_http_step());
    r.add(make_lb_real_step());
    r.add(make_exec_step());
    r.add(make_console_step());
    r.add(make_link_step());
    r.add(make_impair_step());
    r.add(make_flap_step());
    r.add(make_wait_until_step());
    r.add(make_kill_step());
    r.add(make_stop_step());
    r.add(make_start_step());
    r.add(make_vrrp_master_step());
    r.add(make_failover_step());
    r.add(make_stp_port_step());
    r.add(make_root_bridge_step());
    r.add(make_stream_step());
    r.add(make_converge_step());
    r.add(make_probe_step());
    r.add(make_dhcp_step());
    r.add(make_dns_step());
    r.add(make_nac_port_step());
    return r;
  }();
  return r;
}

}  // namespace vnet::lab
