#pragma once
// The director's state without I/O: virtual servers, their real servers and the checkers that
// judge them (keepalived 2.2.7 check/ipwrapper.c), and the table a datapath must hold.
//
// The table is a pure function of the configuration and the current state (table_for()):
//  - a real server is alive when all its checkers are up (none: always alive); its weight is the
//    configured one, or the one a misc_dynamic checker set, clamped to 0..65535;
//  - quorum: a service's quorum state goes up when the alive weight sum reaches quorum +
//    hysteresis and down when it falls below quorum - hysteresis (or to 0) — the only state that
//    is not a function of the checkers alone (ipwrapper.c update_quorum_state());
//  - with quorum (or without a sorry server): alive real servers are in the table with their
//    weight; a dead one is absent, or present with weight 0 under inhibit_on_failure;
//  - without quorum and with a sorry server: the sorry server alone serves; real servers with
//    inhibit_on_failure stay at weight 0, the others are absent; with sorry_server_inhibit the
//    sorry server stays at weight 0 while quorum holds.
// Every event recomputes the table and returns the changes from the old table to the new one, in
// an order a datapath can apply (apply_changes()): services added first, then per service
// deletions, weight edits, additions, and services removed last — never a real server before its
// service (keepalived #2295), and on a quorum change the old destinations go before the new ones
// come (keepalived PR #1370 order). Notifications (notify_up/down, quorum_up/down) follow the table
// changes, in the order the transitions happened. Because the table is recomputed, a recovered
// real server is always re-added (keepalived #362, #373, #871, #1720).
//
// Reload: services, real servers and checkers are matched by key; an unchanged checker keeps its
// state and schedule, a real server keeps its alive state, a service its quorum state; what is
// new starts as at boot; what is gone is removed from the table (a live real server with its
// notify_down). A real server down at the reload stays out until its checkers pass.
//
// Quorum is re-evaluated once per event (one probe outcome, one tick), after all the real-server
// changes the event caused; keepalived evaluates it after each real server's change, which can
// differ only when one tick changes several servers across a hysteresis band.
//
// Not thread-safe. Time only from arguments; warmup draws from the Random given at construction.

#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "base/random.hh"
#include "base/result.hh"
#include "lb/checker.hh"
#include "lb/config.hh"

namespace vnet::lb {

struct TableDest {
  Endpoint addr;
  int weight = 0;
  bool sorry = false;  // the sorry server
  // The order keepalived adds destinations in: the real server's place in its virtual server
  // (0, 1, …), the sorry server after them. IPVS lists destinations by insertion and rr/wrr walk
  // that list, so the IPVS datapath adds them in this order (lb/ipvs_plan.hh). Only an order
  // for adding: not part of what the table holds, so not compared (a reload that reorders the
  // file changes no destination).
  int rank = 0;
  friend bool operator==(const TableDest& a, const TableDest& b) {
    return a.addr == b.addr && a.weight == b.weight && a.sorry == b.sorry;
  }
};

struct TableService {
  ServiceKey key;
  std::string scheduler;
  Forwarding forwarding = Forwarding::kNat;
  std::optional<Duration> persistence;
  std::vector<TableDest> dests;          // sorted by address (one canonical order for comparison)
  std::string persistence_granularity;   // as configured ("" = one client address)
  std::vector<std::string> sched_flags;  // as configured (mh-port, sh-port, ...)
  std::vector<GroupMember> group;        // key.kind == kGroup: the virtual_server_group's entries
  friend bool operator==(const TableService&, const TableService&) = default;
};

using Table = std::vector<TableService>;  // services in configuration order

struct Change {
  enum Kind {
    kAddService,
    kEditService,  // scheduler, forwarding, persistence, flags or group entries changed
    kDelService,
    kAddDest,
    kEditDest,  // weight changed
    kDelDest,
    kNotifyUp,    // a real server came up: run its notify_up
    kNotifyDown,  // a real server went down: run its notify_down
    kQuorumUp,    // run the service's quorum_up
    kQuorumDown,  // run the service's quorum_down
  } kind;
  ServiceKey service;
  Endpoint dest;       // k*Dest, kNotify*
  int weight = 0;      // kAddDest, kEditDest
  std::string script;  // kNotify*, kQuorum*: the command to run ("" = none configured)
  bool sorry = false;  // kAddDest: the destination is the sorry server
  int rank = 0;        // kAddDest: TableDest::rank
  // kAddService, kEditService: the service's attributes.
  std::string scheduler;
  Forwarding forwarding = Forwarding::kNat;
  std::optional<Duration> persistence;
  std::string persistence_granularity;
  std::vector<std::string> sched_flags;
  std::vector<GroupMember> group;
  friend bool operator==(const Change&, const Change&) = default;
};
std::string to_string(const Change& c);  // "add dest 10.0.0.1:80 weight 1 to 10.0.0.100:80/TCP"

// Applies table changes as a datapath would; error (EINVAL) naming the change when it cannot be
// applied: a destination for a service that does not exist, one added twice, one edited or
// removed that is not there, a service added twice or removed while absent.
Result<void> apply_changes(Table& table, const std::vector<Change>& changes);

// Identifies a checker: indices into LbConfig::services, its reals and their checkers.
struct CheckerRef {
  size_t service = 0, real = 0, checker = 0;
  friend bool operator==(const CheckerRef&, const CheckerRef&) = default;
};

// What the I/O layer must do for a checker.
struct ProbeAction {
  CheckerRef ref;
  std::variant<StartProbe, AbortProbe> action;
};

struct Step {
  std::vector<ProbeAction> probes;
  std::vector<Change> changes;
  // reload(): checkers that kept their state, old reference -> new; their running probes keep
  // their ids. Checkers not listed are gone (their running probes are aborted in `probes`, with
  // the old reference).
  std::vector<std::pair<CheckerRef, CheckerRef>> moved;
};

class Balancer {
 public:
  // Boot: every service and its live real servers are in the table (the first Step's changes,
  // taken with start()).
  Balancer(LbConfig config, TimePoint now, Random& random);

