#pragma once
// Rstp: the Rapid Spanning Tree Protocol of IEEE 802.1D-2004 clause 17 (802.1w), with the
// standard's compatibility with the Spanning Tree Protocol of 802.1D-1998 (Config and TCN BPDUs),
// for one bridge, without I/O.
//
// What it models. One bridge with numbered ports. Inputs are decoded BPDUs (stp/bpdu.hh; the
// engine never sees bytes), link events, management changes and the passage of time; outputs are
// actions the caller carries out: send a BPDU on a port, set a port's forwarding state
// (discarding/learning/forwarding), flush the port's learned addresses, and events worth a log
// line (roles, root, topology changes, protocol migration, guards). The engine keeps the
// standard's variables (§17.17–17.20) and runs its state machines (§17.22–17.31) to completion
// after every input; each procedure (rstp_procedures.cc) and state (rstp_machines.cc) is named as
// in the standard and cites its clause, so it can be checked against the text.
//
// Time. The standard's timers count whole seconds, decremented by the Port Timers state machine
// once per `tick` (§17.22). The engine keeps an epoch, the `now` given to create(), and runs one
// tick for every whole second of `now - epoch` not yet run: every input first catches up the due
// ticks, so a caller calls tick(now) at next_tick() (or any later time) and passes the current
// time with every other input. At most kMaxCatchUpTicks ticks run in one call; beyond that
// (the host was suspended) the rest are skipped and counted — every timer is shorter than that.
// Time going backwards runs no tick.
//
// Invariants. Every input returns with the state machines at rest (no enabled transition); a
// port's forwarding state changes only through SetPortState actions, in the standard's order
// (discarding → learning → forwarding); a port is discarding from add_port() until the machines
// let it learn. Nothing throws and no input can stall the engine: the machines are run to rest
// with an iteration bound (a bound hit is counted, never expected).
//
// Received BPDUs are dropped and counted (PortCounters) when: the port is unknown (bridge
// counter), disabled or error-disabled, or filtered; it is the port's own BPDU looped back (the
// bridge and port identifier of a Config or RST BPDU equal the receiving port's, §9.3.4 a); an
// RST BPDU has Protocol Version < 2; a Config or RST BPDU carries times outside the ranges this
// engine accepts (in 1/256 s on the wire): Max Age 6–40 s, Hello Time 1–10 s (802.1D-1998
// allowed up to 10 s), Forward Delay 4–30 s (§17.14, Table 17-1), Message Age below Max Age.
//
// Protection features (not in 802.1D; as vendors implement them, per port):
//  - BPDU guard: any BPDU received on the port error-disables it (PortErrorDisabled action): the
//    port is treated as disabled (portEnabled false) until clear_error(). Meant for edge ports.
//  - BPDU filter: the port neither transmits nor processes BPDUs (received ones are counted and
//    dropped). With no BPDU heard it becomes designated, and an edge once the edge delay ends.
//  - Root guard: the port may not become root port (802.1Q-2011's restrictedRole, §13.27.62):
//    it is left out of root port selection, and while its received information is better than the
//    bridge's root priority vector it is "root-inconsistent" and an alternate port (discarding).
//    When the superior BPDUs stop, the information ages out (3 × Hello Time) and the port
//    becomes designated again.
//  - Loop guard: when the received information of a root, alternate or backup port ages out
//    (rcvdInfoWhile reached 0 — the neighbour went silent but the link is up, e.g. a one-way
//    link), the port becomes designated as the standard says but is held "loop-inconsistent":
//    it stays discarding (no learning or forwarding) until it receives a BPDU again or its link
//    goes down.
//
// Deviations from the 802.1D-2004 text, each taken from a later text or the common reading:
//  - recordDispute sets disputed and clears agreed (802.1Q-2005 §13.26.11); the 2004 text sets
//    agreed, which makes a disputed designated port go forwarding.
//  - a received TCN sets rcvdTcn in rcvInfo (802.1Q-2005 §13.26.8): in the 2004 text a TCN leads
//    to OtherInfo and setTcFlags is never reached for it.
//  - allSynced ignores the root port's own synced (802.1Q-2005 §13.25.1).
//  - designatedTimes take the bridge's own Hello Time (802.1Q-2005 §13.26.24 e).
//  - fdbFlush: the Flush action asks for the port's entries to be removed at once in both
//    versions (802.1D wants rapid ageing for STP compatibility, §17.19.7); the flag is cleared
//    when the action is emitted (the caller flushes synchronously).
//  - Port Transmit is held in TRANSMIT_INIT while the port is disabled (802.1Q-2005 §13.31), and
//    runs after the other machines of an input have come to rest, so one input sends one BPDU.
//
// Threading: none; one Rstp belongs to one thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "base/clock.hh"
#include "base/result.hh"
#include "packet/address.hh"
#include "stp/bpdu.hh"
#include "stp/port_state.hh"

