#include "vrrp/daemon.hh"

#include "io/netlink.hh"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cstring>

#include "base/log.hh"

namespace vnet::vrrp {
namespace {

std::string canonical(const InstanceConfig& c, const GlobalDefs& g) {
  std::string k =
      fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|", c.name, c.interface, c.vrid, c.priority,
                  c.advert_int.count(), c.effective_version(g.vrrp_version), c.nopreempt,
                  c.preempt_delay.count(), static_cast<int>(c.auth_type), c.auth_pass);
  for (auto& v : c.vips) k += v.prefix.to_string() + v.dev + v.label + ",";
  for (auto& v : c.vips_excluded) k += "x" + v.prefix.to_string() + ",";
  for (auto& p : c.unicast_peers) k += "p" + p.to_string() + ",";
  for (auto& t : c.track_scripts) k += "s" + t.name + std::to_string(t.weight.value_or(-999)) + ",";
  for (auto& t : c.track_interfaces) k += "i" + t.name + std::to_string(t.weight) + ",";
  k += fmt::format("a{}v{}{}{}", c.accepts(), c.use_vmac, c.vmac_name, c.vmac_xmit_base);
  return k;
}

}  // namespace

Daemon::~Daemon() {
  loop_.cancel_timer(deadline_timer_);
  loop_.cancel_timer(link_timer_);
  loop_.cancel_timer(reap_timer_);
  for (auto& [n, s] : scripts_) loop_.cancel_timer(s.timer);
  for (auto& [n, in] : instances_) {
    if (in->host) loop_.unwatch(in->host->fd());
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
    scripts_[s.name].disabled = why.has_value();
    if (why) log::error("SECURITY VIOLATION - script {} disabled: {}", s.name, *why);
  }
  return {};
}

Status Daemon::start(const KeepalivedConfig& c) {
  // Children are reaped by reap(); notify scripts are fire-and-forget.
  global_ = c.global;
  for (auto& s : c.scripts) scripts_[s.name].conf = s;
  if (auto s = set_script_policy(c); !s) return s;
  for (auto& g : c.sync_groups) groups_[g.name] = g;
  for (auto& in : c.instances) {
    if (auto s = add_instance(in, c); !s) return s;
  }
  for (auto& [name, s] : scripts_) {
    std::string n = name;
    s.timer = loop_.add_periodic(s.conf.interval, [this, n] { start_script(n); });
    start_script(n);
  }
  link_timer_ = loop_.add_periodic(std::chrono::milliseconds(100), [this] { poll_links(); });
  reap_timer_ = loop_.add_periodic(std::chrono::milliseconds(20), [this] { reap(); });
  schedule();
  return {};
}

Status Daemon::add_instance(const InstanceConfig& c, const KeepalivedConfig& all) {
  auto in = std::make_unique<Instance>();
  in->conf = c;
  in->key = canonical(c, all.global);
  for (auto& g : all.sync_groups) {
    for (auto& m : g.instances) {
      if (m == c.name) in->group = g.name;
    }
  }
  HostOptions ho;
  ho.interface = c.interface;
  ho.ipv6 = c.ipv6;
  ho.checksum = options_.checksum;
  ho.unicast_src = c.unicast_src;
  ho.unicast_peers = c.unicast_peers;
  ho.vrid = static_cast<uint8_t>(c.vrid);
  if (c.use_vmac) {
    // keepalived's default name, for either family.
    ho.vmac = c.vmac_name.empty() ? fmt::format("vrrp.{}", c.vrid) : c.vmac_name;
    ho.vmac_xmit_base = c.vmac_xmit_base;
  }
  for (auto* list : {&c.vips, &c.vips_excluded}) {
    for (auto& v : *list) {
      ho.vips.push_back(v.prefix);
      ho.vip_labels.push_back(v.label);
      ho.vip_devs.push_back(v.dev);
    }
  }
  auto host = Host::open(ho);
  if (!host)
    return make_error(host.error().code, "{}: vrrp_instance {}: {}", c.where.str(), c.name,
                      host.error().message);
  in->host = std::move(*host);

  RouterConfig rc;
  rc.name = c.name;
  rc.version = static_cast<uint8_t>(c.effective_version(all.global.vrrp_version));
  rc.vrid = static_cast<uint8_t>(c.vrid);
  rc.priority = static_cast<uint8_t>(c.priority);
  rc.advert_interval = c.advert_int;
  rc.preempt = !c.nopreempt;
  rc.preempt_delay = c.preempt_delay;
  rc.ipv6 = c.ipv6;
  rc.primary4 = in->host->primary4();
  rc.primary6 = in->host->primary6();
  for (auto& v : c.vips) {  // excluded addresses are not advertised
    if (v.prefix.v6)
      rc.vips6.push_back(v.prefix.v6addr);
    else
      rc.vips4.push_back(v.prefix.v4addr);
  }
  rc.auth_type = c.auth_type;
  std::memcpy(rc.auth_pass.data(), c.auth_pass.data(), std::min<size_t>(8, c.auth_pass.size()));
  rc.garp_master_repeat = c.garp_master_repeat.value_or(all.global.garp_master_repeat);
  rc.garp_master_delay = c.garp_master_delay.value_or(all.global.garp_master_delay);
  rc.check_addresses = !all.global.skip_check_adv_addr;
  in->router = std::make_unique<Router>(rc);

  Instance* raw = in.get();
  if (auto s = loop_.watch(in->host->fd(), [this, raw] { on_readable(*raw); }); !s) return s;
  std::string name = c.name;
  instances_[name] = std::move(in);
  raw->router->start(loop_.clock().now());
  update_trackers(*raw);
  run_actions(*raw);
  log::info("({}) started: VRID {} on {}, priority {}, VRRPv{}", name, c.vrid, c.interface,
            c.priority, rc.version);
  return {};
}

