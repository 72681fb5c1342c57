// Node kinds "host" and "router": a network namespace "<lab>-<node>" whose interfaces are veth
// pairs to the lab's switches (the switch end is an AF_PACKET port of the dataplane). A router is
// a host with IPv4/IPv6 forwarding, an optional nftables ruleset and an optional VRRP daemon.
//
// Power (docs/topology.md "Crash and boot"): the namespace *is* the machine. `kill` signals every
// process in it with SIGKILL and waits until all are gone, detaches its switch ports and deletes
// the namespace — its veths, addresses, routes, neighbours, VIPs, macvlans and nftables rules go
// with it, as after a real power cut. `stop` sends SIGTERM first (daemons shut down cleanly, a
// VRRP master hands over) and then does the same. `start` boots: a fresh namespace, the veths
// recreated with the same MACs, the declared configuration applied and the services started.

#include <fcntl.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "console/console.hh"
#include "lab/interfaces.hh"
#include "lab/netns.hh"
#include "lab/node_kind.hh"
#include "lab/probe.hh"
#include "lab/reader.hh"
#include "lab/registry.hh"
#include "lab/runtime.hh"
#include "lab/tenants.hh"
#include "lb/keepalived_conf.hh"
#include "vrrp/keepalived_conf.hh"

namespace vnet::lab {

Result<std::string> attach_namespace_link(const Node& n, const Link& l, LabRuntime& rt) {
  const Topology& t = rt.topo();
  auto sw = rt.netlink(t.switch_netns());
  if (!sw) return sw.error();
  auto peer = open_netns(t.netns(n.name));
  if (!peer) return peer.error();
  auto mac = n.macs.find(l.a.interface);
  std::optional<packet::MacAddress> m;
  if (mac != n.macs.end()) m = mac->second;
  // The dataplane's namespace is the lab's own: a device of this name there is a leftover of
  // this node's previous life (the kernel deletes namespaces asynchronously).
  if (auto s = (*sw)->del_link(l.device); !s) return s.error();
  if (auto s = (*sw)->add_veth(l.device, peer->get(), t.netns(n.name), l.a.interface, m); !s)
    return s.error();
  if (auto s = (*sw)->set_up(l.device, true); !s) return s.error();
  return "afpacket:" + l.device;
}

namespace {

struct RouteSpec {
  packet::IpPrefix to;  // "default" = 0.0.0.0/0 or ::/0
  std::string via;
  Where where;
};

// A router's VRRP daemon: keepalived.conf text (inline or from a file) run by `vnet vrrp` or,
// for comparison, by Debian's keepalived.
struct VrrpSpec {
  std::string config;
  // The keepalived.conf file it came from (absolute), if any: the daemon reads that file itself,
  // so that its `include`s resolve next to it as they do for keepalived. Inline text is written
  // to the lab's state directory instead.
  std::string file;
  std::string daemon = "vnet";  // vnet | keepalived
  vrrp::KeepalivedConfig parsed;
  // Its virtual servers (lb/keepalived_conf.hh), when that half parses too; the daemon reports
  // the errors of a half that does not, at start.
  std::optional<lb::LbConfig> lb;
  Where where;
};

struct NamespaceSpec final : NodeSpec {
  std::optional<packet::Ipv4Address> gateway;
  std::optional<packet::Ipv6Address> gateway6;
  std::vector<RouteSpec> routes;
  std::string nftables;
  std::vector<std::string> commands;
  std::vector<uint16_t> listen;
  std::optional<VrrpSpec> vrrp;
  bool isolate = true;                     // a view of its own (lab/node_view.hh)
  std::vector<std::string> dns;            // nameservers of its /etc/resolv.conf
  std::vector<packet::IpPrefix> loopback;  // addresses on lo (a DR real server's VIPs)
  Where loopback_where;
  // Next hops to check against the node's subnets (gateway, gateway6, routes).
  struct Hop {
    std::string address;
    bool v6;
    Where where;
  };
  std::vector<Hop> hops;
};

constexpr auto kStopGrace = std::chrono::seconds(5);

class NamespaceKind final : public NodeKind {
 public:
  explicit NamespaceKind(bool router) : router_(router) {}

