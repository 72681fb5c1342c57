// Node kind "switch": an 802.1Q bridge in the lab's `vnet switch` dataplane (one process in the
// namespace "<lab>-vnet" hosts every switch of the lab, each a separate bridge with its own FDB).
//
// Power (docs/topology.md "Crash and boot"): a switch has no processes of its own, so its power is
// its cables and its learned state. `kill` (and `stop`: a switch has no clean shutdown) takes
// every cable dark — a cable to another switch through the dataplane (both ports down, the peer
// sees its link go), a cable to a node through the node's kind (the node sees its carrier go, as
// after `link NODE SW down`) and the switch's port down with it — then turns its spanning tree off
// (the RSTP engine and all it learned are gone) and flushes its FDB. The bridge, its VLANs and its
// ports stay in the dataplane: they are its declared configuration. `start` boots: the declared
// spanning tree applied fresh (a new engine, §17.19 BEGIN), then every cable whose other end is
// powered plugged back, one a `link … down` step pulled before the kill included; a cable to a
// node or switch that is off stays dark until that one boots.
//
// Tunnels (`tunnels: [{port, spec, trunk | vlan [, native]}]`): ports of the switch that are
// cables to the outside — a VXLAN or UDP cable to a switch in another process or on another host,
// or a VDE locator (udp://, vxlan://). Each spec is checked at parse time by the parsers the
// switch's backends use (overlay/spec.hh), with file:line:col; `up` creates the port with its
// mode and attaches the spec; `down` ends the dataplane and with it the port. The sockets live in
// the dataplane's namespace `<lab>-vnet`: the underlay must reach it (docs/cables.md), so a spec
// whose local address is 0.0.0.0 / :: (or a udp:// locator without one) comes up before it does.
// Power: a tunnel port goes dark and comes back with the switch, like its other cables.
//
// Outside clients (docs/topology.md "Joining a running lab"): every switch serves a VDE switch
// directory `<state>/<switch>.vde` (vde_plug, QEMU `-netdev vde,sock=…`). A client asking for a
// port declared under `clients: [{port, vlan | trunk [, native]}]` gets that port's VLAN mode;
// each declared port also listens on a QEMU stream socket `<state>/<switch>.port<N>.stream`
// (QEMU `-netdev stream,addr.type=unix,addr.path=…`). A port holds one client at a time,
// whichever socket it came by; when the client goes the port stays, inactive, for the next. A
// client asking for no port (or an undeclared one) gets a port of its own in VLAN 1, untagged,
// as on vde_switch; `vnet ctl` changes it. The paths are in the state (facts.clients) and in
// `vnet lab status`. Power: the client ports go dark with the switch.

#include <algorithm>
#include <set>

#include "base/hash.hh"
#include "lab/netns.hh"
#include "lab/node_kind.hh"
#include "lab/port_auth.hh"
#include "lab/reader.hh"
#include "lab/registry.hh"
#include "lab/runtime.hh"
#include "overlay/spec.hh"

