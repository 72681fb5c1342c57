// The priority vectors (§17.6), conditions (§17.20) and procedures (§17.21) of IEEE 802.1D-2004
// clause 17 for Rstp's state machines (rstp_machines.cc), in the standard's words; deviations are
// marked "Deviation" and listed in rstp.hh.

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

// ---- §17.20 conditions

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

// ---- §17.21 procedures

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

namespace {
// What txConfig and txRstp both carry: designatedPriority and designatedTimes, and the TC flag
// while tcWhile runs.
Bpdu designated_bpdu(const Port& p, uint8_t version, BpduType type) {
  Bpdu b;
  b.version = version;
  b.type = type;
  b.flags.topology_change = p.tc_while != 0;
  b.root = p.designated_priority.root;
  b.root_path_cost = p.designated_priority.root_path_cost;
  b.bridge = p.designated_priority.designated_bridge;
  b.port = p.designated_priority.designated_port;
  b.times = wire_times(p.designated_times);
  return b;
}
}  // namespace

// §17.21.19 txConfig: a Configuration BPDU, with the TCA flag from tcAck.
void Rstp::Impl::tx_config(Port& p) {
  Bpdu b = designated_bpdu(p, 0, BpduType::kConfig);
  b.flags.topology_change_ack = p.tc_ack;
  send(p, b);
}

// §17.21.20 txRstp: an RST BPDU; role, proposal (proposing), learning, forwarding and agreement
// (agree) flags from the port; TCA is never set.
void Rstp::Impl::tx_rstp(Port& p) {
  Bpdu b = designated_bpdu(p, 2, BpduType::kRst);
  b.flags.proposal = p.proposing && p.role == PortRole::kDesignated;
  b.flags.role = bpdu_role(p.role);
  b.flags.learning = p.learning;
  b.flags.forwarding = p.forwarding;
  b.flags.agreement = p.agree;
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

}  // namespace vnet::stp
