#pragma once
// Internal to the RSTP engine (rstp.cc, rstp_procedures.cc, rstp_machines.cc): the variables of
// IEEE 802.1D-2004 §17.17–17.20 and the states of the machines of §17.22–17.31. Names follow the
// standard in snake_case (rcvdInfoWhile → rcvd_info_while); see rstp.hh for the module essay.

#include <map>
#include <optional>
#include <vector>

#include "stp/rstp.hh"

namespace vnet::stp {

// §17.13, §17.19.15, §17.19.22: Message Age, Max Age, Forward Delay, Hello Time, in whole
// seconds (the resolution of the timers).
struct Times {
  uint16_t message_age = 0;
  uint16_t max_age = 20;
  uint16_t forward_delay = 15;
  uint16_t hello_time = 2;
  friend bool operator==(const Times&, const Times&) = default;
};

// §17.6: a priority vector {RootBridgeID : RootPathCost : DesignatedBridgeID : DesignatedPortID :
// BridgePortID}; lower is better, compared in that order.
struct PriorityVector {
  BridgeId root;
  uint32_t root_path_cost = 0;
  BridgeId designated_bridge;
  PortId designated_port;
  PortId bridge_port;  // only root path priority vectors use it (the tie-breaker of §17.6)
};
// The first four components equal.
bool same_vector(const PriorityVector& a, const PriorityVector& b);
// Strictly better on the first four components.
bool better_vector(const PriorityVector& a, const PriorityVector& b);
// §17.6: a message priority vector `msg` is superior to the port priority vector `port` if it is
// better, or was sent by the same designated bridge (address) and port (number).
bool superior_vector(const PriorityVector& msg, const PriorityVector& port);

enum class InfoIs : uint8_t { kDisabled, kMine, kAged, kReceived };  // §17.19.10
enum class RcvdInfo : uint8_t {                                      // §17.21.8
  kSuperiorDesignated,
  kRepeatedDesignated,
  kInferiorDesignated,
  kInferiorRootAlternate,
  kOther
};

// States of the per-port machines (figure numbers of 802.1D-2004).
enum class PrxState : uint8_t { kDiscard, kReceive };                      // §17.23, Fig 17-13
enum class PpmState : uint8_t { kCheckingRstp, kSelectingStp, kSensing };  // §17.24, Fig 17-14
enum class BdmState : uint8_t { kEdge, kNotEdge };                         // §17.25, Fig 17-15
enum class PtxState : uint8_t {                                            // §17.26, Fig 17-16
  kTransmitInit,
  kTransmitPeriodic,
  kTransmitConfig,
  kTransmitTcn,
  kTransmitRstp,
  kIdle
};
enum class PimState : uint8_t {  // §17.27, Fig 17-17
  kDisabled,
  kAged,
  kUpdate,
  kCurrent,
  kReceive,
  kSuperiorDesignated,
  kRepeatedDesignated,
  kInferiorDesignated,
  kNotDesignated,
  kOther
};
enum class PrsState : uint8_t { kInitBridge, kRoleSelection };  // §17.28, Fig 17-19
enum class PrtState : uint8_t {                                 // §17.29, Fig 17-20 … 17-23
  kInitPort,
  kDisablePort,
  kDisabledPort,
  kRootPort,
  kRootProposed,
  kRootAgreed,
  kReroot,
  kRootForward,
  kRootLearn,
  kRerooted,
  kDesignatedPort,
  kDesignatedPropose,
  kDesignatedSynced,
  kDesignatedRetired,
  kDesignatedForward,
  kDesignatedLearn,
  kDesignatedDiscard,
  kAlternatePort,
  kAlternateProposed,
  kAlternateAgreed,
  kBlockPort,
  kBackupPort
};
enum class PstState : uint8_t { kDiscarding, kLearning, kForwarding };  // §17.30, Fig 17-24
enum class TcmState : uint8_t {                                         // §17.31, Fig 17-25
  kInactive,
  kLearning,
  kDetected,
  kActive,
  kNotifiedTcn,
  kNotifiedTc,
  kPropagating,
  kAcknowledged
};

struct Port {
  PortNo number = 0;
  PortConfig config;
  // Link and protection state (not in the standard).
  bool link_up = false;
  uint32_t speed_mbps = 0;
  bool full_duplex = true;
  bool error_disabled = false;     // BPDU guard
  bool root_inconsistent = false;  // root guard
  bool loop_inconsistent = false;  // loop guard
  Bpdu rcvd_bpdu_value;            // the BPDU rcvdBpdu refers to
  PortCounters counters;
  // What the caller was last told.
  PortState reported_state = PortState::kDiscarding;
  PortRole reported_role = PortRole::kDisabled;