namespace vnet::lab {
namespace {

struct Tunnel {
  uint32_t port = 0;
  std::string spec;
  bridge::PortConfig mode = bridge::PortConfig::access(1);
  std::vector<uint16_t> mapped;  // VLANs a vxlan: map carries (must be trunk members)
  Where where;
};

// A port for a client that joins the running lab by hand (VDE or QEMU stream).
struct ClientPort {
  uint32_t port = 0;
  bridge::PortConfig mode = bridge::PortConfig::access(1);
  Where where;
};

struct SwitchSpec final : NodeSpec {
  std::vector<bridge::VlanId> vlans;  // besides VLAN 1, which always exists
  StpBridge stp;
  std::vector<Tunnel> tunnels;
  std::vector<ClientPort> clients;
  // Port authentication (lab/port_auth.hh): the RADIUS client, its ports' default timers and
  // the management interface its requests leave by.
  std::optional<RadiusClient> radius;
  bridge::AuthTimers auth;
  std::optional<Management> management;
};

// The management veth's two ends, both in the dataplane's namespace: the switch port's and the
// addressed interface's ("mg" + a hash of lab and switch, at most 15 characters).
std::pair<std::string, std::string> management_devices(const Topology& t, const std::string& sw) {
  std::string h = fmt::format("mg{:08x}", static_cast<uint32_t>(fnv1a(t.name + "/" + sw)));
  return {h + "p", h + "i"};
}

std::string vde_dir(const std::string& state_dir, const std::string& sw) {
  return state_dir + "/" + sw + ".vde";
}
std::string stream_path(const std::string& state_dir, const std::string& sw, uint32_t port) {
  return fmt::format("{}/{}.port{}.stream", state_dir, sw, port);
}

// `vlan: N` | `trunk: [..] [native: N]` of a map (access VLAN 1 when neither is given).
bridge::PortConfig parse_mode(const YAML::Node& y, Reader& r, const char* what) {
  if (y["vlan"] && y["trunk"]) {
    r.error(y, fmt::format("a {} is either 'vlan: N' (access) or 'trunk: [..]', not both", what));
  }
  std::optional<bridge::VlanId> native;
  if (y["native"]) {
    if (!y["trunk"]) r.error(y["native"], "'native' goes with 'trunk'");
    native = r.vid(y["native"], "native VLAN");
  }
  if (y["trunk"]) return bridge::PortConfig::trunk(r.vid_list(y["trunk"], "trunk"), native);
  if (y["vlan"]) return bridge::PortConfig::access(r.vid(y["vlan"], "vlan").value_or(1));
  return bridge::PortConfig::access(1);
}

// The keys of parse_mode().
std::vector<KeySpec> port_mode_keys() {
  return {{"vlan", schema::ref("vid"), "access port of this VLAN (untagged)"},
          {"trunk", schema::ref("vids"), "trunk port carrying these VLANs tagged"},
          {"native", schema::ref("vid"), "with trunk: the VLAN that travels untagged"}};
}

const KeyTable& client_keys() {
  static const KeyTable t = [] {
    KeyTable t{"client",
               {
                   {"port", schema::integer(1, 65535),
                    "the switch's port number: the port a VDE client asks for (`vde_plug "
                    "vde://DIR[N]`), and `<switch>.portN.stream` for QEMU stream clients",
                    true},
               }};
    for (auto& k : port_mode_keys()) t.keys.push_back(k);
    return t;
  }();
  return t;
}

const KeyTable& tunnel_keys() {
  static const KeyTable t = [] {
    KeyTable t{
        "tunnel",
        {
            {"port", schema::integer(1, 65535), "the switch's port number", true},
            {"spec", schema::string("vxlan:…, udp:…, udp://… or vxlan://…"),
             "the cable: `vxlan:LOCAL,map=VID:VNI,…`, `udp:LOCAL:PORT,remote=ADDR:PORT`, or a VDE "
             "locator `udp://…` / `vxlan://…` (docs/cables.md)",
             true},
        }};
    for (auto& k : port_mode_keys()) t.keys.push_back(k);
    return t;
  }();
  return t;
}

class SwitchKind final : public NodeKind {
 public:
  std::string_view name() const override { return "switch"; }
  std::string_view section() const override { return "switches"; }
  std::string_view doc() const override {
    return "An IEEE 802.1Q bridge. All switches of a lab live in one `vnet switch` dataplane "
           "process in the namespace `<lab>-vnet`; each is a separate bridge with its own FDB.";
  }
  const KeyTable& keys() const override {
    static const KeyTable t = [] {
      KeyTable t{"switch",
                 {
                     {"name", schema::ref("nodeName"),
                      "node name (unique among all nodes; `vnet` is reserved)", true},
                     {"vlans", schema::ref("vids"),
                      "VIDs (1–4094) that exist on this switch; VLAN 1 always exists"},
                 }};
      for (auto& k : stp_switch_keys()) t.keys.push_back(k);
      t.keys.push_back({"tunnels", schema::list(schema::ref("tunnel")),
                        "ports that are cables to the outside: a VXLAN or UDP cable, or a VDE "
                        "locator (`{port, spec, trunk | vlan}`)"});
      t.keys.push_back({"clients", schema::list(schema::ref("client")),
                        "ports for VMs or plugs started by hand to join the running lab through "
                        "the switch's VDE directory or the port's QEMU stream socket "
                        "(`{port, vlan | trunk}`)"});
      t.keys.push_back({"radius", schema::ref("radius"),
                        "the RADIUS server its authenticating ports ask (`{server, secret}`, "
                        "docs/nac.md)"});
      t.keys.push_back({"auth", schema::ref("authTimers"),
                        "default authentication timers of its ports (a link's `auth` map "
                        "overrides them per port)"});
      t.keys.push_back({"management", schema::ref("management"),
                        "an address for the switch itself on one of its VLANs (`{vlan, address "
                        "[, gateway, port]}`): the dataplane's namespace reaches the RADIUS "
                        "server through it"});
      return t;
    }();
    return t;
  }
  std::vector<const KeyTable*> sub_tables() const override {
    return {&tunnel_keys(),      &client_keys(),      &radius_table(),
            &auth_timer_table(), &management_table(), &port_auth_table()};
  }
  std::vector<uint32_t> reserved_ports(const Node& n) const override {
    std::vector<uint32_t> out;
    for (const auto& t : n.as<SwitchSpec>().tunnels) out.push_back(t.port);
    for (const auto& c : n.as<SwitchSpec>().clients) out.push_back(c.port);
    if (const auto& m = n.as<SwitchSpec>().management) out.push_back(m->port);
    return out;
  }
  std::vector<std::string> graph_notes(const Node& n) const override {
    std::vector<std::string> out;
    for (const auto& t : n.as<SwitchSpec>().tunnels) {
      std::string spec = t.spec.size() > 40 ? t.spec.substr(0, 39) + "…" : t.spec;
      out.push_back(fmt::format("port {}: {} ({})", t.port, spec, t.mode.to_string()));
    }
    for (const auto& c : n.as<SwitchSpec>().clients)
      out.push_back(fmt::format("port {}: clients ({})", c.port, c.mode.to_string()));
    if (const auto& m = n.as<SwitchSpec>().management)
      out.push_back(fmt::format("port {}: management {} (VLAN {})", m->port, m->address.to_string(),
                                m->vlan));
    if (const auto& r = n.as<SwitchSpec>().radius)
      out.push_back(fmt::format("RADIUS {}:{}", r->server.host, r->server.port));
    return out;
  }
  bool is_switch() const override { return true; }
  bool has_power() const override { return true; }
  std::pair<std::string_view, std::string_view> graph_style() const override {
    return {"box", "#e8eef7"};
  }

