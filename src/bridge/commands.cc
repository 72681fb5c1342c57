#include "bridge/commands.hh"

#include <unistd.h>

#include <cctype>
#include <charconv>

#include "base/parse.hh"
#include "packet/ethernet.hh"

namespace vnet::bridge {
namespace {

using console::Reply;
using console::Session;
using Args = std::vector<std::string>;
using nlohmann::json;

Result<uint32_t> parse_uint(const std::string& s, const char* what, uint32_t max) {
  uint32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || v > max) {
    return make_error(EINVAL, "bad {} '{}': expected a number up to {}", what, s, max);
  }
  return v;
}

// VDE VLAN numbers: 0 is vde_switch's default VLAN, which is our VLAN 1; 4095 = "no untagged VLAN".
Result<VlanId> parse_vde_vlan(const std::string& s) {
  auto v = parse_uint(s, "VLAN", 4095);
  if (!v) return v.error();
  if (*v == 0) return Bridge::kDefaultVlan;
  return static_cast<VlanId>(*v);
}

class Commands {
 public:
  Commands(Dataplane& dp, const Clock& clock, const SwitchInfo& info)
      : dp_(dp), clock_(clock), info_(info) {}

  Result<Bridge*> current(Session& s) { return session_bridge(dp_, s); }

  Result<PortNo> port_arg(Bridge& b, const std::string& s, bool must_exist = true) {
    if (must_exist) return existing_port(b, s);
    auto p = parse_uint(s, "port", 65535);
    if (!p) return p.error();
    return static_cast<PortNo>(*p);
  }

  json port_json(Bridge& b, PortNo p) {
    const auto& c = b.counters(p);
    PortInfo info = dp_.port_info(b, p);
    json drops = json::object();
    for (size_t i = 0; i < c.drops.size(); ++i) {
      if (c.drops[i]) drops[std::string(drop_reason_name(static_cast<DropReason>(i)))] = c.drops[i];
    }
    const auto& cfg = b.port_config(p);
    json j = {{"bridge", b.name()},
              {"port", p},
              {"mode", cfg.mode == PortConfig::Mode::kAccess ? "access" : "trunk"},
              {"config", cfg.to_string()},
              {"vlans", cfg.members()},
              {"active", b.active(p)},
              {"admin_up", info.admin_up},
              {"silent", info.silent},
              {"backend", info.backend},
              {"cable", info.cable},
              {"dynamic", info.dynamic},
              {"mac_limit", cfg.mac_limit},
              {"admit", acceptable_frames_name(cfg.acceptable_frames())},
              {"admit_explicit", cfg.admit.has_value()},
              {"state", port_state_name(b.port_state(p))},
              {"rx_frames", c.rx_frames},
              {"rx_bytes", c.rx_bytes},
              {"tx_frames", c.tx_frames},
              {"tx_bytes", c.tx_bytes},
              {"control", c.control},
              {"drops", drops}};
    if (auto pvid = cfg.pvid()) j["pvid"] = *pvid;
    if (const auto& arp = b.drop_arp_for(p); !arp.empty()) {
      json list = json::array();
      for (auto& a : arp) list.push_back(a.to_string());
      j["drop_arp_for"] = list;
    }
    if (!info.counters.empty()) {
      json backend = json::object();
      for (auto& [name, value] : info.counters) backend[name] = value;
      j["backend_counters"] = backend;
    }
    return j;
  }

