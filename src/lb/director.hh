#pragma once
// The load-balancing half of the keepalived daemon: the Balancer (lb/balancer.hh) on the event
// loop, its probes run by the Prober (lb/probe.hh), its table given to a Datapath after every
// change, notify scripts run through the child supervisor. One timer at the Balancer's next
// deadline; a probe's outcome is fed back as it arrives. Single-threaded, on the loop's thread.

#include <map>
#include <memory>
#include <string>

#include "base/child_supervisor.hh"
#include "base/event_loop.hh"
#include "base/random.hh"
#include "lb/balancer.hh"
#include "lb/conn_counts.hh"
#include "lb/dr_conns.hh"
#include "lb/nft_ruleset.hh"
#include "lb/nft_stats.hh"
#include "lb/probe.hh"
#include "lb/scheduler.hh"
#include "vrrp/keepalived_conf.hh"

namespace vnet::lb {

// Where the table goes: nftables (NftDatapath) or a fake in tests.
class Datapath {
 public:
  virtual ~Datapath() = default;
  // The whole table, atomically, with the connection-count services' choices.
  virtual Status program(const Table& table, const Picks& picks) = 0;
  // A connection-count service's choice for new connections (nullopt: none available).
  virtual Status set_pick(const ServiceKey& service, const std::optional<Endpoint>& dest) = 0;
  virtual Status clear() = 0;
  // Re-reads what the programmed table depends on outside the configuration (DR real servers'
  // MACs) and reprograms when it changed. Called once a second while a DR service exists.
  virtual Status refresh() { return {}; }
  // Whether the datapath schedules the connection-count services itself (IPVS counts
  // connections in the kernel): then the director neither follows connection tracking nor
  // computes picks.
  virtual bool schedules_connections() const { return false; }
  // Traffic counters of the services it counts (lb/stats.hh), read now. The default counts
  // nothing.
  virtual Result<Stats> stats() const { return Stats{}; }
  // Whether the datapath can send a connection of `service` to `dest` now (a DR real server whose
  // MAC is not known yet cannot be): a connection-count scheduler picks among those only.
  virtual bool reaches(const ServiceKey& service, const Endpoint& dest) const {
    (void)service;
    (void)dest;
    return true;
  }
  // The destination of a DR service that a frame rewritten to `mac` goes to (nullopt: none of
  // the programmed table's), to attribute logged segments (lb/dr_log.hh).
  virtual std::optional<Endpoint> dr_dest(const ServiceKey& service,
                                          const packet::MacAddress& mac) const {
    (void)service;
    (void)mac;
    return std::nullopt;
  }
};

// `table ip vnet_lb` and `table netdev vnet_lb_dr`, rewritten in one libnftables transaction
// (lb/nft_ruleset.hh). DR destinations are resolved from the route and neighbour tables at each
// program() and refresh(): one reached through a gateway, or the director's own address, is an
// error naming it (DR needs it on-link); one whose MAC is not known yet is left out, its address
// solicited, and added by the refresh() that finds it. Counters: lb/nft_stats.hh (`table ip
// vnet_lb_stats` kept across program(); the DR table's counters read before each rewrite and
// carried over).
class NftDatapath final : public Datapath {
 public:
  Status program(const Table& table, const Picks& picks) override;
  Status set_pick(const ServiceKey& service, const std::optional<Endpoint>& dest) override;
  Status clear() override;
  Status refresh() override;
  Result<Stats> stats() const override;
  std::optional<Endpoint> dr_dest(const ServiceKey& service,
                                  const packet::MacAddress& mac) const override;
  bool reaches(const ServiceKey& service, const Endpoint& dest) const override;