  void parse(const YAML::Node& yaml, Node& n, Reader& r) const override {
    auto spec = std::make_shared<SwitchSpec>();
    if (yaml["vlans"]) spec->vlans = r.vid_list(yaml["vlans"], "switch " + n.name + " vlans");
    spec->stp = parse_stp_bridge(yaml, n.name, r);
    std::set<uint32_t> ports;
    for (const auto& y : r.list(yaml["tunnels"], "tunnels")) {
      if (!r.check_keys(y, tunnel_keys()) || !y["port"] || !y["spec"]) continue;
      Tunnel t;
      t.where = r.at(y);
      auto port = r.integer(y["port"], "tunnel port", 1, 65535);
      auto text = r.str(y["spec"], "tunnel spec");
      if (!port || !text) continue;
      t.port = static_cast<uint32_t>(*port);
      t.spec = *text;
      if (!ports.insert(t.port).second) {
        r.error(y["port"], fmt::format("switch {}: port {} has two tunnels", n.name, t.port));
      }
      if (auto mapped = overlay::check_tunnel_spec(t.spec); !mapped) {
        r.error(y["spec"], fmt::format("switch {} tunnel on port {}: {}", n.name, t.port,
                                       mapped.error().message));
      } else {
        t.mapped = *mapped;
      }
      t.mode = parse_mode(y, r, "tunnel");
      for (uint16_t v : t.mapped) {
        if (t.mode.mode != bridge::PortConfig::Mode::kTrunk || !t.mode.trunk_vlans.test(v)) {
          r.error(y["spec"], fmt::format("switch {} tunnel on port {}: the spec maps VLAN {}, "
                                         "which the port does not carry tagged (trunk: [...])",
                                         n.name, t.port, v));
        }
      }
      spec->tunnels.push_back(std::move(t));
    }
    for (const auto& y : r.list(yaml["clients"], "clients")) {
      if (!r.check_keys(y, client_keys()) || !y["port"]) continue;
      ClientPort c;
      c.where = r.at(y);
      auto port = r.integer(y["port"], "client port", 1, 65535);
      if (!port) continue;
      c.port = static_cast<uint32_t>(*port);
      if (!ports.insert(c.port).second) {
        r.error(y["port"], fmt::format("switch {}: port {} is declared twice (tunnels, clients)",
                                       n.name, c.port));
      }
      c.mode = parse_mode(y, r, "client port");
      spec->clients.push_back(std::move(c));
    }
    if (yaml["radius"]) spec->radius = parse_radius(yaml["radius"], r, n.name);
    if (yaml["auth"] && r.check_keys(yaml["auth"], auth_timer_table()))
      parse_auth_timers(yaml["auth"], r, "switch " + n.name + " auth", spec->auth);
    if (yaml["management"]) {
      spec->management = parse_management(yaml["management"], r, n.name);
      if (spec->management && !ports.insert(spec->management->port).second) {
        r.error(yaml["management"],
                fmt::format("switch {}: port {} is declared twice (tunnels, clients, management)",
                            n.name, spec->management->port));
      }
    }
    n.spec = spec;
  }

