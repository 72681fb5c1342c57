#pragma once
// A health checker without I/O: keepalived's checker timing and state (keepalived 2.2.7
// check/check_api.c, check_tcp.c tcp_epilog(), check_misc.c misc_check_child_thread()), fed with
// time and the outcomes of probes that an I/O layer runs. One engine serves every checker type
// (TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK, MISC_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK,
// FILE_CHECK); what a probe does is the I/O layer's business, when it runs and what its result
// means is here.
//
// Timing, as keepalived:
//  - the first probe starts bootstrap_delay (1 s, keepalived BOOTSTRAP_DELAY) + a random share of
//    `warmup` (uniform in [0, warmup], from the injected Random) after start;
//  - a probe that gets no outcome within its timeout (connect_timeout; misc_timeout for
//    MISC_CHECK) fails: the engine aborts it and counts the failure — except a UDP_CHECK without
//    require_reply, for which silence is a success (timeout_passes);
//  - after a success, or a failure that used the last retry, the next probe starts delay_loop
//    later; after a failure with retries left, delay_before_retry later. TCP/HTTP/SSL/SMTP/DNS/
//    UDP/PING measure the delay from the end of the probe, MISC_CHECK from its start (check_misc.c
//    schedules from last_ran); a down MISC_CHECK, DNS_CHECK, UDP_CHECK or PING_CHECK does not
//    retry (check_dns.c dns_final(), check_udp.c udp_epilog(), check_ping.c icmp_epilog()),
//    TCP_CHECK, HTTP_GET, SSL_GET and SMTP_CHECK do;
//  - a checker that is up goes down after retry + 1 consecutive failures; a checker that is down
//    comes up on its first success. At start (not on reload) the first failure is enough
//    (check_data.c: retry_it = retry), so a dead server is not kept for retries at boot.
// Hence the TCP_CHECK bound: a server that fails just after a successful probe is declared down
// at most delay_loop + connect_timeout × (retry + 1) + delay_before_retry × retry later.
//
// Initial state: up, unless `alpha` (then down until the first success). On reload, an unchanged
// checker keeps its state (migrate()).
//
// MISC_CHECK exit codes (check_misc.c): 0 = success; 1 = failure; 2..255 with misc_dynamic =
// success with the real server's weight set to code - 2; other codes without misc_dynamic, or a
// signal or timeout = failure. The weight set by misc_dynamic stays until another code changes
// it; a final failure drops it (the configured weight returns).
//
// Shapes: time in vnet::TimePoint; durations in Duration (keepalived writes seconds). Actions are
// collected and taken with take_actions(); probe ids grow from 1.

#include <cstdint>
#include <optional>
#include <variant>
#include <vector>

#include "base/clock.hh"
#include "base/random.hh"

namespace vnet::lb {

// keepalived lib/scheduler.h BOOTSTRAP_DELAY (TIMER_HZ).
inline constexpr Duration kBootstrapDelay = std::chrono::seconds(1);

struct CheckerTiming {
  Duration delay_loop = std::chrono::seconds(60);
  Duration timeout = std::chrono::seconds(5);  // connect_timeout, or misc_timeout for MISC_CHECK
  unsigned retry = 1;
  Duration delay_before_retry = std::chrono::seconds(1);
  Duration warmup{0};
  bool alpha = false;
  // MISC_CHECK (check_misc.c): the delay runs from the probe's start, and a checker that is down
  // does not retry. The others (tcp_epilog()) retry whatever their state.
  bool misc = false;
  // UDP_CHECK without require_reply (core/layer4.c udp_socket_state()): a probe that hears
  // nothing until its timeout passes; only an error (ICMP unreachable) fails it.
  bool timeout_passes = false;
  // DNS_CHECK, UDP_CHECK, PING_CHECK: a checker that is down does not retry (as MISC_CHECK).
  bool retry_only_up = false;
  friend bool operator==(const CheckerTiming&, const CheckerTiming&) = default;
};

// Start a probe now; abort it yourself if no outcome comes within `timeout` — or let the engine do
// it (tick() emits AbortProbe and counts a failure).
struct StartProbe {
  uint64_t id = 0;
  Duration timeout{};
  unsigned retry = 0;  // 0: the regular probe; k: the k-th retry
};
// The probe's timeout passed: stop it; its outcome, if it comes, is ignored. `success`: the
// timeout counted as a success (CheckerTiming::timeout_passes), else as a failure.
struct AbortProbe {
  uint64_t id = 0;
  bool success = false;
};
// The checker changed state (keepalived update_svr_checker_state()).
struct CheckerState {
  bool up = false;
};
// misc_dynamic changed the real server's weight; nullopt = back to the configured weight.
struct DynamicWeight {
  std::optional<int> weight;
};
using CheckerAction = std::variant<StartProbe, AbortProbe, CheckerState, DynamicWeight>;

// The outcome of one probe.
struct ProbeOutcome {
  bool success = false;
  std::optional<int> weight;  // success with a new dynamic weight (MISC_CHECK misc_dynamic)
  // 0..255 exit status of a MISC_CHECK script, mapped as keepalived does.
  static ProbeOutcome from_exit_status(int status, bool misc_dynamic);
  static ProbeOutcome ok() { return {true, std::nullopt}; }
  static ProbeOutcome failed() { return {false, std::nullopt}; }
};

class Checker {
 public:
  // `start`: when the checker process started. `random` draws the warmup share.
  Checker(const CheckerTiming& timing, TimePoint start, Random& random);

  // The same checker after a reload: keeps `old`'s up state, dynamic weight and schedule (an
  // unchanged checker is migrated, keepalived migrate_checkers()); a running probe continues.
  static Checker migrate(const Checker& old, const CheckerTiming& timing);

  // Starts a due probe or aborts a late one. Call at or after next_deadline().
  void tick(TimePoint now);
  // The outcome of probe `id`, ending at `now`. Outcomes of aborted or unknown probes are ignored.
  void on_outcome(uint64_t id, TimePoint now, const ProbeOutcome& outcome);

  // When tick() has something to do: the next probe's start or the running probe's deadline.
  TimePoint next_deadline() const { return deadline_; }
  bool up() const { return up_; }
  bool has_run() const { return has_run_; }
  std::optional<int> dynamic_weight() const { return weight_; }
  uint64_t running_probe() const { return running_; }  // 0 = none
  const CheckerTiming& timing() const { return timing_; }
  std::vector<CheckerAction> take_actions() { return std::move(actions_); }

 private:
  void finish(TimePoint now, const ProbeOutcome& outcome);

  CheckerTiming timing_;
  TimePoint deadline_{};
  TimePoint probe_started_{};
  uint64_t running_ = 0;  // id of the running probe, 0 = none
  uint64_t next_id_ = 1;
  unsigned retry_it_ = 0;
  bool up_ = true;
  bool has_run_ = false;
  std::optional<int> weight_;
  std::vector<CheckerAction> actions_;
};

}  // namespace vnet::lb