  std::string port_text(Bridge& b, PortNo p) {
    const auto& c = b.counters(p);
    PortInfo info = dp_.port_info(b, p);
    auto pvid = b.port_config(p).pvid();
    std::string s = fmt::format("Port {:04} untagged_vlan={:04} {} - {} {}\n", p,
                                pvid ? *pvid : 4095, b.active(p) ? "ACTIVE" : "INACTIVE",
                                info.dynamic ? "Unnamed" : "NOT Unnamed", "Allocatable");
    const auto& cfg = b.port_config(p);
    s += fmt::format(" mode: {}\n", cfg.to_string());
    s += fmt::format(" admit: {}{}  state: {}\n", acceptable_frames_name(cfg.acceptable_frames()),
                     cfg.admit ? "" : " (default)", port_state_name(b.port_state(p)));
    s += fmt::format(" IN:  pkts {:>10}          bytes {:>20}\n", c.rx_frames, c.rx_bytes);
    s += fmt::format(" OUT: pkts {:>10}          bytes {:>20}\n", c.tx_frames, c.tx_bytes);
    if (const auto& arp = b.drop_arp_for(p); !arp.empty()) {
      s += " drop ARP from:";
      for (auto& a : arp) s += " " + a.to_string();
      s += "\n";
    }
    if (c.control) s += fmt::format(" CONTROL: {}\n", c.control);
    for (size_t i = 0; i < c.drops.size(); ++i) {
      if (c.drops[i])
        s +=
            fmt::format(" DROP {}: {}\n", drop_reason_name(static_cast<DropReason>(i)), c.drops[i]);
    }
    if (!info.backend.empty())
      s += fmt::format("  -- endpoint module {:<12}: {}\n", "", info.backend);
    if (!info.cable.empty()) s += fmt::format("  -- cable to {}\n", info.cable);
    for (auto& [name, value] : info.counters) {
      if (value) s += fmt::format("  -- {}: {}\n", name, value);
    }
    return s;
  }

  Result<Reply> print_ports(Session& s, const Args& a, bool all) {
    auto b = current(s);
    if (!b) return b.error();
    Reply r;
    r.json = json::array();
    std::vector<PortNo> ports;
    if (!a.empty()) {
      auto p = port_arg(**b, a[0]);
      if (!p) return p.error();
      ports.push_back(*p);
    } else {
      for (PortNo p : (*b)->port_numbers()) {
        if (all || (*b)->active(p)) ports.push_back(p);
      }
    }
    for (PortNo p : ports) {
      r.text += port_text(**b, p);
      r.json.push_back(port_json(**b, p));
    }
    return r;
  }

  Result<Reply> vlan_print(Session& s, const Args& a) {
    auto b = current(s);
    if (!b) return b.error();
    std::vector<VlanId> vlans;
    if (!a.empty()) {
      auto v = parse_vde_vlan(a[0]);
      if (!v) return v.error();
      if (!(*b)->vlan_exists(*v)) return make_error(ENXIO, "VLAN {} does not exist", *v);
      vlans.push_back(*v);
    } else {
      vlans = (*b)->vlan_ids();
    }
    Reply r;
    r.json = json::array();
    for (VlanId v : vlans) {
      r.text += fmt::format("VLAN {:04}\n", v);
      json ports = json::array();
      for (PortNo p : (*b)->vlan_ports(v)) {
        bool tagged = (*b)->port_config(p).egress_tagged(v);
        bool active = (*b)->active(p);
        std::string state(port_state_name((*b)->port_state(p)));
        std::string vde_state = state;
        vde_state[0] = static_cast<char>(std::toupper(vde_state[0]));
        r.text += fmt::format(" -- Port {:04} tagged={} active={} status={}\n", p, tagged ? 1 : 0,
                              active ? 1 : 0, vde_state);
        ports.push_back({{"port", p}, {"tagged", tagged}, {"active", active}, {"state", state}});
      }
      r.json.push_back({{"vlan", v}, {"ports", ports}});
    }
    return r;
  }

  Result<Reply> fdb_show(Session& s, const Args& a, bool vde_format) {
    auto b = current(s);
    if (!b) return b.error();
    TimePoint now = clock_.now();
    Reply r;
    r.json = json::array();
    std::optional<VlanId> only_vlan;
    if (!a.empty()) {
      auto v = parse_vde_vlan(a[0]);
      if (!v) return v.error();
      only_vlan = *v;
    }
    int i = 0;
    for (const auto& e : (*b)->fdb().entries(now)) {
      if (only_vlan && e.vlan != *only_vlan) continue;
      long age = e.is_static
                     ? 0
                     : std::chrono::duration_cast<std::chrono::seconds>(now - e.last_seen).count();
      if (vde_format) {
        r.text += fmt::format("Hash: {:04} Addr: {} VLAN {:04} to port: {:03}  age {} secs\n", i++,
                              e.mac.to_string(), e.vlan, e.port, age);
      } else {
        r.text += fmt::format("{:>4}  {}  port {:<5} {}\n", e.vlan, e.mac.to_string(), e.port,
                              e.is_static ? "static" : fmt::format("age {}s", age));
      }
      r.json.push_back({{"vlan", e.vlan},
                        {"mac", e.mac.to_string()},
                        {"port", e.port},
                        {"static", e.is_static},
                        {"age", age}});
    }
    return r;
  }