  const StpBridge* spanning_tree(const Node& n) const override {
    const StpBridge& stp = n.as<SwitchSpec>().stp;
    return stp.runs() ? &stp : nullptr;
  }

  // Every VLAN a link, tunnel or client port carries on this switch is declared on it; a
  // tunnel's or client port's port is no link's.
  void validate(const Node& n, Reader& r) const override {
    const auto& vlans = n.as<SwitchSpec>().vlans;
    for (const auto& t : n.as<SwitchSpec>().tunnels)
      check_own_port(n, t.port, t.mode, t.where, "a tunnel", r);
    for (const auto& c : n.as<SwitchSpec>().clients)
      check_own_port(n, c.port, c.mode, c.where, "a client port", r);
    const auto& spec = n.as<SwitchSpec>();
    if (spec.management) {
      check_own_port(n, spec.management->port, bridge::PortConfig::access(spec.management->vlan),
                     spec.management->where, "the management port", r);
      for (const Node* other : r.topo().switches()) {
        const auto& om = other->as<SwitchSpec>().management;
        if (other == &n || !om) continue;
        if (om->address.contains(spec.management->address) ||
            spec.management->address.contains(om->address)) {
          r.error(spec.management->where,
                  fmt::format("switch {} management {} overlaps switch {}'s ({}): all switches "
                              "share the dataplane's namespace, give each its own subnet",
                              n.name, spec.management->address.to_string(), other->name,
                              om->address.to_string()));
        }
      }
    }
    for (auto& l : r.topo().links) {
      if (l.auth && l.b.node == n.name && !l.switch_to_switch &&
          l.auth->control == nac::PortControl::kAuto && !spec.radius) {
        r.error(l.auth_where,
                fmt::format("link {}–{}: auth {} needs a RADIUS server on switch {} (radius: "
                            "{{server: HOST[:PORT], secret: …}})",
                            l.a.node, n.name, bridge::port_auth_name(*l.auth), n.name));
      }
    }
    if (spec.radius && !spec.management) {
      r.warn(spec.radius->where,
             fmt::format("switch {} has a RADIUS server but no management interface: the "
                         "dataplane's namespace reaches {} only if something else routes it "
                         "there",
                         n.name, spec.radius->server.host));
    }
    for (auto& l : r.topo().links) {
      if (l.b.node != n.name && !(l.switch_to_switch && l.a.node == n.name)) continue;
      for (bridge::VlanId v : l.mode.members()) {
        if (v != 1 && std::find(vlans.begin(), vlans.end(), v) == vlans.end())
          r.error(l.where, fmt::format("VLAN {} is not declared on switch {} (its vlans: [{}])", v,
                                       n.name, fmt::join(vlans, ", ")));
      }
    }
  }

