#include "lab/spanning_tree.hh"

#include <algorithm>
#include <deque>
#include <map>
#include <set>

#include "lab/node_kind.hh"
#include "lab/reader.hh"
#include "lab/topology.hh"

namespace vnet::lab {

const StpBridge* spanning_tree(const Topology& t, const std::string& node) {
  const Node* n = t.node(node);
  return n ? n->kind->spanning_tree(*n) : nullptr;
}

std::vector<std::string> spanning_tree_members(const Topology& t, const std::string& root,
                                               const std::function<bool(const std::string&)>& on) {
  auto member = [&](const std::string& sw) { return spanning_tree(t, sw) && on(sw); };
  std::set<std::string> seen = {root};
  std::deque<std::string> queue = {root};
  while (!queue.empty()) {
    std::string x = queue.front();
    queue.pop_front();
    for (auto& l : t.links) {
      if (!l.switch_to_switch || (l.a.node != x && l.b.node != x)) continue;
      const std::string& y = l.a.node == x ? l.b.node : l.a.node;
      if (member(y) && seen.insert(y).second) queue.push_back(y);
    }
  }
  std::vector<std::string> out = {root};
  for (const Node* n : t.switches()) {
    if (n->name != root && seen.count(n->name)) out.push_back(n->name);
  }
  return out;
}

namespace {

using nlohmann::json;

json stepped(uint32_t max, uint32_t step) {
  json s = schema::integer(0, max);
  s["multipleOf"] = step;
  return s;
}

// A number or {SWITCH: number} per end of the link.
json per_end(json value) {
  return schema::one_of({value,
                         {{"type", "object"},
                          {"propertyNames", schema::ref("nodeName")},
                          {"additionalProperties", value},
                          {"minProperties", 1}}});
}

// An integer lo..max that is a multiple of step (step 1: any).
std::optional<uint32_t> stepped_value(const YAML::Node& n, const std::string& what, uint32_t lo,
                                      uint32_t max, uint32_t step, std::string_view clause,
                                      Reader& r) {
  auto v = r.integer(n, what, lo, max);
  if (!v) return std::nullopt;
  if (*v % step != 0) {
    r.error(n, fmt::format("{} {}: expected a multiple of {} from {} to {} (IEEE 802.1D-2004 {})",
                           what, *v, step, lo, max, clause));
    return std::nullopt;
  }
  return static_cast<uint32_t>(*v);
}

}  // namespace

std::vector<KeySpec> stp_switch_keys() {
  return {
      {"stp", schema::enumeration({"rstp", "stp", "off"}),
       "spanning tree: `rstp` (IEEE 802.1D-2004 RSTP, falls back to STP per port toward an STP "
       "bridge), `stp` (the same bridge sending 802.1D-1998 STP BPDUs only) or `off` (default: no "
       "BPDUs, every port forwards; such a switch may not be on a loop of switch links)"},
      {"stp_priority", stepped(kStpMaxBridgePriority, kStpBridgePriorityStep),
       "bridge priority, a multiple of 4096 (default 32768): the lowest priority (then MAC) is the "
       "root bridge"},
      {"stp_hello_time", schema::integer(1, 2), "seconds between BPDUs (default 2)"},
      {"stp_max_age", schema::integer(6, 40),
       "seconds before information from the root ages out (default 20); 2 × (stp_forward_delay "
       "− 1) ≥ stp_max_age ≥ 2 × (stp_hello_time + 1)"},
      {"stp_forward_delay", schema::integer(4, 30),
       "seconds in each of listening/learning where no handshake is possible (default 15)"},
  };
}

std::vector<KeySpec> stp_link_keys() {
  return {
      {"stp_cost", per_end(schema::integer(1, kStpMaxPathCost)),
       "spanning-tree path cost of the link's switch port(s) (default 2000: every vnet port counts "
       "as 10 Gb/s): one number for every end, or `{SWITCH: COST}` per end"},
      {"stp_port_priority", per_end(stepped(kStpMaxPortPriority, kStpPortPriorityStep)),
       "spanning-tree port priority, a multiple of 16 (default 128; lower wins a tie): one number "
       "for every end, or `{SWITCH: PRIORITY}` per end"},
      {"edge", schema::boolean(),
       "toward a node, on a switch running spanning tree: the switch port is an edge port "
       "(default true: forwards at once, and becomes a normal port if a BPDU arrives); false: it "
       "waits like a port toward a bridge"},
  };
}

StpBridge parse_stp_bridge(const YAML::Node& y, const std::string& sw, Reader& r) {
  StpBridge b;
  if (y["stp"]) {
    if (auto s = r.str(y["stp"], "stp")) {
      if (auto mode = bridge::parse_stp_mode(*s)) {
        b.mode = *mode;
      } else {
        r.error(y["stp"], fmt::format("switch {} stp '{}': expected rstp, stp or off", sw, *s));
      }
    }
  }
  auto what = [&](const char* key) { return fmt::format("switch {} {}", sw, key); };
  if (y["stp_priority"])
    b.priority = stepped_value(y["stp_priority"], what("stp_priority"), 0, kStpMaxBridgePriority,
                               kStpBridgePriorityStep, "§17.13.7", r);
  if (y["stp_hello_time"])
    b.hello_time = stepped_value(y["stp_hello_time"], what("stp_hello_time"), 1, 2, 1, "", r);
  if (y["stp_max_age"])
    b.max_age = stepped_value(y["stp_max_age"], what("stp_max_age"), 6, 40, 1, "", r);
  if (y["stp_forward_delay"])
    b.forward_delay =
        stepped_value(y["stp_forward_delay"], what("stp_forward_delay"), 4, 30, 1, "", r);
  const char* keys[] = {"stp_priority", "stp_hello_time", "stp_max_age", "stp_forward_delay"};
  if (!b.runs()) {
    for (const char* k : keys) {
      if (y[k])
        r.error(y[k], fmt::format("switch {}: {} without spanning tree (stp: off) has no effect: "
                                  "add stp: rstp (or stp)",
                                  sw, k));
    }
    return b;
  }
  // §17.14: 2 × (Bridge Forward Delay − 1.0 s) ≥ Bridge Max Age ≥ 2 × (Bridge Hello Time + 1.0 s).
  const stp::BridgeConfig defaults;
  uint32_t hello = b.hello_time.value_or(defaults.hello_time);
  uint32_t age = b.max_age.value_or(defaults.max_age);
  uint32_t delay = b.forward_delay.value_or(defaults.forward_delay);
  auto shown = [](const std::optional<uint32_t>& v, uint32_t value) {
    return fmt::format("{} s{}", value, v ? "" : " (default)");
  };
  // The diagnostic points at a key the user wrote (one of the relation's two sides).
  auto at = [&](const char* first, const char* second) {
    return y[first] ? y[first] : y[second] ? y[second] : y["stp"];
  };
  if (2 * (delay - 1) < age) {
    r.error(at("stp_max_age", "stp_forward_delay"),
            fmt::format("switch {}: stp_max_age {} and stp_forward_delay {} break 2 × "
                        "(forward_delay − 1 s) ≥ max_age (IEEE 802.1D-2004 §17.14): 2 × ({} − 1) "
                        "= {} < {}",
                        sw, shown(b.max_age, age), shown(b.forward_delay, delay), delay,
                        2 * (delay - 1), age));
  }
  if (age < 2 * (hello + 1)) {  // holds by the ranges while hello_time ≤ 2; kept for the relation
    r.error(at("stp_max_age", "stp_hello_time"),
            fmt::format("switch {}: stp_max_age {} and stp_hello_time {} break max_age ≥ 2 × "
                        "(hello_time + 1 s) (IEEE 802.1D-2004 §17.14): {} < 2 × ({} + 1) = {}",
                        sw, shown(b.max_age, age), shown(b.hello_time, hello), age, hello,
                        2 * (hello + 1)));
  }
  return b;
}

void parse_stp_link(const YAML::Node& y, Link& l, Reader& r) {
  const Topology& t = r.topo();
  std::vector<std::pair<const std::string*, StpPort*>> ends;
  if (l.switch_to_switch) ends.push_back({&l.a.node, &l.stp_a});
  ends.push_back({&l.b.node, &l.stp_b});
  auto names = [&] {
    std::string out;
    for (auto& [name, port] : ends) out += (out.empty() ? "" : " and ") + *name;
    return out;
  };
  // One value for every end that runs spanning tree, or {SWITCH: VALUE}.
  auto per_end = [&](const char* key, uint32_t lo, uint32_t max, uint32_t step,
                     std::string_view clause, std::optional<uint32_t> StpPort::*field) {
    YAML::Node v = y[key];
    if (!v) return;
    if (v.IsMap()) {
      std::set<std::string> seen;
      for (auto it = v.begin(); it != v.end(); ++it) {
        auto name = r.str(it->first, key);
        if (!name) continue;
        auto end =
            std::find_if(ends.begin(), ends.end(), [&](auto& e) { return *e.first == *name; });
        if (end == ends.end()) {
          r.error(it->first, fmt::format("{}: '{}' is not a switch of this link (expected {})", key,
                                         *name, names()));
        } else if (!seen.insert(*name).second) {
          r.error(it->first, fmt::format("{}: {} is named twice", key, *name));
        } else if (!spanning_tree(t, *name)) {
          r.error(it->first,
                  fmt::format("{} for {}: it runs no spanning tree (stp: off)", key, *name));
        } else {
          (end->second->*field) =
              stepped_value(it->second, fmt::format("{} {}", key, *name), lo, max, step, clause, r);
        }
      }
      return;
    }
    auto value = stepped_value(v, key, lo, max, step, clause, r);
    bool any = false;
    for (auto& [name, port] : ends) {
      if (!spanning_tree(t, *name)) continue;
      port->*field = value;
      any = true;
    }
    if (!any)
      r.error(v, fmt::format("{}: {} {} no spanning tree (stp: off): add stp: rstp to use it", key,
                             names(), ends.size() == 1 ? "runs" : "run"));
  };
  per_end("stp_cost", 1, kStpMaxPathCost, 1, "§17.13.11", &StpPort::cost);
  per_end("stp_port_priority", 0, kStpMaxPortPriority, kStpPortPriorityStep, "§17.13.10",
          &StpPort::priority);
  bool runs_b = spanning_tree(t, l.b.node) != nullptr;
  if (YAML::Node e = y["edge"]) {
    auto s = r.str(e, "edge");
    if (!s) return;
    if (*s != "true" && *s != "false") {
      r.error(e, fmt::format("edge '{}': expected true or false", *s));
    } else if (l.switch_to_switch) {
      r.error(e, fmt::format("edge is for a switch port toward a node: {} and {} are both "
                             "switches, whose ports learn from BPDUs that a bridge is behind them",
                             l.a.node, l.b.node));
    } else if (!runs_b) {
      r.error(e, fmt::format("edge: {} runs no spanning tree (stp: off): add stp: rstp to use it",
                             l.b.node));
    } else {
      l.stp_b.edge = *s == "true";
    }
  }
  // A node is an end station: its port needs not wait for BPDUs that never come (§17.13.1).
  if (!l.switch_to_switch && runs_b && !l.stp_b.edge) l.stp_b.edge = true;
}

void check_switch_loops(const Topology& t, Reader& r) {
  // A spanning forest of the switch links in file order: each link that joins two switches
  // already connected closes a loop, made of it and the forest's path between its ends. Every
  // loop of the graph is a combination of these, so checking them checks every loop.
  std::map<std::string, std::vector<std::pair<std::string, size_t>>> forest;
  auto path = [&](const std::string& from, const std::string& to) {
    std::map<std::string, std::pair<std::string, size_t>> came;  // node → (previous, link)
    std::deque<std::string> queue = {from};
    came[from] = {from, SIZE_MAX};
    while (!queue.empty()) {
      std::string x = queue.front();
      queue.pop_front();
      if (x == to) break;
      for (auto& [y, link] : forest[x]) {
        if (came.emplace(y, std::pair{x, link}).second) queue.push_back(y);
      }
    }
    std::vector<size_t> links;
    if (!came.count(to)) return links;
    for (std::string x = to; x != from; x = came[x].first) links.push_back(came[x].second);
    std::reverse(links.begin(), links.end());
    return links;
  };
  for (size_t i = 0; i < t.links.size(); ++i) {
    const Link& l = t.links[i];
    if (!l.switch_to_switch) continue;
    auto loop = path(l.b.node, l.a.node);
    if (loop.empty()) {
      forest[l.a.node].push_back({l.b.node, i});
      forest[l.b.node].push_back({l.a.node, i});
      continue;
    }
    loop.push_back(i);
    std::vector<std::string> described, off;
    for (size_t k : loop) {
      const Link& x = t.links[k];
      described.push_back(
          fmt::format("{}–{} ({}:{})", x.a.node, x.b.node, x.where.file, x.where.line));
      for (auto* sw : {&x.a.node, &x.b.node}) {
        if (!spanning_tree(t, *sw) && std::find(off.begin(), off.end(), *sw) == off.end())
          off.push_back(*sw);
      }
    }
    if (off.empty()) continue;
    r.error(l.where,
            fmt::format("switch links {} form a loop, and {} {} no spanning tree (stp: off): "
                        "broadcasts would circle the loop for ever; set stp: rstp on {} or "
                        "remove a link of the loop",
                        fmt::join(described, ", "), fmt::join(off, ", "),
                        off.size() == 1 ? "runs" : "run", fmt::join(off, ", ")));
  }
}

}  // namespace vnet::lab