namespace vnet::stp {

using PortNo = uint32_t;  // the bridge's port number; also the 12-bit port number of §9.2.7

// §17.7: port roles.
enum class PortRole : uint8_t { kDisabled, kRoot, kDesignated, kAlternate, kBackup };
std::string_view role_name(PortRole r);  // "disabled", "root", "designated", "alternate", …

// Path cost from link speed: §17.14 Table 17-3 (long, 32 bits: 20,000,000,000 / speed in kb/s,
// 1 Gb/s = 20,000) or 802.1D-1998 Table 8-5 (short, 16 bits, as the Linux bridge: 10 Mb/s = 100,
// 100 Mb/s = 19, 1 Gb/s = 4, 10 Gb/s and faster = 2).
enum class PathCostMethod : uint8_t { kLong, kShort };
uint32_t path_cost_for_speed(uint32_t speed_mbps, PathCostMethod method);

// §6.4.3 adminPointToPointMAC: operPointToPointMAC follows the duplex with kAuto.
enum class AdminP2p : uint8_t { kAuto, kForceTrue, kForceFalse };

// Ranges of §17.13 and §17.14 (Table 17-1, 17-2), checked by validate().
struct BridgeConfig {
  uint16_t priority = 32768;    // 0–61440, a multiple of 4096 (§17.13.7)
  uint16_t system_id = 0;       // 0–4095, the system ID extension of the bridge id (§9.2.5)
  uint8_t force_version = 2;    // §17.13.4: 0 = STP-compatible, 2 = RSTP
  uint16_t hello_time = 2;      // seconds, 1–2 (§17.13.6)
  uint16_t max_age = 20;        // seconds, 6–40 (§17.13.8)
  uint16_t forward_delay = 15;  // seconds, 4–30 (§17.13.5)
  uint8_t tx_hold_count = 6;    // BPDUs per port per second, 1–10 (§17.13.12)
  PathCostMethod path_cost_method = PathCostMethod::kLong;
};
// Errors name the field and the range, or the §17.14 relation that fails:
// "bridge forward_delay 40: expected 4–30 s",
// "bridge max_age 30 s breaks 2 × (forward_delay − 1 s) ≥ max_age (§17.14): 2 × (15 − 1) = 28".
Status validate(const BridgeConfig& config);

struct PortConfig {
  uint8_t priority = 128;  // 0–240, a multiple of 16 (§17.13.10)
  uint32_t path_cost = 0;  // 0 = from the link speed; else 1–200,000,000 (long), 1–65535 (short)
  bool enabled = true;     // administrative state; portEnabled also needs the link up
  bool admin_edge = false;  // §17.13.1 AdminEdge: starts as an edge port
  bool auto_edge = true;    // §17.13.3 AutoEdge: becomes an edge port when no bridge answers
  AdminP2p p2p = AdminP2p::kAuto;
  bool bpdu_guard = false;
  bool bpdu_filter = false;
  bool root_guard = false;
  bool loop_guard = false;
};
// "port 5 priority 100: expected 0–240 in steps of 16".
Status validate(const PortConfig& config, PathCostMethod method);

// Actions, in the order they were taken.
struct SendBpdu {
  PortNo port = 0;
  Bpdu bpdu;
};
struct SetPortState {
  PortNo port = 0;
  PortState state = PortState::kDiscarding;
};
// Remove the addresses learned on `port` (§17.19.7 fdbFlush).
struct Flush {
  PortNo port = 0;
};
// BPDU guard tripped: the port stays disabled until clear_error().
struct PortErrorDisabled {
  PortNo port = 0;
};
// Events for the log.
struct RoleChanged {
  PortNo port = 0;
  PortRole from = PortRole::kDisabled, to = PortRole::kDisabled;
};
struct RootChanged {
  BridgeId root;
  uint32_t root_path_cost = 0;
  std::optional<PortNo> root_port;  // none: this bridge is the root
};
// A topology change period began on this bridge (the first tcWhile to start, §17.17.7).
enum class TcCause : uint8_t { kDetected, kTcnReceived, kTcReceived };
std::string_view tc_cause_name(TcCause c);  // "detected", "tcn-received", "tc-received"
struct TopologyChange {
  PortNo port = 0;  // where it was detected or received
  TcCause cause = TcCause::kDetected;
};
// §17.24: the port changed the BPDU type it sends (sendRSTP).
struct ProtocolChanged {
  PortNo port = 0;
  bool rstp = true;  // false: sends Config/TCN BPDUs to an STP neighbour
};
enum class Guard : uint8_t { kRoot, kLoop };
struct Inconsistent {
  PortNo port = 0;
  Guard guard = Guard::kRoot;
  bool active = true;  // false: cleared
};
using Action = std::variant<SendBpdu, SetPortState, Flush, PortErrorDisabled, RoleChanged,
                            RootChanged, TopologyChange, ProtocolChanged, Inconsistent>;

struct PortCounters {
  uint64_t rx_config = 0, rx_tcn = 0, rx_rst = 0;
  uint64_t tx_config = 0, tx_tcn = 0, tx_rst = 0;
  uint64_t rx_looped_back = 0;  // own BPDU (§9.3.4 a)
  uint64_t rx_bad_times = 0;    // times outside the accepted ranges
  uint64_t rx_malformed = 0;    // RST type with version < 2
  uint64_t rx_disabled = 0;     // received while the port is disabled or error-disabled
  uint64_t rx_filtered = 0;     // BPDU filter
  uint64_t tx_filtered = 0;     // BPDU filter: transmissions suppressed
  uint64_t bpdu_guard_trips = 0;
};

struct PortStatus {
  PortNo port = 0;
  PortId id;
  PortRole role = PortRole::kDisabled;
  PortState state = PortState::kDiscarding;
  uint32_t path_cost = 0;  // PortPathCost in use
  bool link_up = false;
  bool enabled = false;  // portEnabled: admin enabled, link up, not error-disabled
  bool oper_edge = false;
  bool oper_p2p = false;
  bool send_rstp = true;  // false: STP-compatible on this port
  bool error_disabled = false, root_inconsistent = false, loop_inconsistent = false;
  bool topology_change = false;  // tcWhile running
  // The port priority vector (§17.6): what the port believes about its segment.
  BridgeId designated_root;
  uint32_t designated_cost = 0;
  BridgeId designated_bridge;
  PortId designated_port;
  PortCounters counters;
};

struct BridgeCounters {
  uint64_t rx_unknown_port = 0;
  uint64_t skipped_ticks = 0;
  uint64_t iteration_limit = 0;  // state machines stopped at the bound (a defect if ever seen)
};

struct BridgeStatus {
  BridgeId bridge_id;
  BridgeId root_id;
  uint32_t root_path_cost = 0;
  std::optional<PortNo> root_port;
  // rootTimes (§17.18.7), seconds: what the root announces.
  uint16_t max_age = 0, hello_time = 0, forward_delay = 0, message_age = 0;
  uint8_t force_version = 2;
  bool topology_change = false;  // a tcWhile is running on some port
  uint64_t topology_changes = 0;
  std::optional<TimePoint> last_topology_change;
  BridgeCounters counters;
};

class Rstp {
 public:
  // Ticks run at most per call; the rest are skipped (BridgeCounters::skipped_ticks).
  static constexpr int kMaxCatchUpTicks = 120;
  // §17.13.9 Migrate Time, fixed by the standard.
  static constexpr uint16_t kMigrateTime = 3;

