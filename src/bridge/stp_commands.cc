// Console commands of spanning tree (stp/), on the session's bridge:
//   stp/show                      bridge id, root, timers, per port role, state, cost, edge, p2p,
//                                 protocol, guards and BPDU counters (text and --json)
//   stp/set KEY VALUE [KEY VALUE…]  mode rstp|stp|off, priority, hello_time, max_age,
//                                 forward_delay, tx_hold_count, path_cost_method long|short;
//                                 all pairs of one command are checked together and applied at
//                                 once (so max_age and forward_delay can move together)
//   stp/port N KEY VALUE [KEY VALUE…]  priority, cost (0 = from the link speed), edge,
//                                 auto_edge, p2p auto|yes|no, bpdu_guard, bpdu_filter,
//                                 root_guard, loop_guard (yes|no, on|off)
//   stp/mcheck N                  try RSTP again on a port that fell back to 802.1D
//   stp/clear N                   re-enable a port error-disabled by BPDU guard
#include <fmt/format.h>

#include "base/parse.hh"
#include "bridge/commands.hh"
#include "bridge/spanning_tree.hh"

namespace vnet::bridge {
namespace {

using console::Reply;
using console::Session;
using Args = std::vector<std::string>;
using nlohmann::json;

Result<bool> parse_flag(const std::string& key, const std::string& v) {
  if (v == "yes" || v == "on" || v == "true") return true;
  if (v == "no" || v == "off" || v == "false") return false;
  return make_error(EINVAL, "{} '{}': expected yes or no (on/off)", key, v);
}

Status set_bridge_key(stp::BridgeConfig& c, std::optional<StpMode>& mode, const std::string& k,
                      const std::string& v) {
  auto num = [&](auto& field, int64_t lo, int64_t hi) -> Status {
    auto n = parse_int(v, lo, hi);
    if (!n) return make_error(EINVAL, "{}: {}", k, n.error().message);
    field = static_cast<std::remove_reference_t<decltype(field)>>(*n);
    return {};
  };
  if (k == "mode") {
    auto m = parse_stp_mode(v);
    if (!m) return m.error();
    mode = *m;
    return {};
  }
  if (k == "priority") {
    if (auto s = num(c.priority, 0, 61440); !s) return s;
    if (c.priority % 4096)
      return make_error(EINVAL, "priority {}: expected a multiple of 4096 (802.1D-2004 §17.13.7)",
                        c.priority);
    return {};
  }
  if (k == "hello_time") return num(c.hello_time, 1, 10);
  if (k == "max_age") return num(c.max_age, 6, 40);
  if (k == "forward_delay") return num(c.forward_delay, 4, 30);
  if (k == "tx_hold_count") return num(c.tx_hold_count, 1, 10);
  if (k == "path_cost_method") {
    if (v == "long") {
      c.path_cost_method = stp::PathCostMethod::kLong;
    } else if (v == "short") {
      c.path_cost_method = stp::PathCostMethod::kShort;
    } else {
      return make_error(EINVAL, "path_cost_method '{}': expected long or short", v);
    }
    return {};
  }
  return make_error(EINVAL,
                    "unknown key '{}': expected mode, priority, hello_time, max_age, "
                    "forward_delay, tx_hold_count or path_cost_method",
                    k);
}

Status set_port_key(stp::PortConfig& c, const std::string& k, const std::string& v) {
  if (k == "priority") {
    auto n = parse_int(v, 0, 240);
    if (!n) return make_error(EINVAL, "priority: {}", n.error().message);
    if (*n % 16) return make_error(EINVAL, "priority {}: expected a multiple of 16", *n);
    c.priority = static_cast<uint8_t>(*n);
    return {};
  }
  if (k == "cost") {
    auto n = parse_int(v, 0, 200000000);
    if (!n) return make_error(EINVAL, "cost: {}", n.error().message);
    c.path_cost = static_cast<uint32_t>(*n);
    return {};
  }
  if (k == "p2p") {
    if (v == "auto") {
      c.p2p = stp::AdminP2p::kAuto;
    } else if (auto f = parse_flag(k, v)) {
      c.p2p = *f ? stp::AdminP2p::kForceTrue : stp::AdminP2p::kForceFalse;
    } else {
      return make_error(EINVAL, "p2p '{}': expected auto, yes or no", v);
    }
    return {};
  }
  bool* flag = k == "edge"          ? &c.admin_edge
               : k == "auto_edge"   ? &c.auto_edge
               : k == "bpdu_guard"  ? &c.bpdu_guard
               : k == "bpdu_filter" ? &c.bpdu_filter
               : k == "root_guard"  ? &c.root_guard
               : k == "loop_guard"  ? &c.loop_guard
                                    : nullptr;
  if (!flag)
    return make_error(EINVAL,
                      "unknown key '{}': expected priority, cost, edge, auto_edge, p2p, "
                      "bpdu_guard, bpdu_filter, root_guard or loop_guard",
                      k);
  auto f = parse_flag(k, v);
  if (!f) return f.error();
  *flag = *f;
  return {};
}

json counters_json(uint64_t config, uint64_t tcn, uint64_t rst) {
  return {{"config", config}, {"tcn", tcn}, {"rst", rst}};
}

Reply show(const Bridge& br, const SpanningTree* tree) {
  Reply r;
  StpMode mode = tree ? tree->mode() : StpMode::kOff;
  const stp::Rstp* e = tree ? tree->engine() : nullptr;
  if (!e) {
    r.text = fmt::format("bridge {}: spanning tree off (every port forwarding)\n", br.name());
    r.json = {{"bridge", br.name()}, {"mode", "off"}, {"ports", json::array()}};
    return r;
  }
  auto st = e->status();
  bool is_root = st.bridge_id == st.root_id;
  r.json = {{"bridge", br.name()},
            {"mode", stp_mode_name(mode)},
            {"bridge_id", stp::to_string(st.bridge_id)},
            {"root_id", stp::to_string(st.root_id)},
            {"is_root", is_root},
            {"root_path_cost", st.root_path_cost},
            {"root_port", st.root_port ? json(*st.root_port) : json(nullptr)},
            {"hello_time", st.hello_time},
            {"max_age", st.max_age},
            {"forward_delay", st.forward_delay},
            {"topology_change", st.topology_change},
            {"topology_changes", st.topology_changes},
            {"bad_bpdus", tree->bad_bpdus()},
            {"ports", json::array()}};
  r.text = fmt::format(
      "bridge {} {} id {}\n root {}{} cost {}{}\n hello {} s, max age {} s, forward delay {} "
      "s; topology changes {}{}\n",
      br.name(), stp_mode_name(mode), stp::to_string(st.bridge_id), stp::to_string(st.root_id),
      is_root ? " (this bridge)" : "", st.root_path_cost,
      st.root_port ? fmt::format(" via port {}", *st.root_port) : "", st.hello_time, st.max_age,
      st.forward_delay, st.topology_changes, st.topology_change ? " (one running)" : "");
  r.text += fmt::format(" {:>5} {:<10} {:<11} {:>9} {:<4} {:<3} {:<5} {:<18} {}\n", "port", "role",
                        "state", "cost", "edge", "p2p", "proto", "designated bridge",
                        "bpdus in/out (cfg tcn rst)");
  for (stp::PortNo p : e->ports()) {
    auto ps = e->port_status(p);
    if (!ps) continue;
    const auto& c = ps->counters;
    json inconsistent = ps->root_inconsistent   ? json("root")
                        : ps->loop_inconsistent ? json("loop")
                                                : json(nullptr);
    r.json["ports"].push_back({{"port", p},
                               {"role", stp::role_name(ps->role)},
                               {"state", stp::state_name(ps->state)},
                               {"path_cost", ps->path_cost},
                               {"link_up", ps->link_up},
                               {"edge", ps->oper_edge},
                               {"p2p", ps->oper_p2p},
                               {"protocol", ps->send_rstp ? "rstp" : "stp"},
                               {"designated_bridge", stp::to_string(ps->designated_bridge)},
                               {"designated_port", stp::to_string(ps->designated_port)},
                               {"inconsistent", inconsistent},
                               {"error_disabled", ps->error_disabled},
                               {"bpdus_in", counters_json(c.rx_config, c.rx_tcn, c.rx_rst)},
                               {"bpdus_out", counters_json(c.tx_config, c.tx_tcn, c.tx_rst)}});
    std::string flags = ps->error_disabled      ? " error-disabled"
                        : ps->root_inconsistent ? " root-inconsistent"
                        : ps->loop_inconsistent ? " loop-inconsistent"
                        : !ps->link_up          ? " link-down"
                                                : "";
    r.text +=
        fmt::format(" {:>5} {:<10} {:<11} {:>9} {:<4} {:<3} {:<5} {:<18} {} {} {} / {} {} {}{}\n",
                    p, stp::role_name(ps->role), stp::state_name(ps->state), ps->path_cost,
                    ps->oper_edge ? "yes" : "no", ps->oper_p2p ? "yes" : "no",
                    ps->send_rstp ? "rstp" : "stp", stp::to_string(ps->designated_bridge),
                    c.rx_config, c.rx_tcn, c.rx_rst, c.tx_config, c.tx_tcn, c.tx_rst, flags);
  }
  return r;
}

}  // namespace

void register_stp_commands(console::Registry& reg, Dataplane& dp, const Clock& clock) {
  auto on_bridge = [&dp](auto fn) {
    return [&dp, fn](Session& s, const Args& a) -> Result<Reply> {
      auto b = session_bridge(dp, s);
      if (!b) return b.error();
      return fn(**b, a);
    };
  };

  reg.add("stp/show", "", "spanning tree: bridge, root, every port's role, state and counters",
          on_bridge([&dp](Bridge& b, const Args& a) -> Result<Reply> {
            if (!a.empty()) return make_error(EINVAL, "usage: stp/show");
            return show(b, dp.find_spanning_tree(b));
          }));
  reg.add("stp/set", "KEY VALUE [KEY VALUE...]",
          "mode rstp|stp|off, priority, hello_time, max_age, forward_delay, tx_hold_count, "
          "path_cost_method long|short",
          on_bridge([&dp, &clock](Bridge& b, const Args& a) -> Result<Reply> {
            if (a.empty() || a.size() % 2)
              return make_error(EINVAL, "usage: stp/set KEY VALUE [KEY VALUE...]");
            SpanningTree& t = dp.spanning_tree(b);
            stp::BridgeConfig c = t.config();
            std::optional<StpMode> mode;
            for (size_t i = 0; i < a.size(); i += 2) {
              if (auto s = set_bridge_key(c, mode, a[i], a[i + 1]); !s) return s.error();
            }
            TimePoint now = clock.now();
            if (auto s = t.set_config(c, now); !s) return s.error();
            if (mode) {
              if (auto s = t.set_mode(*mode, now); !s) return s.error();
            }
            dp.stp_changed();
            return Reply{};
          }));
  reg.add("stp/port", "N KEY VALUE [KEY VALUE...]",
          "port N: priority, cost, edge, auto_edge, p2p, bpdu_guard, bpdu_filter, root_guard, "
          "loop_guard",
          on_bridge([&dp, &clock](Bridge& b, const Args& a) -> Result<Reply> {
            if (a.size() < 3 || a.size() % 2 == 0)
              return make_error(EINVAL, "usage: stp/port N KEY VALUE [KEY VALUE...]");
            auto p = existing_port(b, a[0]);
            if (!p) return p.error();
            SpanningTree& t = dp.spanning_tree(b);
            stp::PortConfig c = t.port_config(*p);
            for (size_t i = 1; i < a.size(); i += 2) {
              if (auto s = set_port_key(c, a[i], a[i + 1]); !s) return s.error();
            }
            if (auto s = t.set_port_config(*p, c, clock.now()); !s) return s.error();
            dp.stp_changed();
            return Reply{};
          }));
  reg.add("stp/mcheck", "N", "try RSTP again on port N (802.1D-2004 §17.19.13 mcheck)",
          on_bridge([&dp, &clock](Bridge& b, const Args& a) -> Result<Reply> {
            if (a.size() != 1) return make_error(EINVAL, "usage: stp/mcheck N");
            auto p = existing_port(b, a[0]);
            if (!p) return p.error();
            if (auto s = dp.spanning_tree(b).mcheck(*p, clock.now()); !s) return s.error();
            dp.stp_changed();
            return Reply{};
          }));
  reg.add("stp/clear", "N", "re-enable port N after BPDU guard disabled it",
          on_bridge([&dp, &clock](Bridge& b, const Args& a) -> Result<Reply> {
            if (a.size() != 1) return make_error(EINVAL, "usage: stp/clear N");
            auto p = existing_port(b, a[0]);
            if (!p) return p.error();
            if (auto s = dp.spanning_tree(b).clear_error(*p, clock.now()); !s) return s.error();
            dp.stp_changed();
            return Reply{};
          }));
}

}  // namespace vnet::bridge
