#pragma once
// Instance: one vrrp_instance running — its Router (the RFC 5798 state machine) and its host
// part (advertisement port, virtual MAC interface, where its VIPs live), and the code that
// turns the Router's actions into Host requests.
//
// Every input (an advert from the port, tick, tracker results, a sync group member's
// transition) goes to the Router; its actions are run at once, in order: send an advert, add or
// remove the virtual addresses, send a burst of announcements (announce.hh), and state changes,
// which are logged in keepalived's words ("(VI_1) Entering MASTER STATE") and handed to the
// owner (the Daemon: notify scripts, sync groups, the no_accept filter). A host error is logged
// with the instance's name and does not stop the instance.
//
// The Instance also observes its links (its interface and track_interface entries) when asked
// to poll; what follows from them is the trackers' business (trackers.hh).
//
// Its virtual_routes and virtual_rules follow the VIPs: added after them on entering MASTER,
// removed before them on leaving it (and at stop); a reload of a master swaps the ones that
// changed.
//
// Reload (reload.hh): reconfigure() applies a kept instance's new settings in place or with its
// host part rebuilt, under the same Router, so a MASTER stays MASTER. Destroying an Instance
// closes its port and deletes its VMAC interface, leaving other addresses as they are (as a
// crash would); stop() first for an orderly exit.

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "base/clock.hh"
#include "base/result.hh"
#include "vrrp/host.hh"
#include "vrrp/keepalived_conf.hh"
#include "vrrp/plumbing.hh"
#include "vrrp/reload.hh"
#include "vrrp/router.hh"
#include "vrrp/trackers.hh"

namespace vnet::vrrp {

class Instance {
 public:
  struct Events {
    // After the Router entered a state (the instance's own actions before it have run).
    std::function<void(Instance&, const StateChanged&)> on_state;
    // After an advert from the port was taken (so the owner can re-arm its timers).
    std::function<void(Instance&)> after_advert;
  };

  // Opens the host part (VMAC interface, advert port); the Router waits for start(). Errors
  // name the configuration line and the instance.
  static Result<std::unique_ptr<Instance>> open(Host& host, const Clock& clock,
                                                const InstanceConfig& config,
                                                const GlobalDefs& global, ChecksumMode checksum,
                                                Events events);
  ~Instance() = default;
  Instance(const Instance&) = delete;
  Instance& operator=(const Instance&) = delete;

  void start();
  // Priority 0 where master, VIPs removed, INIT (notify_stop).
  void stop();
  void tick();
  void apply(const Effective& trackers);
  void follow_group(bool master);  // a sync group member entered MASTER (true) or left it
  // Polls the instance's interface and tracked interfaces; true when one changed.
  bool poll_links();
  // A reload's new settings (reload.hh). On error the host part is gone: stop the instance.
  Status reconfigure(const InstanceConfig& config, const GlobalDefs& global, ReloadKind kind);

  const std::string& name() const { return conf_.name; }
  const InstanceConfig& config() const { return conf_; }
  const Router& router() const { return *router_; }
  State state() const { return router_->state(); }
  const std::string& group() const { return group_; }
  void set_group(std::string g) { group_ = std::move(g); }
  const std::set<std::string>& links_down() const { return links_down_; }
  uint64_t rx_malformed() const;
  uint64_t rx_bad_checksum() const;

 private:
  Instance(Host& host, const Clock& clock, const InstanceConfig& c, ChecksumMode checksum,
           Events events);
  Status open_host_part();
  void on_advert(const RxAdvert& rx);
  void run_actions();
  void add_vips();
  void remove_vips();
  void add_routes(const std::vector<RouteConfig>& routes, const std::vector<RuleConfig>& rules);
  void remove_routes(const std::vector<RouteConfig>& routes, const std::vector<RuleConfig>& rules);
  void announce(int count);

  Host& host_;
  const Clock& clock_;
  InstanceConfig conf_;
  ChecksumMode checksum_;
  Events events_;
  HostLayout layout_;
  std::unique_ptr<VmacLink> vmac_;
  std::unique_ptr<AdvertPort> port_;
  packet::MacAddress announce_mac_;
  std::unique_ptr<Router> router_;
  std::string group_;
  std::set<std::string> links_down_;
  uint64_t rx_malformed_before_ = 0, rx_bad_checksum_before_ = 0;  // of earlier ports
};

}  // namespace vnet::vrrp
