#pragma once
// One VRRP virtual router instance (RFC 5798 §6; RFC 3768 §6 for v2), without I/O.
//
// Inputs: start(), shutdown(), on_advert() with what the host layer received, tick(now) with
// the injected clock. Outputs: actions, taken with take_actions() — send an advertisement,
// add or remove the virtual addresses, send gratuitous ARPs / unsolicited NAs, and state
// changes (for notify scripts and sync groups). All transitions go through change_state().
//
// Timers (§6.1, §6.4):
//   Skew_Time             v3: ((256 - Priority) * Master_Adver_Interval) / 256
//                         v2: (256 - Priority) / 256 seconds
//   Master_Down_Interval  3 * Master_Adver_Interval + Skew_Time
// Master_Adver_Interval is learned from the master's advertisements in v3 (§6.4.2); in v2 an
// advertisement whose interval differs from ours is discarded (RFC 3768 §7.1).
// Receive checks of §7.1 that belong to an instance (TTL 255, version, authentication,
// interval for v2, address list) are counted per reason; codec errors are the host's.
//
// keepalived semantics kept: `nopreempt` (a higher-priority backup never takes over from a
// live master), `preempt_delay` (preemption only after that long in BACKUP since start-up),
// `state MASTER` only skips the wait when the priority is 255, GARP bursts of
// garp_master_repeat on becoming master and again garp_master_delay later.

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/clock.hh"
#include "vrrp/advert.hh"

namespace vnet::vrrp {

enum class State { kInitialize, kBackup, kMaster, kFault };
std::string_view state_name(State s);

struct RouterConfig {
  std::string name = "VI_1";
  uint8_t version = 3;
  uint8_t vrid = 1;
  uint8_t priority = 100;  // 1..255
  Duration advert_interval = std::chrono::seconds(1);
  bool preempt = true;
  Duration preempt_delay{0};
  bool ipv6 = false;
  // Our primary address on the interface (tie-break, §6.4.3) and the virtual addresses.
  packet::Ipv4Address primary4;
  packet::Ipv6Address primary6;
  std::vector<packet::Ipv4Address> vips4;
  std::vector<packet::Ipv6Address> vips6;
  AuthType auth_type = AuthType::kNone;
  std::array<uint8_t, 8> auth_pass{};
  int garp_master_repeat = 5;
  Duration garp_master_delay = std::chrono::seconds(5);
  bool check_addresses = true;  // false = keepalived's vrrp_skip_check_adv_addr
};

// What the host layer received (the IP-level facts the receive checks need).
struct RxAdvert {
  Advert advert;
  uint8_t ttl = 255;
  packet::Ipv4Address src4;
  packet::Ipv6Address src6;
};

struct SendAdvert {
  uint8_t priority = 0;
};
struct AddAddresses {};
struct RemoveAddresses {};
struct SendGratuitous {
  int count = 0;
};
struct StateChanged {
  State from = State::kInitialize, to = State::kInitialize;
  const char* reason = "";  // a literal
};
using Action =
    std::variant<SendAdvert, AddAddresses, RemoveAddresses, SendGratuitous, StateChanged>;

struct RouterCounters {
  uint64_t adverts_sent = 0, adverts_received = 0, became_master = 0, priority_zero_received = 0,
           priority_zero_sent = 0;
  uint64_t bad_ttl = 0, bad_version = 0, bad_auth = 0, bad_interval = 0, address_mismatch = 0;
};

class Router {
 public:
  explicit Router(RouterConfig config);

  void start(TimePoint now);
  void shutdown(TimePoint now);  // master: priority-0 advertisement, addresses removed
  void on_advert(TimePoint now, const RxAdvert& rx);
  void tick(TimePoint now);
  // Priority changes from trackers (track_script weights); 0 < p ≤ 254.
  void set_priority(TimePoint now, uint8_t priority);
  // FAULT (a tracked interface down, a weight-0 script failing) and recovery.
  void set_fault(TimePoint now, bool fault);

  // Reload of a running instance: takes the settings that need no transition (garp_master_*,
  // the primary address of the §6.4.3 tie-break, check_addresses); the rest of `config` is
  // ignored. A pending second GARP burst keeps its time.
  void update_settings(const RouterConfig& config);

  // Sync groups (keepalived vrrp_sync_group): follow another member's transition.
  void force_master(TimePoint now);
  void force_backup(TimePoint now);

  std::vector<Action> take_actions();
  std::optional<TimePoint> next_deadline() const;

  State state() const { return state_; }
  const RouterConfig& config() const { return cfg_; }
  uint8_t priority() const { return priority_; }
  const RouterCounters& counters() const { return counters_; }
  Duration master_adver_interval() const { return master_adver_interval_; }
  Duration skew_time() const;
  Duration master_down_interval() const;
  // The advertisement this router sends (for the host layer to encode).
  Advert advert(uint8_t priority) const;

 private:
  void change_state(State to, TimePoint now, const char* reason);
  void become_master(TimePoint now, const char* reason);
  void send_advert(uint8_t priority);
  bool higher_than_us(const RxAdvert& rx) const;
  bool addresses_match(const Advert& a) const;

  RouterConfig cfg_;
  uint8_t priority_;
  State state_ = State::kInitialize;
  Duration master_adver_interval_;
  std::optional<TimePoint> adver_timer_, master_down_timer_, garp_timer_;
  TimePoint started_{};
  std::vector<Action> actions_;
  RouterCounters counters_;
};

}  // namespace vnet::vrrp
