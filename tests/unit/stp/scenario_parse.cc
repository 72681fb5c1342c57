// The scenario parser (format in scenario.hh): text → statements with every reference resolved.
#include <cctype>
#include <map>
#include <set>

#include "base/file.hh"
#include "base/parse.hh"
#include "unit/stp/scenario.hh"

namespace vnet::stp::scenario {

std::string to_string(const PortName& p) { return fmt::format("{}:{}", p.bridge, p.port); }

namespace {

using Words = std::vector<std::string_view>;

// Words that start an expectation and so cannot name a bridge.
const std::set<std::string_view> kReserved = {
    "root",   "tree", "converged", "flushed", "flushes", "bpdus", "topology-changes",
    "within", "none", "in",        "out",     "any",     "rst",   "config",
    "tcn",    "tc",   "tca",       "all"};

struct BridgeInfo {
  BridgeConfig config;
  bool legacy = false;
  int removed_at = 0;  // line of `remove`, 0 while present
};
struct SegmentInfo {
  std::vector<PortName> ports;
  bool lan = false;
};

class Parser {
 public:
  explicit Parser(std::string file) { scenario_.file = std::move(file); }

  Result<Scenario> parse(std::string_view text) {
    int line = 0;
    size_t pos = 0;
    bool any_expect = false;
    while (pos <= text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string_view::npos) end = text.size();
      std::string_view raw = text.substr(pos, end - pos);
      pos = end + 1;
      ++line;
      line_ = line;
      if (raw.find('\0') != std::string_view::npos) {
        fail("a NUL byte: expected text");
        continue;
      }
      Words w = split(raw.substr(0, raw.find('#')));
      if (w.empty()) continue;
      const size_t before = errors_.size();
      std::optional<Action> a = statement(w, raw);
      if (a && errors_.size() == before) {
        any_expect = any_expect || std::holds_alternative<Expect>(*a);
        scenario_.statements.push_back({line, std::move(*a)});
      }
      if (errors_.size() > 100) break;
    }
    if (errors_.empty() && !any_expect) {
      errors_.push_back(fmt::format("{}: no `expect` statement: a scenario must check something",
                                    scenario_.file));
    }
    if (!errors_.empty()) {
      std::string msg;
      for (const std::string& e : errors_) msg += (msg.empty() ? "" : "\n") + e;
      return Error{EINVAL, msg};
    }
    return std::move(scenario_);
  }

 private:
  template <typename... Args>
  void fail(fmt::format_string<Args...> f, Args&&... args) {
    errors_.push_back(fmt::format("{}:{}: {}", scenario_.file, line_,
                                  fmt::format(f, std::forward<Args>(args)...)));
  }

  static Words split(std::string_view s) {
    Words w;
    size_t i = 0;
    while (i < s.size()) {
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      if (j > i) w.push_back(s.substr(i, j - i));
      i = j;
    }
    return w;
  }

  static bool valid_name(std::string_view n) {
    if (n.empty() || n.size() > 32 || !std::isalpha(static_cast<unsigned char>(n[0]))) {
      return false;
    }
    for (char c : n) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
    }
    return true;
  }

  // A declared bridge, not removed unless `allow_removed`.
  std::optional<std::string> bridge(std::string_view n, bool allow_removed = false) {
    auto it = bridges_.find(std::string(n));
    if (it == bridges_.end()) {
      fail("'{}': expected a bridge declared before this line", n);
      return std::nullopt;
    }
    if (it->second.removed_at && !allow_removed) {
      fail("bridge {} was removed at line {}", n, it->second.removed_at);
      return std::nullopt;
    }
    return it->first;
  }

