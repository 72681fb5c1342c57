#include "lb/director.hh"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "base/log.hh"
#include "io/netlink.hh"
#include "io/next_hop.hh"
#include "lb/keepalived_conf.hh"
#include "lb/nft_ruleset.hh"

namespace vnet::lb {

Result<DrHops> NftDatapath::resolve(const Table& table) const {
  DrHops hops;
  for (auto& s : table) {
    if (s.forwarding != Forwarding::kDr) continue;
    for (auto& d : s.dests) {
      if (d.addr.v6 || hops.count(d.addr)) continue;
      auto hop = io::next_hop(d.addr.v4);
      if (!hop)
        return make_error(hop.error().code, "{}: DR real server {}: {}", s.key.str(),
                          d.addr.to_string(), hop.error().message);
      if (hop->local)
        return make_error(EINVAL, "{}: DR real server {} is the director's own address",
                          s.key.str(), d.addr.to_string());
      if (hop->gateway)
        return make_error(EHOSTUNREACH,
                          "{}: DR real server {} is not on-link: the director reaches it through "
                          "{} on {}; DR hands the frame to the real server's MAC, so the real "
                          "server must share a segment with the director",
                          s.key.str(), d.addr.to_string(), hop->gateway->to_string(), hop->ifname);
      if (!hop->mac) {
        io::solicit_neighbour(d.addr.v4);  // added by the refresh() that finds its MAC
        continue;
      }
      hops[d.addr] = DrHop{*hop->mac, hop->ifname, hop->ifmac};
    }
  }
  return hops;
}

Result<NftCounters> NftDatapath::read_counters(std::string_view family,
                                               std::string_view table) const {
  auto out = io::query_nftables_json(fmt::format("list counters table {} {}", family, table));
  if (!out) return out.error();
  return parse_nft_counters(*out, table);
}

Status NftDatapath::program(const Table& table, const Picks& picks) {
  auto hops = resolve(table);
  if (!hops) return hops.error();
  Counted counted = nft_counted(table, counted_);
  // The flows the DR maps hold now keep their real servers in the rewritten maps.
  DrFlows flows = read_flows();
  auto rules = nft_ruleset(table, picks, *hops, &counted, &flows);
  if (!rules) return rules.error();
  // The DR table is recreated: what its counters hold now is carried over (the packets between
  // this read and the commit are the approximation lb/nft_stats.hh states).
  NftCounters carried = dr_carried_;
  if (dr_table_) {
    // Unreadable (the table removed from outside): the datapath is still rewritten.
    auto live = read_counters("netdev", kNftDrTable);
    if (!live) log::warn("lb: DR counters lost: {}", live.error().message);
    for (auto& [name, c] : live ? *live : NftCounters{}) {
      carried[name].packets += c.packets;
      carried[name].bytes += c.bytes;
    }
  }
  std::erase_if(carried, [&](const auto& kv) {
    for (auto& [key, c] : counted) {
      if (c.forwarding != Forwarding::kDr) continue;
      for (auto& d : c.dests) {
        if (nft_counter_name("in", key, d) == kv.first) return false;
      }
    }
    return true;
  });
  auto st = io::load_nftables(*rules + nft_stats_ruleset(counted, counted_, fresh_));
  if (!st && !fresh_) {
    // The stats table was changed from outside (a counter we keep is gone): start it afresh.
    log::warn("lb: counters table {} not as left, recreated: {}", kNftStatsTable,
              st.error().message);
    st = io::load_nftables(*rules + nft_stats_ruleset(counted, {}, true));
  }
  if (!st) return st;
  table_ = table;
  picks_ = picks;
  hops_ = std::move(*hops);
  counted_ = std::move(counted);
  dr_carried_ = std::move(carried);
  dr_table_ = rules->find(fmt::format("table netdev {} {{\n", kNftDrTable)) != std::string::npos;
  fresh_ = false;
  return {};
}

DrFlows NftDatapath::read_flows() const {
  DrFlows out;
  if (!dr_table_) return out;
  for (auto& s : table_) {
    if (s.forwarding != Forwarding::kDr || !follows_connections(s.scheduler)) continue;
    auto json = io::query_nftables_json(
        fmt::format("list map netdev {} {}", kNftDrTable, nft_flows_map(s.key)));
    if (!json) continue;  // not written (no real server reached): nothing to keep
    auto flows = parse_nft_flows(*json);
    if (!flows) {
      log::warn("lb: {}: flows in progress not kept: {}", s.key.str(), flows.error().message);
      continue;
    }
    out[s.key] = std::move(*flows);
  }
  return out;
}

Result<Stats> NftDatapath::stats() const {
  NftCounters live;
  bool nat = std::any_of(counted_.begin(), counted_.end(),
                         [](auto& c) { return c.second.forwarding == Forwarding::kNat; });
  if (nat) {
    auto r = read_counters("ip", kNftStatsTable);
    if (!r) return r.error();
    live = std::move(*r);
  }
  if (dr_table_) {
    auto r = read_counters("netdev", kNftDrTable);
    if (!r) return r.error();
    live.merge(*r);
  }
  return nft_stats(counted_, live, dr_carried_);
}

Status NftDatapath::set_pick(const ServiceKey& service, const std::optional<Endpoint>& dest) {
  auto s = std::find_if(table_.begin(), table_.end(),
                        [&](const TableService& t) { return t.key == service; });
  std::string tx;
  if (s != table_.end() && s->forwarding == Forwarding::kDr) {
    // The DR service's map holds MACs; a destination without one is not chosen. The map exists
    // only while one of the service's destinations is reached (nft_ruleset).
    std::optional<packet::MacAddress> mac;
    if (dest) {
      if (auto h = hops_.find(*dest); h != hops_.end()) mac = h->second.mac;
    }
    bool written = std::any_of(s->dests.begin(), s->dests.end(), [&](const TableDest& d) {
      return d.weight > 0 && hops_.count(d.addr);
    });
    if (written) tx = nft_set_dr_pick(service, mac);
  } else {
    tx = nft_set_pick(service, dest);
  }
  if (!tx.empty()) {
    if (auto st = io::load_nftables(tx); !st) return st;
  }
  // Kept either way: the next program() (refresh() finding a MAC) writes it.
  if (dest)
    picks_[service] = *dest;
  else
    picks_.erase(service);
  return {};
}

std::optional<Endpoint> NftDatapath::dr_dest(const ServiceKey& service,
                                             const packet::MacAddress& mac) const {
  for (auto& s : table_) {
    if (!(s.key == service) || s.forwarding != Forwarding::kDr) continue;
    for (auto& d : s.dests) {
      auto h = hops_.find(d.addr);
      if (h != hops_.end() && h->second.mac == mac) return d.addr;
    }
  }
  return std::nullopt;
}

bool NftDatapath::reaches(const ServiceKey& service, const Endpoint& dest) const {
  for (auto& s : table_) {
    if (s.key == service && s.forwarding == Forwarding::kDr) return hops_.count(dest) > 0;
  }
  return true;
}

Status NftDatapath::clear() {
  table_.clear();
  picks_.clear();
  hops_.clear();
  counted_.clear();
  dr_carried_.clear();
  dr_table_ = false;
  fresh_ = true;
  return io::load_nftables(nft_delete_ruleset() + nft_delete_stats());
}

Status NftDatapath::refresh() {
  auto hops = resolve(table_);
  if (!hops) return hops.error();
  if (*hops == hops_) return {};
  for (auto& [addr, hop] : *hops) {
    auto old = hops_.find(addr);
    if (old == hops_.end() || !(old->second == hop))
      log::info("lb: DR real server {} at {} on {}", addr.to_string(), hop.mac.to_string(),
                hop.ifname);
  }
  for (auto& [addr, hop] : hops_) {
    if (!hops->count(addr))
      log::info("lb: DR real server {}: MAC no longer known, out of the datapath",
                addr.to_string());
  }
  Table table = table_;
  Picks picks = picks_;
  return program(table, picks);
}

Director::~Director() {
  loop_.cancel_timer(timer_);
  loop_.cancel_timer(refresh_timer_);
  loop_.cancel_timer(dr_timer_);
}

void Director::arm_refresh() {
  loop_.cancel_timer(refresh_timer_);
  refresh_timer_ = 0;
  if (!balancer_) return;
  bool dr = false;
  for (auto& vs : balancer_->config().services) dr = dr || vs.forwarding == Forwarding::kDr;
  if (!dr) return;
  refresh_timer_ = loop_.add_timer(std::chrono::seconds(1), [this] {
    refresh_timer_ = 0;
    if (auto st = datapath_.refresh(); !st) log::error("lb: {}", st.error().message);
    // A DR real server whose MAC was learnt (or lost) is a candidate again (or no more).
    for (auto& s : balancer_->table()) {
      if (s.forwarding == Forwarding::kDr && lb::follows_connections(s.scheduler)) repick(s.key);
    }
    arm_refresh();
  });
}

Status Director::start(const LbConfig& config, const vrrp::GlobalDefs& global) {
  auto r = vrrp::ScriptRunner::make(global);
  if (!r) return r.error();
  runner_ = *r;
  prober_.set_runner(*r);
  balancer_ = std::make_unique<Balancer>(config, loop_.clock().now(), random_);
  Step s = balancer_->start();
  watch_connections();
  if (auto st = program(); !st) return st;
  arm_refresh();
  for (auto& c : s.changes) log::info("lb: {}", to_string(c));
  s.changes.clear();
  apply(std::move(s));
  return {};
}

void Director::watch_connections() {
  std::vector<ServiceKey> nat, dr;
  for (auto& vs : balancer_->config().services) {
    if (!lb::follows_connections(vs.scheduler)) continue;
    (vs.forwarding == Forwarding::kDr ? dr : nat).push_back(vs.key);
  }
  counts_.watch(nat);
  // The tracker keeps every DR connection; the counts start again from it, so a service watched
  // again (a reload back to wlc) counts the connections it already has.
  dr_counts_.watch(dr);
  dr_counts_.clear();
  for (auto& e : dr_tracker_.snapshot()) (void)dr_counts_.on_event(e);
}

Status Director::reload(const LbConfig& config, const vrrp::GlobalDefs& global) {
  if (!balancer_) return start(config, global);
  auto r = vrrp::ScriptRunner::make(global);
  if (!r) return r.error();
  runner_ = *r;
  prober_.set_runner(*r);
  Step s = balancer_->reload(config, loop_.clock().now());
  // Aborts name the old references: applied before the running probes are renamed.
  std::vector<ProbeAction> starts;
  for (auto& pa : s.probes) {
    auto* a = std::get_if<AbortProbe>(&pa.action);
    if (!a) {
      starts.push_back(std::move(pa));
      continue;
    }
    for (auto it = running_.begin(); it != running_.end(); ++it) {
      if (it->second.ref == pa.ref && it->second.id == a->id) {
        prober_.abort(it->first);
        running_.erase(it);
        break;
      }
    }
  }
  s.probes = std::move(starts);
  // Running probes of kept checkers, and their last results, follow them to their new place.
  std::map<uint64_t, Running> renamed;
  std::vector<std::pair<CheckerRef, LastResult>> last;
  for (auto& [from, to] : s.moved) {
    for (auto& [key, run] : running_) {
      if (run.ref == from) renamed[key] = {to, run.id};
    }
    for (auto& [ref, l] : last_) {
      if (ref == from) last.push_back({to, l});
    }
  }
  for (auto& [key, run] : running_) {
    if (!renamed.count(key)) prober_.abort(key);  // not listed: its checker is gone
  }
  running_ = std::move(renamed);
  last_ = std::move(last);
  watch_connections();
  arm_refresh();
  bool changed = !s.changes.empty();
  apply(std::move(s));
  // apply() reprograms only on table changes; a scheduler change alone is one too.
  if (!changed) {
    if (auto st = program(); !st)
      log::error("lb: datapath refused the table: {}", st.error().message);
  }
  return {};
}

void Director::shutdown() {
  loop_.cancel_timer(timer_);
  timer_ = 0;
  loop_.cancel_timer(refresh_timer_);
  refresh_timer_ = 0;
  loop_.cancel_timer(dr_timer_);
  dr_timer_ = 0;
  if (!balancer_) return;
  for (auto& [key, r] : running_) prober_.abort(key);
  running_.clear();
  Step s = balancer_->shutdown();
  s.probes.clear();
  for (auto& c : s.changes) {
    if ((c.kind == Change::kNotifyDown || c.kind == Change::kQuorumDown) && !c.script.empty()) {
      (void)children_.start(runner_.spec(c.script), {});
    }
  }
  if (auto st = datapath_.clear(); !st) log::warn("lb: {}", st.error().message);
  balancer_.reset();
}

const LastResult* Director::last(const CheckerRef& ref) const {
  for (auto& [r, l] : last_) {
    if (r == ref) return &l;
  }
  return nullptr;
}

void Director::record_result(const CheckerRef& ref, const LastResult& result) {
  for (auto& [r, l] : last_) {
    if (r == ref) {
      l = result;
      return;
    }
  }
  last_.push_back({ref, result});
}

void Director::apply(Step step) {
  TimePoint now = loop_.clock().now();
  for (auto& pa : step.probes) {
    if (auto* a = std::get_if<AbortProbe>(&pa.action)) {
      for (auto it = running_.begin(); it != running_.end(); ++it) {
        if (it->second.ref == pa.ref && it->second.id == a->id) {
          prober_.abort(it->first);
          running_.erase(it);
          break;
        }
      }
      record_result(pa.ref, a->success
                                ? LastResult{now, true, "no reply (a quiet UDP_CHECK passes)"}
                                : LastResult{now, false, "timed out"});
      continue;
    }
    auto& sp = std::get<StartProbe>(pa.action);
    uint64_t key = next_key_++;
    running_[key] = {pa.ref, sp.id};
    const auto& vs = balancer_->config().services[pa.ref.service];
    const auto& real = vs.reals[pa.ref.real];
    const auto& check = real.checkers[pa.ref.checker];
    // The reference is looked up when the outcome arrives: a reload may have moved the checker.
    prober_.start(key, check, real.addr, sp.timeout,
                  [this, key](const ProbeOutcome& o, const std::string& d) {
                    auto it = running_.find(key);
                    if (it == running_.end()) return;
                    Running run = it->second;
                    running_.erase(it);
                    TimePoint at = loop_.clock().now();
                    record_result(run.ref, LastResult{at, o.success, d});
                    apply(balancer_->on_outcome(run.ref, run.id, at, o));
                  });
  }
  bool table_changed = false;
  for (auto& c : step.changes) {
    log::info("lb: {}", to_string(c));
    switch (c.kind) {
      case Change::kNotifyUp:
      case Change::kNotifyDown:
      case Change::kQuorumUp:
      case Change::kQuorumDown:
        if (c.script.empty()) break;
        if (auto why = runner_.insecure(c.script)) {
          log::error("SECURITY VIOLATION - script '{}' not run: {}", c.script, *why);
          break;
        }
        if (auto pid = children_.start(runner_.spec(c.script), {}); !pid)
          log::warn("cannot start '{}': {}", c.script, pid.error().message);
        break;
      default:
        table_changed = true;
    }
  }
  if (table_changed) {
    if (auto st = program(); !st)
      log::error("lb: datapath refused the table: {}", st.error().message);
  }
  arm();
}

Status Director::program() {
  picks_.clear();
  for (auto& s : balancer_->table()) {
    if (datapath_.schedules_connections() || !lb::follows_connections(s.scheduler)) continue;
    if (auto p = pick(s)) picks_[s.key] = *p;
  }
  return datapath_.program(balancer_->table(), picks_);
}

std::optional<Endpoint> Director::pick(const TableService& s) {
  auto& sched = conn_schedulers_[s.key];
  if (!sched || sched->name() != s.scheduler) {
    SchedulerOptions options;
    options.seed = random_.between(0, UINT64_MAX);  // twos draws from the director's seed
    auto made = make_scheduler(s.scheduler, options);
    if (!made) return std::nullopt;
    sched = std::move(*made);
  }
  std::vector<Dest> dests;
  for (auto& d : s.dests) {
    if (d.weight <= 0 || !datapath_.reaches(s.key, d.addr)) continue;
    DestCounts c = conn_counts(s.key, s.forwarding, d.addr);
    dests.push_back(Dest{d.addr, d.weight, c.active, c.inactive});
  }
  sched->update(dests);
  // The next connection to the service: its destination address is the VIP (lblc, lblcr).
  Flow next;
  next.daddr = s.key.addr;
  next.now = loop_.clock().now();
  auto i = sched->schedule(dests, next);
  if (!i) return std::nullopt;
  return dests[*i].addr;
}

bool Director::counts_connections(bool dr) const {
  if (!balancer_ || datapath_.schedules_connections()) return false;
  for (auto& vs : balancer_->config().services) {
    if (lb::follows_connections(vs.scheduler) && (vs.forwarding == Forwarding::kDr) == dr)
      return true;
  }
  return false;
}

bool Director::follows_connections() const { return counts_connections(false); }
bool Director::follows_dr_connections() const { return counts_connections(true); }

DestCounts Director::conn_counts(const ServiceKey& service, Forwarding forwarding,
                                 const Endpoint& dest) const {
  return (forwarding == Forwarding::kDr ? dr_counts_ : counts_).counts(service, dest);
}

void Director::on_dr_segment(const DrLogged& logged) {
  ServiceKey key;
  key.kind = ServiceKey::kAddress;
  key.addr = logged.vip;
  key.protocol = Protocol::kTcp;
  auto dest = datapath_.dr_dest(key, logged.dst);
  if (!dest) {
    ++dr_unattributed_;  // the table changed since the frame was sent, or not ours
    return;
  }
  auto e = dr_tracker_.on_segment(DrSegment{key, logged.client, *dest, logged.flags},
                                  loop_.clock().now());
  if (e) {
    if (auto changed = dr_counts_.on_event(*e)) repick(*changed);
  }
  arm_dr_expiry();
}

void Director::arm_dr_expiry() {
  auto next = dr_tracker_.next_deadline();
  // Called for every logged segment: the timer is replaced only when the earliest timeout moved.
  if (dr_timer_ && next == dr_timer_at_) return;
  loop_.cancel_timer(dr_timer_);
  dr_timer_ = 0;
  if (!next) return;
  dr_timer_at_ = *next;
  dr_timer_ = loop_.add_timer_at(*next, [this] {
    dr_timer_ = 0;
    std::set<ServiceKey> changed;
    for (auto& e : dr_tracker_.expire(loop_.clock().now())) {
      if (auto s = dr_counts_.on_event(e)) changed.insert(*s);
    }
    for (auto& k : changed) repick(k);
    arm_dr_expiry();
  });
}

void Director::repick(const ServiceKey& key) {
  if (!balancer_) return;
  for (auto& s : balancer_->table()) {
    if (!(s.key == key) || !lb::follows_connections(s.scheduler)) continue;
    auto p = pick(s);
    auto it = picks_.find(key);
    std::optional<Endpoint> old;
    if (it != picks_.end()) old = it->second;
    if (p == old) return;
    if (p)
      picks_[key] = *p;
    else
      picks_.erase(key);
    if (auto st = datapath_.set_pick(key, p); !st)
      log::error("lb: {}: cannot set the next real server: {}", key.str(), st.error().message);
    return;
  }
}

void Director::on_conn_event(const ConnEvent& e) {
  if (auto changed = counts_.on_event(e)) repick(*changed);
}

void Director::on_conn_resync(const std::vector<ConnEvent>& all) {
  counts_.clear();
  for (auto& e : all) (void)counts_.on_event(e);
  if (!balancer_) return;
  for (auto& s : balancer_->table()) {
    if (lb::follows_connections(s.scheduler)) repick(s.key);
  }
}

void Director::arm() {
  loop_.cancel_timer(timer_);
  timer_ = loop_.add_timer_at(balancer_->next_deadline(), [this] {
    timer_ = 0;
    apply(balancer_->tick(loop_.clock().now()));
  });
}

}  // namespace vnet::lb
