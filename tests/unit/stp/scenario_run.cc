// The scenario runner (format in scenario.hh): statements → a sim::Network in virtual time.
#include <map>

#include "base/parse.hh"
#include "unit/stp/scenario.hh"
#include "unit/stp/sim.hh"

namespace vnet::stp::scenario {

namespace {

struct Segment {
  size_t id = 0;  // in the sim::Network
  std::vector<PortName> ports;
  bool lan = false;
  bool up = true, dead = false;
};

// Counters at the last `mark`.
struct Baseline {
  std::map<PortName, uint64_t> flushes, sent, rx_rst, rx_config, rx_tcn;
  std::map<std::string, uint64_t> topology_changes;
};

bool compare(uint64_t a, Op op, uint64_t b) {
  switch (op) {
    case Op::kEq:
      return a == b;
    case Op::kNe:
      return a != b;
    case Op::kLt:
      return a < b;
    case Op::kLe:
      return a <= b;
    case Op::kGt:
      return a > b;
    case Op::kGe:
      return a >= b;
  }
  return false;
}

uint64_t at(const std::map<PortName, uint64_t>& m, const PortName& p) {
  auto it = m.find(p);
  return it == m.end() ? 0 : it->second;
}

class Runner {
 public:
  explicit Runner(const Scenario& s) : s_(s) {}

  Outcome run() {
    for (const Statement& st : s_.statements) {
      line_ = st.line;
      if (!std::visit([&](const auto& a) { return apply(a); }, st.action)) break;
      if (net_.error() != sim_error_) {
        sim_error_ = net_.error();
        fail("the simulator: {}", sim_error_);
        break;
      }
      if (!bounded_) {
        for (size_t b = 0; b < net_.size(); ++b) {
          if (net_.engine(b).status().counters.iteration_limit > 0) {
            fail("{}: the state machines stopped at their iteration bound", net_.name(b));
            bounded_ = true;
          }
        }
      }
    }
    if (!out_.failures.empty()) {
      out_.dump = net_.dump();
      const auto& ev = net_.events();
      size_t from = ev.size() > 60 ? ev.size() - 60 : 0;
      out_.dump += "last events:\n";
      for (size_t i = from; i < ev.size(); ++i) {
        out_.dump += fmt::format("  t={} {}\n",
                                 format_duration(ev[i].at - TimePoint{std::chrono::seconds(1000)}),
                                 ev[i].text);
      }
    }
    return std::move(out_);
  }

 private:
  template <typename... Args>
  void fail(fmt::format_string<Args...> f, Args&&... args) {
    out_.failures.push_back(
        fmt::format("{}:{}: {}", s_.file, line_, fmt::format(f, std::forward<Args>(args)...)));
  }

  sim::PortRef ref(const PortName& p) const { return {bridges_.at(p.bridge), p.port}; }
  Rstp& engine(const std::string& b) { return net_.engine(bridges_.at(b)); }

  // A bridge id as a scenario name when one of ours has it.
  std::string id_name(BridgeId id) const {
    for (const auto& [name, index] : bridges_) {
      if (net_.engine(index).status().bridge_id == id) return name;
    }
    return to_string(id);
  }

  // ---- statements -------------------------------------------------------------------------------