  // vde_switch's untagged-VLAN + tagged-set model on top of access/trunk modes.
  Status set_untagged(Bridge& b, PortNo p, VlanId v) {
    PortConfig c = b.port_config(p);
    if (v == packet::kVidReserved) {  // 4095: no untagged VLAN
      if (c.mode == PortConfig::Mode::kAccess) {
        size_t limit = c.mac_limit;
        c = PortConfig::trunk({}, std::nullopt);  // a new mode: the admit setting goes too
        c.mac_limit = limit;
      } else {
        c.native_vlan.reset();
      }
    } else if (c.mode == PortConfig::Mode::kAccess) {
      c.access_vlan = v;
    } else {
      c.native_vlan = v;
      c.trunk_vlans.reset(v);
    }
    return b.configure_port(p, c);
  }

  Status add_tagged(Bridge& b, PortNo p, VlanId v) {
    PortConfig c = b.port_config(p);
    if (c.mode == PortConfig::Mode::kAccess) {
      VlanId native = c.access_vlan;
      size_t limit = c.mac_limit;
      c = PortConfig::trunk({}, native);  // a new mode: the admit setting goes too
      c.mac_limit = limit;
    }
    if (c.native_vlan && *c.native_vlan == v)
      return make_error(EEXIST, "VLAN {} is port {}'s untagged VLAN", v, p);
    c.trunk_vlans.set(v);
    return b.configure_port(p, c);
  }

  Status del_tagged(Bridge& b, PortNo p, VlanId v) {
    PortConfig c = b.port_config(p);
    if (c.mode == PortConfig::Mode::kAccess || !c.trunk_vlans.test(v)) {
      return make_error(ENXIO, "port {} is not a tagged member of VLAN {}", p, v);
    }
    c.trunk_vlans.reset(v);
    if (c.trunk_vlans.none() && c.native_vlan) {
      size_t limit = c.mac_limit;
      c = PortConfig::access(*c.native_vlan);  // a new mode: the admit setting goes too
      c.mac_limit = limit;
    }
    return b.configure_port(p, c);
  }

  Dataplane& dp_;
  const Clock& clock_;
  const SwitchInfo& info_;
};

}  // namespace

Result<PortNo> existing_port(Bridge& b, const std::string& text) {
  auto p = parse_int(text, 1, 65535);
  if (!p) return make_error(EINVAL, "port: {}", p.error().message);
  if (!b.has_port(static_cast<PortNo>(*p)))
    return make_error(ENXIO, "bridge {} has no port {}", b.name(), *p);
  return static_cast<PortNo>(*p);
}

Result<Bridge*> session_bridge(Dataplane& dp, Session& s) {
  auto it = s.vars.find("bridge");
  std::string name = it != s.vars.end() ? it->second : "";
  if (name.empty()) {
    auto names = dp.bridge_names();
    if (names.empty()) return make_error(ENXIO, "no bridge: create one with bridge/create NAME");
    name = names.front();
  }
  Bridge* b = dp.bridge(name);
  if (!b) return make_error(ENXIO, "no bridge named {}", name);
  return b;
}