void Daemon::remove_instance(const std::string& name) {
  auto it = instances_.find(name);
  if (it == instances_.end()) return;
  Instance& in = *it->second;
  in.router->shutdown(loop_.clock().now());
  run_actions(in);
  if (!in.conf.notify_stop.empty()) spawn(in.conf.notify_stop);
  loop_.unwatch(in.host->fd());
  instances_.erase(it);  // run_actions above already took its VIPs out of the no_accept table
}

void Daemon::shutdown() {
  std::vector<std::string> names;
  for (auto& [n, _] : instances_) names.push_back(n);
  for (auto& n : names) remove_instance(n);
}

Status Daemon::reload(const KeepalivedConfig& c) {
  if (auto r = ScriptRunner::make(c.global); !r) return r.error();  // refuse before changing
  global_ = c.global;
  std::map<std::string, const InstanceConfig*> wanted;
  for (auto& in : c.instances) wanted[in.name] = &in;
  std::vector<std::string> gone;
  for (auto& [n, in] : instances_) {
    auto w = wanted.find(n);
    if (w == wanted.end() || canonical(*w->second, c.global) != in->key) gone.push_back(n);
  }
  for (auto& n : gone) remove_instance(n);
  groups_.clear();
  for (auto& g : c.sync_groups) groups_[g.name] = g;
  for (auto& s : c.scripts) {
    if (!scripts_.count(s.name)) {
      scripts_[s.name].conf = s;
      std::string n = s.name;
      scripts_[n].timer = loop_.add_periodic(s.interval, [this, n] { start_script(n); });
    } else {
      scripts_[s.name].conf = s;
    }
  }
  if (auto s = set_script_policy(c); !s) return s;
  size_t kept = instances_.size();
  Status result;
  for (auto& in : c.instances) {
    if (instances_.count(in.name)) continue;
    if (auto s = add_instance(in, c); !s) result = s;
  }
  log::info("reloaded: {} instances kept, {} stopped, {} started", kept, gone.size(),
            instances_.size() - kept);
  schedule();
  return result;
}

void Daemon::on_readable(Instance& in) {
  TimePoint now = loop_.clock().now();
  for (auto& rx : in.host->receive()) {
    if (rx.advert.vrid != in.conf.vrid) continue;  // another virtual router on this link
    in.router->on_advert(now, rx);
  }
  run_actions(in);
  schedule();
}

// RFC 5798 §6.1 Accept_Mode = False: a master that is not the address owner drops traffic
// addressed to the VIPs (it still routes through them). As keepalived with no_accept /
// vrrp_strict, with nftables: one table, rebuilt whenever the set of such VIPs changes. Neighbour
// discovery to a VIP stays allowed so IPv6 hosts can resolve the gateway.
void Daemon::update_no_accept() {
  std::string v4, v6;
  for (auto& [n, in] : instances_) {
    if (in->router->state() != State::kMaster || in->conf.accepts()) continue;
    for (auto* list : {&in->conf.vips, &in->conf.vips_excluded}) {
      for (auto& v : *list) {
        std::string& out = v.prefix.v6 ? v6 : v4;
        out += (out.empty() ? "" : ", ") +
               (v.prefix.v6 ? v.prefix.v6addr.to_string() : v.prefix.v4addr.to_string());
      }
    }
  }
  std::string rules = "table inet vnet_vrrp\ndelete table inet vnet_vrrp\n";
  if (!v4.empty() || !v6.empty()) {
    rules +=
        "table inet vnet_vrrp {\n  chain input {\n"
        "    type filter hook input priority filter; policy accept;\n"
        "    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n";
    if (!v4.empty()) rules += "    ip daddr { " + v4 + " } drop\n";
    if (!v6.empty()) rules += "    ip6 daddr { " + v6 + " } drop\n";
    rules += "  }\n}\n";
  }
  if (rules == no_accept_rules_) return;
  if (no_accept_rules_.empty() && v4.empty() && v6.empty()) return;  // nothing installed yet
  if (auto st = io::load_nftables(rules); !st) {
    log::warn("no_accept: {}", st.error().message);
    return;
  }
  no_accept_rules_ = rules;
}