  static Result<Rstp> create(const BridgeConfig& config, const packet::MacAddress& mac,
                             TimePoint now);
  Rstp(Rstp&&) noexcept;
  Rstp& operator=(Rstp&&) noexcept;
  ~Rstp();

  // Ports. A new port is discarding (a SetPortState action says so) and disabled until
  // link_up(). Port numbers 1–4095 (§9.2.7). EEXIST / ENOENT / EINVAL with the field named.
  Status add_port(PortNo port, const PortConfig& config, TimePoint now);
  Status remove_port(PortNo port, TimePoint now);
  Status configure_port(PortNo port, const PortConfig& config, TimePoint now);
  // Bridge configuration at run time: priority, times, version, hold count, cost method.
  Status configure(const BridgeConfig& config, TimePoint now);

  // Inputs. Unknown ports are ignored (counted for receive).
  void link_up(PortNo port, uint32_t speed_mbps, bool full_duplex, TimePoint now);
  void link_down(PortNo port, TimePoint now);
  void receive(PortNo port, const Bpdu& bpdu, TimePoint now);
  void tick(TimePoint now);
  // §17.19.13 mcheck: try RSTP again on the port (management's "protocol migration check").
  void mcheck(PortNo port, TimePoint now);
  // Re-enable a port error-disabled by BPDU guard. ENOENT, or EALREADY if it was not.
  Status clear_error(PortNo port, TimePoint now);

  std::vector<Action> take_actions();
  TimePoint next_tick() const;

  // Queries (for stp/show).
  BridgeStatus status() const;
  std::vector<PortNo> ports() const;
  std::optional<PortStatus> port_status(PortNo port) const;
  const BridgeConfig& config() const;
  std::optional<PortConfig> port_config(PortNo port) const;

  struct Impl;  // the standard's variables and machines (rstp_impl.hh)

 private:
  explicit Rstp(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace vnet::stp