  bool apply(const AddBridge& a) {
    auto b = net_.add_bridge(a.name, a.config);
    if (!b) {
      sim_error_ = net_.error();
      return fail("bridge {} refused: {}", a.name, net_.error()), false;
    }
    bridges_[a.name] = *b;
    net_.set_legacy(*b, a.legacy);
    return true;
  }
  bool apply(const AddPort& a) {
    if (!net_.add_port(ref(a.port), a.config)) {
      sim_error_ = net_.error();
      return fail("port {} refused: {}", to_string(a.port), net_.error()), false;
    }
    return true;
  }
  bool apply(const AddSegment& a) {
    std::vector<sim::PortRef> refs;
    for (const PortName& p : a.ports) refs.push_back(ref(p));
    Segment s{0, a.ports, a.lan};
    if (a.lan) {
      s.id = net_.lan(refs, a.speed_mbps);
    } else {
      s.id = net_.link(refs.at(0), refs.at(1), a.speed_mbps);
    }
    for (const PortName& p : a.ports) segment_of_[p] = a.name;
    segments_[a.name] = s;
    return true;
  }
  bool apply(const SegmentEvent& e) {
    Segment& s = segments_.at(e.segment);
    switch (e.kind) {
      case SegmentEvent::kDown:
      case SegmentEvent::kUp:
        s.up = e.kind == SegmentEvent::kUp;
        net_.set_up(s.id, s.up);
        break;
      case SegmentEvent::kDead:
      case SegmentEvent::kAlive:
        s.dead = e.kind == SegmentEvent::kDead;
        net_.set_dead(s.id, s.dead);
        break;
    }
    return true;
  }
  bool apply(const PortEvent& e) {
    sim::PortRef r = ref(e.port);
    Rstp& eng = net_.engine(r.bridge);
    switch (e.kind) {
      case PortEvent::kSilent:
      case PortEvent::kUnsilent:
        net_.set_silent(segments_.at(segment_of_.at(e.port)).id, r, e.kind == PortEvent::kSilent);
        break;
      case PortEvent::kUnplug:
      case PortEvent::kPlug:
        net_.set_port_up(r, e.kind == PortEvent::kPlug);
        break;
      case PortEvent::kMcheck:
        eng.mcheck(r.port, net_.now());
        net_.settle();
        break;
      case PortEvent::kClear:
        if (auto ok = eng.clear_error(r.port, net_.now()); !ok) {
          return fail("clear {}: {}", to_string(e.port), ok.error().message), false;
        }
        net_.settle();
        break;
    }
    return true;
  }
  bool apply(const RemoveBridge& r) {
    // Switched off: a point-to-point link loses its carrier at both ends; on a LAN only this
    // bridge's port leaves.
    for (auto& [name, s] : segments_) {
      for (const PortName& p : s.ports) {
        if (p.bridge != r.name) continue;
        if (s.lan) {
          net_.set_port_up(ref(p), false);
        } else {
          s.up = false;
          net_.set_up(s.id, false);
        }
      }
    }
    return true;
  }
  bool apply(const SetBridge& a) {
    if (auto ok = engine(a.name).configure(a.config, net_.now()); !ok) {
      return fail("set {} refused: {}", a.name, ok.error().message), false;
    }
    net_.set_legacy(bridges_.at(a.name), a.legacy);
    net_.settle();
    return true;
  }
  bool apply(const SetPort& a) {
    if (auto ok = engine(a.port.bridge).configure_port(a.port.port, a.config, net_.now()); !ok) {
      return fail("set {} refused: {}", to_string(a.port), ok.error().message), false;
    }
    net_.settle();
    return true;
  }
  bool apply(const Run& r) {
    net_.run_for(r.duration);
    return true;
  }
  bool apply(const Mark&) {
    base_ = {};
    for (const auto& [name, index] : bridges_) {
      const Rstp& e = net_.engine(index);
      base_.topology_changes[name] = e.status().topology_changes;
      for (PortNo p : e.ports()) {
        PortName pn{name, p};
        const PortCounters c = e.port_status(p)->counters;
        base_.flushes[pn] = net_.flushes({index, p});
        base_.sent[pn] = net_.sent({index, p}).size();
        base_.rx_rst[pn] = c.rx_rst;
        base_.rx_config[pn] = c.rx_config;
        base_.rx_tcn[pn] = c.rx_tcn;
      }
    }
    return true;
  }
  bool apply(const Expect& e) {
    auto check = [&] { return std::visit([&](const auto& c) { return got(c); }, e.check); };
    std::optional<std::string> why = check();
    if (why && e.within) {
      net_.run_until([&] { return !check(); }, *e.within);
      why = check();
    }
    if (why) fail("{}: got {}", e.text, *why);
    return true;
  }

  // ---- expectations: nullopt when it holds, else what was found ---------------------------------