  // §17.17 timers, whole seconds.
  uint16_t edge_delay_while = 0, fd_while = 0, hello_when = 0, mdelay_while = 0, rb_while = 0,
           rcvd_info_while = 0, rr_while = 0, tc_while = 0;

  // §17.19 per-port variables.
  bool agree = false;  // §17.19.2
  bool agreed = false;
  PriorityVector designated_priority;  // §17.19.4
  Times designated_times;              // §17.19.5
  bool disputed = false;
  bool fdb_flush = false;  // §17.19.7
  bool forward = false, forwarding = false;
  InfoIs info_is = InfoIs::kDisabled;
  bool learn = false, learning = false;
  bool mcheck = false;          // §17.19.13
  PriorityVector msg_priority;  // §17.19.14
  Times msg_times;
  bool new_info = false;
  bool oper_edge = false;        // §17.19.17
  bool port_enabled = false;     // §17.19.18
  PortId port_id;                // §17.19.19
  uint32_t port_path_cost = 0;   // §17.19.20
  PriorityVector port_priority;  // §17.19.21
  Times port_times;              // §17.19.22
  bool proposed = false, proposing = false;
  bool rcvd_bpdu = false;  // §17.19.25
  RcvdInfo rcvd_info = RcvdInfo::kOther;
  bool rcvd_msg = false, rcvd_rstp = false, rcvd_stp = false;
  bool rcvd_tc = false, rcvd_tc_ack = false, rcvd_tcn = false;
  bool re_root = false, reselect = false;
  PortRole role = PortRole::kDisabled, selected_role = PortRole::kDisabled;
  bool selected = false;
  bool send_rstp = false;  // §17.19.38
  bool sync = false, synced = false;
  bool tc_ack = false, tc_prop = false;
  uint16_t tx_count = 0;  // §17.19.44
  bool updt_info = false;

  // Machine states.
  PrxState prx = PrxState::kDiscard;
  PpmState ppm = PpmState::kCheckingRstp;
  BdmState bdm = BdmState::kNotEdge;
  PtxState ptx = PtxState::kTransmitInit;
  PimState pim = PimState::kDisabled;
  PrtState prt = PrtState::kInitPort;
  PstState pst = PstState::kDiscarding;
  TcmState tcm = TcmState::kInactive;

  bool oper_p2p() const {
    return config.p2p == AdminP2p::kForceTrue || (config.p2p == AdminP2p::kAuto && full_duplex);
  }
};

struct Rstp::Impl {
  BridgeConfig cfg;
  packet::MacAddress mac;

  // §17.18 per-bridge variables.
  BridgeId bridge_identifier;
  PriorityVector bridge_priority;
  Times bridge_times;
  PortId root_port_id;  // 0 when this bridge is the root
  PriorityVector root_priority;
  Times root_times;
  PrsState prs = PrsState::kInitBridge;

  std::map<PortNo, Port> ports;

  // Time: one tick per whole second since `epoch`.
  TimePoint epoch{};
  int64_t ticks_done = 0;
  TimePoint now{};

