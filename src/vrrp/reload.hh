#pragma once
// What a reload (SIGHUP) does to an instance that is in both the old and the new configuration:
// every changed setting is applied, with the least disturbance that setting allows.
//
//   in place      notify_* and notify, track_interface / track_script (and vrrp_script
//                 weights), priority below 255, garp_master_delay / garp_master_repeat (the
//                 instance's or global_defs'), accept / no_accept, vrrp_skip_check_adv_addr,
//                 sync group membership and scripts, `state` (only read at start-up).
//                 The Router keeps its state: a MASTER stays MASTER unless the new priority or
//                 trackers make it yield, exactly as they would without a reload.
//   host rebuilt  interface, unicast_src_ip, unicast_peer, use_vmac / vmac_xmit_base: the
//                 advertisement port is reopened (and the virtual MAC interface recreated when
//                 its settings changed) under the running Router. A MASTER stays MASTER; when
//                 its virtual addresses move (another interface, a VMAC appearing or going),
//                 they are removed from the old place, added at the new one and announced.
//   restart       virtual_router_id, version (or global vrrp_version), advert_int, the virtual
//                 addresses (and excluded ones), authentication, nopreempt / preempt_delay,
//                 becoming or ceasing to be the address owner (priority 255): these are the
//                 virtual router's identity on the wire or its election rules, so the instance
//                 stops (priority 0 when master, notify_stop) and starts afresh, as a new one.

#include <string>

#include "vrrp/keepalived_conf.hh"

namespace vnet::vrrp {

enum class ReloadKind { kInPlace, kRebuildHost, kRestart };

struct ReloadDecision {
  ReloadKind kind = ReloadKind::kInPlace;
  std::string why;  // the first setting that decided it ("" for in place), for the log
};

ReloadDecision classify_reload(const InstanceConfig& before, const GlobalDefs& before_global,
                               const InstanceConfig& after, const GlobalDefs& after_global);

}  // namespace vnet::vrrp