  std::optional<std::string> got(const ExpectRoot& x) {
    std::vector<size_t> comp = components(false);
    const size_t want = bridges_.at(x.root);
    const BridgeId id = net_.engine(want).status().bridge_id;
    std::string bad;
    for (const auto& [name, index] : bridges_) {
      if (comp[index] != comp[want]) continue;
      BridgeId r = net_.engine(index).status().root_id;
      if (r != id)
        bad += fmt::format("{}{} has root {}", bad.empty() ? "" : ", ", name, id_name(r));
    }
    if (bad.empty()) return std::nullopt;
    return bad;
  }

  std::optional<std::string> got(const ExpectBridge& x) {
    BridgeStatus s = engine(x.bridge).status();
    std::string rp = s.root_port ? std::to_string(*s.root_port) : "none";
    bool ok = (!x.root || s.root_id == engine(*x.root).status().bridge_id) &&
              (!x.cost || s.root_path_cost == *x.cost) &&
              (!x.root_port || *x.root_port == s.root_port) &&
              (!x.topology_change || *x.topology_change == s.topology_change);
    if (ok) return std::nullopt;
    return fmt::format("root {} cost {} root-port {}{}", id_name(s.root_id), s.root_path_cost, rp,
                       s.topology_change ? " tc" : " no-tc");
  }

  static bool flag(const PortStatus& s, PortFlag f) {
    switch (f) {
      case PortFlag::kEdge:
        return s.oper_edge;
      case PortFlag::kP2p:
        return s.oper_p2p;
      case PortFlag::kEnabled:
        return s.enabled;
      case PortFlag::kErrorDisabled:
        return s.error_disabled;
      case PortFlag::kRootInconsistent:
        return s.root_inconsistent;
      case PortFlag::kLoopInconsistent:
        return s.loop_inconsistent;
      case PortFlag::kTopologyChange:
        return s.topology_change;
      case PortFlag::kRstp:
        return s.send_rstp;
    }
    return false;
  }
  static std::string_view flag_name(PortFlag f) {
    static constexpr std::string_view kNames[] = {
        "edge", "p2p", "enabled", "error-disabled", "root-inconsistent", "loop-inconsistent",
        "tc",   "rstp"};
    return kNames[static_cast<size_t>(f)];
  }

  std::optional<std::string> got(const ExpectPort& x) {
    sim::PortRef r = ref(x.port);
    PortStatus s = *net_.engine(r.bridge).port_status(r.port);
    PortState state = net_.state(r);
    bool ok = (!x.role || *x.role == s.role) && (!x.state || *x.state == state);
    std::string flags;
    for (auto [f, want] : x.flags) {
      bool have = flag(s, f);
      ok = ok && have == want;
      if (f == PortFlag::kRstp) {
        flags += have ? " rstp" : " stp";
      } else {
        flags += fmt::format(" {}{}", have ? "" : "no-", flag_name(f));
      }
    }
    if (ok) return std::nullopt;
    return fmt::format("{} {}{}", role_name(s.role), state_name(state), flags);
  }

  std::optional<std::string> got(const ExpectTree&) {
    std::string why = net_.check_tree();
    if (why.empty()) return std::nullopt;
    return why;
  }

  // Converged: the tree property holds; every port's forwarding state is the one its role
  // settles in (root and designated forwarding — a loop-inconsistent designated port
  // discarding —, alternate, backup and disabled discarding; a disabled port has the disabled
  // role), ports on dead segments aside; and bridges joined through forwarding ports agree on
  // the root.
  std::optional<std::string> got(const ExpectConverged&) {
    if (auto why = got(ExpectTree{})) return why;
    for (const auto& [name, index] : bridges_) {
      for (PortNo p : net_.engine(index).ports()) {
        if (auto seg = segment_of_.find({name, p});
            seg != segment_of_.end() && segments_.at(seg->second).dead) {
          continue;  // carries nothing: no state of it can make or break a loop
        }
        PortStatus s = *net_.engine(index).port_status(p);
        PortState state = net_.state({index, p});
        bool fwd =
            (s.role == PortRole::kRoot || s.role == PortRole::kDesignated) && !s.loop_inconsistent;
        PortState want = fwd ? PortState::kForwarding : PortState::kDiscarding;
        if (state != want || (!s.enabled && s.role != PortRole::kDisabled)) {
          return fmt::format("{}:{} {} {}", name, p, role_name(s.role), state_name(state));
        }
      }
    }
    std::vector<size_t> comp = components(true);
    for (const auto& [a, ia] : bridges_) {
      for (const auto& [b, ib] : bridges_) {
        BridgeId ra = net_.engine(ia).status().root_id, rb = net_.engine(ib).status().root_id;
        if (ia < ib && comp[ia] == comp[ib] && ra != rb) {
          return fmt::format("{} (root {}) and {} (root {}) forward to each other", a, id_name(ra),
                             b, id_name(rb));
        }
      }
    }
    return std::nullopt;
  }