  // The bridge, its VLANs and its spanning tree (before any port exists, so no cable of a loop
  // ever forwards without it). The dataplane starts with the lab's first switch as its bridge.
  Status configure(const Node& n, LabRuntime& rt) const override {
    auto dp = rt.dataplane();
    if (!dp) return dp.error();
    auto sws = rt.topo().switches();
    if (sws.empty() || sws.front()->name != n.name) {
      if (auto s = (*dp)->create_bridge(n.name); !s) return s;
    }
    const auto& spec = n.as<SwitchSpec>();
    for (auto v : spec.vlans) {
      if (v == 1) continue;
      if (auto s = (*dp)->create_vlan(n.name, v); !s) return s;
    }
    if (spec.stp.runs()) {
      if (auto s = (*dp)->set_spanning_tree(n.name, spec.stp); !s) return s;
    }
    if (auto s = configure_access(n, rt, **dp); !s) return s;
    for (const auto& t : spec.tunnels) {
      if (auto s = (*dp)->create_port(n.name, t.port, t.mode); !s) return s;
      if (auto s = (*dp)->attach(n.name, t.port, t.spec); !s) {
        return make_error(s.error().code, "switch {} tunnel on port {}: {}", n.name, t.port,
                          s.error().message);
      }
    }
    return open_to_clients(n, rt, **dp);
  }

  // A link's port that filters ARP (drop_arp_for) or authenticates: its methods, its timers
  // over the switch's.
  Status port_created(const Node& n, const Link& l, uint32_t port, LabRuntime& rt) const override {
    if (l.b.node != n.name || l.switch_to_switch) return {};
    if (!l.auth && l.drop_arp_for.empty()) return {};
    auto dp = rt.dataplane();
    if (!dp) return dp.error();
    if (!l.drop_arp_for.empty()) {
      if (auto s = (*dp)->set_drop_arp_for(n.name, port, l.drop_arp_for); !s) return s;
    }
    if (!l.auth) return {};
    bridge::PortAuthSettings s = *l.auth;
    s.timers = merge_timers(l.auth->timers, n.as<SwitchSpec>().auth);
    return (*dp)->set_port_auth(n.name, port, s);
  }

  Status kill(const Node& n, LabRuntime& rt) const override { return power_off(n, rt); }
  Status stop(const Node& n, LabRuntime& rt) const override { return power_off(n, rt); }
  // Boots a switch that is off (its bridge exists; the orchestrator's boot calls only this).
  Status start(const Node& n, LabRuntime& rt) const override {
    auto dp = rt.dataplane();
    if (!dp) return dp.error();
    const auto& spec = n.as<SwitchSpec>();
    if (spec.stp.runs()) {
      if (auto s = (*dp)->set_spanning_tree(n.name, spec.stp); !s) return s;
    }
    return set_cables(n, rt, true);
  }

  nlohmann::json status(const Node& n, const Topology&) const override {
    const auto& spec = n.as<SwitchSpec>();
    nlohmann::json clients = nlohmann::json::array();
    for (const auto& c : spec.clients)
      clients.push_back({{"port", c.port}, {"mode", c.mode.to_string()}});
    nlohmann::json tunnels = nlohmann::json::array();
    for (const auto& t : spec.tunnels) {
      tunnels.push_back({{"port", t.port}, {"spec", t.spec}, {"mode", t.mode.to_string()}});
    }
    nlohmann::json out = {{"vlans", spec.vlans},
                          {"stp", bridge::stp_mode_name(spec.stp.mode)},
                          {"tunnels", tunnels},
                          {"clients", clients}};
    if (spec.radius) {  // never the secret
      out["radius"] = {{"host", spec.radius->server.host}, {"port", spec.radius->server.port}};
    }
    if (spec.management) {
      out["management"] = {{"port", spec.management->port},
                           {"vlan", spec.management->vlan},
                           {"address", spec.management->address.to_string()}};
    }
    return out;
  }