  // "B:P" with B declared and P 1–4095; `must_exist`: the bridge has that port.
  std::optional<PortName> port(std::string_view t, bool must_exist, bool allow_removed = false) {
    size_t colon = t.rfind(':');
    if (colon == std::string_view::npos) {
      fail("'{}': expected a port BRIDGE:NUMBER", t);
      return std::nullopt;
    }
    auto b = bridge(t.substr(0, colon), allow_removed);
    if (!b) return std::nullopt;
    auto n = parse_int_as<PortNo>(t.substr(colon + 1), 1, 4095);
    if (!n) {
      fail("port '{}': {}", t, n.error().message);
      return std::nullopt;
    }
    PortName p{*b, *n};
    if (must_exist && !ports_.count(p)) {
      fail("port {}: expected a port declared (port, link, lan, host) before this line", t);
      return std::nullopt;
    }
    return p;
  }

  // A segment by name or by any of its ports.
  std::optional<std::string> segment(std::string_view t) {
    std::string name(t);
    if (t.find(':') != std::string_view::npos) {
      auto p = port(t, true, true);
      if (!p) return std::nullopt;
      auto it = segment_of_.find(*p);
      if (it == segment_of_.end()) {
        fail("port {} is on no link or lan", t);
        return std::nullopt;
      }
      name = it->second;
    } else if (!segments_.count(name)) {
      fail("'{}': expected a link or lan name, or a port on one", t);
      return std::nullopt;
    }
    for (const PortName& p : segments_.at(name).ports) {
      if (int at = bridges_.at(p.bridge).removed_at) {
        fail("segment {} joins bridge {}, removed at line {}", name, p.bridge, at);
        return std::nullopt;
      }
    }
    return name;
  }

  std::optional<Duration> duration(std::string_view t) {
    auto d = parse_duration(t, std::chrono::milliseconds(1), kMaxVirtualTime);
    if (!d) {
      fail("{}", d.error().message);
      return std::nullopt;
    }
    virtual_time_ += *d;
    if (virtual_time_ > kMaxVirtualTime) {
      fail("the scenario runs longer than {} of virtual time", format_duration(kMaxVirtualTime));
      return std::nullopt;
    }
    return *d;
  }

  template <typename T>
  std::optional<T> number(std::string_view what, std::string_view t, int64_t lo, int64_t hi) {
    auto v = parse_int_as<T>(t, lo, hi);
    if (!v) {
      fail("{} {}", what, v.error().message);
      return std::nullopt;
    }
    return *v;
  }

  // Bridge options from w[i] on.
  void bridge_options(const Words& w, size_t i, BridgeInfo& b) {
    std::set<std::string_view> seen;
    for (; i < w.size(); i += 2) {
      std::string_view key = w[i];
      if (!seen.insert(key).second) fail("'{}' given twice", key);
      if (i + 1 >= w.size()) {
        fail("'{}' without a value", key);
        return;
      }
      std::string_view v = w[i + 1];
      BridgeConfig& c = b.config;
      if (key == "priority") {
        if (auto n = number<uint16_t>(key, v, 0, 61440)) c.priority = *n;
      } else if (key == "version") {
        if (v == "rstp" || v == "stp" || v == "legacy") {
          c.force_version = v == "rstp" ? 2 : 0;
          b.legacy = v == "legacy";
        } else {
          fail("version '{}': expected rstp, stp or legacy", v);
        }
      } else if (key == "hello") {
        if (auto n = number<uint16_t>(key, v, 0, 1000)) c.hello_time = *n;
      } else if (key == "max-age") {
        if (auto n = number<uint16_t>(key, v, 0, 1000)) c.max_age = *n;
      } else if (key == "forward-delay") {
        if (auto n = number<uint16_t>(key, v, 0, 1000)) c.forward_delay = *n;
      } else if (key == "hold") {
        if (auto n = number<uint8_t>(key, v, 0, 255)) c.tx_hold_count = *n;
      } else if (key == "cost-method") {
        if (v == "long" || v == "short") {
          c.path_cost_method = v == "long" ? PathCostMethod::kLong : PathCostMethod::kShort;
        } else {
          fail("cost-method '{}': expected long or short", v);
        }
      } else {
        fail(
            "'{}': expected a bridge option (priority, version, hello, max-age, forward-delay, "
            "hold, cost-method)",
            key);
        return;
      }
    }
    if (auto ok = validate(b.config); !ok) fail("{}", ok.error().message);
  }

