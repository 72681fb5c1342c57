// query_live_state(): the live part of `vnet lab graph NAME` (lab/graph.hh).

#include <algorithm>

#include "lab/graph.hh"
#include "lab/orchestrator.hh"
#include "lab/probe.hh"
#include "lab/state.hh"
#include "lab/switch_client.hh"
#include "vrrp/keepalived_conf.hh"

namespace vnet::lab {

namespace {

std::string one_line(std::string s) {
  std::replace(s.begin(), s.end(), '\n', ' ');
  return s;
}

// Whether a switch port's entry in `port/allprint` says its link is down: administratively
// (`admin_up` false: a pulled cable) or not active (no backend, or its interface lost carrier).
bool port_down(const nlohmann::json& ports, uint32_t port) {
  if (!ports.is_array()) return false;
  for (auto& p : ports) {
    auto no = p.find("port");
    if (no == p.end() || !no->is_number_unsigned() || no->get<uint64_t>() != port) continue;
    auto up = p.find("admin_up"), active = p.find("active");
    return (up != p.end() && up->is_boolean() && !up->get<bool>()) ||
           (active != p.end() && active->is_boolean() && !active->get<bool>());
  }
  return false;
}

}  // namespace

LiveState query_live_state(const Topology& t) {
  LiveState live;
  if (auto state = State::load(t.name); state) {
    auto power = state->j().find("power");
    if (power != state->j().end() && power->is_object()) {
      for (auto& [node, on] : power->items()) {
        if (on.is_boolean() && !on.get<bool>()) live.powered_off.insert(node);
      }
    }
  } else {
    live.notes.push_back("powered-off nodes (lab state: " + one_line(state.error().message) + ")");
  }

  auto dp = SwitchClient::connect(lab_console(t.name));
  if (!dp) {
    live.notes.push_back(
        "link states and spanning tree (dataplane console: " + one_line(dp.error().message) + ")");
  } else {
    std::map<std::string, nlohmann::json> ports;
    for (const Node* sw : t.switches()) {
      if (auto p = dp->ports(sw->name); p)
        ports[sw->name] = *p;
      else
        live.notes.push_back("link states of " + sw->name + " (" + one_line(p.error().message) +
                             ")");
      auto stp = dp->spanning_tree(sw->name);
      if (!stp) {
        live.notes.push_back("spanning tree of " + sw->name + " (" + one_line(stp.error().message) +
                             ")");
        continue;
      }
      if (stp->value("mode", std::string("off")) == "off") continue;
      if (stp->value("is_root", false)) live.root_bridges.insert(sw->name);
      auto list = stp->find("ports");
      if (list == stp->end() || !list->is_array()) continue;
      for (auto& p : *list) {
        auto no = p.find("port");
        if (no == p.end() || !no->is_number_unsigned()) continue;
        std::string role = p.value("role", ""), st = p.value("state", "");
        bool link_up = p.value("link_up", true);
        if (role == "alternate" || role == "backup" || (link_up && st == "discarding"))
          live.blocked[sw->name].insert(static_cast<uint32_t>(no->get<uint64_t>()));
      }
    }
    for (size_t i = 0; i < t.links.size(); ++i) {
      const Link& l = t.links[i];
      bool down = live.powered_off.count(l.a.node) > 0;
      if (auto it = ports.find(l.b.node); it != ports.end() && port_down(it->second, l.port_b))
        down = true;
      if (l.switch_to_switch) {
        if (auto it = ports.find(l.a.node); it != ports.end() && port_down(it->second, l.port_a))
          down = true;
      }
      if (down) live.links_down.insert(i);
    }
  }

  for (auto& router : t.vrrp_routers()) {
    if (live.powered_off.count(router)) continue;
    auto addrs = netns_addresses(t.netns(router));
    if (!addrs) {
      live.notes.push_back("VRRP state of " + router + " (" + one_line(addrs.error().message) +
                           ")");
      continue;
    }
    const auto* conf = t.vrrp_config(*t.node(router));
    for (auto& inst : conf->instances) {
      if (inst.vips.empty()) continue;
      bool all = std::all_of(inst.vips.begin(), inst.vips.end(), [&](const vrrp::VipConfig& v) {
        return std::count(addrs->begin(), addrs->end(), v.prefix.address_string()) > 0;
      });
      if (all) live.vrrp_master[router].push_back(inst.name);
    }
  }
  return live;
}

}  // namespace vnet::lab