 private:
  // A port the switch's own keys take (`what`: "a tunnel", "a client port"): its VLANs are
  // declared, and no link uses its number.
  static void check_own_port(const Node& n, uint32_t port, const bridge::PortConfig& mode,
                             const Where& where, const char* what, Reader& r) {
    const auto& vlans = n.as<SwitchSpec>().vlans;
    for (bridge::VlanId v : mode.members()) {
      if (v != 1 && std::find(vlans.begin(), vlans.end(), v) == vlans.end())
        r.error(where, fmt::format("VLAN {} is not declared on switch {} (its vlans: [{}])", v,
                                   n.name, fmt::join(vlans, ", ")));
    }
    for (auto& l : r.topo().links) {
      if ((l.b.node == n.name && l.b.port == port) ||
          (l.switch_to_switch && l.a.node == n.name && l.a.port == port)) {
        r.error(where,
                fmt::format("switch {}: port {} is {} and a link's port", n.name, port, what));
      }
    }
  }

  // The management interface (a veth in the dataplane's namespace: one end the switch's access
  // port of the management VLAN, the other the switch's address) and the RADIUS server.
  static Status configure_access(const Node& n, LabRuntime& rt, SwitchClient& dp) {
    const auto& spec = n.as<SwitchSpec>();
    if (const auto& m = spec.management) {
      const std::string ns = rt.topo().switch_netns();
      // Named, not a structured binding: clang 14 (the fuzz build) rejects lambdas capturing those.
      const auto devs = management_devices(rt.topo(), n.name);
      const std::string& port_dev = devs.first;
      const std::string& if_dev = devs.second;
      auto nl = rt.netlink(ns);
      if (!nl) return nl.error();
      auto self = open_netns(ns);
      if (!self) return self.error();
      auto fail = [&](const Status& s) {
        return make_error(s.error().code, "switch {} management interface {}: {}", n.name, if_dev,
                          s.error().message);
      };
      if (auto s = (*nl)->del_link(port_dev); !s) return fail(s);  // a previous life's
      if (auto s = (*nl)->add_veth(port_dev, self->get(), ns, if_dev, std::nullopt); !s)
        return fail(s);
      for (const auto& dev : {port_dev, if_dev}) {
        if (auto s = (*nl)->set_up(dev, true); !s) return fail(s);
      }
      if (auto s = (*nl)->add_address(if_dev, m->address); !s) return fail(s);
      if (m->gateway) {
        auto to = *packet::IpPrefix::parse(m->address.v6 ? "::/0" : "0.0.0.0/0");
        if (auto s = (*nl)->add_route(to, *m->gateway); !s) return fail(s);
      }
      if (auto s = dp.create_port(n.name, m->port, bridge::PortConfig::access(m->vlan)); !s)
        return s;
      if (auto s = dp.attach(n.name, m->port, "afpacket:" + port_dev); !s) return s;
    }
    if (spec.radius) {
      if (auto s = dp.set_radius(n.name, spec.radius->server); !s) return s;
    }
    return {};
  }

  // The switch's VDE directory, and a port with its stream socket per declared client port;
  // recorded (facts.clients) before they exist so status shows where to plug in.
  static Status open_to_clients(const Node& n, LabRuntime& rt, SwitchClient& dp) {
    const auto& spec = n.as<SwitchSpec>();
    std::string dir = vde_dir(rt.state_dir(), n.name);
    nlohmann::json ports = nlohmann::json::array();
    for (const auto& c : spec.clients) {
      ports.push_back({{"port", c.port},
                       {"mode", c.mode.to_string()},
                       {"stream", stream_path(rt.state_dir(), n.name, c.port)}});
    }
    if (auto s = rt.record_fact("clients", n.name, {{"vde", dir}, {"ports", ports}}); !s) return s;
    if (auto s = dp.serve_vde(n.name, dir); !s) return s;
    for (const auto& c : spec.clients) {
      if (auto s = dp.create_port(n.name, c.port, c.mode); !s) return s;
      std::string path = stream_path(rt.state_dir(), n.name, c.port);
      if (auto s = dp.attach(n.name, c.port, "qemu-stream:" + path); !s) {
        return make_error(s.error().code, "switch {} client port {}: {}", n.name, c.port,
                          s.error().message);
      }
    }
    return {};
  }

