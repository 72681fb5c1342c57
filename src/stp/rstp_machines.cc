// The state machines of IEEE 802.1D-2004 clause 17 (§17.23–17.31) for Rstp. Each state's entry
// actions are in enter_*(), each machine's transitions in step_*(), in the standard's words;
// deviations are marked "Deviation" and listed in rstp.hh. The procedures they call are in
// rstp_procedures.cc.

#include "stp/rstp_impl.hh"

namespace vnet::stp {

// ---- §17.23 Port Receive

void Rstp::Impl::enter_prx(Port& p, PrxState s) {
  p.prx = s;
  switch (s) {
    case PrxState::kDiscard:
      p.rcvd_bpdu = p.rcvd_rstp = p.rcvd_stp = false;
      p.rcvd_msg = false;
      p.edge_delay_while = kMigrateTime;
      break;
    case PrxState::kReceive:
      updt_bpdu_version(p);
      p.oper_edge = p.rcvd_bpdu = false;
      p.rcvd_msg = true;
      p.edge_delay_while = kMigrateTime;
      break;
  }
}

bool Rstp::Impl::step_prx(Port& p) {
  if ((p.rcvd_bpdu || p.edge_delay_while != kMigrateTime) && !p.port_enabled) {
    enter_prx(p, PrxState::kDiscard);
    return true;
  }
  switch (p.prx) {
    case PrxState::kDiscard:
      if (p.rcvd_bpdu && p.port_enabled) {
        enter_prx(p, PrxState::kReceive);
        return true;
      }
      break;
    case PrxState::kReceive:
      if (p.rcvd_bpdu && p.port_enabled && !p.rcvd_msg) {
        enter_prx(p, PrxState::kReceive);
        return true;
      }
      break;
  }
  return false;
}

// ---- §17.24 Port Protocol Migration

void Rstp::Impl::enter_ppm(Port& p, PpmState s) {
  p.ppm = s;
  switch (s) {
    case PpmState::kCheckingRstp:
      p.mcheck = false;
      set_send_rstp(p, rstp_version());
      p.mdelay_while = kMigrateTime;
      break;
    case PpmState::kSelectingStp:
      set_send_rstp(p, false);
      p.mdelay_while = kMigrateTime;
      break;
    case PpmState::kSensing:
      p.rcvd_rstp = p.rcvd_stp = false;
      break;
  }
}

bool Rstp::Impl::step_ppm(Port& p) {
  switch (p.ppm) {
    case PpmState::kCheckingRstp:
      if (p.mdelay_while != kMigrateTime && !p.port_enabled) {
        enter_ppm(p, PpmState::kCheckingRstp);
        return true;
      }
      if (p.mdelay_while == 0) {
        enter_ppm(p, PpmState::kSensing);
        return true;
      }
      break;
    case PpmState::kSelectingStp:
      if (p.mdelay_while == 0 || !p.port_enabled || p.mcheck) {
        enter_ppm(p, PpmState::kSensing);
        return true;
      }
      break;
    case PpmState::kSensing:
      if (!p.port_enabled || p.mcheck || (rstp_version() && !p.send_rstp && p.rcvd_rstp)) {
        enter_ppm(p, PpmState::kCheckingRstp);
        return true;
      }
      if (p.send_rstp && p.rcvd_stp) {
        enter_ppm(p, PpmState::kSelectingStp);
        return true;
      }
      break;
  }
  return false;
}

// ---- §17.25 Bridge Detection

void Rstp::Impl::enter_bdm(Port& p, BdmState s) {
  p.bdm = s;
  p.oper_edge = s == BdmState::kEdge;
}

bool Rstp::Impl::step_bdm(Port& p) {
  const bool admin_edge = p.config.admin_edge, auto_edge = p.config.auto_edge;
  switch (p.bdm) {
    case BdmState::kEdge:
      if (((!p.port_enabled || !auto_edge) && !admin_edge) || !p.oper_edge) {
        enter_bdm(p, BdmState::kNotEdge);
        return true;
      }
      break;
    case BdmState::kNotEdge:
      if ((!p.port_enabled && admin_edge) ||
          (p.edge_delay_while == 0 && auto_edge && p.send_rstp && p.proposing)) {
        enter_bdm(p, BdmState::kEdge);
        return true;
      }
      break;
  }
  return false;
}

// ---- §17.26 Port Transmit

void Rstp::Impl::enter_ptx(Port& p, PtxState s) {
  p.ptx = s;
  switch (s) {
    case PtxState::kTransmitInit:
      p.new_info = true;
      p.tx_count = 0;
      break;
    case PtxState::kTransmitPeriodic:
      p.new_info = p.new_info || (p.role == PortRole::kDesignated ||
                                  (p.role == PortRole::kRoot && p.tc_while != 0));
      break;
    case PtxState::kTransmitConfig:
      p.new_info = false;
      tx_config(p);
      ++p.tx_count;
      p.tc_ack = false;
      break;
    case PtxState::kTransmitTcn:
      p.new_info = false;
      tx_tcn(p);
      ++p.tx_count;
      break;
    case PtxState::kTransmitRstp:
      p.new_info = false;
      tx_rstp(p);
      ++p.tx_count;
      p.tc_ack = false;
      break;
    case PtxState::kIdle:
      p.hello_when = hello_time(p);
      break;
  }
}

bool Rstp::Impl::step_ptx(Port& p) {
  // Deviation (802.1Q-2005 §13.31): held in TRANSMIT_INIT while the port is disabled.
  if (!p.port_enabled) {
    if (p.ptx == PtxState::kTransmitInit) return false;
    enter_ptx(p, PtxState::kTransmitInit);
    return true;
  }
  if (p.ptx != PtxState::kIdle) {  // every other state: UCT to IDLE
    enter_ptx(p, PtxState::kIdle);
    return true;
  }
  // allTransmitReady: selected && !updtInfo.
  if (!p.selected || p.updt_info) return false;
  const bool can_send = p.new_info && p.tx_count < cfg.tx_hold_count && p.hello_when != 0;
  if (p.hello_when == 0) {
    enter_ptx(p, PtxState::kTransmitPeriodic);
  } else if (p.send_rstp && can_send && p.role != PortRole::kDisabled) {
    enter_ptx(p, PtxState::kTransmitRstp);
  } else if (!p.send_rstp && can_send && p.role == PortRole::kRoot) {
    enter_ptx(p, PtxState::kTransmitTcn);
  } else if (!p.send_rstp && can_send && p.role == PortRole::kDesignated) {
    enter_ptx(p, PtxState::kTransmitConfig);
  } else {
    return false;
  }
  return true;
}

// ---- §17.27 Port Information

void Rstp::Impl::enter_pim(Port& p, PimState s) {
  p.pim = s;
  switch (s) {
    case PimState::kDisabled:
      p.rcvd_msg = false;
      p.proposing = p.proposed = p.agree = p.agreed = false;
      p.info_is = InfoIs::kDisabled;
      p.reselect = true;
      p.selected = false;
      if (p.loop_inconsistent) {
        p.loop_inconsistent = false;
        actions.push_back(Inconsistent{p.number, Guard::kLoop, false});
      }
      break;
    case PimState::kAged:
      p.info_is = InfoIs::kAged;
      p.reselect = true;
      p.selected = false;
      break;
    case PimState::kUpdate:
      p.proposing = p.proposed = false;
      p.agreed = p.agreed && betterorsame_info(p, InfoIs::kMine);
      p.synced = p.synced && p.agreed;
      p.port_priority = p.designated_priority;
      p.port_times = p.designated_times;
      p.updt_info = false;
      p.info_is = InfoIs::kMine;
      p.new_info = true;
      break;
    case PimState::kCurrent:
      break;
    case PimState::kReceive:
      p.rcvd_info = rcv_info(p);
      // Loop guard: a BPDU heard again ends the inconsistency.
      if (p.loop_inconsistent) {
        p.loop_inconsistent = false;
        actions.push_back(Inconsistent{p.number, Guard::kLoop, false});
      }
      break;
    case PimState::kSuperiorDesignated:
      p.agreed = p.proposing = false;
      record_proposal(p);
      set_tc_flags(p);
      p.agree = p.agree && betterorsame_info(p, InfoIs::kReceived);
      record_priority(p);
      record_times(p);
      updt_rcvd_info_while(p);
      p.info_is = InfoIs::kReceived;
      p.reselect = true;
      p.selected = false;
      p.rcvd_msg = false;
      break;
    case PimState::kRepeatedDesignated:
      record_proposal(p);
      set_tc_flags(p);
      updt_rcvd_info_while(p);
      p.rcvd_msg = false;
      break;
    case PimState::kInferiorDesignated:
      record_dispute(p);
      p.rcvd_msg = false;
      break;
    case PimState::kNotDesignated:
      record_agreement(p);
      set_tc_flags(p);
      p.rcvd_msg = false;
      break;
    case PimState::kOther:
      p.rcvd_msg = false;
      break;
  }
}

bool Rstp::Impl::step_pim(Port& p) {
  if (!p.port_enabled && p.info_is != InfoIs::kDisabled) {
    enter_pim(p, PimState::kDisabled);
    return true;
  }
  switch (p.pim) {
    case PimState::kDisabled:
      if (p.rcvd_msg) {
        enter_pim(p, PimState::kDisabled);
        return true;
      }
      if (p.port_enabled) {
        enter_pim(p, PimState::kAged);
        return true;
      }
      return false;
    case PimState::kAged:
      if (p.selected && p.updt_info) {
        enter_pim(p, PimState::kUpdate);
        return true;
      }
      return false;
    case PimState::kUpdate:
    case PimState::kSuperiorDesignated:
    case PimState::kRepeatedDesignated:
    case PimState::kInferiorDesignated:
    case PimState::kNotDesignated:
    case PimState::kOther:
      enter_pim(p, PimState::kCurrent);
      return true;
    case PimState::kCurrent:
      if (p.selected && p.updt_info) {
        enter_pim(p, PimState::kUpdate);
        return true;
      }
      if (p.info_is == InfoIs::kReceived && p.rcvd_info_while == 0 && !p.updt_info && !p.rcvd_msg) {
        // Loop guard: a root, alternate or backup port whose neighbour went silent.
        if (p.config.loop_guard && p.role != PortRole::kDesignated &&
            p.role != PortRole::kDisabled && !p.loop_inconsistent) {
          p.loop_inconsistent = true;
          actions.push_back(Inconsistent{p.number, Guard::kLoop, true});
        }
        enter_pim(p, PimState::kAged);
        return true;
      }
      if (p.rcvd_msg && !p.updt_info) {
        enter_pim(p, PimState::kReceive);
        return true;
      }
      return false;
    case PimState::kReceive:
      switch (p.rcvd_info) {
        case RcvdInfo::kSuperiorDesignated:
          enter_pim(p, PimState::kSuperiorDesignated);
          break;
        case RcvdInfo::kRepeatedDesignated:
          enter_pim(p, PimState::kRepeatedDesignated);
          break;
        case RcvdInfo::kInferiorDesignated:
          enter_pim(p, PimState::kInferiorDesignated);
          break;
        case RcvdInfo::kInferiorRootAlternate:
          enter_pim(p, PimState::kNotDesignated);
          break;
        case RcvdInfo::kOther:
          enter_pim(p, PimState::kOther);
          break;
      }
      return true;
  }
  return false;
}

// ---- §17.28 Port Role Selection

void Rstp::Impl::enter_prs(PrsState s) {
  prs = s;
  switch (s) {
    case PrsState::kInitBridge:
      updt_role_disabled_tree();
      break;
    case PrsState::kRoleSelection:
      clear_reselect_tree();
      updt_roles_tree();
      set_selected_tree();
      break;
  }
}

bool Rstp::Impl::step_prs() {
  if (prs == PrsState::kInitBridge) {
    enter_prs(PrsState::kRoleSelection);
    return true;
  }
  for (const auto& [n, p] : ports) {
    if (p.reselect) {
      enter_prs(PrsState::kRoleSelection);
      return true;
    }
  }
  return false;
}

// ---- §17.29 Port Role Transitions

void Rstp::Impl::enter_prt(Port& p, PrtState s) {
  p.prt = s;
  switch (s) {
    // §17.29.1 disabled port role (Figure 17-20).
    case PrtState::kInitPort:
      set_role(p, PortRole::kDisabled);
      p.learn = p.forward = false;
      p.synced = false;
      p.sync = p.re_root = true;
      p.rr_while = fwd_delay(p);
      p.fd_while = max_age(p);
      p.rb_while = 0;
      break;
    case PrtState::kDisablePort:
      set_role(p, p.selected_role);
      p.learn = p.forward = false;
      break;
    case PrtState::kDisabledPort:
      p.fd_while = max_age(p);
      p.synced = true;
      p.rr_while = 0;
      p.sync = p.re_root = false;
      break;
    // §17.29.2 root port role (Figure 17-21).
    case PrtState::kRootPort:
      set_role(p, PortRole::kRoot);
      p.rr_while = fwd_delay(p);
      break;
    case PrtState::kRootProposed:
      set_sync_tree();
      p.proposed = false;
      break;
    case PrtState::kRootAgreed:
      p.proposed = p.sync = false;
      p.agree = true;
      p.new_info = true;
      break;
    case PrtState::kReroot:
      set_re_root_tree();
      break;
    case PrtState::kRootForward:
      p.fd_while = 0;
      p.forward = true;
      break;
    case PrtState::kRootLearn:
      p.fd_while = forward_delay(p);
      p.learn = true;
      break;
    case PrtState::kRerooted:
      p.re_root = false;
      break;
    // §17.29.3 designated port role (Figure 17-22).
    case PrtState::kDesignatedPort:
      set_role(p, PortRole::kDesignated);
      break;
    case PrtState::kDesignatedPropose:
      p.proposing = true;
      p.edge_delay_while = edge_delay(p);
      p.new_info = true;
      break;
    case PrtState::kDesignatedSynced:
      p.rr_while = 0;
      p.synced = true;
      p.sync = false;
      break;
    case PrtState::kDesignatedRetired:
      p.re_root = false;
      break;
    case PrtState::kDesignatedForward:
      p.forward = true;
      p.fd_while = 0;
      p.agreed = p.send_rstp;
      break;
    case PrtState::kDesignatedLearn:
      p.learn = true;
      p.fd_while = forward_delay(p);
      break;
    case PrtState::kDesignatedDiscard:
      p.learn = p.forward = p.disputed = false;
      p.fd_while = forward_delay(p);
      break;
    // §17.29.4 alternate and backup port roles (Figure 17-23).
    case PrtState::kAlternatePort:
      p.fd_while = forward_delay(p);
      p.synced = true;
      p.rr_while = 0;
      p.sync = p.re_root = false;
      break;
    case PrtState::kAlternateProposed:
      set_sync_tree();
      p.proposed = false;
      break;
    case PrtState::kAlternateAgreed:
      p.proposed = false;
      p.agree = true;
      p.new_info = true;
      break;
    case PrtState::kBlockPort:
      set_role(p, p.selected_role);
      p.learn = p.forward = false;
      break;
    case PrtState::kBackupPort:
      p.rb_while = static_cast<uint16_t>(2 * hello_time(p));
      break;
  }
}

bool Rstp::Impl::step_prt(Port& p) {
  // Every transition but BEGIN's is qualified by selected && !updtInfo.
  if (!p.selected || p.updt_info) return false;
  // The transitions into each role's first state.
  if (p.role != p.selected_role) {
    switch (p.selected_role) {
      case PortRole::kDisabled:
        if (p.prt == PrtState::kDisablePort) break;
        enter_prt(p, PrtState::kDisablePort);
        return true;
      case PortRole::kRoot:
        enter_prt(p, PrtState::kRootPort);
        return true;
      case PortRole::kDesignated:
        enter_prt(p, PrtState::kDesignatedPort);
        return true;
      case PortRole::kAlternate:
      case PortRole::kBackup:
        if (p.prt == PrtState::kBlockPort) break;
        enter_prt(p, PrtState::kBlockPort);
        return true;
    }
  }
  switch (p.prt) {
    case PrtState::kInitPort:
      enter_prt(p, PrtState::kDisablePort);
      return true;
    case PrtState::kDisablePort:
      if (!p.learning && !p.forwarding) {
        enter_prt(p, PrtState::kDisabledPort);
        return true;
      }
      return false;
    case PrtState::kDisabledPort:
      if (p.fd_while != max_age(p) || p.sync || p.re_root || !p.synced) {
        enter_prt(p, PrtState::kDisabledPort);
        return true;
      }
      return false;

    case PrtState::kRootProposed:
    case PrtState::kRootAgreed:
    case PrtState::kReroot:
    case PrtState::kRootForward:
    case PrtState::kRootLearn:
    case PrtState::kRerooted:
      enter_prt(p, PrtState::kRootPort);
      return true;
    case PrtState::kRootPort: {
      if (p.rr_while != fwd_delay(p)) {
        enter_prt(p, PrtState::kRootPort);
        return true;
      }
      if (p.re_root && p.forward) {
        enter_prt(p, PrtState::kRerooted);
        return true;
      }
      const bool may_advance =
          p.fd_while == 0 || (re_rooted(p) && p.rb_while == 0 && rstp_version());
      if (may_advance && !p.learn) {
        enter_prt(p, PrtState::kRootLearn);
        return true;
      }
      if (may_advance && p.learn && !p.forward) {
        enter_prt(p, PrtState::kRootForward);
        return true;
      }
      if (p.proposed && !p.agree) {
        enter_prt(p, PrtState::kRootProposed);
        return true;
      }
      if ((all_synced() && !p.agree) || (p.proposed && p.agree)) {
        enter_prt(p, PrtState::kRootAgreed);
        return true;
      }
      if (!p.forward && !p.re_root) {
        enter_prt(p, PrtState::kReroot);
        return true;
      }
      return false;
    }

    case PrtState::kDesignatedPropose:
    case PrtState::kDesignatedSynced:
    case PrtState::kDesignatedRetired:
    case PrtState::kDesignatedForward:
    case PrtState::kDesignatedLearn:
    case PrtState::kDesignatedDiscard:
      enter_prt(p, PrtState::kDesignatedPort);
      return true;
    case PrtState::kDesignatedPort: {
      // Loop guard adds loop_inconsistent to the reasons to discard and keeps the port from
      // learning and forwarding.
      if (((p.sync && !p.synced) || (p.re_root && p.rr_while != 0) || p.disputed ||
           p.loop_inconsistent) &&
          !p.oper_edge && (p.learn || p.forward)) {
        enter_prt(p, PrtState::kDesignatedDiscard);
        return true;
      }
      const bool may_advance = (p.fd_while == 0 || p.agreed || p.oper_edge) &&
                               (p.rr_while == 0 || !p.re_root) && !p.sync && !p.loop_inconsistent;
      if (may_advance && !p.learn) {
        enter_prt(p, PrtState::kDesignatedLearn);
        return true;
      }
      if (may_advance && p.learn && !p.forward) {
        enter_prt(p, PrtState::kDesignatedForward);
        return true;
      }
      if (!p.forward && !p.agreed && !p.proposing && !p.oper_edge) {
        enter_prt(p, PrtState::kDesignatedPropose);
        return true;
      }
      if ((!p.learning && !p.forwarding && !p.synced) || (p.agreed && !p.synced) ||
          (p.oper_edge && !p.synced) || (p.sync && p.synced)) {
        enter_prt(p, PrtState::kDesignatedSynced);
        return true;
      }
      if (p.rr_while == 0 && p.re_root) {
        enter_prt(p, PrtState::kDesignatedRetired);
        return true;
      }
      return false;
    }

    case PrtState::kBlockPort:
      if (!p.learning && !p.forwarding) {
        enter_prt(p, PrtState::kAlternatePort);
        return true;
      }
      return false;
    case PrtState::kAlternateProposed:
    case PrtState::kAlternateAgreed:
    case PrtState::kBackupPort:
      enter_prt(p, PrtState::kAlternatePort);
      return true;
    case PrtState::kAlternatePort:
      if (p.rb_while != 2 * hello_time(p) && p.role == PortRole::kBackup) {
        enter_prt(p, PrtState::kBackupPort);
        return true;
      }
      if (p.fd_while != forward_delay(p) || p.sync || p.re_root || !p.synced) {
        enter_prt(p, PrtState::kAlternatePort);
        return true;
      }
      if (p.proposed && !p.agree) {
        enter_prt(p, PrtState::kAlternateProposed);
        return true;
      }
      if ((all_synced() && !p.agree) || (p.proposed && p.agree)) {
        enter_prt(p, PrtState::kAlternateAgreed);
        return true;
      }
      return false;
  }
  return false;
}

// ---- §17.30 Port State Transition

void Rstp::Impl::enter_pst(Port& p, PstState s) {
  p.pst = s;
  PortState state = PortState::kDiscarding;
  switch (s) {
    case PstState::kDiscarding:  // disableLearning(); disableForwarding()
      p.learning = false;
      p.forwarding = false;
      break;
    case PstState::kLearning:  // enableLearning()
      p.learning = true;
      state = PortState::kLearning;
      break;
    case PstState::kForwarding:  // enableForwarding()
      p.forwarding = true;
      state = PortState::kForwarding;
      break;
  }
  if (state != p.reported_state) {
    p.reported_state = state;
    actions.push_back(SetPortState{p.number, state});
  }
}

bool Rstp::Impl::step_pst(Port& p) {
  switch (p.pst) {
    case PstState::kDiscarding:
      if (p.learn) {
        enter_pst(p, PstState::kLearning);
        return true;
      }
      break;
    case PstState::kLearning:
      if (!p.learn) {
        enter_pst(p, PstState::kDiscarding);
        return true;
      }
      if (p.forward) {
        enter_pst(p, PstState::kForwarding);
        return true;
      }
      break;
    case PstState::kForwarding:
      if (!p.forward) {
        enter_pst(p, PstState::kDiscarding);
        return true;
      }
      break;
  }
  return false;
}

// ---- §17.31 Topology Change

void Rstp::Impl::enter_tcm(Port& p, TcmState s) {
  p.tcm = s;
  switch (s) {
    case TcmState::kInactive:
      p.fdb_flush = true;
      fdb_flush(p);
      p.tc_while = 0;
      p.tc_ack = false;
      break;
    case TcmState::kLearning:
      p.rcvd_tc = p.rcvd_tcn = p.rcvd_tc_ack = false;
      p.tc_prop = false;
      break;
    case TcmState::kDetected:
      new_tc_while(p, TcCause::kDetected);
      set_tc_prop_tree(p);
      p.new_info = true;
      break;
    case TcmState::kActive:
      break;
    case TcmState::kNotifiedTcn:
      new_tc_while(p, TcCause::kTcnReceived);
      break;
    case TcmState::kNotifiedTc:
      p.rcvd_tcn = p.rcvd_tc = false;
      if (p.role == PortRole::kDesignated) p.tc_ack = true;
      set_tc_prop_tree(p);
      break;
    case TcmState::kPropagating:
      new_tc_while(p, TcCause::kTcReceived);
      p.fdb_flush = true;
      fdb_flush(p);
      p.tc_prop = false;
      break;
    case TcmState::kAcknowledged:
      p.tc_while = 0;
      p.rcvd_tc_ack = false;
      break;
  }
}

bool Rstp::Impl::step_tcm(Port& p) {
  const bool root_or_designated = p.role == PortRole::kRoot || p.role == PortRole::kDesignated;
  switch (p.tcm) {
    case TcmState::kInactive:
      if (p.learn && !p.fdb_flush) {
        enter_tcm(p, TcmState::kLearning);
        return true;
      }
      return false;
    case TcmState::kLearning:
      if (root_or_designated && p.forward && !p.oper_edge) {
        enter_tcm(p, TcmState::kDetected);
        return true;
      }
      if (p.rcvd_tc || p.rcvd_tcn || p.rcvd_tc_ack || p.tc_prop) {
        enter_tcm(p, TcmState::kLearning);
        return true;
      }
      if (!root_or_designated && !(p.learn || p.learning)) {
        enter_tcm(p, TcmState::kInactive);
        return true;
      }
      return false;
    case TcmState::kDetected:
    case TcmState::kNotifiedTc:
    case TcmState::kPropagating:
    case TcmState::kAcknowledged:
      enter_tcm(p, TcmState::kActive);
      return true;
    case TcmState::kNotifiedTcn:
      enter_tcm(p, TcmState::kNotifiedTc);
      return true;
    case TcmState::kActive:
      if (!root_or_designated || p.oper_edge) {
        enter_tcm(p, TcmState::kLearning);
        return true;
      }
      if (p.rcvd_tcn) {
        enter_tcm(p, TcmState::kNotifiedTcn);
        return true;
      }
      if (p.rcvd_tc) {
        enter_tcm(p, TcmState::kNotifiedTc);
        return true;
      }
      if (p.tc_prop && !p.oper_edge) {
        enter_tcm(p, TcmState::kPropagating);
        return true;
      }
      if (p.rcvd_tc_ack) {
        enter_tcm(p, TcmState::kAcknowledged);
        return true;
      }
      return false;
  }
  return false;
}

}  // namespace vnet::stp
