#pragma once
// The VRRP daemon: a keepalived.conf's instances on one event loop, composed from
//   instance.hh   each vrrp_instance: Router + host part, runs its actions
//   trackers.hh   script results and link states → effective priority and FAULT
//   scripts.hh    who runs notify / vrrp_script commands, and which a transition runs
//   reload.hh     what a SIGHUP does to each kept instance
//   host.hh       the machine (SystemHost for real, a fake in tests)
//   base/child_supervisor.hh   starts the scripts and reaps only them
// What is left here is the glue: one timer at the earliest deadline of all routers; a 100 ms
// link poll; vrrp_script checks every `interval` (never two at once; their timeout is the
// supervisor's); notify scripts on every transition; sync groups (members follow a member into
// MASTER and out of it; the group's notify_* run once per state the group enters); the
// no_accept filter over all masters; the static addresses, routes and rules (static_ipaddress,
// static_routes, static_rules: added at start before any instance, removed at shutdown after
// them); reload.
//
// Reload keeps the old configuration running when the new one does not parse, or names an
// unknown script_user; otherwise every instance is reconciled (reload.hh), scripts are added,
// changed (interval, command, fall/rise, weight) or removed, and trackers recomputed.
//
// Single-threaded, on the loop's thread; time only from the loop's Clock, so the whole daemon
// runs in tests on a ManualClock with a fake Host and fake Children.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/child_supervisor.hh"
#include "base/event_loop.hh"
#include "vrrp/host.hh"
#include "vrrp/instance.hh"
#include "vrrp/keepalived_conf.hh"
#include "vrrp/scripts.hh"
#include "vrrp/trackers.hh"

namespace vnet::vrrp {

struct DaemonOptions {
  ChecksumMode checksum = ChecksumMode::kPseudoHeader;
};

class Daemon {
 public:
  Daemon(EventLoop& loop, Host& host, Children& children, DaemonOptions options)
      : loop_(loop), host_(host), children_(children), options_(options) {}
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Errors: an unknown script_user, an instance whose host part cannot be opened.
  Status start(const KeepalivedConfig& config);
  // Errors: refused (nothing changed) for an unknown script_user; an instance that could not
  // be (re)opened is reported and left stopped, the rest applied.
  Status reload(const KeepalivedConfig& config);
  // Reads and parses `path`, then reload(); a file that does not parse is refused with its
  // errors logged and nothing changed.
  Status reload_file(const std::string& path);
  void shutdown();  // priority 0 where master, VIPs removed, notify_stop

  const std::map<std::string, std::unique_ptr<Instance>>& instances() const { return instances_; }

 private:
  struct Check {  // a vrrp_script
    ScriptConfig conf;
    ScriptHealth health;
    pid_t pid = -1;
    bool disabled = false;  // refused by enable_script_security: never run, never fails
    EventLoop::TimerId timer = 0;
  };
  Status add_instance(const InstanceConfig& c);
  void remove_instance(const std::string& name);
  Instance::Events events();
  void on_state(Instance& in, const StateChanged& change);
  void update_trackers(Instance& in);
  void schedule();
  void poll_links();
  std::vector<std::string> sync_scripts(const std::vector<ScriptConfig>& scripts);
  void run_check(const std::string& name);
  void on_check_exit(const std::string& name, const ChildExit& exit);
  void spawn(const std::string& command);
  void update_no_accept();
  Status set_script_policy(const KeepalivedConfig& config);
  std::string group_of(const std::string& instance) const;
  // static_ipaddress / static_routes / static_rules: from what is applied to `next` (added at
  // start, removed at shutdown; a reload adds and removes the difference).
  void apply_statics(const KeepalivedConfig& next);

  EventLoop& loop_;
  Host& host_;
  Children& children_;
  DaemonOptions options_;
  GlobalDefs global_;
  std::map<std::string, std::unique_ptr<Instance>> instances_;
  std::map<std::string, Check> checks_;
  std::map<std::string, SyncGroupConfig> groups_;
  std::map<std::string, State> group_state_;  // as last notified
  EventLoop::TimerId deadline_timer_ = 0, link_timer_ = 0;
  bool in_group_change_ = false;
  ScriptRunner runner_;
  std::set<std::string> refused_;            // commands already reported as insecure
  NoAcceptSet no_accept_;                    // as last given to the host
  std::vector<VipConfig> static_addresses_;  // as applied
  std::vector<RouteConfig> static_routes_;
  std::vector<RuleConfig> static_rules_;
};

}  // namespace vnet::vrrp