  // Port options from w[i] on.
  void port_options(const Words& w, size_t i, PortConfig& c, PathCostMethod method) {
    static const std::map<std::string_view, bool PortConfig::*> kFlags = {
        {"edge", &PortConfig::admin_edge},       {"auto-edge", &PortConfig::auto_edge},
        {"bpdu-guard", &PortConfig::bpdu_guard}, {"bpdu-filter", &PortConfig::bpdu_filter},
        {"root-guard", &PortConfig::root_guard}, {"loop-guard", &PortConfig::loop_guard},
        {"enabled", &PortConfig::enabled},
    };
    std::set<std::string_view> seen;
    for (; i < w.size(); ++i) {
      std::string_view key = w[i];
      bool negated = key.starts_with("no-");
      std::string_view base = negated ? key.substr(3) : key;
      if (key == "disabled") {
        negated = true;
        base = "enabled";
      }
      if (!seen.insert(base).second) fail("'{}' given twice", base);
      if (auto f = kFlags.find(base); f != kFlags.end()) {
        c.*(f->second) = !negated;
        continue;
      }
      if (negated || (key != "cost" && key != "priority" && key != "p2p")) {
        fail(
            "'{}': expected a port option (cost, priority, p2p, [no-]edge, [no-]auto-edge, "
            "[no-]bpdu-guard, [no-]bpdu-filter, [no-]root-guard, [no-]loop-guard, enabled, "
            "disabled)",
            key);
        return;
      }
      if (i + 1 >= w.size()) {
        fail("'{}' without a value", key);
        return;
      }
      std::string_view v = w[++i];
      if (key == "cost") {
        if (auto n = number<uint32_t>(key, v, 0, 200'000'000)) c.path_cost = *n;
      } else if (key == "priority") {
        if (auto n = number<uint8_t>(key, v, 0, 255)) c.priority = *n;
      } else if (v == "auto" || v == "yes" || v == "no") {
        c.p2p = v == "auto"  ? AdminP2p::kAuto
                : v == "yes" ? AdminP2p::kForceTrue
                             : AdminP2p::kForceFalse;
      } else {
        fail("p2p '{}': expected auto, yes or no", v);
      }
    }
    if (auto ok = validate(c, method); !ok) fail("{}", ok.error().message);
  }

  // Declares a port with `config` unless the bridge has it; false if it is on a segment.
  bool attach(const PortName& p, const std::string& seg) {
    if (segment_of_.count(p)) {
      fail("port {} is already on {}", to_string(p), segment_of_.at(p));
      return false;
    }
    ports_.try_emplace(p, PortConfig{});
    segment_of_[p] = seg;
    return true;
  }

  std::optional<uint32_t> speed(const Words& w, size_t& i) {
    if (i + 1 < w.size() && w[i] == "speed") {
      i += 2;
      return number<uint32_t>("speed", w[i - 1], 1, 100'000'000);
    }
    return std::nullopt;
  }

