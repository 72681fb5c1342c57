#pragma once
// A simulated bridged network of Rstp engines, for unit tests and (later) text scenarios.
//
// Bridges are Rstp engines with names; segments join their ports: a link (two ports, full duplex,
// point-to-point) or a LAN (any number of ports, half duplex, shared). Time moves only in
// run_for(): in steps (100 ms by default) every engine gets tick(now), then every action is
// carried out — SendBpdu is delivered to the other ports of the sender's segment (after `delay`,
// if the segment is up, alive and not silenced on the sender's side), SetPortState is recorded,
// Flush is counted — until nothing is left to do at that instant.
//
// Faults: set_up(seg, false) drops the carrier (link_down on every port of it); set_dead() keeps
// the carrier but carries nothing, frames or BPDUs (a failed middle box: indirect failure);
// set_silent() drops only the BPDUs one port sends (a one-way failure of the control plane, the
// case loop guard is for); data is still assumed to flow then.
//
// check_tree() is the property every stable topology must have: in the graph of bridges and
// segments where a port joins its bridge to its segment when it is forwarding, there is no cycle,
// and bridges joined by working segments through enabled ports are joined by forwarding ports.

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "stp/rstp.hh"

namespace vnet::stp::sim {

using namespace std::chrono_literals;

struct PortRef {
  size_t bridge = 0;
  PortNo port = 0;
  friend auto operator<=>(const PortRef&, const PortRef&) = default;
};

struct Event {
  TimePoint at;
  std::string text;
};

// The bridge id Network gives bridge `index` (MAC 02:00:00:00:00:<index+1>) with `priority`.
inline BridgeId bridge_id(size_t index, uint16_t priority = 32768) {
  return BridgeId::make(priority, 0, packet::MacAddress::from_u64(0x020000000000ULL + index + 1));
}

class Network {
 public:
  explicit Network(TimePoint start = TimePoint{std::chrono::seconds(1000)}) : now_(start) {}

  // MAC 02:00:00:00:00:<index+1> unless given; aborts the test setup on a bad config (returns
  // the error text in `error()` and no bridge).
  std::optional<size_t> add_bridge(const std::string& name, const BridgeConfig& config = {},
                                   std::optional<packet::MacAddress> mac = {}) {
    packet::MacAddress m =
        mac ? *mac : packet::MacAddress::from_u64(0x020000000000ULL + bridges_.size() + 1);
    auto r = Rstp::create(config, m, now_);
    if (!r) {
      error_ = r.error().message;
      return std::nullopt;
    }
    bridges_.push_back(Bridge{name, std::move(r.value())});
    pump();
    return bridges_.size() - 1;
  }

  // Adds the port if the bridge does not have it yet.
  bool add_port(PortRef ref, const PortConfig& config = {}) {
    Rstp& e = engine(ref.bridge);
    if (e.port_config(ref.port)) return true;
    auto ok = e.add_port(ref.port, config, now_);
    if (!ok) error_ = ok.error().message;
    pump();
    return ok.ok();
  }

  size_t link(PortRef a, PortRef b, uint32_t speed_mbps = 1000) {
    return segment({a, b}, speed_mbps, true);
  }
  size_t lan(std::vector<PortRef> ports, uint32_t speed_mbps = 100) {
    return segment(std::move(ports), speed_mbps, false);
  }

  void set_up(size_t seg, bool up) {
    Segment& s = segments_.at(seg);
    s.up = up;
    for (const PortRef& r : s.ports) {
      if (up) {
        engine(r.bridge).link_up(r.port, s.speed_mbps, s.full_duplex, now_);
      } else {
        engine(r.bridge).link_down(r.port, now_);
      }
    }
    pump();
  }
  void set_dead(size_t seg, bool dead) { segments_.at(seg).dead = dead; }
  void set_silent(size_t seg, PortRef from, bool silent) {
    auto& s = segments_.at(seg).silent;
    if (silent) {
      s.push_back(from);
    } else {
      s.erase(std::remove(s.begin(), s.end(), from), s.end());
    }
  }
  // One port loses or regains its carrier (a bridge leaving a shared LAN): it neither sends
  // nor receives.
  void set_port_up(PortRef r, bool up) {
    const Segment& s = segments_.at(segment_of_.at(r));
    if (up) {
      down_ports_.erase(r);
      engine(r.bridge).link_up(r.port, s.speed_mbps, s.full_duplex, now_);
    } else {
      down_ports_.insert(r);
      engine(r.bridge).link_down(r.port, now_);
    }
    pump();
  }
  // A legacy 802.1D-1998 bridge: RST BPDUs sent to it are lost (it discards the unknown type).
  // Give it force_version 0 so that it sends Config and TCN BPDUs only.
  void set_legacy(size_t b, bool legacy) { bridges_.at(b).legacy = legacy; }
  void set_delay(Duration d) { delay_ = d; }
  void set_step(Duration d) { step_ = d; }

