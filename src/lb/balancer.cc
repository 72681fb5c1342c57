#include "lb/balancer.hh"

#include <algorithm>
#include <map>

#include <fmt/format.h>

namespace vnet::lb {
namespace {

int clamp_weight(long w) { return int(std::clamp<long>(w, 0, kMaxWeight)); }

const char* kind_name(Change::Kind k) {
  switch (k) {
    case Change::kAddService:
      return "add service";
    case Change::kEditService:
      return "edit service";
    case Change::kDelService:
      return "delete service";
    case Change::kAddDest:
      return "add dest";
    case Change::kEditDest:
      return "edit dest";
    case Change::kDelDest:
      return "delete dest";
    case Change::kNotifyUp:
      return "notify up";
    case Change::kNotifyDown:
      return "notify down";
    case Change::kQuorumUp:
      return "quorum up";
    case Change::kQuorumDown:
      return "quorum down";
  }
  return "?";
}

TableService* find_service(Table& t, const ServiceKey& k) {
  for (auto& s : t) {
    if (s.key == k) return &s;
  }
  return nullptr;
}

const TableService* find_service(const Table& t, const ServiceKey& k) {
  for (auto& s : t) {
    if (s.key == k) return &s;
  }
  return nullptr;
}

const TableDest* find_dest(const TableService& s, const Endpoint& a) {
  for (auto& d : s.dests) {
    if (d.addr == a) return &d;
  }
  return nullptr;
}

}  // namespace

std::string to_string(const Change& c) {
  std::string s = kind_name(c.kind);
  switch (c.kind) {
    case Change::kAddDest:
    case Change::kEditDest:
      return fmt::format("{} {} weight {} in {}", s, c.dest.to_string(), c.weight, c.service.str());
    case Change::kDelDest:
    case Change::kNotifyUp:
    case Change::kNotifyDown:
      return fmt::format("{} {} in {}", s, c.dest.to_string(), c.service.str());
    default:
      return fmt::format("{} {}", s, c.service.str());
  }
}

Result<void> apply_changes(Table& table, const std::vector<Change>& changes) {
  for (auto& c : changes) {
    TableService* s = find_service(table, c.service);
    auto fail = [&](const char* why) {
      return Error{EINVAL, fmt::format("cannot {}: {}", to_string(c), why)};
    };
    switch (c.kind) {
      case Change::kAddService:
        if (s) return fail("the service exists");
        table.push_back({c.service,
                         c.scheduler,
                         c.forwarding,
                         c.persistence,
                         {},
                         c.persistence_granularity,
                         c.sched_flags,
                         c.group});
        break;
      case Change::kEditService:
        if (!s) return fail("no such service");
        s->scheduler = c.scheduler;
        s->forwarding = c.forwarding;
        s->persistence = c.persistence;
        s->persistence_granularity = c.persistence_granularity;
        s->sched_flags = c.sched_flags;
        s->group = c.group;
        break;
      case Change::kDelService:
        if (!s) return fail("no such service");
        table.erase(table.begin() + (s - table.data()));
        break;
      case Change::kAddDest:
      case Change::kEditDest:
      case Change::kDelDest: {
        if (!s) return fail("no such service");
        auto it = std::find_if(s->dests.begin(), s->dests.end(),
                               [&](const TableDest& d) { return d.addr == c.dest; });
        if (c.kind == Change::kAddDest) {
          if (it != s->dests.end()) return fail("the destination exists");
          TableDest d{c.dest, c.weight, c.sorry, c.rank};
          auto at = std::lower_bound(
              s->dests.begin(), s->dests.end(), d,
              [](const TableDest& a, const TableDest& b) { return a.addr < b.addr; });
          s->dests.insert(at, d);
        } else if (it == s->dests.end()) {
          return fail("no such destination");
        } else if (c.kind == Change::kEditDest) {
          it->weight = c.weight;
        } else {
          s->dests.erase(it);
        }
        break;
      }
      default:
        break;  // notifications do not touch the table
    }
  }
  return {};
}

bool next_quorum(bool up, long weight_sum, unsigned quorum, unsigned hysteresis) {
  if (!up) return weight_sum >= long(quorum) + long(hysteresis);
  long threshold = long(quorum) - long(hysteresis);
  return !(weight_sum == 0 || weight_sum < threshold);
}

Table table_for(const LbConfig& config, const std::vector<std::vector<bool>>& alive,
                const std::vector<std::vector<int>>& weight, const std::vector<bool>& quorum_up) {
  Table t;
  for (size_t s = 0; s < config.services.size(); ++s) {
    const VirtualServerConfig& vs = config.services[s];
    TableService ts{vs.key,
                    vs.scheduler,
                    vs.forwarding,
                    vs.persistence_timeout,
                    {},
                    vs.persistence_timeout ? vs.persistence_granularity : "",
                    vs.sched_flags,
                    {}};
    if (vs.key.kind == ServiceKey::kGroup) {
      for (auto& g : config.groups) {
        if (g.name == vs.key.group) ts.group = g.members;
      }
    }
    bool sorry = !quorum_up[s] && vs.sorry_server;
    for (size_t r = 0; r < vs.reals.size(); ++r) {
      const RealServerConfig& rs = vs.reals[r];
      if (!sorry && alive[s][r]) {
        ts.dests.push_back({rs.addr, weight[s][r], false, int(r)});
      } else if (rs.inhibit) {
        ts.dests.push_back({rs.addr, 0, false, int(r)});
      }
    }
    if (vs.sorry_server && (sorry || vs.sorry_server_inhibit) && !find_dest(ts, *vs.sorry_server)) {
      ts.dests.push_back(
          {*vs.sorry_server, sorry ? vs.sorry_weight : 0, true, int(vs.reals.size())});
    }
    std::sort(ts.dests.begin(), ts.dests.end(),
              [](const TableDest& a, const TableDest& b) { return a.addr < b.addr; });
    t.push_back(std::move(ts));
  }
  return t;
}

std::vector<Change> diff(const Table& from, const Table& to) {
  std::vector<Change> out;
  auto service_change = [](Change::Kind k, const TableService& s) {
    Change c{k, s.key, {}, 0, {}};
    c.scheduler = s.scheduler;
    c.forwarding = s.forwarding;
    c.persistence = s.persistence;
    c.persistence_granularity = s.persistence_granularity;
    c.sched_flags = s.sched_flags;
    c.group = s.group;
    return c;
  };
  for (auto& t : to) {
    if (!find_service(from, t.key)) out.push_back(service_change(Change::kAddService, t));
  }
  for (auto& t : to) {
    const TableService* f = find_service(from, t.key);
    if (f) {
      for (auto& d : f->dests) {
        if (!find_dest(t, d.addr)) out.push_back({Change::kDelDest, t.key, d.addr, 0, {}});
      }
      for (auto& d : t.dests) {
        const TableDest* old = find_dest(*f, d.addr);
        if (old && old->weight != d.weight)
          out.push_back({Change::kEditDest, t.key, d.addr, d.weight, {}});
      }
    }
    for (auto& d : t.dests) {
      if (!f || !find_dest(*f, d.addr))
        out.push_back({Change::kAddDest, t.key, d.addr, d.weight, {}, d.sorry, d.rank});
    }
    if (f && (f->scheduler != t.scheduler || f->forwarding != t.forwarding ||
              f->persistence != t.persistence ||
              f->persistence_granularity != t.persistence_granularity ||
              f->sched_flags != t.sched_flags || f->group != t.group)) {
      out.push_back(service_change(Change::kEditService, t));
    }
  }
  for (auto& f : from) {
    if (!find_service(to, f.key)) out.push_back(service_change(Change::kDelService, f));
  }
  return out;
}

Balancer::Balancer(LbConfig config, TimePoint now, Random& random)
    : config_(std::move(config)), random_(random) {
  for (auto& vs : config_.services) services_.push_back(fresh_service(vs, now));
  for (size_t s = 0; s < services_.size(); ++s) {
    for (size_t r = 0; r < services_[s].reals.size(); ++r)
      services_[s].reals[r].alive = computed_alive(s, r);
    const VirtualServerConfig& vs = config_.services[s];
    services_[s].quorum_up = live_weight(s) >= long(vs.quorum) + long(vs.hysteresis);
  }
}

Balancer::ServiceState Balancer::fresh_service(const VirtualServerConfig& vs, TimePoint now) {
  ServiceState st;
  for (auto& rs : vs.reals) {
    RealState r;
    for (auto& c : rs.checkers) r.checkers.emplace_back(c.timing, now, random_);
    st.reals.push_back(std::move(r));
  }
  return st;
}

bool Balancer::computed_alive(size_t s, size_t r) const {
  for (auto& c : services_[s].reals[r].checkers) {
    if (!c.up()) return false;
  }
  return true;
}

bool Balancer::real_alive(size_t s, size_t r) const { return services_[s].reals[r].alive; }

int Balancer::real_weight(size_t s, size_t r) const {
  for (auto& c : services_[s].reals[r].checkers) {
    if (c.dynamic_weight()) return clamp_weight(*c.dynamic_weight());
  }
  return clamp_weight(config_.services[s].reals[r].weight);
}

long Balancer::live_weight(size_t s) const {
  long sum = 0;
  for (size_t r = 0; r < services_[s].reals.size(); ++r) {
    if (computed_alive(s, r)) sum += real_weight(s, r);
  }
  return sum;
}

Step Balancer::start() {
  std::vector<Change> notes;
  for (size_t s = 0; s < services_.size(); ++s) {
    if (!services_[s].quorum_up)
      notes.push_back(
          {Change::kQuorumDown, config_.services[s].key, {}, 0, config_.services[s].quorum_down});
  }
  return settle({}, std::move(notes));
}

void Balancer::drain(const CheckerRef& ref, std::vector<ProbeAction>& probes) {
  Checker& c = services_[ref.service].reals[ref.real].checkers[ref.checker];
  for (auto& a : c.take_actions()) {
    if (auto* p = std::get_if<StartProbe>(&a)) {
      probes.push_back({ref, *p});
    } else if (auto* x = std::get_if<AbortProbe>(&a)) {
      probes.push_back({ref, *x});
    }
  }
}

Step Balancer::tick(TimePoint now) {
  std::vector<ProbeAction> probes;
  for (size_t s = 0; s < services_.size(); ++s) {
    for (size_t r = 0; r < services_[s].reals.size(); ++r) {
      auto& cs = services_[s].reals[r].checkers;
      for (size_t k = 0; k < cs.size(); ++k) {
        if (now < cs[k].next_deadline()) continue;
        cs[k].tick(now);
        drain({s, r, k}, probes);
      }
    }
  }
  return settle(std::move(probes), {});
}

Step Balancer::on_outcome(const CheckerRef& ref, uint64_t probe, TimePoint now,
                          const ProbeOutcome& o) {
  std::vector<ProbeAction> probes;
  if (ref.service < services_.size() && ref.real < services_[ref.service].reals.size() &&
      ref.checker < services_[ref.service].reals[ref.real].checkers.size()) {
    services_[ref.service].reals[ref.real].checkers[ref.checker].on_outcome(probe, now, o);
    drain(ref, probes);
  }
  return settle(std::move(probes), {});
}

TimePoint Balancer::next_deadline() const {
  TimePoint t = TimePoint::max();
  for (auto& s : services_) {
    for (auto& r : s.reals) {
      for (auto& c : r.checkers) t = std::min(t, c.next_deadline());
    }
  }
  return t;
}

Step Balancer::settle(std::vector<ProbeAction> probes, std::vector<Change> notes) {
  std::vector<std::vector<bool>> alive;
  std::vector<std::vector<int>> weight;
  std::vector<bool> quorum;
  for (size_t s = 0; s < services_.size(); ++s) {
    const VirtualServerConfig& vs = config_.services[s];
    alive.emplace_back();
    weight.emplace_back();
    for (size_t r = 0; r < services_[s].reals.size(); ++r) {
      bool now_alive = computed_alive(s, r);
      RealState& rs = services_[s].reals[r];
      if (now_alive != rs.alive) {
        rs.alive = now_alive;
        notes.push_back({now_alive ? Change::kNotifyUp : Change::kNotifyDown, vs.key,
                         vs.reals[r].addr, 0,
                         now_alive ? vs.reals[r].notify_up : vs.reals[r].notify_down});
      }
      alive.back().push_back(now_alive);
      weight.back().push_back(real_weight(s, r));
    }
    bool q = next_quorum(services_[s].quorum_up, live_weight(s), vs.quorum, vs.hysteresis);
    if (q != services_[s].quorum_up) {
      services_[s].quorum_up = q;
      notes.push_back({q ? Change::kQuorumUp : Change::kQuorumDown,
                       vs.key,
                       {},
                       0,
                       q ? vs.quorum_up : vs.quorum_down});
    }
    quorum.push_back(q);
  }
  Table next = table_for(config_, alive, weight, quorum);
  Step step;
  step.probes = std::move(probes);
  step.changes = diff(table_, next);
  step.changes.insert(step.changes.end(), notes.begin(), notes.end());
  table_ = std::move(next);
  return step;
}

Step Balancer::reload(LbConfig config, TimePoint now) {
  std::vector<ServiceState> next;
  std::vector<std::pair<CheckerRef, CheckerRef>> moved;
  std::vector<ProbeAction> probes;
  std::vector<std::pair<size_t, size_t>> fresh;  // new real servers (service, real)
  std::vector<size_t> fresh_services;
  std::map<ServiceKey, size_t> old_index;
  for (size_t s = 0; s < config_.services.size(); ++s) old_index[config_.services[s].key] = s;
  std::vector<std::vector<std::vector<bool>>> kept(services_.size());
  std::vector<std::vector<bool>> stays(services_.size());  // old real servers still configured
  for (size_t s = 0; s < services_.size(); ++s) {
    for (auto& r : services_[s].reals) kept[s].emplace_back(r.checkers.size(), false);
    stays[s].assign(services_[s].reals.size(), false);
  }
  for (size_t s = 0; s < config.services.size(); ++s) {
    const VirtualServerConfig& vs = config.services[s];
    auto os = old_index.find(vs.key);
    if (os == old_index.end()) {
      next.push_back(fresh_service(vs, now));
      fresh_services.push_back(s);
      for (size_t r = 0; r < vs.reals.size(); ++r) fresh.push_back({s, r});
      continue;
    }
    const VirtualServerConfig& old_vs = config_.services[os->second];
    ServiceState st;
    st.quorum_up = services_[os->second].quorum_up;
    for (size_t r = 0; r < vs.reals.size(); ++r) {
      const RealServerConfig& rs = vs.reals[r];
      RealState real;
      real.alive = false;
      std::optional<size_t> orr;
      for (size_t k = 0; k < old_vs.reals.size(); ++k) {
        if (old_vs.reals[k].addr == rs.addr) orr = k;
      }
      if (orr) {
        real.alive = services_[os->second].reals[*orr].alive;
        stays[os->second][*orr] = true;
      } else {
        fresh.push_back({s, r});
      }
      for (size_t c = 0; c < rs.checkers.size(); ++c) {
        std::optional<size_t> match;
        if (orr) {
          const auto& old_checks = old_vs.reals[*orr].checkers;
          for (size_t k = 0; k < old_checks.size() && !match; ++k) {
            if (!kept[os->second][*orr][k] && old_checks[k].same_check(rs.checkers[c])) match = k;
          }
        }
        if (match) {
          kept[os->second][*orr][*match] = true;
          real.checkers.push_back(Checker::migrate(
              services_[os->second].reals[*orr].checkers[*match], rs.checkers[c].timing));
          moved.push_back({{os->second, *orr, *match}, {s, r, c}});
        } else {
          real.checkers.emplace_back(rs.checkers[c].timing, now, random_);
        }
      }
      st.reals.push_back(std::move(real));
    }
    next.push_back(std::move(st));
  }
  // A live real server that leaves the configuration is removed with its notify_down
  // (keepalived clear_service_rs() on reload, omega or not).
  std::vector<Change> notes;
  for (size_t s = 0; s < services_.size(); ++s) {
    for (size_t r = 0; r < services_[s].reals.size(); ++r) {
      if (stays[s][r] || !services_[s].reals[r].alive) continue;
      const VirtualServerConfig& vs = config_.services[s];
      notes.push_back({Change::kNotifyDown, vs.key, vs.reals[r].addr, 0, vs.reals[r].notify_down});
    }
  }
  for (size_t s = 0; s < services_.size(); ++s) {
    for (size_t r = 0; r < services_[s].reals.size(); ++r) {
      for (size_t k = 0; k < services_[s].reals[r].checkers.size(); ++k) {
        const Checker& c = services_[s].reals[r].checkers[k];
        if (!kept[s][r][k] && c.running_probe())
          probes.push_back({{s, r, k}, AbortProbe{c.running_probe()}});
      }
    }
  }
  config_ = std::move(config);
  services_ = std::move(next);
  // What is new starts as at boot, without notifications: a new real server is alive unless an
  // alpha checker holds it down (keepalived init_service_rs()), a new service takes its boot
  // quorum state.
  for (auto& [s, r] : fresh) {
    services_[s].reals[r].alive = computed_alive(s, r);
  }
  for (size_t s : fresh_services) {
    const VirtualServerConfig& vs = config_.services[s];
    services_[s].quorum_up = live_weight(s) >= long(vs.quorum) + long(vs.hysteresis);
  }
  Step step = settle(std::move(probes), std::move(notes));
  step.moved = std::move(moved);
  return step;
}

Step Balancer::shutdown() {
  Step step;
  for (size_t s = 0; s < services_.size(); ++s) {
    const VirtualServerConfig& vs = config_.services[s];
    if (!vs.omega) continue;
    for (size_t r = 0; r < services_[s].reals.size(); ++r) {
      if (services_[s].reals[r].alive)
        step.changes.push_back(
            {Change::kNotifyDown, vs.key, vs.reals[r].addr, 0, vs.reals[r].notify_down});
    }
    if (services_[s].quorum_up)
      step.changes.push_back({Change::kQuorumDown, vs.key, {}, 0, vs.quorum_down});
  }
  std::vector<Change> removal = diff(table_, {});
  step.changes.insert(step.changes.begin(), removal.begin(), removal.end());
  table_.clear();
  return step;
}

std::string ServiceKey::str() const {
  static const char* kProto[] = {"TCP", "UDP", "SCTP"};
  switch (kind) {
    case kFwmark:
      return fmt::format("FWM {}", fwmark);
    case kGroup:
      return fmt::format("group {}", group);
    default:
      return fmt::format("{}/{}", addr.to_string(), kProto[int(protocol)]);
  }
}

std::string_view checker_keyword(CheckerType t) {
  static constexpr std::string_view kNames[] = {
      "TCP_CHECK", "HTTP_GET",  "SSL_GET",    "SMTP_CHECK", "MISC_CHECK",
      "DNS_CHECK", "UDP_CHECK", "PING_CHECK", "FILE_CHECK", "BFD_CHECK"};
  return kNames[int(t)];
}

}  // namespace vnet::lb