  std::optional<Action> statement(const Words& w, std::string_view raw) {
    std::string_view verb = w[0];
    if (verb == "bridge") return add_bridge(w);
    if (verb == "port") {
      if (w.size() < 2) return fail("port: expected port B:P [options]"), std::nullopt;
      auto p = port(w[1], false);
      if (!p) return std::nullopt;
      if (ports_.count(*p)) {
        fail("port {} is already declared (use set to change it)", w[1]);
        return std::nullopt;
      }
      PortConfig c;
      port_options(w, 2, c, bridges_.at(p->bridge).config.path_cost_method);
      ports_[*p] = c;
      return AddPort{*p, c};
    }
    if (verb == "link") return add_link(w);
    if (verb == "lan") return add_lan(w);
    if (verb == "host") {
      if (w.size() < 2) return fail("host: expected host B:P [speed MBPS]"), std::nullopt;
      auto p = port(w[1], false);
      size_t i = 2;
      AddSegment s{std::string(w[1]), {}, 1000, true};
      if (auto sp = speed(w, i)) s.speed_mbps = *sp;
      if (i != w.size()) fail("'{}': expected speed MBPS or the end of the line", w[i]);
      if (!p || !attach(*p, s.name)) return std::nullopt;
      s.ports = {*p};
      segments_[s.name] = {s.ports, true};
      return s;
    }
    static const std::map<std::string_view, SegmentEvent::Kind> kSegmentEvents = {
        {"down", SegmentEvent::kDown},
        {"up", SegmentEvent::kUp},
        {"dead", SegmentEvent::kDead},
        {"alive", SegmentEvent::kAlive}};
    if (auto it = kSegmentEvents.find(verb); it != kSegmentEvents.end()) {
      if (w.size() != 2) return fail("{}: expected {} SEGMENT", verb, verb), std::nullopt;
      auto s = segment(w[1]);
      if (!s) return std::nullopt;
      return SegmentEvent{it->second, *s};
    }
    static const std::map<std::string_view, PortEvent::Kind> kPortEvents = {
        {"silent", PortEvent::kSilent}, {"unsilent", PortEvent::kUnsilent},
        {"unplug", PortEvent::kUnplug}, {"plug", PortEvent::kPlug},
        {"mcheck", PortEvent::kMcheck}, {"clear", PortEvent::kClear}};
    if (auto it = kPortEvents.find(verb); it != kPortEvents.end()) {
      if (w.size() != 2) return fail("{}: expected {} B:P", verb, verb), std::nullopt;
      auto p = port(w[1], true);
      if (!p) return std::nullopt;
      bool needs_segment = it->second != PortEvent::kMcheck && it->second != PortEvent::kClear;
      if (needs_segment && !segment_of_.count(*p)) {
        fail("{}: port {} is on no link or lan", verb, w[1]);
        return std::nullopt;
      }
      return PortEvent{it->second, *p};
    }
    if (verb == "remove") {
      if (w.size() != 2) return fail("remove: expected remove BRIDGE"), std::nullopt;
      auto b = bridge(w[1]);
      if (!b) return std::nullopt;
      bridges_.at(*b).removed_at = line_;
      return RemoveBridge{*b};
    }
    if (verb == "set") return set(w);
    if (verb == "run") {
      if (w.size() != 2) return fail("run: expected run DURATION"), std::nullopt;
      auto d = duration(w[1]);
      if (!d) return std::nullopt;
      return Run{*d};
    }
    if (verb == "mark") {
      if (w.size() != 1) return fail("mark: expected nothing after it"), std::nullopt;
      return Mark{};
    }
    if (verb == "known-failure") {
      if (w.size() < 2) return fail("known-failure: expected the reason"), std::nullopt;
      if (scenario_.known_failure) return fail("known-failure given twice"), std::nullopt;
      std::string_view why = raw.substr(raw.find("known-failure") + 13);
      scenario_.known_failure = std::string(why.substr(why.find_first_not_of(" \t")));
      return std::nullopt;
    }
    if (verb == "expect") return expect(w);
    fail(
        "'{}': expected a statement (bridge, port, link, lan, host, down, up, dead, alive, "
        "silent, unsilent, unplug, plug, remove, set, mcheck, clear, run, mark, expect, "
        "known-failure)",
        verb);
    return std::nullopt;
  }

  std::optional<Action> add_bridge(const Words& w) {
    if (w.size() < 2) return fail("bridge: expected bridge NAME [options]"), std::nullopt;
    std::string name(w[1]);
    if (!valid_name(name) || kReserved.count(name)) {
      fail(
          "bridge name '{}': expected a letter then letters, digits, '_' or '-' (at most 32), "
          "not a keyword",
          name);
      return std::nullopt;
    }
    if (bridges_.count(name)) return fail("bridge {} declared twice", name), std::nullopt;
    if (bridges_.size() >= 250) return fail("more than 250 bridges"), std::nullopt;
    BridgeInfo b;
    bridge_options(w, 2, b);
    bridges_[name] = b;
    return AddBridge{name, b.config, b.legacy};
  }

