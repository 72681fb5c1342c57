// The state machines of IEEE 802.1D-2004 clause 17 (§17.21 procedures, §17.23–17.31 machines)
// for Rstp. Each state's entry actions are in enter_*(), each machine's transitions in step_*(),
// in the standard's words; deviations are marked "Deviation" and listed in rstp.hh.

#include <algorithm>

#include "stp/rstp_impl.hh"

namespace vnet::stp {

namespace {

uint64_t mac_of(BridgeId id) { return id.value & 0xffff'ffff'ffffULL; }

BpduRole bpdu_role(PortRole r) {
  switch (r) {
    case PortRole::kRoot:
      return BpduRole::kRoot;
    case PortRole::kDesignated:
      return BpduRole::kDesignated;
    case PortRole::kAlternate:
    case PortRole::kBackup:
      return BpduRole::kAlternateOrBackup;
    case PortRole::kDisabled:
      break;
  }
  return BpduRole::kUnknown;
}

// The role a received BPDU conveys: a Configuration BPDU is from a designated port (§17.21.8
// NOTE), and an RST BPDU with the Unknown role is treated as a Configuration BPDU (§9.2.9).
BpduRole conveyed_role(const Bpdu& b) {
  if (b.type == BpduType::kConfig || b.flags.role == BpduRole::kUnknown) {
    return BpduRole::kDesignated;
  }
  return b.flags.role;
}

uint32_t add_cost(uint32_t a, uint32_t b) {
  uint64_t sum = uint64_t{a} + b;
  return sum > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(sum);
}

// The root path priority vector of a port: its port priority vector with the port's path cost
// added and its own port id as the BridgePortID (§17.6, §17.21.25 a).
PriorityVector root_path_vector(const Port& p) {
  PriorityVector v = p.port_priority;
  v.root_path_cost = add_cost(v.root_path_cost, p.port_path_cost);
  v.bridge_port = p.port_id;
  return v;
}

// All five components, for the choice of the root port (§17.6).
bool better_root_path(const PriorityVector& a, const PriorityVector& b) {
  if (!same_vector(a, b)) return better_vector(a, b);
  return a.bridge_port < b.bridge_port;
}

}  // namespace

bool same_vector(const PriorityVector& a, const PriorityVector& b) {
  return a.root == b.root && a.root_path_cost == b.root_path_cost &&
         a.designated_bridge == b.designated_bridge && a.designated_port == b.designated_port;
}

bool better_vector(const PriorityVector& a, const PriorityVector& b) {
  if (a.root != b.root) return a.root < b.root;
  if (a.root_path_cost != b.root_path_cost) return a.root_path_cost < b.root_path_cost;
  if (a.designated_bridge != b.designated_bridge) return a.designated_bridge < b.designated_bridge;
  return a.designated_port < b.designated_port;
}

bool superior_vector(const PriorityVector& msg, const PriorityVector& port) {
  return better_vector(msg, port) ||
         (mac_of(msg.designated_bridge) == mac_of(port.designated_bridge) &&
          msg.designated_port.number() == port.designated_port.number());
}

// ---- §17.20 conditions -------------------------------------------------------------------------

// §17.20.3 allSynced; the root port's own synced is not required (802.1Q-2005 §13.25.1).
bool Rstp::Impl::all_synced() const {
  for (const auto& [n, p] : ports) {
    if (!(p.selected && p.role == p.selected_role && (p.role == PortRole::kRoot || p.synced))) {
      return false;
    }
  }
  return true;
}

// §17.20.10 reRooted: rrWhile is zero for every other port.
bool Rstp::Impl::re_rooted(const Port& self) const {
  for (const auto& [n, p] : ports) {
    if (&p != &self && p.rr_while != 0) return false;
  }
  return true;
}

// ---- §17.21 procedures --------------------------------------------------------------------------

// §17.21.1 betterorsameInfo(newInfoIs).
bool Rstp::Impl::betterorsame_info(const Port& p, InfoIs new_info_is) const {
  if (new_info_is == InfoIs::kReceived && p.info_is == InfoIs::kReceived) {
    return !better_vector(p.port_priority, p.msg_priority);
  }
  if (new_info_is == InfoIs::kMine && p.info_is == InfoIs::kMine) {
    return !better_vector(p.port_priority, p.designated_priority);
  }
  return false;
}

// §17.21.2 clearReselectTree.
void Rstp::Impl::clear_reselect_tree() {
  for (auto& [n, p] : ports) p.reselect = false;
}

// §17.21.7 newTcWhile: start tcWhile if it is not running; RSTP: HelloTime + 1 and newInfo, STP:
// the root's Max Age + Forward Delay.
void Rstp::Impl::new_tc_while(Port& p, TcCause cause) {
  if (p.tc_while != 0) return;
  bool running = std::any_of(ports.begin(), ports.end(),
                             [](const auto& kv) { return kv.second.tc_while != 0; });
  if (p.send_rstp) {
    p.tc_while = static_cast<uint16_t>(hello_time(p) + 1);
    p.new_info = true;
  } else {
    p.tc_while = static_cast<uint16_t>(root_times.max_age + root_times.forward_delay);
  }
  if (!running) {
    ++topology_changes;
    last_topology_change = now;
    PortNo where = cause == TcCause::kTcReceived && tc_prop_source != 0 ? tc_prop_source : p.number;
    actions.push_back(TopologyChange{where, cause});
  }
}

// §17.21.8 rcvInfo: decode the message priority vector and times, and classify them.
RcvdInfo Rstp::Impl::rcv_info(Port& p) {
  const Bpdu& b = p.rcvd_bpdu_value;
  if (b.type == BpduType::kTcn) {
    // Deviation (802.1Q-2005 §13.26.8): a TCN sets rcvdTcn here; it carries no priority vector.
    p.rcvd_tcn = true;
    return RcvdInfo::kOther;
  }
  p.msg_priority = {b.root, b.root_path_cost, b.bridge, b.port, p.port_id};
  p.msg_times = {seconds(b.times.message_age), seconds(b.times.max_age),
                 seconds(b.times.forward_delay), seconds(b.times.hello_time)};
  BpduRole role = conveyed_role(b);
  bool same = same_vector(p.msg_priority, p.port_priority);
  bool superior = superior_vector(p.msg_priority, p.port_priority);
  if (role == BpduRole::kDesignated) {
    // a) superior, or the same vector with different times.
    if ((superior && !same) || (same && p.msg_times != p.port_times)) {
      return RcvdInfo::kSuperiorDesignated;
    }
    // b) the same vector and times.
    if (same) return RcvdInfo::kRepeatedDesignated;
    // c) worse.
    return RcvdInfo::kInferiorDesignated;
  }
  // d) a root, alternate or backup port with the same or a worse vector.
  if (role == BpduRole::kRoot || role == BpduRole::kAlternateOrBackup) {
    if (same || !superior) return RcvdInfo::kInferiorRootAlternate;
  }
  return RcvdInfo::kOther;  // e)
}

// §17.21.9 recordAgreement.
void Rstp::Impl::record_agreement(Port& p) {
  if (rstp_version() && p.oper_p2p() && p.rcvd_bpdu_value.type == BpduType::kRst &&
      p.rcvd_bpdu_value.flags.agreement) {
    p.agreed = true;
    p.proposing = false;
  } else {
    p.agreed = false;
  }
}

// §17.21.10 recordDispute. Deviation (802.1Q-2005 §13.26.11): disputed is set and agreed cleared.
void Rstp::Impl::record_dispute(Port& p) {
  if (p.rcvd_bpdu_value.type == BpduType::kRst && p.rcvd_bpdu_value.flags.learning) {
    p.disputed = true;
    p.agreed = false;
  }
}

// §17.21.11 recordProposal.
void Rstp::Impl::record_proposal(Port& p) {
  const Bpdu& b = p.rcvd_bpdu_value;
  if (conveyed_role(b) == BpduRole::kDesignated && b.type == BpduType::kRst && b.flags.proposal) {
    p.proposed = true;
  }
}

// §17.21.12 recordPriority.
void Rstp::Impl::record_priority(Port& p) { p.port_priority = p.msg_priority; }

// §17.21.13 recordTimes.
void Rstp::Impl::record_times(Port& p) { p.port_times = p.msg_times; }

// §17.21.14 setReRootTree.
void Rstp::Impl::set_re_root_tree() {
  for (auto& [n, p] : ports) p.re_root = true;
}

// §17.21.15 setSelectedTree: selected for every port, unless a port asks for reselection.
void Rstp::Impl::set_selected_tree() {
  for (const auto& [n, p] : ports) {
    if (p.reselect) return;
  }
  for (auto& [n, p] : ports) p.selected = true;
}

// §17.21.16 setSyncTree.
void Rstp::Impl::set_sync_tree() {
  for (auto& [n, p] : ports) p.sync = true;
}

// §17.21.17 setTcFlags.
void Rstp::Impl::set_tc_flags(Port& p) {
  const Bpdu& b = p.rcvd_bpdu_value;
  if (b.type == BpduType::kTcn) {
    p.rcvd_tcn = true;
    return;
  }
  if (b.flags.topology_change) p.rcvd_tc = true;
  if (b.flags.topology_change_ack) p.rcvd_tc_ack = true;
}

// §17.21.18 setTcPropTree: tcProp for every port but the caller.
void Rstp::Impl::set_tc_prop_tree(Port& self) {
  tc_prop_source = self.number;
  for (auto& [n, p] : ports) {
    if (&p != &self) p.tc_prop = true;
  }
}

void Rstp::Impl::send(Port& p, const Bpdu& bpdu) {
  if (p.config.bpdu_filter) {
    ++p.counters.tx_filtered;
    return;
  }
  switch (bpdu.type) {
    case BpduType::kConfig:
      ++p.counters.tx_config;
      break;
    case BpduType::kTcn:
      ++p.counters.tx_tcn;
      break;
    case BpduType::kRst:
      ++p.counters.tx_rst;
      break;
  }
  actions.push_back(SendBpdu{p.number, bpdu});
}

namespace {
BpduTimes wire_times(const Times& t) {
  return {to_wire(t.message_age), to_wire(t.max_age), to_wire(t.hello_time),
          to_wire(t.forward_delay)};
}
}  // namespace

// §17.21.19 txConfig: a Configuration BPDU from designatedPriority and designatedTimes, with the
// TC flag while tcWhile runs and the TCA flag from tcAck.
void Rstp::Impl::tx_config(Port& p) {
  Bpdu b;
  b.version = 0;
  b.type = BpduType::kConfig;
  b.flags.topology_change = p.tc_while != 0;
  b.flags.topology_change_ack = p.tc_ack;
  b.root = p.designated_priority.root;
  b.root_path_cost = p.designated_priority.root_path_cost;
  b.bridge = p.designated_priority.designated_bridge;
  b.port = p.designated_priority.designated_port;
  b.times = wire_times(p.designated_times);
  send(p, b);
}

// §17.21.20 txRstp: an RST BPDU; role, proposal (proposing), learning, forwarding, agreement
// (agree) and TC flags from the port; TCA is never set.
void Rstp::Impl::tx_rstp(Port& p) {
  Bpdu b;
  b.version = 2;
  b.type = BpduType::kRst;
  b.flags.topology_change = p.tc_while != 0;
  b.flags.proposal = p.proposing && p.role == PortRole::kDesignated;
  b.flags.role = bpdu_role(p.role);
  b.flags.learning = p.learning;
  b.flags.forwarding = p.forwarding;
  b.flags.agreement = p.agree;
  b.root = p.designated_priority.root;
  b.root_path_cost = p.designated_priority.root_path_cost;
  b.bridge = p.designated_priority.designated_bridge;
  b.port = p.designated_priority.designated_port;
  b.times = wire_times(p.designated_times);
  send(p, b);
}

// §17.21.21 txTcn.
void Rstp::Impl::tx_tcn(Port& p) {
  Bpdu b;
  b.version = 0;
  b.type = BpduType::kTcn;
  send(p, b);
}

// §17.21.22 updtBPDUVersion: rcvdRSTP for an RST BPDU, rcvdSTP for a Config or TCN BPDU.
void Rstp::Impl::updt_bpdu_version(Port& p) {
  if (p.rcvd_bpdu_value.type == BpduType::kRst) {
    p.rcvd_rstp = true;
  } else {
    p.rcvd_stp = true;
  }
}

// §17.21.23 updtRcvdInfoWhile: 3 × Hello Time while Message Age + 1 s does not exceed Max Age.
void Rstp::Impl::updt_rcvd_info_while(Port& p) {
  if (p.port_times.message_age + 1 <= p.port_times.max_age) {
    p.rcvd_info_while = static_cast<uint16_t>(3 * p.port_times.hello_time);
  } else {
    p.rcvd_info_while = 0;
  }
}

// §17.21.24 updtRoleDisabledTree.
void Rstp::Impl::updt_role_disabled_tree() {
  for (auto& [n, p] : ports) p.selected_role = PortRole::kDisabled;
}

// §17.21.25 updtRolesTree.
void Rstp::Impl::updt_roles_tree() {
  // a), b): the best of the bridge priority vector and the root path priority vectors of ports
  // with received information, leaving out those from this bridge (same address) and, for root
  // guard, restricted ports (802.1Q-2011 restrictedRole).
  PriorityVector best = bridge_priority;
  Port* root = nullptr;
  for (auto& [n, p] : ports) {
    if (p.info_is != InfoIs::kReceived) continue;
    PriorityVector v = root_path_vector(p);
    if (mac_of(v.designated_bridge) == mac_of(bridge_identifier)) continue;
    if (p.config.root_guard) continue;
    if (better_root_path(v, best)) {
      best = v;
      root = &p;
    }
  }
  root_priority = best;
  root_port_id = root ? root->port_id : PortId{};
  // c) rootTimes: the bridge's own, or the root port's with Message Age + 1 s.
  if (root) {
    root_times = root->port_times;
    root_times.message_age = static_cast<uint16_t>(root_times.message_age + 1);
  } else {
    root_times = bridge_times;
  }
  // Root guard: a restricted port whose information would have been chosen.
  for (auto& [n, p] : ports) {
    bool inconsistent = false;
    if (p.config.root_guard && p.info_is == InfoIs::kReceived) {
      PriorityVector v = root_path_vector(p);
      inconsistent = mac_of(v.designated_bridge) != mac_of(bridge_identifier) &&
                     better_root_path(v, root_priority);
    }
    if (inconsistent != p.root_inconsistent) {
      p.root_inconsistent = inconsistent;
      actions.push_back(Inconsistent{p.number, Guard::kRoot, inconsistent});
    }
  }
  // d), e): designated priority vectors and designated times (Deviation: Hello Time is the
  // bridge's own, 802.1Q-2005 §13.26.24).
  for (auto& [n, p] : ports) {
    p.designated_priority = {root_priority.root, root_priority.root_path_cost, bridge_identifier,
                             p.port_id, p.port_id};
    p.designated_times = root_times;
    p.designated_times.hello_time = bridge_times.hello_time;
  }
  // f)–l): roles.
  for (auto& [n, p] : ports) {
    switch (p.info_is) {
      case InfoIs::kDisabled:  // f)
        p.selected_role = PortRole::kDisabled;
        break;
      case InfoIs::kAged:  // g)
        p.updt_info = true;
        p.selected_role = PortRole::kDesignated;
        break;
      case InfoIs::kMine:  // h)
        p.selected_role = PortRole::kDesignated;
        if (!same_vector(p.port_priority, p.designated_priority) ||
            p.port_times != p.designated_times) {
          p.updt_info = true;
        }
        break;
      case InfoIs::kReceived:
        if (&p == root) {  // i)
          p.selected_role = PortRole::kRoot;
          p.updt_info = false;
        } else if (!better_vector(p.designated_priority, p.port_priority)) {
          // j), k): an alternate port, or a backup port when the information is this bridge's.
          p.selected_role = mac_of(p.port_priority.designated_bridge) == mac_of(bridge_identifier)
                                ? PortRole::kBackup
                                : PortRole::kAlternate;
          p.updt_info = false;
        } else {  // l)
          p.selected_role = PortRole::kDesignated;
          p.updt_info = true;
        }
        break;
    }
  }
  report_root();
}

// §17.19.7 fdbFlush: the caller removes the port's entries now (Flush action), so the flag is
// cleared at once.
void Rstp::Impl::fdb_flush(Port& p) {
  actions.push_back(Flush{p.number});
  p.fdb_flush = false;
}

void Rstp::Impl::set_role(Port& p, PortRole role) {
  p.role = role;
  if (role != p.reported_role) {
    actions.push_back(RoleChanged{p.number, p.reported_role, role});
    p.reported_role = role;
  }
}

void Rstp::Impl::set_send_rstp(Port& p, bool value) {
  if (value != p.send_rstp && p.port_enabled) {
    actions.push_back(ProtocolChanged{p.number, value});
  }
  p.send_rstp = value;
}

// ---- §17.23 Port Receive
// -------------------------------------------------------------------------

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
// --------------------------------------------------------------

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
// -----------------------------------------------------------------------

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
// ----------------------------------------------------------------------------

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
// ------------------------------------------------------------------------

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
// ------------------------------------------------------------------------

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
// -----------------------------------------------------------------------

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
// -------------------------------------------------------------------------

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
// -----------------------------------------------------------------------------

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