  std::string_view name() const override { return router_ ? "router" : "host"; }
  std::string_view section() const override { return router_ ? "routers" : "hosts"; }
  std::string_view doc() const override {
    return router_ ? "A network namespace `<lab>-<name>` with IPv4 and IPv6 forwarding, an "
                     "optional nftables ruleset and an optional VRRP daemon."
                   : "A network namespace `<lab>-<name>` whose interfaces are veth pairs to the "
                     "lab's switches.";
  }
  const KeyTable& keys() const override { return router_ ? router_keys() : host_keys(); }
  bool runs_probes() const override { return true; }
  bool has_power() const override { return true; }
  bool needs_netns() const override { return true; }
  bool joins_tenants() const override { return router_; }
  std::pair<std::string_view, std::string_view> graph_style() const override {
    if (router_) return {"hexagon", "#fdf1d8"};
    return {"ellipse", "#ffffff"};
  }
  const vrrp::KeepalivedConfig* vrrp(const Node& n) const override {
    const auto& s = n.as<NamespaceSpec>();
    return s.vrrp ? &s.vrrp->parsed : nullptr;
  }
  const lb::LbConfig* lb(const Node& n) const override {
    const auto& s = n.as<NamespaceSpec>();
    return s.vrrp && s.vrrp->lb ? &*s.vrrp->lb : nullptr;
  }
  std::vector<packet::IpPrefix> loopback(const Node& n) const override {
    return n.as<NamespaceSpec>().loopback;
  }
  Where loopback_where(const Node& n) const override {
    return n.as<NamespaceSpec>().loopback_where;
  }

  void parse(const YAML::Node& y, Node& n, Reader& r) const override;
  void validate(const Node& n, Reader& r) const override;

  Status create(const Node& n, LabRuntime& rt) const override;
  Result<std::string> attach(const Node& n, const Link& l, LabRuntime& rt) const override;
  Status set_link(const Node& n, const Link& l, bool up, LabRuntime& rt) const override;
  Status configure(const Node& n, LabRuntime& rt) const override;
  Status start(const Node& n, LabRuntime& rt) const override;
  Status kill(const Node& n, LabRuntime& rt) const override { return power_off(n, rt, false); }
  Status stop(const Node& n, LabRuntime& rt) const override { return power_off(n, rt, true); }
  nlohmann::json status(const Node& n, const Topology& t) const override {
    nlohmann::json j = {{"netns", t.netns(n.name)}, {"isolate", n.as<NamespaceSpec>().isolate}};
    if (const auto& v = n.as<NamespaceSpec>().vrrp) j["vrrp"] = v->daemon;
    return j;
  }

