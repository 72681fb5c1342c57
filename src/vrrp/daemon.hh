#pragma once
// The VRRP daemon: keepalived.conf instances as Routers with their Hosts on one event loop.
//
// Per instance: the Host's socket is watched; every input (advert, timer, tracker change) runs
// the Router and then its actions (send, add/remove VIPs, GARP/NA, notify scripts). One timer is
// armed at the earliest deadline of all routers. Trackers: vrrp_script (fall/rise, weight or
// FAULT), the VRRP interface and track_interface entries (carrier, polled every 100 ms; weight 0
// = FAULT, otherwise the priority moves by the weight). Sync groups move together. Scripts run
// in the background and never block the loop. SIGHUP reloads: unchanged instances keep running.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/event_loop.hh"
#include "console/console.hh"
#include "vrrp/host.hh"
#include "vrrp/keepalived_conf.hh"
#include "vrrp/router.hh"
#include "vrrp/scripts.hh"

namespace vnet::vrrp {

struct DaemonOptions {
  ChecksumMode checksum = ChecksumMode::kPseudoHeader;
};

class Daemon {
 public:
  Daemon(EventLoop& loop, DaemonOptions options) : loop_(loop), options_(options) {}
  ~Daemon();
  Status start(const KeepalivedConfig& config);
  Status reload(const KeepalivedConfig& config);
  void shutdown();  // priority 0 where master, VIPs removed, notify_stop
  void register_commands(console::Registry& registry);
  nlohmann::json show() const;

 private:
  struct Script {
    ScriptConfig conf;
    bool ok = true;
    int streak = 0;  // consecutive results against the current state
    pid_t pid = -1;
    bool disabled = false;  // refused by enable_script_security: never run, never fails
    TimePoint started{};
    EventLoop::TimerId timer = 0;
  };
  struct Instance {
    InstanceConfig conf;
    std::string key;  // canonical text of the configuration, to detect changes on reload
    std::unique_ptr<Router> router;
    std::unique_ptr<Host> host;
    std::string group;
    bool link_fault = false;
    std::set<std::string> tracked_down;  // track_interface entries whose link is down
  };
  Status add_instance(const InstanceConfig& c, const KeepalivedConfig& all);
  void remove_instance(const std::string& name);
  void on_readable(Instance& in);
  void run_actions(Instance& in);
  void update_trackers(Instance& in);
  void schedule();
  void poll_links();
  void start_script(const std::string& name);
  void reap();
  void notify(const Instance& in, State to);
  void spawn(const std::string& command);
  void update_no_accept();
  Status set_script_policy(const KeepalivedConfig& config);

  EventLoop& loop_;
  DaemonOptions options_;
  GlobalDefs global_;
  std::map<std::string, std::unique_ptr<Instance>> instances_;
  std::map<std::string, Script> scripts_;
  std::map<std::string, SyncGroupConfig> groups_;
  EventLoop::TimerId deadline_timer_ = 0, link_timer_ = 0, reap_timer_ = 0;
  bool in_group_change_ = false;
  ScriptRunner runner_;
  std::set<std::string> refused_;  // commands already reported as insecure
  std::string no_accept_rules_;    // the nftables table as last loaded ("" = none)
};

}  // namespace vnet::vrrp