  // Hands a BPDU to a port as if received from its segment.
  void inject(PortRef to, const Bpdu& bpdu) {
    engine(to.bridge).receive(to.port, bpdu, now_);
    pump();
  }

  void run_for(Duration d) {
    TimePoint end = now_ + d;
    while (now_ < end) {
      now_ = std::min(end, now_ + step_);
      for (Bridge& b : bridges_) b.engine.tick(now_);
      pump();
    }
  }
  // Runs until pred() holds (checked after each step) or `limit` passes; true if it held.
  bool run_until(const std::function<bool()>& pred, Duration limit) {
    TimePoint end = now_ + limit;
    while (!pred()) {
      if (now_ >= end) return false;
      run_for(step_);
    }
    return true;
  }
  // Lets engines act on something done from outside (configuration calls on engine()).
  void settle() { pump(); }

  TimePoint now() const { return now_; }
  size_t size() const { return bridges_.size(); }
  Rstp& engine(size_t b) { return bridges_.at(b).engine; }
  const Rstp& engine(size_t b) const { return bridges_.at(b).engine; }
  const std::string& name(size_t b) const { return bridges_.at(b).name; }
  std::optional<size_t> find(const std::string& name) const {
    for (size_t i = 0; i < bridges_.size(); ++i) {
      if (bridges_[i].name == name) return i;
    }
    return std::nullopt;
  }
  const std::string& error() const { return error_; }

  PortState state(PortRef r) const {
    auto it = states_.find(r);
    return it == states_.end() ? PortState::kForwarding : it->second;  // a bridge port's default
  }
  PortRole role(PortRef r) const {
    auto s = engine(r.bridge).port_status(r.port);
    return s ? s->role : PortRole::kDisabled;
  }
  uint64_t flushes(PortRef r) const {
    auto it = flushes_.find(r);
    return it == flushes_.end() ? 0 : it->second;
  }
  // BPDUs a port sent, with the time.
  const std::vector<std::pair<TimePoint, Bpdu>>& sent(PortRef r) { return sent_[r]; }
  const std::vector<Event>& events() const { return events_; }
  std::vector<PortErrorDisabled> error_disabled() const { return error_disabled_; }

  // The loop-freedom property (see above): "" when it holds, else what is wrong.
  std::string check_tree() const {
    const size_t n = bridges_.size() + segments_.size();
    std::vector<size_t> fwd(n), phys(n);
    std::iota(fwd.begin(), fwd.end(), 0);
    std::iota(phys.begin(), phys.end(), 0);
    for (size_t s = 0; s < segments_.size(); ++s) {
      const Segment& seg = segments_[s];
      if (!seg.up || seg.dead) continue;
      size_t node = bridges_.size() + s;
      for (const PortRef& r : seg.ports) {
        auto st = engine(r.bridge).port_status(r.port);
        if (st && st->enabled) unite(phys, r.bridge, node);
        if (state(r) == PortState::kForwarding) {
          if (root(fwd, r.bridge) == root(fwd, node)) {
            return fmt::format("forwarding cycle through {} port {} (segment {})", name(r.bridge),
                               r.port, s);
          }
          unite(fwd, r.bridge, node);
        }
      }
    }
    for (size_t a = 0; a < bridges_.size(); ++a) {
      for (size_t b = a + 1; b < bridges_.size(); ++b) {
        if (root(phys, a) == root(phys, b) && root(fwd, a) != root(fwd, b)) {
          return fmt::format("{} and {} are connected but not through forwarding ports", name(a),
                             name(b));
        }
      }
    }
    return "";
  }

  // Every bridge's view: "name: root R cost C rp P; port role/state …" (for failure messages).
  std::string dump() const {
    std::string out;
    for (size_t i = 0; i < bridges_.size(); ++i) {
      BridgeStatus s = engine(i).status();
      out += fmt::format("{}: root {} cost {} rp {}\n", name(i), to_string(s.root_id),
                         s.root_path_cost, s.root_port ? std::to_string(*s.root_port) : "-");
      for (PortNo p : engine(i).ports()) {
        auto ps = *engine(i).port_status(p);
        out += fmt::format("  port {} {} {} edge={} rstp={}\n", p, role_name(ps.role),
                           state_name(state({i, p})), ps.oper_edge, ps.send_rstp);
      }
    }
    return out;
  }

 private:
  struct Bridge {
    std::string name;
    Rstp engine;
    bool legacy = false;
  };
  struct Segment {
    std::vector<PortRef> ports;
    uint32_t speed_mbps = 1000;
    bool full_duplex = true;
    bool up = true;
    bool dead = false;
    std::vector<PortRef> silent;
  };
  struct Pending {
    PortRef to;
    Bpdu bpdu;
  };