  std::optional<std::string> got(const ExpectCount& x) {
    uint64_t n = 0;
    if (x.what == ExpectCount::kTopologyChanges) {
      n = engine(x.port.bridge).status().topology_changes - base_.topology_changes[x.port.bridge];
    } else if (x.what == ExpectCount::kFlushes) {
      n = net_.flushes(ref(x.port)) - at(base_.flushes, x.port);
    } else if (x.what == ExpectCount::kBpdusIn) {
      PortCounters c = engine(x.port.bridge).port_status(x.port.port)->counters;
      uint64_t rst = c.rx_rst - at(base_.rx_rst, x.port);
      uint64_t config = c.rx_config - at(base_.rx_config, x.port);
      uint64_t tcn = c.rx_tcn - at(base_.rx_tcn, x.port);
      n = x.kind == "rst"      ? rst
          : x.kind == "config" ? config
          : x.kind == "tcn"    ? tcn
                               : rst + config + tcn;
    } else {
      const auto& sent = net_.sent(ref(x.port));
      for (size_t i = at(base_.sent, x.port); i < sent.size(); ++i) {
        const Bpdu& b = sent[i].second;
        bool tcn = b.type == BpduType::kTcn;
        const std::string& k = x.kind;
        n += k == "any" || (k == "rst" && b.type == BpduType::kRst) ||
             (k == "config" && b.type == BpduType::kConfig) || (k == "tcn" && tcn) ||
             (k == "tc" && !tcn && b.flags.topology_change) ||
             (k == "tca" && !tcn && b.flags.topology_change_ack) ||
             (k == "proposal" && b.flags.proposal) || (k == "agreement" && b.flags.agreement);
      }
    }
    if (compare(n, x.op, x.value)) return std::nullopt;
    return std::to_string(n);
  }

  // Component of each bridge index: through working segments and enabled ports, or (forwarding)
  // only through ports whose state is forwarding.
  std::vector<size_t> components(bool forwarding) {
    const size_t nb = net_.size();
    std::vector<size_t> uf(nb + segments_.size());
    for (size_t i = 0; i < uf.size(); ++i) uf[i] = i;
    auto find = [&](size_t x) {
      while (uf[x] != x) x = uf[x] = uf[uf[x]];
      return x;
    };
    size_t node = nb;
    for (const auto& [name, s] : segments_) {
      if (s.up && !s.dead) {
        for (const PortName& p : s.ports) {
          sim::PortRef r = ref(p);
          auto st = net_.engine(r.bridge).port_status(r.port);
          bool joins = forwarding ? st && st->enabled && net_.state(r) == PortState::kForwarding
                                  : st && st->enabled;
          if (joins) uf[find(r.bridge)] = find(node);
        }
      }
      ++node;
    }
    std::vector<size_t> comp(nb);
    for (size_t i = 0; i < nb; ++i) comp[i] = find(i);
    return comp;
  }

  const Scenario& s_;
  sim::Network net_;
  Outcome out_;
  int line_ = 0;
  std::map<std::string, size_t> bridges_;
  std::map<std::string, Segment> segments_;
  std::map<PortName, std::string> segment_of_;
  Baseline base_;
  std::string sim_error_;
  bool bounded_ = false;
};

}  // namespace

Outcome run(const Scenario& scenario) { return Runner(scenario).run(); }

}  // namespace vnet::stp::scenario