void register_commands(console::Registry& reg, Dataplane& dp, const Clock& clock,
                       const SwitchInfo& info) {
  auto cmds = std::make_shared<Commands>(dp, clock, info);
  auto with_bridge = [cmds](auto fn) {
    return [cmds, fn](Session& s, const Args& a) -> Result<Reply> {
      auto b = cmds->current(s);
      if (!b) return b.error();
      return fn(**b, a);
    };
  };
  auto need = [](const Args& a, size_t n, const char* usage) -> Status {
    if (a.size() != n) return make_error(EINVAL, "usage: {}", usage);
    return {};
  };

  reg.add("showinfo", "", "show switch version and info",
          [cmds](Session&, const Args&) -> Result<Reply> {
            auto& i = cmds->info_;
            long up =
                std::chrono::duration_cast<std::chrono::seconds>(cmds->clock_.now() - i.started)
                    .count();
            Reply r;
            r.text = fmt::format(
                "VNET switch V.{}\npid {} uptime {}s\nmgmt {}\nbridges: {}\nnumports {}\n",
                i.version, getpid(), up, i.mgmt_path, fmt::join(cmds->dp_.bridge_names(), " "),
                cmds->dp_.numports());
            for (auto& d : cmds->dp_.vde_dirs()) r.text += "vde ctl dir " + d + "\n";
            r.text += wake_lead_text(cmds->dp_.loop()) + "\n";
            r.json = {{"version", i.version},
                      {"pid", getpid()},
                      {"uptime", up},
                      {"mgmt", i.mgmt_path},
                      {"bridges", cmds->dp_.bridge_names()},
                      {"numports", cmds->dp_.numports()},
                      {"vde", cmds->dp_.vde_dirs()},
                      {"wake_lead", wake_lead_json(cmds->dp_.loop())}};
            return r;
          });

  // ---- bridges
  reg.add("bridge/create", "NAME", "create a bridge",
          [cmds, need](Session& s, const Args& a) -> Result<Reply> {
            if (auto st = need(a, 1, "bridge/create NAME"); !st) return st.error();
            auto b = cmds->dp_.create_bridge(a[0]);
            if (!b) return b.error();
            if (!s.vars.count("bridge")) s.vars["bridge"] = a[0];
            return Reply{};
          });
  reg.add("bridge/remove", "NAME", "remove a bridge",
          [cmds, need](Session& s, const Args& a) -> Result<Reply> {
            if (auto st = need(a, 1, "bridge/remove NAME"); !st) return st.error();
            if (auto st = cmds->dp_.remove_bridge(a[0]); !st) return st.error();
            if (s.vars["bridge"] == a[0]) s.vars.erase("bridge");
            return Reply{};
          });
  reg.add("bridge/select", "NAME", "work on this bridge in this session",
          [cmds, need](Session& s, const Args& a) -> Result<Reply> {
            if (auto st = need(a, 1, "bridge/select NAME"); !st) return st.error();
            if (!cmds->dp_.bridge(a[0])) return make_error(ENXIO, "no bridge named {}", a[0]);
            s.vars["bridge"] = a[0];
            return Reply{};
          });
  reg.add("bridge/vde", "DIR",
          "serve a VDE switch directory (DIR/ctl) for the selected bridge: vde_plug and QEMU "
          "-netdev vde join it",
          with_bridge([cmds, need](Bridge& b, const Args& a) -> Result<Reply> {
            if (auto st = need(a, 1, "bridge/vde DIR"); !st) return st.error();
            if (auto st = cmds->dp_.start_vde(b, a[0]); !st) return st.error();
            return Reply{};
          }));
  reg.add("bridge/list", "", "list bridges", [cmds](Session& s, const Args&) -> Result<Reply> {
    Reply r;
    r.json = json::array();
    auto cur = cmds->current(s);
    for (auto& n : cmds->dp_.bridge_names()) {
      Bridge* b = cmds->dp_.bridge(n);
      bool sel = cur && *cur == b;
      r.text += fmt::format("{}{} ports={} vlans={} fdb={}\n", sel ? "* " : "  ", n,
                            b->port_numbers().size(), b->vlan_ids().size(), b->fdb().size());
      r.json.push_back({{"name", n},
                        {"selected", sel},
                        {"ports", b->port_numbers()},
                        {"vlans", b->vlan_ids()},
                        {"fdb_entries", b->fdb().size()},
                        {"vde", cmds->dp_.vde_dir(*b)}});
    }
    return r;
  });

  // ---- ports (vde_switch names)
  reg.add("port/showinfo", "", "port table size", [cmds](Session&, const Args&) -> Result<Reply> {
    Reply r;
    r.text = fmt::format("Numports={}\nHUB=false\ncounters=true\n", cmds->dp_.numports());
    r.json = {{"numports", cmds->dp_.numports()}, {"hub", false}, {"counters", true}};
    return r;
  });
  reg.add("port/setnumports", "N", "number of ports for anonymous plugs",
          [cmds, need](Session&, const Args& a) -> Result<Reply> {
            if (auto st = need(a, 1, "port/setnumports N"); !st) return st.error();
            auto n = parse_uint(a[0], "number of ports", 65535);
            if (!n) return n.error();
            cmds->dp_.set_numports(*n);
            return Reply{};
          });
  reg.add("port/create", "N", "create port N (inactive)",
          with_bridge([cmds, need](Bridge& b, const Args& a) -> Result<Reply> {
            if (auto st = need(a, 1, "port/create N"); !st) return st.error();
            auto p = cmds->port_arg(b, a[0], false);
            if (!p) return p.error();
            if (auto st = b.add_port(*p); !st) return st.error();
            return Reply{};
          }));
  reg.add("port/remove", "N", "remove port N",
          with_bridge([cmds, need](Bridge& b, const Args& a) -> Result<Reply> {
            if (auto st = need(a, 1, "port/remove N"); !st) return st.error();
            auto p = cmds->port_arg(b, a[0]);
            if (!p) return p.error();
            cmds->dp_.forget_port(b, *p);
            if (auto st = b.remove_port(*p); !st) return st.error();
            return Reply{};
          }));
  reg.add("port/setvlan", "N VLAN", "set the untagged VLAN of port N (0 = default, 4095 = none)",
          with_bridge([cmds, need](Bridge& b, const Args& a) -> Result<Reply> {
            if (auto st = need(a, 2, "port/setvlan N VLAN"); !st) return st.error();
            auto p = cmds->port_arg(b, a[0]);
            if (!p) return p.error();
            auto v = parse_vde_vlan(a[1]);
            if (!v) return v.error();
            if (auto st = cmds->set_untagged(b, *p, *v); !st) return st.error();
            return Reply{};
          }));
  reg.add("port/mode",
          "N access VLAN [admit A] | N trunk VLANS|none [native VLAN] [admit A] (A: all, tagged, "
          "untagged)",
          "802.1Q mode and acceptable frame types of port N",
          with_bridge([cmds](Bridge& b, const Args& a) -> Result<Reply> {
            if (a.size() < 1)
              return make_error(EINVAL,
                                "usage: port/mode N access VLAN [admit A] | trunk VLANS|none "
                                "[native VLAN] [admit A]");
            auto p = cmds->port_arg(b, a[0]);
            if (!p) return p.error();
            if (a.size() == 1) {
              Reply r;
              r.text = b.port_config(*p).to_string() + "\n";
              r.json = cmds->port_json(b, *p);
              return r;
            }
            auto c = PortConfig::parse(Args(a.begin() + 1, a.end()));
            if (!c) return c.error();
            c->mac_limit = b.port_config(*p).mac_limit;
            if (auto st = b.configure_port(*p, *c); !st) return st.error();
            return Reply{};
          }));
  reg.add("port/maclimit", "N LIMIT", "most MACs port N may learn (default 4096)",
          with_bridge([cmds, need](Bridge& b, const Args& a) -> Result<Reply> {
            if (auto st = need(a, 2, "port/maclimit N LIMIT"); !st) return st.error();
            auto p = cmds->port_arg(b, a[0]);
            if (!p) return p.error();
            auto l = parse_uint(a[1], "MAC limit", 1u << 20);
            if (!l) return l.error();
            PortConfig c = b.port_config(*p);
            c.mac_limit = *l;
            if (auto st = b.configure_port(*p, c); !st) return st.error();
            return Reply{};
          }));
  reg.add("port/droparp", "N IP[,IP...]|none",
          "drop ARP received on port N whose sender address is one of IP (a DR real server "
          "claiming the VIP; counted as arp_filtered); none: off",
          with_bridge([cmds, need](Bridge& b, const Args& a) -> Result<Reply> {
            if (auto st = need(a, 2, "port/droparp N IP[,IP...]|none"); !st) return st.error();
            auto p = cmds->port_arg(b, a[0]);
            if (!p) return p.error();
            std::vector<packet::Ipv4Address> senders;
            std::string_view list = a[1];
            while (list != "none") {
              auto comma = list.find(',');
              auto ip = packet::Ipv4Address::parse(list.substr(0, comma));
              if (!ip)
                return make_error(EINVAL,
                                  "port/droparp: bad address '{}': expected IPv4 "
                                  "addresses separated by commas, or none",
                                  list.substr(0, comma));
              senders.push_back(*ip);
              if (comma == std::string_view::npos) break;
              list.remove_prefix(comma + 1);
            }
            if (auto st = b.set_drop_arp_for(*p, std::move(senders)); !st) return st.error();
            return Reply{};
          }));
  reg.add(
      "port/attach", "N SPEC",
      "attach a backend (afpacket:IF, tap:IF, qemu-stream:PATH, qemu-dgram:PATH, pcap:IN[,OUT], "
      "vxlan:LOCAL,…, udp:LOCAL:PORT,remote=ADDR:PORT, udp://…, vxlan://…)",
      with_bridge([cmds, need](Bridge& b, const Args& a) -> Result<Reply> {
        if (auto st = need(a, 2, "port/attach N SPEC"); !st) return st.error();
        auto p = cmds->port_arg(b, a[0], false);
        if (!p) return p.error();
        if (auto st = cmds->dp_.attach_spec(b, *p, a[1]); !st) return st.error();
        return Reply{};
      }));
  reg.add("port/detach", "N", "detach port N's backend or cable",
          with_bridge([cmds, need](Bridge& b, const Args& a) -> Result<Reply> {
            if (auto st = need(a, 1, "port/detach N"); !st) return st.error();
            auto p = cmds->port_arg(b, a[0]);
            if (!p) return p.error();
            if (auto st = cmds->dp_.detach(b, *p); !st) return st.error();
            return Reply{};
          }));
  reg.add("port/link", "N[,N...] up|down|silent",
          "link state: down = cable pulled; silent = carrier up, no frames either way; several "
          "ports change at once, before spanning tree runs again (a switch losing power)",
          with_bridge([cmds, need](Bridge& b, const Args& a) -> Result<Reply> {
            if (auto st = need(a, 2, "port/link N[,N...] up|down|silent"); !st) return st.error();
            if (a[1] != "up" && a[1] != "down" && a[1] != "silent")
              return make_error(EINVAL, "expected up, down or silent, got '{}'", a[1]);
            std::vector<PortNo> ports;
            std::string_view list = a[0];
            while (true) {
              auto comma = list.find(',');
              auto p = cmds->port_arg(b, std::string(list.substr(0, comma)));
              if (!p) return p.error();
              ports.push_back(*p);
              if (comma == std::string_view::npos) break;
              list.remove_prefix(comma + 1);
            }
            for (PortNo p : ports) {
              if (auto st = cmds->dp_.set_silent(b, p, a[1] == "silent"); !st) return st.error();
              if (auto st = cmds->dp_.set_link(b, p, a[1] != "down"); !st) return st.error();
            }
            return Reply{};
          }));
  reg.add("port/state", "[N [discarding|learning|forwarding]]",
          "show or set the forwarding state of port N (all ports without N)",
          with_bridge([cmds](Bridge& b, const Args& a) -> Result<Reply> {
            if (a.size() > 2)
              return make_error(EINVAL, "usage: port/state [N [discarding|learning|forwarding]]");
            std::vector<PortNo> ports = b.port_numbers();
            if (!a.empty()) {
              auto p = cmds->port_arg(b, a[0]);
              if (!p) return p.error();
              if (a.size() == 2) {
                auto st = parse_port_state(a[1]);
                if (!st) return st.error();
                if (auto s = b.set_port_state(*p, *st); !s) return s.error();
              }
              ports = {*p};
            }
            Reply r;
            r.json = json::array();
            for (PortNo p : ports) {
              auto name = port_state_name(b.port_state(p));
              r.text += fmt::format("Port {:04} {}\n", p, name);
              r.json.push_back({{"port", p}, {"state", name}});
            }
            return r;
          }));
  reg.add("port/print", "[N]", "show active ports (or port N)",
          [cmds](Session& s, const Args& a) { return cmds->print_ports(s, a, false); });
  reg.add("port/allprint", "[N]", "show all ports",
          [cmds](Session& s, const Args& a) { return cmds->print_ports(s, a, true); });
  reg.add(
      "port/stats", "[N]", "counters of all ports (or port N)",
      [cmds](Session& s, const Args& a) -> Result<Reply> {
        auto b = cmds->current(s);
        if (!b) return b.error();
        Reply r;
        r.json = json::array();
        std::vector<PortNo> ports = (*b)->port_numbers();
        if (!a.empty()) {
          auto p = cmds->port_arg(**b, a[0]);
          if (!p) return p.error();
          ports = {*p};
        }
        r.text = fmt::format("{:>5} {:>12} {:>14} {:>12} {:>14} {:>10} {:>10}\n", "port",
                             "rx_frames", "rx_bytes", "tx_frames", "tx_bytes", "control", "drops");
        for (PortNo p : ports) {
          const auto& c = (*b)->counters(p);
          r.text += fmt::format("{:>5} {:>12} {:>14} {:>12} {:>14} {:>10} {:>10}\n", p, c.rx_frames,
                                c.rx_bytes, c.tx_frames, c.tx_bytes, c.control, c.total_drops());
          r.json.push_back(cmds->port_json(**b, p));
        }
        return r;
      });
  reg.add("port/resetcounter", "[N]", "zero counters",
          with_bridge([cmds](Bridge& b, const Args& a) -> Result<Reply> {
            if (a.empty()) {
              for (PortNo p : b.port_numbers()) b.reset_counters(p);
              return Reply{};
            }
            auto p = cmds->port_arg(b, a[0]);
            if (!p) return p.error();
            b.reset_counters(*p);
            return Reply{};
          }));

  // ---- VLANs
  reg.add("vlan/create", "N", "create VLAN N",
          with_bridge([need](Bridge& b, const Args& a) -> Result<Reply> {
            if (auto st = need(a, 1, "vlan/create N"); !st) return st.error();
            auto v = parse_uint(a[0], "VLAN", 4095);
            if (!v) return v.error();
            if (*v == 0)
              return make_error(
                  EEXIST, "VLAN 0 is vde_switch's default VLAN, which is VLAN 1 here: it exists");
            if (auto st = b.create_vlan(static_cast<VlanId>(*v)); !st) return st.error();
            return Reply{};
          }));
  reg.add("vlan/remove", "N", "remove VLAN N",
          with_bridge([need](Bridge& b, const Args& a) -> Result<Reply> {
            if (auto st = need(a, 1, "vlan/remove N"); !st) return st.error();
            auto v = parse_vde_vlan(a[0]);
            if (!v) return v.error();
            if (auto st = b.remove_vlan(*v); !st) return st.error();
            return Reply{};
          }));
  reg.add("vlan/addport", "N PORT", "add PORT as a tagged member of VLAN N",
          with_bridge([cmds, need](Bridge& b, const Args& a) -> Result<Reply> {
            if (auto st = need(a, 2, "vlan/addport N PORT"); !st) return st.error();
            auto v = parse_vde_vlan(a[0]);
            if (!v) return v.error();
            auto p = cmds->port_arg(b, a[1]);
            if (!p) return p.error();
            if (auto st = cmds->add_tagged(b, *p, *v); !st) return st.error();
            return Reply{};
          }));
  reg.add("vlan/delport", "N PORT", "remove PORT's tagged membership of VLAN N",
          with_bridge([cmds, need](Bridge& b, const Args& a) -> Result<Reply> {
            if (auto st = need(a, 2, "vlan/delport N PORT"); !st) return st.error();
            auto v = parse_vde_vlan(a[0]);
            if (!v) return v.error();
            auto p = cmds->port_arg(b, a[1]);
            if (!p) return p.error();
            if (auto st = cmds->del_tagged(b, *p, *v); !st) return st.error();
            return Reply{};
          }));
  reg.add("vlan/print", "[N]", "show VLAN N (or all)",
          [cmds](Session& s, const Args& a) { return cmds->vlan_print(s, a); });
  reg.add("vlan/allprint", "", "show all VLANs",
          [cmds](Session& s, const Args&) { return cmds->vlan_print(s, {}); });

  // ---- MAC table
  reg.add("hash/print", "", "show the MAC table (vde_switch format)",
          [cmds](Session& s, const Args& a) { return cmds->fdb_show(s, a, true); });
  reg.add("hash/showinfo", "", "MAC table settings",
          with_bridge([](Bridge& b, const Args&) -> Result<Reply> {
            long expire =
                std::chrono::duration_cast<std::chrono::seconds>(b.fdb().ageing_time()).count();
            Reply r;
            r.text = fmt::format("Hash size {}\nGC interval 1 secs\nexpire {} secs\n",
                                 b.fdb().size(), expire);
            r.json = {{"entries", b.fdb().size()}, {"gc_interval", 1}, {"expire", expire}};
            return r;
          }));
  reg.add("hash/setexpire", "SECS", "ageing time of learned MACs",
          with_bridge([need](Bridge& b, const Args& a) -> Result<Reply> {
            if (auto st = need(a, 1, "hash/setexpire SECS"); !st) return st.error();
            auto v = parse_uint(a[0], "ageing time", 1000000);
            if (!v) return v.error();
            b.fdb().set_ageing_time(std::chrono::seconds(*v));
            return Reply{};
          }));
  reg.add("hash/find", "MAC [VLAN]", "where MAC was learned",
          with_bridge([cmds](Bridge& b, const Args& a) -> Result<Reply> {
            if (a.empty() || a.size() > 2) return make_error(EINVAL, "usage: hash/find MAC [VLAN]");
            auto m = packet::MacAddress::parse(a[0]);
            if (!m) return m.error();
            VlanId v = Bridge::kDefaultVlan;
            if (a.size() == 2) {
              auto pv = parse_vde_vlan(a[1]);
              if (!pv) return pv.error();
              v = *pv;
            }
            auto p = b.fdb().lookup(v, *m, cmds->clock_.now());
            if (!p) return make_error(ENXIO, "{} is not in VLAN {}'s table", a[0], v);
            Reply r;
            r.text = fmt::format("Address {} VLAN {:04} to port: {:03}\n", m->to_string(), v, *p);
            r.json = {{"mac", m->to_string()}, {"vlan", v}, {"port", *p}};
            return r;
          }));
  reg.add("fdb/show", "[VLAN]", "learned and static MAC entries",
          [cmds](Session& s, const Args& a) { return cmds->fdb_show(s, a, false); });
  reg.add("fdb/flush", "[PORT]", "forget learned MACs (of one port)",
          with_bridge([cmds](Bridge& b, const Args& a) -> Result<Reply> {
            std::optional<PortNo> port;
            if (!a.empty()) {
              auto p = cmds->port_arg(b, a[0]);
              if (!p) return p.error();
              port = *p;
            }
            size_t n = b.fdb().flush(port);
            Reply r;
            r.text = fmt::format("flushed {} entries\n", n);
            r.json = {{"flushed", n}};
            return r;
          }));
  reg.add("fdb/add", "MAC VLAN PORT", "static FDB entry",
          with_bridge([cmds, need](Bridge& b, const Args& a) -> Result<Reply> {
            if (auto st = need(a, 3, "fdb/add MAC VLAN PORT"); !st) return st.error();
            auto m = packet::MacAddress::parse(a[0]);
            if (!m) return m.error();
            if (m->is_multicast())
              return make_error(EINVAL, "static entries are for unicast MACs, got {}", a[0]);
            auto v = parse_vid(a[1]);
            if (!v) return v.error();
            auto p = cmds->port_arg(b, a[2]);
            if (!p) return p.error();
            b.fdb().add_static(*v, *m, *p);
            return Reply{};
          }));
  reg.add("fdb/del", "MAC VLAN", "remove an FDB entry",
          with_bridge([need](Bridge& b, const Args& a) -> Result<Reply> {
            if (auto st = need(a, 2, "fdb/del MAC VLAN"); !st) return st.error();
            auto m = packet::MacAddress::parse(a[0]);
            if (!m) return m.error();
            auto v = parse_vid(a[1]);
            if (!v) return v.error();
            if (!b.fdb().remove(*v, *m))
              return make_error(ENXIO, "no entry for {} in VLAN {}", a[0], *v);
            return Reply{};
          }));

  // ---- cables between bridges of this dataplane
  reg.add("cable/connect", "BRIDGE PORT BRIDGE PORT", "plug an in-process cable between two ports",
          [cmds, need](Session&, const Args& a) -> Result<Reply> {
            if (auto st = need(a, 4, "cable/connect BRIDGE PORT BRIDGE PORT"); !st)
              return st.error();
            Bridge* x = cmds->dp_.bridge(a[0]);
            Bridge* y = cmds->dp_.bridge(a[2]);
            if (!x) return make_error(ENXIO, "no bridge named {}", a[0]);
            if (!y) return make_error(ENXIO, "no bridge named {}", a[2]);
            auto px = cmds->port_arg(*x, a[1]);
            if (!px) return px.error();
            auto py = cmds->port_arg(*y, a[3]);
            if (!py) return py.error();
            if (auto st = cmds->dp_.connect_cable(*x, *px, *y, *py); !st) return st.error();
            return Reply{};
          });

  register_stp_commands(reg, dp, clock);
  register_impair_commands(reg, dp, clock);
  register_capture_commands(reg, dp, clock);
  register_mirror_commands(reg, dp);
  register_vtep_commands(reg, dp, clock);
  register_nac_commands(reg, dp, clock);
}

}  // namespace vnet::bridge