  std::optional<Action> add_link(const Words& w) {
    if (w.size() < 3)
      return fail("link: expected link B:P B:P [speed MBPS] [as NAME]"), std::nullopt;
    auto a = port(w[1], false);
    auto b = port(w[2], false);
    AddSegment s;
    size_t i = 3;
    if (auto sp = speed(w, i)) s.speed_mbps = *sp;
    if (i + 1 < w.size() && w[i] == "as") {
      s.name = std::string(w[i + 1]);
      if (!valid_name(s.name) || segments_.count(s.name)) {
        fail("link name '{}': expected a new name (a letter, then letters, digits, _ or -)",
             s.name);
      }
      i += 2;
    }
    if (i != w.size()) {
      fail("'{}': expected speed MBPS, as NAME or the end of the line", w[i]);
      return std::nullopt;
    }
    if (!a || !b) return std::nullopt;
    if (*a == *b) return fail("link from {} to itself", w[1]), std::nullopt;
    if (s.name.empty()) s.name = fmt::format("{}-{}", w[1], w[2]);
    if (!attach(*a, s.name) || !attach(*b, s.name)) return std::nullopt;
    s.ports = {*a, *b};
    segments_[s.name] = {s.ports, false};
    return s;
  }

  std::optional<Action> add_lan(const Words& w) {
    if (w.size() < 3) return fail("lan: expected lan NAME B:P… [speed MBPS]"), std::nullopt;
    AddSegment s;
    s.lan = true;
    s.speed_mbps = 100;
    s.name = std::string(w[1]);
    if (!valid_name(s.name) || segments_.count(s.name)) {
      fail("lan name '{}': expected a new name (a letter, then letters, digits, _ or -)", s.name);
      return std::nullopt;
    }
    size_t i = 2;
    for (; i < w.size() && w[i] != "speed"; ++i) {
      auto p = port(w[i], false);
      if (p && attach(*p, s.name)) s.ports.push_back(*p);
    }
    if (auto sp = speed(w, i)) s.speed_mbps = *sp;
    if (i != w.size()) fail("'{}': expected the end of the line after speed", w[i]);
    if (s.ports.empty()) fail("lan {} has no ports", s.name);
    segments_[s.name] = {s.ports, true};
    return s;
  }

  std::optional<Action> set(const Words& w) {
    if (w.size() < 3) return fail("set: expected set BRIDGE|B:P options"), std::nullopt;
    if (w[1].find(':') != std::string_view::npos) {
      auto p = port(w[1], true);
      if (!p) return std::nullopt;
      PortConfig c = ports_.at(*p);
      port_options(w, 2, c, bridges_.at(p->bridge).config.path_cost_method);
      ports_[*p] = c;
      return SetPort{*p, c};
    }
    auto b = bridge(w[1]);
    if (!b) return std::nullopt;
    BridgeInfo info = bridges_.at(*b);
    bridge_options(w, 2, info);
    bridges_[*b] = info;
    return SetBridge{*b, info.config, info.legacy};
  }

  std::optional<Op> op(std::string_view t) {
    static const std::map<std::string_view, Op> kOps = {{"==", Op::kEq}, {"!=", Op::kNe},
                                                        {"<", Op::kLt},  {"<=", Op::kLe},
                                                        {">", Op::kGt},  {">=", Op::kGe}};
    auto it = kOps.find(t);
    if (it == kOps.end()) {
      fail("'{}': expected a comparison (== != < <= > >=)", t);
      return std::nullopt;
    }
    return it->second;
  }

