#pragma once
// Trackers: what an instance watches besides its peers, and what follows from it — a pure
// function from configuration and observed state to the instance's effective priority and
// whether it is in FAULT. No I/O and no time here: the daemon observes (link polls, script
// exits) and applies the result to the Router (set_priority, set_fault).
//
// Rules, as keepalived's (keepalived.conf(5), vrrp_track.c):
//   - the instance's own interface down (not up, or no carrier) → FAULT;
//   - track_interface IF weight 0 (the default): IF down → FAULT;
//     weight W > 0: +W while IF is up; weight W < 0: W (lowers) while IF is down;
//   - track_script S: the weight is the track_script entry's when given, else the vrrp_script's;
//     weight 0: S failing → FAULT; W > 0: +W while S succeeds; W < 0: W while S fails;
//   - the sum is clamped to 1..254; an address owner (configured priority 255) keeps 255 (its
//     trackers may still put it in FAULT).
// A script's state follows its results with hysteresis (ScriptHealth): it fails after `fall`
// consecutive failures and recovers after `rise` consecutive successes; it starts healthy.
// A script refused by enable_script_security never runs and so never fails.

#include <set>
#include <string>
#include <vector>

#include "vrrp/keepalived_conf.hh"

namespace vnet::vrrp {

struct TrackedWeight {
  std::string name;
  int weight = 0;  // 0 = FAULT
  friend bool operator==(const TrackedWeight&, const TrackedWeight&) = default;
};

struct TrackerConfig {
  int priority = 100;     // configured, 1..255
  std::string interface;  // the instance's own: down = FAULT
  std::vector<TrackedWeight> interfaces;
  std::vector<TrackedWeight> scripts;  // with the effective weight
  friend bool operator==(const TrackerConfig&, const TrackerConfig&) = default;
};

// The instance's trackers with their effective weights; a track_script naming no vrrp_script is
// left out (the parser refuses such a configuration).
TrackerConfig tracker_config(const InstanceConfig& instance,
                             const std::vector<ScriptConfig>& scripts);

struct Observed {
  std::set<std::string> links_down;       // interfaces not up with carrier
  std::set<std::string> scripts_failing;  // vrrp_scripts in the failed state
};

struct Effective {
  int priority = 100;
  bool fault = false;
  friend bool operator==(const Effective&, const Effective&) = default;
};

Effective evaluate(const TrackerConfig& config, const Observed& observed);

// A vrrp_script's fall/rise hysteresis.
class ScriptHealth {
 public:
  ScriptHealth() = default;
  ScriptHealth(int fall, int rise) : fall_(fall), rise_(rise) {}
  void set_thresholds(int fall, int rise) {
    fall_ = fall;
    rise_ = rise;
  }
  // One result; true when the state changed.
  bool on_result(bool success);
  bool ok() const { return ok_; }

 private:
  int fall_ = 1, rise_ = 1;
  bool ok_ = true;
  int streak_ = 0;  // consecutive results against the current state
};

}  // namespace vnet::vrrp
