#pragma once
// How vnet vrrp runs notify and vrrp_script commands, as keepalived does (keepalived.conf(5),
// global_defs): as `script_user USER [GROUP]`, else as `keepalived_script` when that user
// exists, else as the daemon's own user; with `enable_script_security`, a script whose file or
// any directory above it can be changed by someone other than root (or the script user) is not
// run ("SECURITY VIOLATION").
//
// A command is `/bin/sh -c TEXT`; its first word is the script checked (searched in PATH when
// it has no slash). The runner only says how a command runs (ChildSpec); a ChildSupervisor
// starts it and reaps it.
//
// Which commands a transition runs (keepalived.conf(5), keepalived's vrrp_notify.c): the
// instance's notify_master / notify_backup / notify_fault / notify_stop for the state entered,
// then its `notify` with `INSTANCE name STATE priority` (STATE one of MASTER, BACKUP, FAULT,
// STOP; the effective priority), then — when the transition moves its sync group into a new
// state (the caller decides: not for members that follow) and not on stop — the group's
// notify_master / notify_backup / notify_fault and its `notify` with `GROUP name STATE 0`.

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "base/child_supervisor.hh"
#include "base/result.hh"
#include "vrrp/keepalived_conf.hh"
#include "vrrp/router.hh"

namespace vnet::vrrp {

class ScriptRunner {
 public:
  // Errors: an unknown script_user or group (ENOENT, naming it).
  static Result<ScriptRunner> make(const GlobalDefs& g);
  ScriptRunner() = default;

  // Why `command` may not run under enable_script_security (nullopt: it may). Without
  // enable_script_security every command may run.
  std::optional<std::string> insecure(const std::string& command) const;
  // `/bin/sh -c command`, as the script user when running as root.
  ChildSpec spec(const std::string& command, Duration timeout = Duration{0}) const;

  const std::string& user() const { return user_; }
  bool security() const { return security_; }
  // No script_user and no keepalived_script user: scripts run as the daemon's user.
  bool default_missing() const { return default_missing_; }

 private:
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  bool switch_user_ = false;
  bool security_ = false;
  bool default_missing_ = false;
  std::string user_;
};

// The word a notify script gets for a state: MASTER, BACKUP, FAULT, or STOP (INIT: stopped).
std::string_view notify_state(State s);
// The commands a transition of `instance` to `to` at `priority` runs, in order. `group` is the
// instance's sync group (nullptr: none); `group_moves`: this transition moves the group into `to`.
std::vector<std::string> notify_commands(const InstanceConfig& instance,
                                         const SyncGroupConfig* group, bool group_moves, State to,
                                         int priority);

}  // namespace vnet::vrrp
