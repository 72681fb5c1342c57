#include "vrrp/daemon.hh"

#include <unistd.h>

#include <cstring>

#include "base/log.hh"
#include "vrrp/conf_routes.hh"
#include "vrrp/reload.hh"

namespace vnet::vrrp {

Daemon::~Daemon() {
  loop_.cancel_timer(deadline_timer_);
  loop_.cancel_timer(link_timer_);
  for (auto& [n, s] : checks_) {
    loop_.cancel_timer(s.timer);
    if (s.pid > 0) children_.cancel(s.pid);
  }
}

// Who runs the scripts, and which vrrp_scripts enable_script_security refuses (keepalived's
// messages, so existing log watchers keep matching).
Status Daemon::set_script_policy(const KeepalivedConfig& c) {
  auto r = ScriptRunner::make(c.global);
  if (!r) return r.error();
  runner_ = std::move(*r);
  refused_.clear();
  bool any = !c.scripts.empty();
  for (auto& in : c.instances) {
    any |= !in.notify_master.empty() || !in.notify_backup.empty() || !in.notify_fault.empty() ||
           !in.notify_stop.empty() || !in.notify.empty();
  }
  if (!any) return {};
  if (runner_.default_missing())
    log::warn(
        "WARNING - default user 'keepalived_script' for script execution does not exist - "
        "please create.");
  if (!runner_.security() && geteuid() == 0)
    log::warn("SECURITY VIOLATION - scripts are being executed but script_security not enabled.");
  for (auto& s : c.scripts) {
    auto why = runner_.insecure(s.script);
    checks_[s.name].disabled = why.has_value();
    if (why) log::error("SECURITY VIOLATION - script {} disabled: {}", s.name, *why);
  }
  return {};
}

Status Daemon::start(const KeepalivedConfig& c) {
  global_ = c.global;
  auto fresh = sync_scripts(c.scripts);
  if (auto s = set_script_policy(c); !s) return s;
  for (auto& g : c.sync_groups) groups_[g.name] = g;
  apply_statics(c);
  for (auto& in : c.instances) {
    if (auto s = add_instance(in); !s) return s;
  }
  for (auto& n : fresh) run_check(n);
  link_timer_ = loop_.add_periodic(std::chrono::milliseconds(100), [this] { poll_links(); });
  schedule();
  return {};
}

std::string Daemon::group_of(const std::string& instance) const {
  for (auto& [name, g] : groups_) {
    for (auto& m : g.instances) {
      if (m == instance) return name;
    }
  }
  return "";
}

Instance::Events Daemon::events() {
  Instance::Events e;
  e.on_state = [this](Instance& in, const StateChanged& c) { on_state(in, c); };
  e.after_advert = [this](Instance&) { schedule(); };
  return e;
}

Status Daemon::add_instance(const InstanceConfig& c) {
  auto in = Instance::open(host_, loop_.clock(), c, global_, options_.checksum, events());
  if (!in) return in.error();
  Instance& raw = **in;
  raw.set_group(group_of(c.name));
  instances_[c.name] = std::move(*in);
  raw.start();
  update_trackers(raw);
  log::info("({}) started: VRID {} on {}, priority {}, VRRPv{}", c.name, c.vrid, c.interface,
            c.priority, raw.router().config().version);
  return {};
}

void Daemon::remove_instance(const std::string& name) {
  auto it = instances_.find(name);
  if (it == instances_.end()) return;
  it->second->stop();  // INIT: notify_stop runs from on_state; the VIPs leave no_accept
  instances_.erase(it);
}

void Daemon::shutdown() {
  std::vector<std::string> names;
  for (auto& [n, _] : instances_) names.push_back(n);
  for (auto& n : names) remove_instance(n);
  apply_statics(KeepalivedConfig{});
}

void Daemon::apply_statics(const KeepalivedConfig& next) {
  auto addr_key = [](const VipConfig& v) { return v.dev + " " + v.prefix.to_string(); };
  auto rule_key = route_key<RuleConfig>;
  auto rt_key = route_key<RouteConfig>;
  auto warn = [](const Status& s) {
    if (!s) log::warn("static: {}", s.error().message);
  };
  // Leaving: rules, routes, then addresses; coming: addresses, routes, rules (as instances do).
  for (auto& r : missing(static_rules_, next.static_rules, rule_key)) warn(host_.del_rule(r));
  for (auto& r : missing(static_routes_, next.static_routes, rt_key)) warn(host_.del_route(r));
  for (auto& a : missing(static_addresses_, next.static_addresses, addr_key)) {
    warn(host_.del_address(a.dev, a.prefix));
  }
  for (auto& a : missing(next.static_addresses, static_addresses_, addr_key)) {
    warn(host_.add_address(a.dev, a.prefix, a.label));
  }
  for (auto& r : missing(next.static_routes, static_routes_, rt_key)) warn(host_.add_route(r));
  for (auto& r : missing(next.static_rules, static_rules_, rule_key)) warn(host_.add_rule(r));
  static_addresses_ = next.static_addresses;
  static_routes_ = next.static_routes;
  static_rules_ = next.static_rules;
}

Status Daemon::reload_file(const std::string& path) {
  auto c = load_keepalived_conf(path);
  if (!c) {
    log::error("reload refused, keeping the running configuration:\n{}", c.error().message);
    return c.error();
  }
  for (auto& w : c->warnings) log::warn("{}", w);
  auto s = reload(*c);
  if (!s) log::error("reload: {}", s.error().message);
  return s;
}

Status Daemon::reload(const KeepalivedConfig& c) {
  if (auto r = ScriptRunner::make(c.global); !r) return r.error();  // refuse before changing
  std::map<std::string, const InstanceConfig*> wanted;
  for (auto& in : c.instances) wanted[in.name] = &in;
  std::vector<std::string> gone;
  std::vector<std::pair<std::string, ReloadKind>> kept;
  for (auto& [n, in] : instances_) {
    auto w = wanted.find(n);
    if (w == wanted.end()) {
      gone.push_back(n);
      continue;
    }
    auto d = classify_reload(in->config(), global_, *w->second, c.global);
    if (d.kind == ReloadKind::kRestart) {
      log::info("({}) reload: {} changed, restarting", n, d.why);
      gone.push_back(n);
    } else {
      if (d.kind == ReloadKind::kRebuildHost)
        log::info("({}) reload: {} changed, reopening its host part", n, d.why);
      kept.emplace_back(n, d.kind);
    }
  }
  for (auto& n : gone) remove_instance(n);
  apply_statics(c);

  global_ = c.global;
  groups_.clear();
  for (auto& g : c.sync_groups) groups_[g.name] = g;
  std::erase_if(group_state_, [&](auto& e) { return !groups_.count(e.first); });
  auto fresh = sync_scripts(c.scripts);
  if (auto s = set_script_policy(c); !s) return s;

  Status result;
  for (auto& [n, kind] : kept) {
    Instance& in = *instances_.at(n);
    in.set_group(group_of(n));
    if (auto s = in.reconfigure(*wanted[n], global_, kind); !s) {
      log::error("({}) reload: {}", n, s.error().message);
      result = s;
    }
  }
  size_t kept_count = instances_.size();
  for (auto& in : c.instances) {
    if (instances_.count(in.name)) continue;
    if (auto s = add_instance(in); !s) result = s;
  }
  for (auto& [n, in] : instances_) update_trackers(*in);
  update_no_accept();  // accept / no_accept may have changed for a master
  for (auto& n : fresh) run_check(n);
  log::info("reloaded: {} instances kept, {} stopped, {} started", kept_count, gone.size(),
            instances_.size() - kept_count);
  schedule();
  return result;
}

void Daemon::on_state(Instance& in, const StateChanged& c) {
  auto g = groups_.find(in.group());
  // The group's scripts run when the group enters a state, once, not for each member.
  bool group_moves = false;
  if (g != groups_.end() && !in_group_change_) {
    auto [st, added] = group_state_.try_emplace(g->first, c.to);
    group_moves = added || st->second != c.to;
    st->second = c.to;
  }
  for (auto& cmd : notify_commands(in.config(), g == groups_.end() ? nullptr : &g->second,
                                   group_moves, c.to, in.router().priority())) {
    spawn(cmd);
  }
  // The sync group follows (without recursion through itself).
  if (!in.group().empty() && !in_group_change_ &&
      (c.to == State::kMaster || c.from == State::kMaster)) {
    in_group_change_ = true;
    for (auto& [n, other] : instances_) {
      if (other.get() == &in || other->group() != in.group()) continue;
      other->follow_group(c.to == State::kMaster);
    }
    in_group_change_ = false;
  }
  update_no_accept();
}

// RFC 5798 §6.1 Accept_Mode = False: a master that is not the address owner drops traffic to its
// VIPs (plumbing.hh); one filter over all such masters.
void Daemon::update_no_accept() {
  NoAcceptSet set;
  for (auto& [n, in] : instances_) {
    if (in->state() != State::kMaster || in->config().accepts()) continue;
    for (auto* list : {&in->config().vips, &in->config().vips_excluded}) {
      for (auto& v : *list) {
        if (v.prefix.v6)
          set.v6.push_back(v.prefix.v6addr);
        else
          set.v4.push_back(v.prefix.v4addr);
      }
    }
  }
  if (set == no_accept_) return;
  if (auto st = host_.set_no_accept(set); !st) {
    log::warn("no_accept: {}", st.error().message);
    return;
  }
  no_accept_ = std::move(set);
}

void Daemon::update_trackers(Instance& in) {
  std::vector<ScriptConfig> scripts;
  Observed o;
  o.links_down = in.links_down();
  for (auto& [name, s] : checks_) {
    scripts.push_back(s.conf);
    if (!s.health.ok()) o.scripts_failing.insert(name);
  }
  in.apply(evaluate(tracker_config(in.config(), scripts), o));
}

void Daemon::poll_links() {
  for (auto& [n, in] : instances_) {
    if (in->poll_links()) update_trackers(*in);
  }
  schedule();
}

void Daemon::spawn(const std::string& command) {
  if (auto why = runner_.insecure(command)) {
    if (refused_.insert(command).second)
      log::error("SECURITY VIOLATION - script '{}' not run: {}", command, *why);
    return;
  }
  auto pid = children_.start(runner_.spec(command), [command](const ChildExit& e) {
    if (!e.success()) log::debug("'{}': {}", command, e.describe());
  });
  if (!pid) log::warn("cannot start '{}': {}", command, pid.error().message);
}

// Adds, changes and removes vrrp_scripts to match `scripts`; returns the new ones' names.
std::vector<std::string> Daemon::sync_scripts(const std::vector<ScriptConfig>& scripts) {
  std::vector<std::string> fresh;
  std::set<std::string> names;
  for (auto& sc : scripts) {
    names.insert(sc.name);
    auto [it, added] = checks_.try_emplace(sc.name);
    Check& s = it->second;
    if (added) fresh.push_back(sc.name);
    bool rearm = added || s.conf.interval != sc.interval;
    if (!added && s.conf.script != sc.script && s.pid > 0) {
      children_.cancel(s.pid);  // its result would be the old command's
      s.pid = -1;
    }
    s.conf = sc;
    s.health.set_thresholds(sc.fall, sc.rise);
    if (rearm) {
      loop_.cancel_timer(s.timer);
      std::string n = sc.name;
      s.timer = loop_.add_periodic(sc.interval, [this, n] { run_check(n); });
    }
  }
  for (auto it = checks_.begin(); it != checks_.end();) {
    if (names.count(it->first)) {
      ++it;
      continue;
    }
    loop_.cancel_timer(it->second.timer);
    if (it->second.pid > 0) children_.cancel(it->second.pid);
    it = checks_.erase(it);
  }
  return fresh;
}

void Daemon::run_check(const std::string& name) {
  auto it = checks_.find(name);
  if (it == checks_.end()) return;
  Check& s = it->second;
  if (s.pid > 0 || s.disabled) return;  // still running: its timeout is the supervisor's
  auto pid = children_.start(runner_.spec(s.conf.script, s.conf.timeout),
                             [this, name](const ChildExit& e) { on_check_exit(name, e); });
  if (!pid) {
    log::warn("cannot start '{}': {}", s.conf.script, pid.error().message);
    return;
  }
  s.pid = *pid;
}

void Daemon::on_check_exit(const std::string& name, const ChildExit& e) {
  auto it = checks_.find(name);
  if (it == checks_.end()) return;
  Check& s = it->second;
  s.pid = -1;
  if (e.timed_out) log::info("VRRP_Script({}) timed out", name);
  if (!s.health.on_result(e.success())) return;
  log::info("VRRP_Script({}) {}", name, s.health.ok() ? "succeeded" : "failed");
  for (auto& [n, in] : instances_) {
    for (auto& t : in->config().track_scripts) {
      if (t.name == name) {
        update_trackers(*in);
        break;
      }
    }
  }
  schedule();
}

void Daemon::schedule() {
  TimePoint now = loop_.clock().now();
  for (auto& [n, in] : instances_) in->tick();
  std::optional<TimePoint> next;
  for (auto& [n, in] : instances_) {
    auto d = in->router().next_deadline();
    if (d && (!next || *d < *next)) next = d;
  }
  loop_.cancel_timer(deadline_timer_);
  deadline_timer_ = 0;
  if (next) {
    Duration wait = *next > now ? *next - now : Duration{0};
    deadline_timer_ = loop_.add_timer(wait, [this] { schedule(); });
  }
}

}  // namespace vnet::vrrp
