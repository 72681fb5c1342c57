#include "lab/switch_client.hh"

namespace vnet::lab {

using nlohmann::json;

Result<SwitchClient> SwitchClient::connect(const std::string& console_path) {
  auto c = console::Client::connect(console_path);
  if (!c) return c.error();
  return SwitchClient(std::move(*c));
}

Status SwitchClient::run(const std::string& what, const std::string& command) {
  auto r = client_.run(command);
  if (!r) return make_error(r.error().code, "dataplane: {}: {}", what, r.error().message);
  return {};
}

Result<json> SwitchClient::run_json(const std::string& what, const std::string& command) {
  auto r = client_.run(command + " --json");
  if (!r) return make_error(r.error().code, "dataplane: {}: {}", what, r.error().message);
  json j = json::parse(*r, nullptr, false);
  if (j.is_discarded()) return make_error(EBADMSG, "dataplane: {}: answer is not JSON", what);
  return j;
}

Status SwitchClient::select(const std::string& bridge) {
  if (selected_ == bridge) return {};
  if (auto s = run("bridge " + bridge, "bridge/select " + bridge); !s) return s;
  selected_ = bridge;
  return {};
}

Status SwitchClient::create_bridge(const std::string& bridge) {
  return run("bridge " + bridge, "bridge/create " + bridge);
}

Status SwitchClient::create_vlan(const std::string& bridge, bridge::VlanId vlan) {
  if (auto s = select(bridge); !s) return s;
  return run(fmt::format("bridge {} VLAN {}", bridge, vlan), fmt::format("vlan/create {}", vlan));
}

Status SwitchClient::create_port(const std::string& bridge, bridge::PortNo port,
                                 const bridge::PortConfig& config) {
  if (auto s = select(bridge); !s) return s;
  std::string what = fmt::format("bridge {} port {}", bridge, port);
  if (auto s = run(what, fmt::format("port/create {}", port)); !s) return s;
  return run(what, fmt::format("port/mode {} {}", port, config.to_string()));
}

Status SwitchClient::attach(const std::string& bridge, bridge::PortNo port,
                            const std::string& spec) {
  if (auto s = select(bridge); !s) return s;
  return run(fmt::format("bridge {} port {}", bridge, port),
             fmt::format("port/attach {} {}", port, spec));
}

Status SwitchClient::detach(const std::string& bridge, bridge::PortNo port) {
  if (auto s = select(bridge); !s) return s;
  return run(fmt::format("bridge {} port {}", bridge, port), fmt::format("port/detach {}", port));
}

Status SwitchClient::connect_cable(const std::string& a, bridge::PortNo pa, const std::string& b,
                                   bridge::PortNo pb) {
  return run(fmt::format("cable {}:{}–{}:{}", a, pa, b, pb),
             fmt::format("cable/connect {} {} {} {}", a, pa, b, pb));
}

Status SwitchClient::set_link(const std::string& bridge, bridge::PortNo port, bool up) {
  if (auto s = select(bridge); !s) return s;
  return run(fmt::format("bridge {} port {}", bridge, port),
             fmt::format("port/link {} {}", port, up ? "up" : "down"));
}

std::vector<std::string> spanning_tree_commands(const StpBridge& stp) {
  std::vector<std::string> out = {fmt::format("stp/set mode {}", stp_mode_name(stp.mode))};
  auto set = [&](std::string_view key, const std::optional<uint32_t>& value) {
    if (value) out.push_back(fmt::format("stp/set {} {}", key, *value));
  };
  set("priority", stp.priority);
  // From the defaults to the target through valid times only (§17.14: 2 × (forward_delay − 1) ≥
  // max_age ≥ 2 × (hello_time + 1)): first the changes that widen the room for max_age (a longer
  // forward delay, a shorter hello time), then max_age, then the ones that narrow it. Each step
  // holds: the old max_age fits the widened room, the target max_age fits the target times.
  bool widen_delay = stp.forward_delay.value_or(kStpDefaultForwardDelay) >= kStpDefaultForwardDelay;
  bool widen_hello = stp.hello_time.value_or(kStpDefaultHelloTime) <= kStpDefaultHelloTime;
  if (widen_delay) set("forward_delay", stp.forward_delay);
  if (widen_hello) set("hello_time", stp.hello_time);
  set("max_age", stp.max_age);
  if (!widen_delay) set("forward_delay", stp.forward_delay);
  if (!widen_hello) set("hello_time", stp.hello_time);
  return out;
}

Status SwitchClient::set_spanning_tree(const std::string& bridge, const StpBridge& stp) {
  if (auto s = select(bridge); !s) return s;
  for (auto& command : spanning_tree_commands(stp)) {
    if (auto s = run(fmt::format("bridge {} spanning tree", bridge), command); !s) return s;
  }
  return {};
}

Status SwitchClient::set_stp_port(const std::string& bridge, bridge::PortNo port,
                                  const StpPort& stp) {
  if (auto s = select(bridge); !s) return s;
  std::string what = fmt::format("bridge {} port {} spanning tree", bridge, port);
  if (stp.cost) {
    if (auto s = run(what, fmt::format("stp/port {} cost {}", port, *stp.cost)); !s) return s;
  }
  if (stp.priority) {
    if (auto s = run(what, fmt::format("stp/port {} priority {}", port, *stp.priority)); !s)
      return s;
  }
  if (stp.edge) {
    if (auto s = run(what, fmt::format("stp/port {} edge {}", port, *stp.edge ? "yes" : "no")); !s)
      return s;
  }
  return {};
}

Result<json> SwitchClient::bridges() { return run_json("bridges", "bridge/list"); }

Result<json> SwitchClient::ports(const std::string& bridge) {
  if (auto s = select(bridge); !s) return s.error();
  return run_json("bridge " + bridge, "port/allprint");
}

Result<json> SwitchClient::fdb(const std::string& bridge) {
  if (auto s = select(bridge); !s) return s.error();
  return run_json("bridge " + bridge, "fdb/show");
}

Result<json> SwitchClient::spanning_tree(const std::string& bridge) {
  if (auto s = select(bridge); !s) return s.error();
  return run_json("bridge " + bridge, "stp/show");
}

}  // namespace vnet::lab