 private:
  static std::vector<KeySpec> common_keys() {
    return {
        {"name", schema::ref("nodeName"), "node name; the namespace is `<lab>-<name>`", true},
        {"interfaces", schema::list(schema::ref("interface")), "network interfaces (see below)"},
        {"gateway", schema::ref("ipAddress"), "IPv4 default route; must lie in a connected subnet"},
        {"gateway6", schema::ref("ipAddress"),
         "IPv6 default route; must lie in a connected subnet"},
        {"routes", schema::list(schema::ref("route")), "static routes `{to: PREFIX|default, via}`"},
        {"listen", schema::list(schema::integer(1, 65535)),
         "TCP ports answered by a small test service (for `tcp` steps)"},
        {"commands", schema::list(schema::string()),
         "shell commands started after the node is configured; one that exits non-zero within "
         "its first second fails `up`/`start` (one that exits 0 is a finished one-shot). Each "
         "runs in `/bin/sh -c` with $VNET_LAB_DIR (the topology file's directory, for scripts "
         "next to it) and $VNET_RUN_DIR (a directory of its own for pid, lease and log files, "
         "kept across kill/start, removed by `down`)"},
        {"isolate", schema::boolean(),
         "the node is a machine of its own (default true): its own hostname, /etc/hosts listing "
         "the lab's nodes, /etc/resolv.conf, and private /run, /tmp and /var/lib (the host's "
         "below, the node's writes on top) for its commands, `exec` steps and `vnet lab exec`; "
         "false = only a network namespace, the host's files and hostname"},
        {"loopback", schema::ref("prefixes"),
         "addresses added to `lo`, e.g. the VIP of a direct-routing real server "
         "(`10.0.20.100/32`); several nodes may hold the same one (no duplicate check). The "
         "node still answers ARP for them: see the link key `drop_arp_for`"},
        {"dns", schema::list(schema::ref("ipAddress")),
         "nameservers written to the node's /etc/resolv.conf (default none: the resolver tries "
         "127.0.0.1); needs isolate"},
        tenant_ref_key("the tenant of the node's interfaces (docs/tenants.md); without it, each "
                       "interface's own, else the tenant of the VLAN its link carries"),
    };
  }
  static const KeyTable& host_keys() {
    static const KeyTable t{"host", common_keys()};
    return t;
  }
  static const KeyTable& router_keys() {
    static const KeyTable t = [] {
      KeyTable t{"router", common_keys()};
      t.keys.push_back({"nftables", schema::string(),
                        "an nftables ruleset in `nft` syntax, loaded with libnftables"});
      t.keys.push_back(
          {"vrrp",
           schema::one_of({schema::string("PATH or 'keepalived PATH'"), schema::ref("vrrp")}),
           "a VRRP daemon: keepalived.conf inline or from a file, run by `vnet vrrp` or Debian's "
           "keepalived"});
      t.keys.push_back(
          {"keepalived",
           schema::one_of({schema::string("PATH or 'keepalived PATH'"), schema::ref("vrrp")}),
           "the same as vrrp (either key, not both): keepalived.conf, both halves — VRRP "
           "instances and virtual servers (docs/keepalived-compat.md)"});
      return t;
    }();
    return t;
  }

  std::vector<const KeyTable*> sub_tables() const override {
    std::vector<const KeyTable*> t = {&interface_keys(), &route_keys()};
    if (router_) t.push_back(&vrrp_keys());
    return t;
  }
  static const KeyTable& route_keys() {
    static const KeyTable t{
        "route",
        {{"to", schema::string("PREFIX or default"), "destination prefix, or `default`", true},
         {"via", schema::ref("ipAddress"), "next hop in a connected subnet", true}}};
    return t;
  }
  static const KeyTable& vrrp_keys() {
    static const KeyTable t{
        "vrrp",
        {{"config", schema::string(), "keepalived.conf text"},
         {"file", schema::string(), "a keepalived.conf file, relative to the topology file"},
         {"daemon", schema::enumeration({"vnet", "keepalived"}), "who runs it (default vnet)"}}};
    return t;
  }

  void parse_vrrp(const YAML::Node& v, Node& n, NamespaceSpec& spec, Reader& r) const;
  Status power_off(const Node& n, LabRuntime& rt, bool clean) const;