void Daemon::run_actions(Instance& in) {
  bool changed = false;
  for (auto& a : in.router->take_actions()) {
    if (auto* s = std::get_if<SendAdvert>(&a)) {
      if (auto st = in.host->send_advert(in.router->advert(s->priority)); !st)
        log::warn("({}) {}", in.conf.name, st.error().message);
    } else if (std::holds_alternative<AddAddresses>(a)) {
      if (auto st = in.host->add_vips(); !st)
        log::warn("({}) {}", in.conf.name, st.error().message);
    } else if (std::holds_alternative<RemoveAddresses>(a)) {
      if (auto st = in.host->remove_vips(); !st)
        log::warn("({}) {}", in.conf.name, st.error().message);
    } else if (auto* g = std::get_if<SendGratuitous>(&a)) {
      if (auto st = in.host->send_gratuitous(g->count); !st)
        log::warn("({}) {}", in.conf.name, st.error().message);
    } else if (auto* c = std::get_if<StateChanged>(&a)) {
      changed = true;
      log::info("({}) Entering {} STATE ({})", in.conf.name, state_name(c->to), c->reason);
      notify(in, c->to);
      // The sync group follows (without recursion through itself).
      if (!in.group.empty() && !in_group_change_) {
        in_group_change_ = true;
        TimePoint now = loop_.clock().now();
        for (auto& [n, other] : instances_) {
          if (other.get() == &in || other->group != in.group) continue;
          if (c->to == State::kMaster)
            other->router->force_master(now);
          else if (c->from == State::kMaster)
            other->router->force_backup(now);
          run_actions(*other);
        }
        in_group_change_ = false;
      }
    }
  }
  if (changed) update_no_accept();
}

void Daemon::update_trackers(Instance& in) {
  int prio = in.conf.priority;
  bool fault = in.link_fault;
  for (auto& t : in.conf.track_interfaces) {
    bool down = in.tracked_down.count(t.name) > 0;
    if (down && t.weight == 0) fault = true;
    if (t.weight > 0 && !down) prio += t.weight;
    if (t.weight < 0 && down) prio += t.weight;
  }
  for (auto& t : in.conf.track_scripts) {
    auto it = scripts_.find(t.name);
    if (it == scripts_.end()) continue;
    int w = t.weight.value_or(it->second.conf.weight);
    bool ok = it->second.ok;
    if (w == 0 && !ok) fault = true;
    if (w > 0 && ok) prio += w;
    if (w < 0 && !ok) prio += w;
  }
  TimePoint now = loop_.clock().now();
  if (in.conf.priority != 255)
    in.router->set_priority(now, static_cast<uint8_t>(std::clamp(prio, 1, 254)));
  in.router->set_fault(now, fault);
  run_actions(in);
}

void Daemon::poll_links() {
  for (auto& [n, in] : instances_) {
    bool fault = !in->host->link_running();
    bool changed = fault != in->link_fault;
    if (changed) log::info("({}) interface {} is {}", n, in->conf.interface, fault ? "down" : "up");
    in->link_fault = fault;
    for (auto& t : in->conf.track_interfaces) {
      bool down = !in->host->link_running(t.name);
      if (down != (in->tracked_down.count(t.name) > 0)) {
        changed = true;
        log::info("({}) tracked interface {} is {}", n, t.name, down ? "down" : "up");
        if (down)
          in->tracked_down.insert(t.name);
        else
          in->tracked_down.erase(t.name);
      }
    }
    if (changed) update_trackers(*in);
  }
  schedule();
}

void Daemon::spawn(const std::string& command) {
  if (auto why = runner_.insecure(command)) {
    if (refused_.insert(command).second)
      log::error("SECURITY VIOLATION - script '{}' not run: {}", command, *why);
    return;
  }
  if (runner_.run(command) < 0) log::warn("cannot start '{}': {}", command, std::strerror(errno));
}

void Daemon::notify(const Instance& in, State to) {
  const auto& c = in.conf;
  const std::string& specific = to == State::kMaster   ? c.notify_master
                                : to == State::kBackup ? c.notify_backup
                                : to == State::kFault  ? c.notify_fault
                                                       : c.notify_stop;
  if (!specific.empty()) spawn(specific);
  if (!c.notify.empty()) {
    spawn(fmt::format("{} INSTANCE {} {} {}", c.notify, c.name, state_name(to),
                      in.router->priority()));
  }
  if (!in.group.empty()) {
    auto g = groups_.find(in.group);
    if (g != groups_.end()) {
      const std::string& gs = to == State::kMaster   ? g->second.notify_master
                              : to == State::kBackup ? g->second.notify_backup
                              : to == State::kFault  ? g->second.notify_fault
                                                     : std::string();
      if (!gs.empty() && !in_group_change_) spawn(gs);
    }
  }
}