  static size_t root(std::vector<size_t>& uf, size_t x) {
    while (uf[x] != x) x = uf[x] = uf[uf[x]];
    return x;
  }
  static size_t root(const std::vector<size_t>& uf, size_t x) {
    while (uf[x] != x) x = uf[x];
    return x;
  }
  static void unite(std::vector<size_t>& uf, size_t a, size_t b) { uf[root(uf, a)] = root(uf, b); }

  size_t segment(std::vector<PortRef> ports, uint32_t speed_mbps, bool full_duplex) {
    for (const PortRef& r : ports) add_port(r);
    segments_.push_back(Segment{ports, speed_mbps, full_duplex});
    size_t id = segments_.size() - 1;
    for (const PortRef& r : ports) segment_of_[r] = id;
    set_up(id, true);
    return id;
  }

  void route(PortRef from, const Bpdu& bpdu) {
    sent_[from].emplace_back(now_, bpdu);
    auto it = segment_of_.find(from);
    if (it == segment_of_.end()) return;
    const Segment& s = segments_[it->second];
    if (!s.up || s.dead) return;
    if (std::find(s.silent.begin(), s.silent.end(), from) != s.silent.end()) return;
    if (down_ports_.count(from)) return;
    for (const PortRef& to : s.ports) {
      if (to == from || down_ports_.count(to)) continue;
      if (bridges_[to.bridge].legacy && bpdu.type == BpduType::kRst) continue;
      pending_.emplace(std::make_pair(now_ + delay_, seq_++), Pending{to, bpdu});
    }
  }

  void apply(size_t b, std::vector<Action>& actions) {
    for (Action& a : actions) {
      std::visit(
          [&](auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, SendBpdu>) {
              route({b, x.port}, x.bpdu);
            } else if constexpr (std::is_same_v<T, SetPortState>) {
              states_[{b, x.port}] = x.state;
              log(b, fmt::format("port {} {}", x.port, state_name(x.state)));
            } else if constexpr (std::is_same_v<T, Flush>) {
              ++flushes_[{b, x.port}];
            } else if constexpr (std::is_same_v<T, PortErrorDisabled>) {
              error_disabled_.push_back(x);
              log(b, fmt::format("port {} error-disabled", x.port));
            } else if constexpr (std::is_same_v<T, RoleChanged>) {
              log(b,
                  fmt::format("port {} role {} -> {}", x.port, role_name(x.from), role_name(x.to)));
            } else if constexpr (std::is_same_v<T, RootChanged>) {
              log(b, fmt::format("root {} cost {}", to_string(x.root), x.root_path_cost));
            } else if constexpr (std::is_same_v<T, TopologyChange>) {
              log(b,
                  fmt::format("topology change on port {} ({})", x.port, tc_cause_name(x.cause)));
            } else if constexpr (std::is_same_v<T, ProtocolChanged>) {
              log(b, fmt::format("port {} sends {}", x.port, x.rstp ? "RST" : "STP"));
            } else if constexpr (std::is_same_v<T, Inconsistent>) {
              log(b,
                  fmt::format("port {} {} {}", x.port,
                              x.guard == Guard::kRoot ? "root-inconsistent" : "loop-inconsistent",
                              x.active ? "set" : "cleared"));
            }
          },
          a);
    }
  }

  void log(size_t b, std::string text) {
    events_.push_back({now_, fmt::format("{} {}", name(b), text)});
  }

  // Carries out every action due now, until there are none.
  void pump() {
    for (int guard = 0; guard < 1'000'000; ++guard) {
      bool any = false;
      for (size_t b = 0; b < bridges_.size(); ++b) {
        std::vector<Action> actions = bridges_[b].engine.take_actions();
        if (!actions.empty()) {
          any = true;
          apply(b, actions);
        }
      }
      while (!pending_.empty() && pending_.begin()->first.first <= now_) {
        Pending p = pending_.begin()->second;
        pending_.erase(pending_.begin());
        engine(p.to.bridge).receive(p.to.port, p.bpdu, now_);
        any = true;
      }
      if (!any) return;
    }
    error_ = "pump did not come to rest";
  }

  TimePoint now_;
  Duration step_ = 100ms;
  Duration delay_{0};
  uint64_t seq_ = 0;
  std::vector<Bridge> bridges_;
  std::vector<Segment> segments_;
  std::map<PortRef, size_t> segment_of_;
  std::set<PortRef> down_ports_;
  std::map<std::pair<TimePoint, uint64_t>, Pending> pending_;
  std::map<PortRef, PortState> states_;
  std::map<PortRef, uint64_t> flushes_;
  std::map<PortRef, std::vector<std::pair<TimePoint, Bpdu>>> sent_;
  std::vector<Event> events_;
  std::vector<PortErrorDisabled> error_disabled_;
  std::string error_;
};

}  // namespace vnet::stp::sim