 private:
  Result<DrHops> resolve(const Table& table) const;
  Result<NftCounters> read_counters(std::string_view family, std::string_view table) const;
  DrFlows read_flows() const;  // the DR flows maps of the table programmed now
  Table table_;
  Picks picks_;
  DrHops hops_;
  Counted counted_;
  NftCounters dr_carried_;  // what the DR tables replaced so far had counted
  bool dr_table_ = false;   // the last program() wrote `table netdev vnet_lb_dr`
  bool fresh_ = true;       // no program() yet since start or clear(): stats table recreated
};

// What lb/show prints about a checker's last probe.
struct LastResult {
  TimePoint at{};
  bool success = false;
  std::string detail;  // "connected", "status 500", "timed out"
};

class Director {
 public:
  Director(EventLoop& loop, Children& children, Datapath& datapath, uint64_t seed)
      : loop_(loop),
        children_(children),
        datapath_(datapath),
        random_(seed),
        prober_(loop, children) {}
  ~Director();
  Director(const Director&) = delete;
  Director& operator=(const Director&) = delete;

  // Errors: an unknown script_user; the first table refused by the datapath.
  Status start(const LbConfig& config, const vrrp::GlobalDefs& global);
  // SIGHUP: the new configuration applied to the running state (Balancer::reload: unchanged
  // checkers keep their state and running probes; a real server down at the reload comes back
  // when its checkers pass). Errors: an unknown script_user (nothing changed then).
  Status reload(const LbConfig& config, const vrrp::GlobalDefs& global);
  void shutdown();  // everything removed, the datapath cleared

  const Balancer* balancer() const { return balancer_.get(); }
  const LastResult* last(const CheckerRef& ref) const;

  // Connection-count schedulers (lc, wlc, sed, nq, fo, ovf, twos, lblc, lblcr; lb/conn_counts.hh):
  // whether the configuration has one on a NAT service, so connection-tracking events must be
  // fed in (lb/conntrack.hh), and the feed.
  bool follows_connections() const;
  void on_conn_event(const ConnEvent& e);
  void on_conn_resync(const std::vector<ConnEvent>& all);  // the whole table, after a loss
  // The same on DR services: their logged segments (lb/dr_log.hh) fed in, followed by the
  // input-only TCP states (lb/dr_conns.hh) with a timer at the next timeout.
  bool follows_dr_connections() const;
  void on_dr_segment(const DrLogged& logged);
  // A service's counts: followed from connection tracking (NAT) or from logged segments (DR).
  DestCounts conn_counts(const ServiceKey& service, Forwarding forwarding,
                         const Endpoint& dest) const;
  const ConnCounts& conn_counts() const { return counts_; }
  uint64_t dr_unattributed() const { return dr_unattributed_; }
  const Picks& picks() const { return picks_; }
  // The datapath's counters now (lb/stats.hh).
  Result<Stats> stats() const { return datapath_.stats(); }

 private:
  void apply(Step step);
  void watch_connections();
  void record_result(const CheckerRef& ref, const LastResult& result);
  void arm();
  Status program();  // the balancer's table and fresh picks to the datapath
  std::optional<Endpoint> pick(const TableService& s);
  void repick(const ServiceKey& key);

  EventLoop& loop_;
  Children& children_;
  Datapath& datapath_;
  Random random_;
  Prober prober_;
  vrrp::ScriptRunner runner_;
  std::unique_ptr<Balancer> balancer_;
  // Running probes: (checker, engine probe id) → the prober's key.
  struct Running {
    CheckerRef ref;
    uint64_t id;
  };
  std::map<uint64_t, Running> running_;
  uint64_t next_key_ = 1;
  std::vector<std::pair<CheckerRef, LastResult>> last_;
  EventLoop::TimerId timer_ = 0;
  EventLoop::TimerId refresh_timer_ = 0;
  void arm_refresh();
  ConnCounts counts_;     // NAT services, from connection tracking
  ConnCounts dr_counts_;  // DR services, from dr_tracker_
  DrConnTracker dr_tracker_;
  EventLoop::TimerId dr_timer_ = 0;
  TimePoint dr_timer_at_{};       // when dr_timer_ fires
  uint64_t dr_unattributed_ = 0;  // segments to a MAC no destination of the service has
  void arm_dr_expiry();
  bool counts_connections(bool dr) const;  // a connection-count service of that kind exists
  std::map<ServiceKey, std::unique_ptr<Scheduler>> conn_schedulers_;
  Picks picks_;
};

}  // namespace vnet::lb