  // The changes that build the boot table from an empty datapath.
  Step start();
  // Starts due probes, aborts late ones (a timeout is a failure), applies what follows.
  Step tick(TimePoint now);
  // A probe's outcome.
  Step on_outcome(const CheckerRef& ref, uint64_t probe, TimePoint now, const ProbeOutcome& o);
  // SIGHUP: the new configuration applied to the current state.
  Step reload(LbConfig config, TimePoint now);
  // Stop: everything removed; with omega, notify_down for live real servers and quorum_down for
  // services with quorum (keepalived clear_services()).
  Step shutdown();

  TimePoint next_deadline() const;
  const LbConfig& config() const { return config_; }
  // The table the datapath holds once every returned change is applied.
  const Table& table() const { return table_; }
  bool real_alive(size_t service, size_t real) const;
  int real_weight(size_t service, size_t real) const;  // effective, 0..65535
  bool quorum_up(size_t service) const { return services_[service].quorum_up; }
  const Checker& checker(const CheckerRef& ref) const {
    return services_[ref.service].reals[ref.real].checkers[ref.checker];
  }

 private:
  struct RealState {
    std::vector<Checker> checkers;
    bool alive = true;  // as last evaluated (for notifications)
  };
  struct ServiceState {
    std::vector<RealState> reals;
    bool quorum_up = true;
  };

  bool computed_alive(size_t s, size_t r) const;
  long live_weight(size_t s) const;
  Step settle(std::vector<ProbeAction> probes, std::vector<Change> notes);
  void drain(const CheckerRef& ref, std::vector<ProbeAction>& probes);
  ServiceState fresh_service(const VirtualServerConfig& vs, TimePoint now);

  LbConfig config_;
  Random& random_;
  std::vector<ServiceState> services_;
  Table table_;
};

// The table for a configuration and its state: `alive[s][r]`, `weight[s][r]` (effective) and
// `quorum_up[s]`.
Table table_for(const LbConfig& config, const std::vector<std::vector<bool>>& alive,
                const std::vector<std::vector<int>>& weight, const std::vector<bool>& quorum_up);
// The changes from one table to another, in the order described above.
std::vector<Change> diff(const Table& from, const Table& to);
// keepalived update_quorum_state(): the next quorum state for an alive weight sum.
bool next_quorum(bool up, long weight_sum, unsigned quorum, unsigned hysteresis);

}  // namespace vnet::lb