  std::optional<Action> expect(Words w) {
    Expect e;
    for (size_t i = 0; i < w.size(); ++i) e.text += (i ? " " : "") + std::string(w[i]);
    if (w.size() >= 3 && w[w.size() - 2] == "within") {
      auto d = duration(w.back());
      if (!d) return std::nullopt;
      e.within = *d;
      w.resize(w.size() - 2);
    }
    if (w.size() < 2) return fail("expect: expected what to check"), std::nullopt;
    std::string_view what = w[1];
    auto arity = [&](size_t n, std::string_view form) {
      if (w.size() == n) return true;
      fail("expect {}: expected {}", what, form);
      return false;
    };
    if (what == "root") {
      if (!arity(3, "expect root BRIDGE")) return std::nullopt;
      auto b = bridge(w[2], true);
      if (!b) return std::nullopt;
      e.check = ExpectRoot{*b};
    } else if (what == "tree" || what == "converged") {
      if (!arity(2, fmt::format("nothing after {} but within D", what))) return std::nullopt;
      if (what == "tree") {
        e.check = ExpectTree{};
      } else {
        e.check = ExpectConverged{};
      }
    } else if (what == "flushed") {
      if (!arity(3, "expect flushed B:P")) return std::nullopt;
      auto p = port(w[2], true, true);
      if (!p) return std::nullopt;
      e.check = ExpectCount{ExpectCount::kFlushes, "", *p, Op::kGe, 1};
    } else if (what == "flushes" || what == "topology-changes" || what == "bpdus") {
      ExpectCount c;
      size_t i = 3;
      if (what == "topology-changes") {
        if (!arity(5, "expect topology-changes BRIDGE OP N")) return std::nullopt;
        c.what = ExpectCount::kTopologyChanges;
        auto b = bridge(w[2], true);
        if (!b) return std::nullopt;
        c.port.bridge = *b;
      } else {
        if (what == "flushes" && !arity(5, "expect flushes B:P OP N")) return std::nullopt;
        if (what == "bpdus" && !arity(7, "expect bpdus B:P in|out KIND OP N")) {
          return std::nullopt;
        }
        auto p = port(w[2], true, true);
        if (!p) return std::nullopt;
        c.port = *p;
        if (what == "bpdus") {
          static const std::set<std::string_view> kIn = {"any", "rst", "config", "tcn"};
          static const std::set<std::string_view> kOut = {"any", "rst", "config",   "tcn",
                                                          "tc",  "tca", "proposal", "agreement"};
          bool out = w[3] == "out";
          if (!out && w[3] != "in") return fail("'{}': expected in or out", w[3]), std::nullopt;
          if (!(out ? kOut : kIn).count(w[4])) {
            fail("BPDU kind '{}': expected {}", w[4],
                 out ? "any, rst, config, tcn, tc, tca, proposal or agreement"
                     : "any, rst, config or tcn");
            return std::nullopt;
          }
          c.what = out ? ExpectCount::kBpdusOut : ExpectCount::kBpdusIn;
          c.kind = std::string(w[4]);
          i = 5;
        } else {
          c.what = ExpectCount::kFlushes;
        }
      }
      auto o = op(w[i]);
      auto n = number<uint64_t>("count", w[i + 1], 0, 1'000'000'000);
      if (!o || !n) return std::nullopt;
      c.op = *o;
      c.value = *n;
      e.check = c;
    } else if (what.find(':') != std::string_view::npos) {
      auto p = port(what, true, true);
      if (!p) return std::nullopt;
      ExpectPort x{*p};
      if (!port_attributes(w, x)) return std::nullopt;
      e.check = x;
    } else {
      auto b = bridge(what, true);
      if (!b) return std::nullopt;
      ExpectBridge x{*b};
      if (!bridge_attributes(w, x)) return std::nullopt;
      e.check = x;
    }
    return e;
  }

  bool port_attributes(const Words& w, ExpectPort& x) {
    static const std::map<std::string_view, PortRole> kRoles = {
        {"disabled", PortRole::kDisabled},
        {"root", PortRole::kRoot},
        {"designated", PortRole::kDesignated},
        {"alternate", PortRole::kAlternate},
        {"backup", PortRole::kBackup}};
    static const std::map<std::string_view, PortState> kStates = {
        {"discarding", PortState::kDiscarding},
        {"learning", PortState::kLearning},
        {"forwarding", PortState::kForwarding}};
    static const std::map<std::string_view, PortFlag> kFlags = {
        {"edge", PortFlag::kEdge},
        {"p2p", PortFlag::kP2p},
        {"enabled", PortFlag::kEnabled},
        {"error-disabled", PortFlag::kErrorDisabled},
        {"root-inconsistent", PortFlag::kRootInconsistent},
        {"loop-inconsistent", PortFlag::kLoopInconsistent},
        {"tc", PortFlag::kTopologyChange}};
    if (w.size() < 3) {
      fail("expect {}: expected a role, a state or flags", w[1]);
      return false;
    }
    for (size_t i = 2; i < w.size(); ++i) {
      std::string_view t = w[i];
      bool neg = t.starts_with("no-");
      std::string_view base = neg ? t.substr(3) : t;
      if (auto r = kRoles.find(t); r != kRoles.end() && !x.role) {
        x.role = r->second;
      } else if (auto s = kStates.find(t); s != kStates.end() && !x.state) {
        x.state = s->second;
      } else if (auto f = kFlags.find(base); f != kFlags.end()) {
        x.flags.emplace_back(f->second, !neg);
      } else if (t == "rstp" || t == "stp") {
        x.flags.emplace_back(PortFlag::kRstp, t == "rstp");
      } else {
        fail(
            "'{}': expected one role (disabled root designated alternate backup), one state "
            "(discarding learning forwarding) or a flag ([no-]edge [no-]p2p [no-]enabled "
            "[no-]error-disabled [no-]root-inconsistent [no-]loop-inconsistent [no-]tc rstp stp)",
            t);
        return false;
      }
    }
    return true;
  }

  bool bridge_attributes(const Words& w, ExpectBridge& x) {
    if (w.size() < 3) {
      fail("expect {}: expected root B, cost N, root-port P|none, tc or no-tc", w[1]);
      return false;
    }
    for (size_t i = 2; i < w.size(); ++i) {
      std::string_view t = w[i];
      if ((t == "tc" || t == "no-tc") && !x.topology_change) {
        x.topology_change = t == "tc";
        continue;
      }
      if (i + 1 >= w.size() || (t != "root" && t != "cost" && t != "root-port")) {
        fail("'{}': expected root B, cost N, root-port P|none, tc or no-tc", t);
        return false;
      }
      std::string_view v = w[++i];
      if (t == "root" && !x.root) {
        auto b = bridge(v, true);
        if (!b) return false;
        x.root = *b;
      } else if (t == "cost" && !x.cost) {
        auto n = number<uint32_t>("cost", v, 0, UINT32_MAX);
        if (!n) return false;
        x.cost = *n;
      } else if (t == "root-port" && !x.root_port) {
        if (v == "none") {
          x.root_port = std::optional<PortNo>{};
        } else {
          auto n = number<PortNo>("root-port", v, 1, 4095);
          if (!n) return false;
          x.root_port = std::optional<PortNo>{*n};
        }
      } else {
        fail("'{}' given twice", t);
        return false;
      }
    }
    return true;
  }

  Scenario scenario_;
  std::vector<std::string> errors_;
  int line_ = 0;
  Duration virtual_time_{};
  std::map<std::string, BridgeInfo> bridges_;
  std::map<PortName, PortConfig> ports_;
  std::map<PortName, std::string> segment_of_;
  std::map<std::string, SegmentInfo> segments_;
};

}  // namespace

Result<Scenario> parse(std::string_view text, const std::string& file) {
  return Parser(file).parse(text);
}

Result<Scenario> load(const std::string& path) {
  auto text = read_regular_file(path, 1u << 20);
  if (!text) return text.error();
  return parse(*text, path);
}

}  // namespace vnet::stp::scenario