  std::vector<Action> actions;
  BridgeCounters counters;
  uint64_t topology_changes = 0;
  std::optional<TimePoint> last_topology_change;
  PortNo tc_prop_source = 0;  // the port whose setTcPropTree() started the propagation
  // Last RootChanged reported.
  BridgeId reported_root;
  uint32_t reported_cost = 0;
  std::optional<PortNo> reported_root_port;
  bool root_reported = false;

  // rstp.cc: glue.
  void advance(TimePoint t);
  void port_timers_tick();  // §17.22
  void run();               // all machines to rest
  void init_port(Port& p);  // BEGIN for one port
  void update_enabled(Port& p);
  void update_path_cost(Port& p);
  void reselect_all();
  void report_root();
  Port* find(PortNo n);

  // rstp_procedures.cc: §17.20 derived values.
  bool rstp_version() const { return cfg.force_version >= 2; }  // §17.20.11
  uint16_t fwd_delay(const Port& p) const { return p.designated_times.forward_delay; }
  uint16_t hello_time(const Port& p) const { return p.designated_times.hello_time; }
  uint16_t max_age(const Port& p) const { return p.designated_times.max_age; }
  uint16_t forward_delay(const Port& p) const {  // §17.20.6
    return p.send_rstp ? hello_time(p) : fwd_delay(p);
  }
  uint16_t edge_delay(const Port& p) const {  // §17.20.4
    return p.oper_p2p() ? kMigrateTime : max_age(p);
  }
  bool all_synced() const;              // §17.20.3
  bool re_rooted(const Port& p) const;  // §17.20.10

  // §17.21 procedures.
  bool betterorsame_info(const Port& p, InfoIs new_info_is) const;  // §17.21.1
  void clear_reselect_tree();                                       // §17.21.2
  void new_tc_while(Port& p, TcCause cause);                        // §17.21.7
  RcvdInfo rcv_info(Port& p);                                       // §17.21.8
  void record_agreement(Port& p);                                   // §17.21.9
  void record_dispute(Port& p);                                     // §17.21.10
  void record_proposal(Port& p);                                    // §17.21.11
  void record_priority(Port& p);                                    // §17.21.12
  void record_times(Port& p);                                       // §17.21.13
  void set_re_root_tree();                                          // §17.21.14
  void set_selected_tree();                                         // §17.21.15
  void set_sync_tree();                                             // §17.21.16
  void set_tc_flags(Port& p);                                       // §17.21.17
  void set_tc_prop_tree(Port& p);                                   // §17.21.18
  void tx_config(Port& p);                                          // §17.21.19
  void tx_rstp(Port& p);                                            // §17.21.20
  void tx_tcn(Port& p);                                             // §17.21.21
  void updt_bpdu_version(Port& p);                                  // §17.21.22
  void updt_rcvd_info_while(Port& p);                               // §17.21.23
  void updt_role_disabled_tree();                                   // §17.21.24
  void updt_roles_tree();                                           // §17.21.25
  void fdb_flush(Port& p);                                          // §17.19.7
  void set_role(Port& p, PortRole role);
  void set_send_rstp(Port& p, bool value);
  void send(Port& p, const Bpdu& bpdu);

  // rstp_machines.cc, §17.23–17.31: one step of each machine; true when it took a transition.
  bool step_prx(Port& p);
  bool step_ppm(Port& p);
  bool step_bdm(Port& p);
  bool step_ptx(Port& p);
  bool step_pim(Port& p);
  bool step_prs();
  bool step_prt(Port& p);
  bool step_pst(Port& p);
  bool step_tcm(Port& p);
  void enter_prx(Port& p, PrxState s);
  void enter_ppm(Port& p, PpmState s);
  void enter_bdm(Port& p, BdmState s);
  void enter_ptx(Port& p, PtxState s);
  void enter_pim(Port& p, PimState s);
  void enter_prs(PrsState s);
  void enter_prt(Port& p, PrtState s);
  void enter_pst(Port& p, PstState s);
  void enter_tcm(Port& p, TcmState s);
};

}  // namespace vnet::stp