  bool router_;
};

void NamespaceKind::parse(const YAML::Node& y, Node& n, Reader& r) const {
  auto spec = std::make_shared<NamespaceSpec>();
  n.interfaces = parse_interfaces(y["interfaces"], n.name, r);
  parse_tenant_ref(y["tenant"], n.tenant, r);
  if (auto g = y["gateway"]) {
    if (auto s = r.str(g, "gateway")) {
      auto a = packet::Ipv4Address::parse(*s);
      if (!a) {
        r.error(g, a.error().message);
      } else {
        spec->gateway = *a;
        spec->hops.push_back({*s, false, r.at(g)});
      }
    }
  }
  if (auto g = y["gateway6"]) {
    if (auto s = r.str(g, "gateway6")) {
      auto a = packet::Ipv6Address::parse(*s);
      if (!a) {
        r.error(g, a.error().message);
      } else {
        spec->gateway6 = *a;
        spec->hops.push_back({*s, true, r.at(g)});
      }
    }
  }
  for (auto rt : r.list(y["routes"], "routes")) {
    if (!r.check_keys(rt, route_keys()) || !rt["to"] || !rt["via"]) continue;
    auto to = r.str(rt["to"], "route to");
    auto via = r.str(rt["via"], "route via");
    if (!to || !via) continue;
    bool v6 = via->find(':') != std::string::npos;
    std::string dest = *to == "default" ? (v6 ? "::/0" : "0.0.0.0/0") : *to;
    auto p = packet::IpPrefix::parse(dest);
    if (!p) {
      r.error(rt["to"], p.error().message);
      continue;
    }
    if (v6 ? !packet::Ipv6Address::parse(*via).ok() : !packet::Ipv4Address::parse(*via).ok()) {
      r.error(rt["via"],
              fmt::format("route via '{}': expected an IPv{} address", *via, p->v6 ? 6 : 4));
      continue;
    }
    if (p->v6 != v6) {
      r.error(rt, fmt::format("route to {} via {}: address families differ", *to, *via));
      continue;
    }
    spec->hops.push_back({*via, v6, r.at(rt["via"])});
    spec->routes.push_back({*p, *via, r.at(rt)});
  }
  if (auto nf = y["nftables"]) spec->nftables = r.str(nf, "nftables").value_or("");
  for (auto c : r.list(y["commands"], "commands")) {
    if (auto s = r.str(c, "command")) spec->commands.push_back(*s);
  }
  for (auto p : r.list(y["listen"], "listen")) {
    if (auto v = r.integer(p, "listen port", 1, 65535))
      spec->listen.push_back(static_cast<uint16_t>(*v));
  }
  if (y["vrrp"] && y["keepalived"])
    r.error(y["keepalived"], "keepalived: give either vrrp or keepalived (the same key), not both");
  else if (auto v = y["vrrp"] ? y["vrrp"] : y["keepalived"])
    parse_vrrp(v, n, *spec, r);
  if (auto v = y["isolate"]) {
    auto s = r.str(v, "isolate");
    if (s && *s != "true" && *s != "false")
      r.error(v, fmt::format("isolate '{}': expected true or false", *s));
    spec->isolate = s != "false";
  }
  if (auto lo = y["loopback"]) {
    spec->loopback_where = r.at(lo);
    for (auto& a : lo.IsSequence() ? r.list(lo, "loopback") : std::vector<YAML::Node>{lo}) {
      auto s = r.str(a, "loopback address");
      if (!s) continue;
      auto p = packet::IpPrefix::parse(*s);
      if (!p) {
        r.error(a, fmt::format("loopback '{}': expected ADDRESS/PREFIXLEN ({})", *s,
                               p.error().message));
        continue;
      }
      spec->loopback.push_back(*p);
    }
  }
  for (auto d : r.list(y["dns"], "dns")) {
    auto s = r.str(d, "dns server");
    if (!s) continue;
    if (!packet::Ipv4Address::parse(*s).ok() && !packet::Ipv6Address::parse(*s).ok()) {
      r.error(d, fmt::format("dns server '{}': expected an IPv4 or IPv6 address", *s));
      continue;
    }
    spec->dns.push_back(*s);
  }
  if (!spec->isolate && !spec->dns.empty())
    r.error(y["dns"], "dns needs the node's own /etc/resolv.conf: drop isolate: false or dns");
  n.spec = spec;
}

// Forms: a map {config: TEXT | file: PATH, daemon: vnet|keepalived}; or a scalar "PATH" (vnet's
// daemon) or "keepalived PATH" (Debian's keepalived, for comparison).
void NamespaceKind::parse_vrrp(const YAML::Node& v, Node& n, NamespaceSpec& node_spec,
                               Reader& r) const {
  VrrpSpec spec;
  spec.where = r.at(v);
  std::string label = "\x01inline";  // replaced by file:line of the YAML block below
  int base = 0;
  if (v.IsScalar()) {
    auto w = Reader::words(v.Scalar());
    if (w.size() == 2 && (w[0] == "keepalived" || w[0] == "vnet")) {
      spec.daemon = w[0];
      w.erase(w.begin());
    }
    if (w.size() != 1 || w[0] == "keepalived" || w[0] == "vnet") {
      return r.error(v,
                     "vrrp: expected a keepalived.conf path, 'keepalived PATH' or a map with "
                     "config or file (and daemon)");
    }
    auto text = r.read_file(v, w[0], &label);
    if (!text) return;
    spec.config = std::move(*text);
    spec.file = std::filesystem::absolute(label).lexically_normal().string();
  } else {
    if (!r.check_keys(v, vrrp_keys())) return;
    if (v["config"] && v["file"]) return r.error(v, "vrrp: give either config or file, not both");
    if (v["config"]) {
      base = r.at(v["config"]).line;
      spec.config = r.str(v["config"], "vrrp config").value_or("");
    } else if (v["file"]) {
      auto path = r.str(v["file"], "vrrp file");
      if (!path) return;
      auto text = r.read_file(v["file"], *path, &label);
      if (!text) return;
      spec.config = std::move(*text);
      spec.file = std::filesystem::absolute(label).lexically_normal().string();
    } else {
      return r.error(v, "vrrp: expected config (keepalived.conf text) or file");
    }
    if (v["daemon"]) {
      spec.daemon = r.str(v["daemon"], "vrrp daemon").value_or("vnet");
      if (spec.daemon != "vnet" && spec.daemon != "keepalived")
        r.error(v["daemon"],
                fmt::format("vrrp daemon '{}': expected vnet or keepalived", spec.daemon));
    }
  }
  if (!r.options().vrrp_daemon.empty()) spec.daemon = r.options().vrrp_daemon;
  // The daemon runs with `-i NODE` (below): the check reads the file as it will.
  vrrp::ReadOptions read;
  read.config_id = n.name;
  auto parsed = vrrp::parse_keepalived_conf(spec.config, label, nullptr, read);
  if (!parsed) {
    // Inline errors point into the topology file: the block's line plus the line inside it.
    std::istringstream lines(parsed.error().message);
    for (std::string l; std::getline(lines, l);) {
      if (l.rfind(label + ":", 0) == 0) {
        size_t colon = l.find(':', label.size() + 1);
        auto inner = parse_int(l.substr(label.size() + 1, colon - label.size() - 1), 0, 1 << 30);
        r.error(Where{r.file(), base + (inner ? static_cast<int>(*inner) : 0), 0},
                "keepalived config: " + l.substr(colon + 2));
      } else {
        r.error(v, "keepalived config: " + l);
      }
    }
    return;
  }
  spec.parsed = std::move(*parsed);
  if (auto full = lb::parse_keepalived_conf_full(spec.config, label, read);
      full && !full->lb.services.empty()) {
    spec.lb = std::move(full->lb);
    // Inline text: positions in the topology file, as for errors above.
    for (auto& vs : spec.lb->services) {
      if (vs.where.file == label) vs.where = {r.file(), base + vs.where.line};
    }
  }
  for (auto& in : spec.parsed.instances) {
    if (!n.interface(in.interface)) {
      r.error(v, fmt::format("vrrp instance {} uses interface {}, which router {} does not have",
                             in.name, in.interface, n.name));
    }
  }
  node_spec.vrrp = std::move(spec);
}

// Gateways and route next hops lie in a connected subnet of the node.
void NamespaceKind::validate(const Node& n, Reader& r) const {
  for (auto& h : n.as<NamespaceSpec>().hops) {
    auto gw = packet::IpPrefix::parse(h.address + (h.v6 ? "/128" : "/32"));
    bool on_link = false;
    for (auto& i : n.interfaces) {
      for (auto& a : i.addresses) on_link |= gw && a.contains(*gw);
    }
    if (!on_link)
      r.error(h.where,
              fmt::format("gateway {} of {} is off-subnet: no interface of {} is in its network",
                          h.address, n.name, n.name));
  }
}

Status NamespaceKind::create(const Node& n, LabRuntime& rt) const {
  std::string ns = rt.topo().netns(n.name);
  if (auto s = rt.create_netns(ns); !s) return s;
  // No DAD: addresses are usable at once, and scenarios do not wait for it.
  (void)set_sysctl(ns, "net/ipv6/conf/all/accept_dad", "0");
  (void)set_sysctl(ns, "net/ipv6/conf/default/accept_dad", "0");
  // A node with no IPv6 address has IPv6 off: no link-local address, and none of the router and
  // neighbour solicitations and MLD reports that every IPv6 interface sends when it comes up —
  // in a lab of hundreds of hosts they are most of what the switches flood.
  bool v6 = false;
  for (auto& i : n.interfaces) {
    for (auto& a : i.addresses) v6 |= a.v6;
  }
  if (!v6) {
    (void)set_sysctl(ns, "net/ipv6/conf/all/disable_ipv6", "1");
    (void)set_sysctl(ns, "net/ipv6/conf/default/disable_ipv6", "1");
  }
  auto nl = rt.netlink(ns);
  if (!nl) return nl.error();
  if (auto s = (*nl)->set_up("lo", true); !s) return s;
  const auto& spec = n.as<NamespaceSpec>();
  if (!spec.isolate) return {};
  return rt.create_view(n, ns, spec.dns);
}

Result<std::string> NamespaceKind::attach(const Node& n, const Link& l, LabRuntime& rt) const {
  return attach_namespace_link(n, l, rt);
}

Status NamespaceKind::set_link(const Node&, const Link& l, bool up, LabRuntime& rt) const {
  auto sw = rt.netlink(rt.topo().switch_netns());
  if (!sw) return sw.error();
  return (*sw)->set_up(l.device, up);
}

Status NamespaceKind::configure(const Node& n, LabRuntime& rt) const {
  const auto& spec = n.as<NamespaceSpec>();
  std::string ns = rt.topo().netns(n.name);
  if (router_) {
    if (auto s = set_sysctl(ns, "net/ipv4/ip_forward", "1"); !s) return s;
    if (auto s = set_sysctl(ns, "net/ipv6/conf/all/forwarding", "1"); !s) return s;
  }
  auto nl = rt.netlink(ns);
  if (!nl) return nl.error();
  for (auto& i : n.interfaces) {
    for (auto& a : i.addresses) {
      if (auto s = (*nl)->add_address(i.name, a); !s) return s;
    }
    if (auto s = (*nl)->set_up(i.name, true); !s) return s;
  }
  for (auto& a : spec.loopback) {
    if (auto s = (*nl)->add_address("lo", a); !s)
      return make_error(s.error().code, "{}: loopback {}: {}", spec.loopback_where.str(),
                        a.to_string(), s.error().message);
  }
  if (spec.gateway) {
    if (auto s = (*nl)->add_route(*packet::IpPrefix::parse("0.0.0.0/0"), spec.gateway->to_string());
        !s)
      return s;
  }
  if (spec.gateway6) {
    if (auto s = (*nl)->add_route(*packet::IpPrefix::parse("::/0"), spec.gateway6->to_string()); !s)
      return s;
  }
  for (auto& r : spec.routes) {
    if (auto s = (*nl)->add_route(r.to, r.via); !s)
      return make_error(s.error().code, "{}: {}", r.where.str(), s.error().message);
  }
  if (!spec.nftables.empty()) {
    if (auto s = load_nftables_in(ns, spec.nftables); !s)
      return make_error(s.error().code, "{}: {}", n.where.str(), s.error().message);
  }
  return {};
}

// Listeners, commands and the VRRP daemon.
Status NamespaceKind::start(const Node& n, LabRuntime& rt) const {
  const auto& spec = n.as<NamespaceSpec>();
  const Topology& t = rt.topo();
  std::string ns = t.netns(n.name);
  std::string dir = rt.state_dir();
  std::string log = dir + "/" + n.name + ".log";
  std::vector<std::string> env;
  if (!spec.listen.empty()) {
    std::string ports;
    for (auto p : spec.listen) ports += (ports.empty() ? "" : ",") + std::to_string(p);
    ServiceSpec s{{rt.vnet_binary(), "lab", "serve", "--tcp", ports}, n.name + " listener", log};
    uint16_t first = spec.listen.front();
    s.ready = [ns, first]() -> Status {
      auto r = tcp_connect(ns, "127.0.0.1", first, std::chrono::milliseconds(200));
      if (!r) return r.error();
      if (*r != TcpResult::kOpen) return make_error(ECONNREFUSED, "port {} not open yet", first);
      return {};
    };
    if (auto st = rt.start_service(n, ns, std::move(s)); !st) return st;
  }
  if (!spec.commands.empty()) {
    auto e = command_env(rt, n.name);
    if (!e) return e.error();
    env = std::move(*e);
  }
  for (auto& c : spec.commands) {
    std::vector<std::string> argv = env;
    argv.insert(argv.end(), {"/bin/sh", "-c", c});
    ServiceSpec s{std::move(argv), n.name + ": " + c, log};
    s.daemon = false;
    if (auto st = rt.start_service(n, ns, std::move(s)); !st) return st;
  }
  if (spec.vrrp) {
    std::string conf = spec.vrrp->file;
    if (conf.empty()) {
      conf = dir + "/" + n.name + ".keepalived.conf";
      std::ofstream(conf) << spec.vrrp->config;
    }
    std::string vlog = dir + "/" + n.name + ".vrrp.log";
    ServiceSpec s{{}, n.name + " vrrp (" + spec.vrrp->daemon + ")", vlog};
    if (spec.vrrp->daemon == "keepalived") {
      // keepalived refuses to start while its pid files name a live process, and a killed one
      // can linger as a zombie where PID 1 does not reap: the lab knows it is gone.
      std::string pid = dir + "/" + n.name + ".ka.pid", vpid = dir + "/" + n.name + ".kav.pid";
      ::unlink(pid.c_str());
      ::unlink(vpid.c_str());
      s.argv = {"keepalived", "-n",     "-l", "-f", conf, "-i",
                n.name,       "--vrrp", "-p", pid,  "-r", vpid};
    } else {
      std::string sock = dir + "/" + n.name + ".vrrp.sock";
      s.argv = {rt.vnet_binary(), "vrrp", "-f", conf, "-i", n.name, "-M", sock};
      s.ready = [sock]() -> Status {
        auto c = console::Client::connect(sock);
        if (!c) return c.error();
        return {};
      };
    }
    if (auto st = rt.start_service(n, ns, std::move(s)); !st) return st;
  }
  return {};
}

Status NamespaceKind::power_off(const Node& n, LabRuntime& rt, bool clean) const {
  std::string ns = rt.topo().netns(n.name);
  if (!rt.powered(n.name)) return make_error(EALREADY, "{} is already off", n.name);
  auto grace = clean ? std::chrono::duration_cast<std::chrono::milliseconds>(kStopGrace)
                     : std::chrono::milliseconds(0);
  if (auto s = kill_netns_processes(ns, grace); !s) return s;
  // The switch ends of its cables go with the namespace; detach them first so the dataplane
  // drops its ports' backends now rather than when it notices.
  auto dp = rt.dataplane();
  if (!dp) return dp.error();
  auto sw = rt.netlink(rt.topo().switch_netns());
  if (!sw) return sw.error();
  for (const Link* l : rt.topo().links_of(n.name)) {
    if (auto s = (*dp)->detach(l->b.node, l->port_b); !s && s.error().code != ENXIO) return s;
    // Delete the veth pair now: the kernel tears a namespace down asynchronously, and a boot
    // right after this must be able to create the pair again.
    if (auto s = (*sw)->del_link(l->device); !s) return s;
  }
  if (auto s = rt.destroy_netns(ns); !s) return s;
  return rt.set_power(n, false);
}

}  // namespace

std::unique_ptr<NodeKind> make_host_kind() { return std::make_unique<NamespaceKind>(false); }
std::unique_ptr<NodeKind> make_router_kind() { return std::make_unique<NamespaceKind>(true); }

}  // namespace vnet::lab