  Status power_off(const Node& n, LabRuntime& rt) const {
    if (!rt.powered(n.name)) return make_error(EALREADY, "{} is already off", n.name);
    if (auto s = set_cables(n, rt, false); !s) return s;
    auto dp = rt.dataplane();
    if (!dp) return dp.error();
    if (n.as<SwitchSpec>().stp.runs()) {
      if (auto s = (*dp)->stop_spanning_tree(n.name); !s) return s;
    }
    if (auto s = (*dp)->flush_fdb(n.name); !s) return s;
    return rt.set_power(n, false);
  }

  // Every cable of switch n dark (up = false) or plugged (up = true: those whose other end is
  // powered; the others stay dark until it boots).
  static Status set_cables(const Node& n, LabRuntime& rt, bool up) {
    auto dp = rt.dataplane();
    if (!dp) return dp.error();
    const Topology& t = rt.topo();
    if (!up) {
      // Every port of the switch dark in one dataplane command (the far ends of its switch
      // cables go down with them): its neighbours all see the carrier go before any of them
      // sends a BPDU about it, as when a real switch loses power. One command per cable would
      // let spanning tree react to each cable in turn, a failure no real network has.
      std::vector<bridge::PortNo> ports;
      for (const auto& tn : n.as<SwitchSpec>().tunnels) ports.push_back(tn.port);
      for (const auto& c : n.as<SwitchSpec>().clients) ports.push_back(c.port);
      if (const auto& m = n.as<SwitchSpec>().management) ports.push_back(m->port);
      for (const Link& l : t.links) {
        if (l.switch_to_switch && l.a.node == n.name)
          ports.push_back(l.port_a);
        else if (l.b.node == n.name)
          ports.push_back(l.port_b);
      }
      if (auto s = (*dp)->set_links(n.name, ports, false); !s) return s;
    }
    if (up) {
      for (const auto& tn : n.as<SwitchSpec>().tunnels) {
        if (auto s = (*dp)->set_link(n.name, tn.port, true); !s) return s;
      }
      for (const auto& c : n.as<SwitchSpec>().clients) {
        if (auto s = (*dp)->set_link(n.name, c.port, true); !s) return s;
      }
      if (const auto& m = n.as<SwitchSpec>().management) {
        if (auto s = (*dp)->set_link(n.name, m->port, true); !s) return s;
      }
    }
    for (const Link& l : t.links) {
      if (l.b.node != n.name && !(l.switch_to_switch && l.a.node == n.name)) continue;
      if (!l.backend.empty()) {  // a cable to another host: its far end is not ours to power
        if (up) {
          if (auto s = (*dp)->set_link(l.b.node, l.port_b, true); !s) return s;
        }
        continue;
      }
      const std::string& peer = l.b.node == n.name ? l.a.node : l.b.node;
      bool peer_on = rt.powered(peer);
      if (l.switch_to_switch) {
        // Down: done above. Up: both ends, also one a `link … down` step pulled before.
        if (!up || !peer_on) continue;
        if (auto s = (*dp)->set_link(l.a.node, l.port_a, true); !s) return s;
        if (auto s = (*dp)->set_link(l.b.node, l.port_b, true); !s) return s;
        continue;
      }
      // A node that is off has no cable end (its veth went with it); its boot makes one and
      // leaves it dark while this switch is off. The switch's port follows the switch.
      if (up) {
        if (auto s = (*dp)->set_link(l.b.node, l.port_b, true); !s) return s;
      }
      if (!peer_on) continue;
      const Node& node = *t.node(peer);
      if (auto s = node.kind->set_link(node, l, up, rt); !s) return s;
    }
    return {};
  }
};

}  // namespace

std::unique_ptr<NodeKind> make_switch_kind() { return std::make_unique<SwitchKind>(); }

}  // namespace vnet::lab
