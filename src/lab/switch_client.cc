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

Status SwitchClient::serve_vde(const std::string& bridge, const std::string& dir) {
  if (auto s = select(bridge); !s) return s;
  return run(fmt::format("bridge {} VDE directory {}", bridge, dir),
             fmt::format("bridge/vde {}", dir));
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

Status SwitchClient::set_links(const std::string& bridge, const std::vector<bridge::PortNo>& ports,
                               bool up) {
  if (ports.empty()) return {};
  if (auto s = select(bridge); !s) return s;
  return run(fmt::format("bridge {} ports {}", bridge, fmt::join(ports, ",")),
             fmt::format("port/link {} {}", fmt::join(ports, ","), up ? "up" : "down"));
}

Status SwitchClient::set_link_silent(const std::string& bridge, bridge::PortNo port) {
  if (auto s = select(bridge); !s) return s;
  return run(fmt::format("bridge {} port {}", bridge, port),
             fmt::format("port/link {} silent", port));
}

std::string spanning_tree_command(const StpBridge& stp) {
  std::string out = "stp/set";
  auto add = [&](std::string_view key, const std::optional<uint32_t>& value) {
    if (value) out += fmt::format(" {} {}", key, *value);
  };
  add("priority", stp.priority);
  add("hello_time", stp.hello_time);
  add("max_age", stp.max_age);
  add("forward_delay", stp.forward_delay);
  return out + fmt::format(" mode {}", bridge::stp_mode_name(stp.mode));
}

Status SwitchClient::set_spanning_tree(const std::string& bridge, const StpBridge& stp) {
  if (auto s = select(bridge); !s) return s;
  return run(fmt::format("bridge {} spanning tree", bridge), spanning_tree_command(stp));
}

Status SwitchClient::stop_spanning_tree(const std::string& bridge) {
  if (auto s = select(bridge); !s) return s;
  return run(fmt::format("bridge {} spanning tree", bridge), "stp/set mode off");
}

Status SwitchClient::flush_fdb(const std::string& bridge) {
  if (auto s = select(bridge); !s) return s;
  return run(fmt::format("bridge {} FDB", bridge), "fdb/flush");
}

Status SwitchClient::set_stp_port(const std::string& bridge, bridge::PortNo port,
                                  const StpPort& stp) {
  if (stp.empty()) return {};
  if (auto s = select(bridge); !s) return s;
  std::string command = fmt::format("stp/port {}", port);
  if (stp.cost) command += fmt::format(" cost {}", *stp.cost);
  if (stp.priority) command += fmt::format(" priority {}", *stp.priority);
  if (stp.edge) command += fmt::format(" edge {}", *stp.edge ? "yes" : "no");
  return run(fmt::format("bridge {} port {} spanning tree", bridge, port), command);
}

Status SwitchClient::set_impair(const std::string& bridge, bridge::PortNo port,
                                std::string_view direction, const std::string& words) {
  if (auto s = select(bridge); !s) return s;
  return run(fmt::format("bridge {} port {} impairment", bridge, port),
             fmt::format("impair/set {} {} {}", port, direction, words));
}

Status SwitchClient::clear_impair(const std::string& bridge, bridge::PortNo port,
                                  std::string_view direction) {
  if (auto s = select(bridge); !s) return s;
  return run(fmt::format("bridge {} port {} impairment", bridge, port),
             fmt::format("impair/clear {} {}", port, direction));
}

Result<json> SwitchClient::impairments(const std::string& bridge, bridge::PortNo port) {
  if (auto s = select(bridge); !s) return s.error();
  return run_json(fmt::format("bridge {} port {} impairment", bridge, port),
                  fmt::format("impair/show {}", port));
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

Status SwitchClient::set_radius(const std::string& bridge, const bridge::RadiusServer& server) {
  if (auto s = select(bridge); !s) return s;
  std::string host =
      server.host.find(':') != std::string::npos ? "[" + server.host + "]" : server.host;
  // The error names the server, never the secret.
  return run(fmt::format("bridge {} RADIUS server {}:{}", bridge, host, server.port),
             fmt::format("nac/radius {}:{} {}", host, server.port, server.secret));
}

Status SwitchClient::set_port_auth(const std::string& bridge, bridge::PortNo port,
                                   const bridge::PortAuthSettings& settings) {
  if (auto s = select(bridge); !s) return s;
  std::string command = fmt::format("port/auth {} {}", port, bridge::port_auth_name(settings));
  for (const auto& w : bridge::auth_timer_words(settings.timers)) command += " " + w;
  return run(fmt::format("bridge {} port {} authentication", bridge, port), command);
}

Status SwitchClient::set_drop_arp_for(const std::string& bridge, bridge::PortNo port,
                                      const std::vector<packet::Ipv4Address>& senders) {
  if (auto s = select(bridge); !s) return s;
  std::string list;
  for (const auto& a : senders) list += (list.empty() ? "" : ",") + a.to_string();
  return run(fmt::format("bridge {} port {} ARP filter", bridge, port),
             fmt::format("port/droparp {} {}", port, list.empty() ? "none" : list));
}

Result<json> SwitchClient::nac(const std::string& bridge) {
  if (auto s = select(bridge); !s) return s.error();
  return run_json("bridge " + bridge, "nac/show");
}

Result<json> SwitchClient::spanning_tree(const std::string& bridge) {
  if (auto s = select(bridge); !s) return s.error();
  return run_json("bridge " + bridge, "stp/show");
}

}  // namespace vnet::lab