void Daemon::start_script(const std::string& name) {
  Script& s = scripts_[name];
  TimePoint now = loop_.clock().now();
  if (s.pid > 0) {
    if (s.conf.timeout.count() > 0 && now - s.started > s.conf.timeout) {
      kill(s.pid, SIGKILL);  // reap() records the failure
    }
    return;
  }
  if (s.disabled) return;
  pid_t pid = runner_.run(s.conf.script);
  if (pid < 0) return;
  s.pid = pid;
  s.started = now;
}

void Daemon::reap() {
  int status;
  pid_t pid;
  bool changed = false;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    for (auto& [name, s] : scripts_) {
      if (s.pid != pid) continue;
      s.pid = -1;
      bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      if (ok == s.ok) {
        s.streak = 0;
        continue;
      }
      if (++s.streak >= (s.ok ? s.conf.fall : s.conf.rise)) {
        s.ok = ok;
        s.streak = 0;
        changed = true;
        log::info("VRRP_Script({}) {}", name, ok ? "succeeded" : "failed");
      }
    }
  }
  if (changed) {
    for (auto& [n, in] : instances_) update_trackers(*in);
    schedule();
  }
}

void Daemon::schedule() {
  TimePoint now = loop_.clock().now();
  for (auto& [n, in] : instances_) {
    in->router->tick(now);
    run_actions(*in);
  }
  std::optional<TimePoint> next;
  for (auto& [n, in] : instances_) {
    auto d = in->router->next_deadline();
    if (d && (!next || *d < *next)) next = d;
  }
  loop_.cancel_timer(deadline_timer_);
  deadline_timer_ = 0;
  if (next) {
    Duration wait = *next > now ? *next - now : Duration{0};
    deadline_timer_ = loop_.add_timer(wait, [this] { schedule(); });
  }
}

nlohmann::json Daemon::show() const {
  nlohmann::json out = nlohmann::json::array();
  for (auto& [n, in] : instances_) {
    const Router& r = *in->router;
    const auto& k = r.counters();
    nlohmann::json vips = nlohmann::json::array();
    for (auto& v : in->conf.vips) vips.push_back(v.prefix.to_string());
    out.push_back({{"name", n},
                   {"state", state_name(r.state())},
                   {"interface", in->conf.interface},
                   {"vrid", in->conf.vrid},
                   {"version", r.config().version},
                   {"priority", r.priority()},
                   {"configured_priority", in->conf.priority},
                   {"advert_int_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                         r.config().advert_interval)
                                         .count()},
                   {"master_down_interval_ms",
                    std::chrono::duration<double, std::milli>(r.master_down_interval()).count()},
                   {"preempt", r.config().preempt},
                   {"sync_group", in->group},
                   {"vips", vips},
                   {"counters",
                    {{"adverts_sent", k.adverts_sent},
                     {"adverts_received", k.adverts_received},
                     {"became_master", k.became_master},
                     {"priority_zero_received", k.priority_zero_received},
                     {"priority_zero_sent", k.priority_zero_sent},
                     {"bad_ttl", k.bad_ttl},
                     {"bad_version", k.bad_version},
                     {"bad_auth", k.bad_auth},
                     {"bad_interval", k.bad_interval},
                     {"address_mismatch", k.address_mismatch},
                     {"malformed", in->host->rx_malformed()},
                     {"bad_checksum", in->host->rx_bad_checksum()}}}});
  }
  return out;
}

void Daemon::register_commands(console::Registry& reg) {
  reg.add("vrrp/show", "[INSTANCE]", "VRRP instances: state, priority, timers, counters",
          [this](console::Session&, const std::vector<std::string>& a) -> Result<console::Reply> {
            console::Reply r;
            r.json = nlohmann::json::array();
            for (auto& i : show()) {
              if (!a.empty() && i["name"] != a[0]) continue;
              r.json.push_back(i);
              r.text +=
                  fmt::format("{:<12} {:<7} VRID {:<3} {:<10} prio {:>3} v{} vips {}\n",
                              i["name"].get<std::string>(), i["state"].get<std::string>(),
                              i["vrid"].get<int>(), i["interface"].get<std::string>(),
                              i["priority"].get<int>(), i["version"].get<int>(), i["vips"].dump());
            }
            if (!a.empty() && r.json.empty()) return make_error(ENXIO, "no vrrp_instance {}", a[0]);
            return r;
          });
}

}  // namespace vnet::vrrp
