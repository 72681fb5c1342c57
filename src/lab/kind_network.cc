// Node kind "network" (section `networks:`): a libvirt-style network on a switch VLAN
// (lab/networks.hh, docs/networks.md). The service namespace "<lab>-<name>" holds the gateway on
// eth0 (attached to an access port of the VLAN exactly as a host's interface is), dnsmasq for
// DHCP, DNS and router advertisements (lab/dnsmasq.hh), the mode's nftables tables, and the
// uplink veth into the stand-in outside namespace. `down` stops dnsmasq (a recorded service) and
// deletes the namespace: its tables and the uplink veth (both ends) go with it.

#include <fcntl.h>
#include <net/if.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <ostream>
#include <set>
#include <sstream>

#include "base/file.hh"
#include "base/hash.hh"
#include "lab/dnsmasq.hh"
#include "lab/interfaces.hh"
#include "lab/netns.hh"
#include "lab/networks.hh"
#include "lab/node_kind.hh"
#include "lab/probe.hh"
#include "lab/reader.hh"
#include "lab/registry.hh"
#include "lab/runtime.hh"

namespace vnet::lab {
namespace {

using packet::IpPrefix;
using packet::Ipv4Address;

uint32_t host_mask(uint8_t length) { return length >= 32 ? 0 : ~uint32_t{0} >> length; }
bool in_subnet(const IpPrefix& subnet, Ipv4Address a) {
  return (a.value & ~host_mask(subnet.length)) == (subnet.v4addr.value & ~host_mask(subnet.length));
}
// The network address or (below /31) the broadcast address: no host may have them.
constexpr const char* kHostUplinks = "host_uplinks";  // facts: what a host uplink changed

std::string forwarding_path(const std::string& ifname) {
  return "/proc/sys/net/ipv4/conf/" + ifname + "/forwarding";
}
Status write_proc(const std::string& path, const std::string& value) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return system_error("open " + path);
  if (::write(fd.get(), value.data(), value.size()) < 0) return system_error("write " + path);
  return {};
}

// A name the kernel takes for an interface.
bool valid_ifname(const std::string& s) {
  if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
  for (unsigned char c : s)
    if (c <= ' ' || c >= 0x7f || c == '/' || c == ':') return false;
  return true;
}
bool reserved_in(const IpPrefix& subnet, Ipv4Address a) {
  if (subnet.length >= 31) return false;
  uint32_t host = a.value & host_mask(subnet.length);
  return host == 0 || host == host_mask(subnet.length);
}

class NetworkKind final : public NodeKind {
 public:
  std::string_view name() const override { return "network"; }
  std::string_view section() const override { return "networks"; }
  std::string_view doc() const override {
    return "A network as libvirt has them (docs/networks.md): a gateway on a switch VLAN in a "
           "service namespace `<lab>-<name>`, dnsmasq serving DHCP, DNS (the lab's names as "
           "NODE.DOMAIN) and router advertisements, and nftables forwarding toward the uplink "
           "by mode.";
  }
  const KeyTable& keys() const override { return network_keys(); }
  std::vector<const KeyTable*> sub_tables() const override {
    return {&dhcp_keys(), &lease_keys(), &dns_keys(), &uplink_keys()};
  }
  bool needs_netns() const override { return true; }
  std::pair<std::string_view, std::string_view> graph_style() const override {
    return {"house", "#e3f1e0"};
  }

  void parse(const YAML::Node& y, Node& n, Reader& r) const override;
  std::vector<Link> own_links(const Node& n, Reader& r) const override;
  void validate(const Node& n, Reader& r) const override;

  Status create(const Node& n, LabRuntime& rt) const override;
  Result<std::string> attach(const Node& n, const Link& l, LabRuntime& rt) const override {
    return attach_namespace_link(n, l, rt);
  }
  Status configure(const Node& n, LabRuntime& rt) const override;
  Status start(const Node& n, LabRuntime& rt) const override;
  nlohmann::json status(const Node& n, const Topology& t) const override {
    const auto& s = n.as<NetworkSpec>();
    nlohmann::json j = {{"netns", t.netns(n.name)},
                        {"mode", std::string(to_string(s.mode))},
                        {"subnet", s.subnet.to_string()},
                        {"gateway", s.gateway.to_string()}};
    if (!s.uplink.netns.empty()) j["uplink"] = s.uplink.netns;
    if (s.uplink.host) j["uplink"] = s.uplink.interface.empty() ? "default" : s.uplink.interface;
    return j;
  }
  std::string rootless_refusal(const Node& n) const override {
    if (!n.as<NetworkSpec>().uplink.host) return {};
    return "a host uplink puts a veth, forwarding and nftables rules in the host's network "
           "namespace, which needs root; run the lab as root, or reach the outside through an "
           "uplink node (uplinks:, docs/rootless.md)";
  }

 private:
  static const KeyTable& network_keys() {
    static const KeyTable t{
        "network",
        {
            {"name", schema::ref("nodeName"),
             "network name; its service namespace is `<lab>-<name>`, its gateway resolves as "
             "NAME.DOMAIN",
             true},
            {"switch", schema::ref("nodeName"), "the switch the network lives on", true},
            {"vlan", schema::ref("vid"),
             "the VLAN (default 1): the gateway takes an access port of it"},
            {"mode", schema::enumeration({"nat", "route", "isolated", "open"}),
             "nat (default): masquerade out the uplink; route: forward without NAT; isolated: "
             "nothing leaves, the gateway answers DHCP and DNS only; open: no rules"},
            {"subnet", schema::ref("prefix"), "the IPv4 network, e.g. 10.0.10.0/24", true},
            {"gateway", schema::ref("ipAddress"),
             "the gateway's IPv4 address (default the subnet's first host)"},
            {"subnet6", schema::ref("prefix"), "an IPv6 network, e.g. fd00:10::/64"},
            {"gateway6", schema::ref("ipAddress"),
             "the gateway's IPv6 address (default the subnet6's first host)"},
            {"ra", schema::boolean(),
             "router advertisements of subnet6 for SLAAC (default true when subnet6 is set)"},
            {"dhcp", schema::ref("dhcp"), "DHCPv4 pools and static leases (none: no DHCP)"},
            {"dns", schema::ref("dns"), "the DNS domain and forwarders"},
            {"uplink", schema::one_of({schema::enumeration({"default"}), schema::ref("uplink")}),
             "the outside: {netns: NAME} (a namespace standing in for it); `default` or "
             "{interface: IF} (the host's) are not supported yet"},
        }};
    return t;
  }
  static const KeyTable& dhcp_keys() {
    static const KeyTable t{
        "dhcp",
        {
            {"ranges", schema::list(schema::pattern("^[0-9.]+-[0-9.]+$", "FROM-TO")),
             "address pools FROM-TO (both included), inside the subnet, not overlapping"},
            {"hosts", schema::list(schema::ref("dhcpHost")), "static leases"},
            {"lease", schema::ref("duration"), "lease time (default 1 h, at least 2 m)"},
            {"ping", schema::boolean(),
             "dnsmasq pings an address before offering it, as libvirt leaves it (default true; "
             "each new address then takes about 3 s); false offers at once"},
        }};
    return t;
  }
  static const KeyTable& lease_keys() {
    static const KeyTable t{
        "dhcpHost",
        {
            {"node", schema::ref("nodeName"),
             "the client node (the MAC of its interface on the network's VLAN)"},
            {"interface", schema::ref("interfaceName"),
             "with node: which interface, when several reach the VLAN"},
            {"mac", schema::ref("mac"), "the client's MAC (instead of node)"},
            {"address", schema::ref("ipAddress"), "its IPv4 address, inside the subnet", true},
            {"name", schema::ref("nodeName"), "its DNS name (default the node's name)"},
        }};
    return t;
  }
  static const KeyTable& dns_keys() {
    static const KeyTable t{
        "dns",
        {
            {"domain",
             schema::pattern("^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]("
                             "[A-Za-z0-9-]*[A-Za-z0-9])?)*$"),
             "the lab's names are NODE.DOMAIN (default lab)"},
            {"forwarders", schema::list(schema::ref("ipAddress")),
             "servers asked for every other name, through the uplink (default none)"},
        }};
    return t;
  }
  static const KeyTable& uplink_keys() {
    static const KeyTable t{
        "uplink",
        {
            {"netns", schema::string("a network namespace"),
             "a namespace standing in for the outside (it must exist before `up`): the "
             "gateway gets a veth into it"},
            {"interface", schema::string("an interface name"),
             "a host interface, as root: the gateway's veth goes into the host's namespace and "
             "the host forwards (nat: masquerades) between it and this interface only"},
            {"address", schema::ref("prefix"),
             "the gateway's uplink address (default 100.64.N.2/30, N the network's index)"},
            {"peer", schema::ref("ipAddress"),
             "the outside end's address, the gateway's default route (default the first other "
             "host of address's subnet)"},
            {"device", schema::ref("interfaceName"),
             "the outside end's name (default vnu + a hash of lab and network)"},
        }};
    return t;
  }

  static void parse_dhcp(const YAML::Node& d, NetworkSpec& s, Reader& r);
  static void parse_uplink(const YAML::Node& u, const Node& n, NetworkSpec& s, Reader& r);
  static void parse_uplink_addresses(const YAML::Node& u, NetworkSpec& s, Reader& r);
};

std::optional<Ipv4Address> v4(const YAML::Node& y, const std::string& what, Reader& r) {
  auto s = r.str(y, what);
  if (!s) return std::nullopt;
  auto a = Ipv4Address::parse(*s);
  if (!a) {
    r.error(y, fmt::format("{} '{}': expected an IPv4 address", what, *s));
    return std::nullopt;
  }
  return *a;
}

void NetworkKind::parse(const YAML::Node& y, Node& n, Reader& r) const {
  auto spec = std::make_shared<NetworkSpec>();
  n.spec = spec;
  auto& s = *spec;
  if (y["switch"]) {
    s.switch_where = r.at(y["switch"]);
    s.switch_name = r.str(y["switch"], "network switch").value_or("");
  }
  s.vlan_where = y["vlan"] ? r.at(y["vlan"]) : s.switch_where;
  if (y["vlan"]) s.vlan = r.vid(y["vlan"], "network vlan").value_or(1);
  if (auto m = y["mode"]) {
    auto w = r.str(m, "network mode").value_or("");
    if (w == "nat") {
      s.mode = NetworkMode::kNat;
    } else if (w == "route") {
      s.mode = NetworkMode::kRoute;
    } else if (w == "isolated") {
      s.mode = NetworkMode::kIsolated;
    } else if (w == "open") {
      s.mode = NetworkMode::kOpen;
    } else {
      r.error(m, fmt::format("network {}: unknown mode '{}': expected nat, route, isolated or open",
                             n.name, w));
    }
  }
  bool subnet_ok = false;
  if (auto sn = y["subnet"]) {
    auto t = r.str(sn, "subnet");
    auto p = t ? IpPrefix::parse(*t) : make_error(EINVAL, "");
    if (t && (!p || p->v6)) {
      r.error(sn, fmt::format("network {}: subnet '{}': expected an IPv4 network like 10.0.10.0/24",
                              n.name, *t));
    } else if (p) {
      s.subnet = *p;
      if (s.subnet.v4addr.value & host_mask(s.subnet.length)) {
        IpPrefix net = s.subnet;
        net.v4addr.value &= ~host_mask(net.length);
        r.error(sn, fmt::format("network {}: subnet '{}' has host bits set: expected the network "
                                "address, {}",
                                n.name, *t, net.to_string()));
      } else if (s.subnet.length > 30) {
        r.error(sn, fmt::format("network {}: subnet '{}' is too small: expected /30 or larger",
                                n.name, *t));
      } else {
        subnet_ok = true;
      }
    }
  }
  if (subnet_ok) {
    s.gateway.value = s.subnet.v4addr.value + 1;
    if (auto g = y["gateway"]) {
      if (auto a = v4(g, "gateway", r)) {
        s.gateway = *a;
        if (!in_subnet(s.subnet, *a) || reserved_in(s.subnet, *a))
          r.error(g, fmt::format("network {}: gateway {} is outside the network {}: expected a "
                                 "host address inside it",
                                 n.name, a->to_string(), s.subnet.to_string()));
      }
    }
  }
  if (auto sn = y["subnet6"]) {
    auto t = r.str(sn, "subnet6");
    auto p = t ? IpPrefix::parse(*t) : make_error(EINVAL, "");
    if (t && (!p || !p->v6 || p->length > 126)) {
      r.error(sn, fmt::format("network {}: subnet6 '{}': expected an IPv6 network like "
                              "fd00:10::/64",
                              n.name, *t));
    } else if (p) {
      s.subnet6 = *p;
      auto gw = *p;
      gw.v6addr.bytes[15] |= 1;
      s.gateway6 = gw.v6addr;
      if (auto g = y["gateway6"]) {
        auto gt = r.str(g, "gateway6");
        auto a = gt ? packet::Ipv6Address::parse(*gt) : make_error(EINVAL, "");
        if (gt && !a) {
          r.error(g, fmt::format("gateway6 '{}': expected an IPv6 address", *gt));
        } else if (a) {
          IpPrefix host{true, {}, *a, 128};
          if (!p->contains(host))
            r.error(g, fmt::format("network {}: gateway6 {} is outside the network {}", n.name, *gt,
                                   p->to_string()));
          s.gateway6 = *a;
        }
      }
    }
  } else if (y["gateway6"]) {
    r.error(y["gateway6"], fmt::format("network {}: gateway6 needs subnet6", n.name));
  }
  if (auto ra = y["ra"]) {
    auto w = r.str(ra, "ra").value_or("");
    if (w != "true" && w != "false") r.error(ra, fmt::format("ra '{}': expected true or false", w));
    s.ra = w != "false";
  }
  if (auto d = y["dhcp"]) parse_dhcp(d, s, r);
  if (auto d = y["dns"]) {
    if (r.check_keys(d, dns_keys())) {
      if (d["domain"]) s.domain = r.str(d["domain"], "dns domain").value_or("lab");
      for (auto f : r.list(d["forwarders"], "dns forwarders")) {
        auto t = r.str(f, "forwarder");
        if (!t) continue;
        if (!Ipv4Address::parse(*t).ok() && !packet::Ipv6Address::parse(*t).ok()) {
          r.error(f, fmt::format("forwarder '{}': expected an IPv4 or IPv6 address", *t));
          continue;
        }
        s.forwarders.push_back(*t);
      }
    }
  }
  if (auto u = y["uplink"]) parse_uplink(u, n, s, r);
  if ((s.mode == NetworkMode::kNat || s.mode == NetworkMode::kRoute) && !s.uplink.present() &&
      !y["uplink"])
    r.error(n.where, fmt::format("network {}: mode {} needs an uplink (uplink: default, "
                                 "{{interface: IF}} or {{netns: NAME}})",
                                 n.name, to_string(s.mode)));
  // The switch: known by now (switches are parsed first). The gateway interface exists only on
  // a real switch, so that a wrong name is one error, not also "eth0 is not connected".
  if (!s.switch_name.empty()) {
    const Node* sw = r.topo().node(s.switch_name);
    if (!sw || !sw->kind->is_switch()) {
      r.error(s.switch_where,
              fmt::format("network {}: no switch named '{}'", n.name, s.switch_name));
      s.switch_name.clear();
    }
  }
  if (subnet_ok && !s.switch_name.empty()) {
    Interface i;
    i.name = kNetworkLan;
    i.where = n.where;
    IpPrefix gw = s.subnet;
    gw.v4addr = s.gateway;
    i.addresses.push_back(gw);
    if (s.subnet6) {
      IpPrefix gw6 = *s.subnet6;
      gw6.v6addr = *s.gateway6;
      i.addresses.push_back(gw6);
    }
    n.interfaces.push_back(std::move(i));
  }
}

void NetworkKind::parse_dhcp(const YAML::Node& d, NetworkSpec& s, Reader& r) {
  if (!r.check_keys(d, dhcp_keys())) return;
  for (auto x : r.list(d["ranges"], "dhcp ranges")) {
    auto t = r.str(x, "dhcp range");
    if (!t) continue;
    auto dash = t->find('-');
    auto a = Ipv4Address::parse(t->substr(0, dash));
    auto b = dash == std::string::npos ? make_error(EINVAL, "")
                                       : Ipv4Address::parse(t->substr(dash + 1));
    if (!a || !b) {
      r.error(x, fmt::format("dhcp range '{}': expected FROM-TO, two IPv4 addresses", *t));
      continue;
    }
    if (a->value > b->value) {
      r.error(x, fmt::format("dhcp range '{}': FROM is above TO", *t));
      continue;
    }
    s.ranges.push_back({*a, *b, r.at(x)});
  }
  for (auto h : r.list(d["hosts"], "dhcp hosts")) {
    if (!r.check_keys(h, lease_keys()) || !h["address"]) continue;
    StaticLease l;
    l.where = r.at(h);
    auto a = v4(h["address"], "dhcp host address", r);
    if (!a) continue;
    l.address = *a;
    if (h["node"]) l.node = r.str(h["node"], "dhcp host node").value_or("");
    if (h["interface"]) l.interface = r.str(h["interface"], "dhcp host interface").value_or("");
    if (h["mac"]) {
      auto t = r.str(h["mac"], "dhcp host mac");
      if (!t) continue;
      auto m = packet::MacAddress::parse(*t);
      if (!m || m->is_multicast()) {
        r.error(h["mac"], fmt::format("dhcp host mac '{}': expected a unicast MAC", *t));
        continue;
      }
      l.mac = *m;
    }
    if (l.node.empty() == !l.mac) {
      r.error(h, "a dhcp host is either {node: NODE, address: A} or {mac: MAC, address: A}");
      continue;
    }
    if (!l.interface.empty() && l.node.empty())
      r.error(h["interface"], "dhcp host interface goes with node");
    l.name = h["name"] ? r.str(h["name"], "dhcp host name").value_or("") : l.node;
    s.leases.push_back(std::move(l));
  }
  if (auto p = d["ping"]) {
    auto w = r.str(p, "dhcp ping").value_or("");
    if (w != "true" && w != "false")
      r.error(p, fmt::format("dhcp ping '{}': expected true or false", w));
    s.ping_check = w != "false";
  }
  if (d["lease"]) {
    auto t =
        r.duration(d["lease"], "dhcp lease", std::chrono::minutes(2), std::chrono::hours(8760));
    if (t) s.lease_time = std::chrono::duration_cast<std::chrono::seconds>(*t);
  }
}

void NetworkKind::parse_uplink_addresses(const YAML::Node& u, NetworkSpec& s, Reader& r) {
  if (auto a = u["address"]) {
    auto t = r.str(a, "uplink address").value_or("");
    auto p = IpPrefix::parse(t);
    if (!p || p->v6 || p->length > 30) {
      r.error(a, fmt::format("uplink address '{}': expected an IPv4 address with its prefix, like "
                             "192.0.2.2/24",
                             t));
    } else {
      s.uplink.address = *p;
      // Default peer: the subnet's first host, or its second when that is ours.
      uint32_t base = p->v4addr.value & ~host_mask(p->length);
      s.uplink.peer.value = base + (p->v4addr.value == base + 1 ? 2 : 1);
    }
  }
  if (auto a = u["peer"]) {
    if (auto x = v4(a, "uplink peer", r)) {
      s.uplink.peer = *x;
      if (!in_subnet(s.uplink.address, *x) || *x == s.uplink.address.v4addr)
        r.error(a, fmt::format("uplink peer {}: expected another address in {}", x->to_string(),
                               s.uplink.address.to_string()));
    }
  }
}

void NetworkKind::parse_uplink(const YAML::Node& u, const Node& n, NetworkSpec& s, Reader& r) {
  s.uplink.where = r.at(u);
  if (u.IsScalar()) {
    if (u.Scalar() != "default")
      return r.error(u, fmt::format("network {}: uplink '{}': expected default (the host's default "
                                    "route), {{interface: IF}} or {{netns: NAME}}",
                                    n.name, u.Scalar()));
    s.uplink.host = true;
  } else {
    if (!r.check_keys(u, uplink_keys())) return;
    if (u["interface"] && u["netns"])
      return r.error(u["interface"],
                     fmt::format("network {}: uplink has both interface (a host interface) and "
                                 "netns (a namespace standing in for the outside): name one",
                                 n.name));
    if (u["interface"]) {
      auto i = r.str(u["interface"], "uplink interface").value_or("");
      if (!valid_ifname(i))
        return r.error(u["interface"],
                       fmt::format("uplink interface '{}': expected an interface name (1-15 "
                                   "characters, no '/', ':' or whitespace)",
                                   i));
      s.uplink.host = true;
      s.uplink.interface = i;
    }
  }
  if (s.uplink.host) {
    if (s.mode == NetworkMode::kOpen)
      return r.error(u, fmt::format("network {}: mode open adds no rules, so a host uplink would "
                                    "make the host forward for the lab without any: use mode "
                                    "route (or nat)",
                                    n.name));
    // In the host's namespace, shared by every lab: a transfer network and a veth name of its
    // own per lab and network, from 100.64.0.0/10 (RFC 6598) by a hash.
    uint32_t h = static_cast<uint32_t>(fnv1a(r.topo().name + "/" + n.name));
    uint32_t base = (100u << 24) | (64u << 16) | ((h % (1u << 20)) << 2);
    s.uplink.address = IpPrefix{false, Ipv4Address{base + 2}, {}, 30};
    s.uplink.peer = Ipv4Address{base + 1};
    s.uplink.device = fmt::format("vnu{:08x}", h);
    if (u.IsScalar()) return;
    if (u["device"])
      r.error(u["device"], fmt::format("network {}: a host uplink's veth is named by vnet ({}: the "
                                       "host's rules match vnu*); remove device",
                                       n.name, s.uplink.device));
    parse_uplink_addresses(u, s, r);
    return;
  }
  if (!u["netns"]) return r.error(u, fmt::format("network {}: uplink needs netns: NAME", n.name));
  auto ns = r.str(u["netns"], "uplink netns").value_or("");
  if (ns.empty() || ns.size() > 255 || ns.find('/') != std::string::npos || ns == "." || ns == "..")
    return r.error(u["netns"], fmt::format("uplink netns '{}': expected a namespace name", ns));
  s.uplink.netns = ns;
  // The default transfer network: 100.64.N.0/30 (RFC 6598 shared space), N = the network's index
  // among the lab's networks so far.
  size_t index = r.topo().of_kind("network").size();
  s.uplink.address = *IpPrefix::parse(fmt::format("100.64.{}.2/30", index % 256));
  s.uplink.peer = *Ipv4Address::parse(fmt::format("100.64.{}.1", index % 256));
  parse_uplink_addresses(u, s, r);
  s.uplink.device =
      fmt::format("vnu{:08x}", static_cast<uint32_t>(fnv1a(r.topo().name + "/" + n.name)));
  if (u["device"]) s.uplink.device = r.str(u["device"], "uplink device").value_or("");
}

std::vector<Link> NetworkKind::own_links(const Node& n, Reader&) const {
  const auto& s = n.as<NetworkSpec>();
  if (n.interfaces.empty()) return {};  // parse reported why
  Link l;
  l.a = Endpoint{n.name, kNetworkLan, std::nullopt};
  l.b = Endpoint{s.switch_name, {}, std::nullopt};
  l.mode = bridge::PortConfig::access(s.vlan);
  l.where = s.vlan_where;
  return {l};
}

void NetworkKind::validate(const Node& n, Reader& r) const {
  const auto& s = n.as<NetworkSpec>();
  const Topology& t = r.topo();
  if (n.interfaces.empty()) return;
  // One DHCP server per segment.
  for (const Node* o : t.of_kind("network")) {
    if (o == &n) break;
    const auto& os = o->as<NetworkSpec>();
    if (os.switch_name == s.switch_name && os.vlan == s.vlan)
      r.error(s.vlan_where, fmt::format("network {}: VLAN {} of switch {} already has network {} "
                                        "(line {})",
                                        n.name, s.vlan, s.switch_name, o->name, o->where.line));
  }
  auto range_text = [](const DhcpRange& x) { return x.from.to_string() + "-" + x.to.to_string(); };
  for (size_t i = 0; i < s.ranges.size(); ++i) {
    const auto& x = s.ranges[i];
    if (!in_subnet(s.subnet, x.from) || !in_subnet(s.subnet, x.to) ||
        reserved_in(s.subnet, x.from) || reserved_in(s.subnet, x.to)) {
      r.error(x.where, fmt::format("dhcp range {} is outside the subnet {}: expected host "
                                   "addresses inside it",
                                   range_text(x), s.subnet.to_string()));
      continue;
    }
    if (x.from.value <= s.gateway.value && s.gateway.value <= x.to.value)
      r.error(x.where, fmt::format("dhcp range {} contains the gateway {}", range_text(x),
                                   s.gateway.to_string()));
    for (size_t j = 0; j < i; ++j) {
      const auto& y = s.ranges[j];
      if (x.from.value <= y.to.value && y.from.value <= x.to.value)
        r.error(x.where, fmt::format("dhcp range {} overlaps range {} (at {}:{})", range_text(x),
                                     range_text(y), y.where.line, y.where.col));
    }
  }
  std::map<uint32_t, int> addresses;
  std::set<std::string> nodes;
  for (const auto& l : s.leases) {
    if (!in_subnet(s.subnet, l.address) || reserved_in(s.subnet, l.address)) {
      r.error(l.where, fmt::format("static lease {} is outside the subnet {}",
                                   l.address.to_string(), s.subnet.to_string()));
    } else if (l.address == s.gateway) {
      r.error(l.where,
              fmt::format("static lease {} is the gateway's address", l.address.to_string()));
    }
    auto [it, fresh] = addresses.emplace(l.address.value, l.where.line);
    if (!fresh)
      r.error(l.where, fmt::format("static lease {} is given twice (also at line {})",
                                   l.address.to_string(), it->second));
    if (l.node.empty()) continue;
    const Node* c = t.node(l.node);
    if (!c || c->kind->is_switch()) {
      r.error(l.where, fmt::format("static lease for '{}': no such node", l.node));
      continue;
    }
    if (!nodes.insert(l.node + ":" + l.interface).second)
      r.error(l.where, fmt::format("node {} has two static leases", l.node));
    bool several = false;
    if (!lease_link(t, s, l, &several)) {
      r.error(l.where, fmt::format("static lease for {}{}: no interface of it is linked to switch "
                                   "{} on VLAN {} (untagged)",
                                   l.node, l.interface.empty() ? "" : ":" + l.interface,
                                   s.switch_name, s.vlan));
    } else if (several) {
      r.error(l.where, fmt::format("static lease for {}: several of its interfaces reach VLAN {}; "
                                   "name one (interface: IFACE)",
                                   l.node, s.vlan));
    }
  }
  if (s.uplink.present()) {
    if (s.uplink.address.contains(IpPrefix{false, s.subnet.v4addr, {}, 32}) ||
        s.subnet.contains(IpPrefix{false, s.uplink.address.v4addr, {}, 32}))
      r.error(s.uplink.where,
              fmt::format("network {}: uplink address {} overlaps the subnet {}", n.name,
                          s.uplink.address.to_string(), s.subnet.to_string()));
  }
}

Status NetworkKind::create(const Node& n, LabRuntime& rt) const {
  std::string ns = rt.topo().netns(n.name);
  if (auto s = rt.create_netns(ns); !s) return s;
  (void)set_sysctl(ns, "net/ipv6/conf/all/accept_dad", "0");
  (void)set_sysctl(ns, "net/ipv6/conf/default/accept_dad", "0");
  if (!n.as<NetworkSpec>().subnet6) {
    (void)set_sysctl(ns, "net/ipv6/conf/all/disable_ipv6", "1");
    (void)set_sysctl(ns, "net/ipv6/conf/default/disable_ipv6", "1");
  }
  auto nl = rt.netlink(ns);
  if (!nl) return nl.error();
  return (*nl)->set_up("lo", true);
}

std::string file_of(const LabRuntime& rt, const Node& n, const char* ext) {
  return rt.state_dir() + "/" + n.name + ext;
}

Status NetworkKind::configure(const Node& n, LabRuntime& rt) const {
  const auto& s = n.as<NetworkSpec>();
  std::string ns = rt.topo().netns(n.name);
  auto context = [&](const Status& st) -> Status {
    if (st) return st;
    return make_error(st.error().code, "network {} ({}): {}", n.name, n.where.str(),
                      st.error().message);
  };
  nlohmann::json fact = {{"netns", ns},
                         {"mode", std::string(to_string(s.mode))},
                         {"leases", file_of(rt, n, ".leases")},
                         {"tables", network_tables(s)}};
  if (!s.uplink.netns.empty())
    fact["uplink"] = {{"netns", s.uplink.netns},
                      {"device", s.uplink.device},
                      {"address", s.uplink.address.to_string()}};
  if (s.uplink.host)
    fact["uplink"] = {{"interface", s.uplink.interface.empty() ? "default" : s.uplink.interface},
                      {"device", s.uplink.device},
                      {"address", s.uplink.address.to_string()}};
  if (auto st = rt.record_fact("networks", n.name, fact); !st) return st;
  bool forward = s.mode != NetworkMode::kIsolated;
  if (auto st = set_sysctl(ns, "net/ipv4/ip_forward", forward ? "1" : "0"); !st) return context(st);
  if (s.subnet6) {
    if (auto st = set_sysctl(ns, "net/ipv6/conf/all/forwarding", forward ? "1" : "0"); !st)
      return context(st);
  }
  auto nl = rt.netlink(ns);
  if (!nl) return nl.error();
  for (auto& i : n.interfaces) {
    for (auto& a : i.addresses) {
      if (auto st = (*nl)->add_address(i.name, a); !st) return context(st);
    }
    if (auto st = (*nl)->set_up(i.name, true); !st) return context(st);
  }
  if (s.uplink.present()) {
    const auto& u = s.uplink;
    std::string where = u.host ? "the host's namespace" : "namespace " + u.netns;
    std::string iface = u.interface;
    std::string forwarding_was;
    UniqueFd out;
    if (u.host) {
      if (iface.empty()) {
        iface = default_route_interface(read_regular_file("/proc/net/route").value_or(""));
        if (iface.empty())
          return make_error(ENETUNREACH,
                            "network {} ({}): uplink default: the host has no IPv4 default route; "
                            "name the interface (uplink: {{interface: IF}})",
                            n.name, u.where.str());
      }
      auto hnl = io::Netlink::open(where);
      if (!hnl) return context(hnl.error());
      if (!hnl->link_info(iface))
        return make_error(ENODEV,
                          "network {} ({}): uplink interface {} does not exist in the namespace "
                          "`vnet lab up` runs in (the host's)",
                          n.name, u.where.str(), iface);
      auto fw = read_regular_file(forwarding_path(iface));
      if (!fw) return context(fw.error());
      forwarding_was = fw->substr(0, fw->find('\n'));
      struct stat st {};
      if (::stat("/proc/self/ns/net", &st) != 0) return system_error("stat /proc/self/ns/net");
      // Recorded before anything changes: `down` puts back what this says, also after a crash.
      if (auto r = rt.record_fact(kHostUplinks, n.name,
                                  {{"interface", iface},
                                   {"device", u.device},
                                   {"table", host_uplink_table(s)},
                                   {"forwarding_was", forwarding_was},
                                   {"netns_inode", static_cast<uint64_t>(st.st_ino)}});
          !r)
        return r;
      out = UniqueFd(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
      if (!out.valid()) return system_error("open /proc/self/ns/net");
    } else {
      if (!netns_exists(u.netns))
        return make_error(ENOENT,
                          "network {} ({}): uplink namespace '{}' does not exist: create the "
                          "stand-in outside first (ip netns add {})",
                          n.name, u.where.str(), u.netns, u.netns);
      auto o = open_netns(u.netns);
      if (!o) return context(o.error());
      out = std::move(*o);
    }
    if (auto st = (*nl)->add_veth(kNetworkUplink, out.get(), where, u.device, std::nullopt); !st)
      return make_error(st.error().code, "network {}: uplink veth {} in {}: {}", n.name, u.device,
                        where, st.error().message);
    auto onl = u.host ? io::Netlink::open(where) : open_netlink(u.netns);
    if (!onl) return context(onl.error());
    IpPrefix peer = u.address;
    peer.v4addr = u.peer;
    if (auto st = onl->add_address(u.device, peer); !st) return context(st);
    if (auto st = onl->set_up(u.device, true); !st) return context(st);
    if (auto st = (*nl)->add_address(kNetworkUplink, u.address); !st) return context(st);
    if (auto st = (*nl)->set_up(kNetworkUplink, true); !st) return context(st);
    if (auto st = (*nl)->add_route(*IpPrefix::parse("0.0.0.0/0"), u.peer.to_string()); !st)
      return context(st);
    // Routed networks need the way back; it rides the veth vnet made and goes with it.
    if (s.mode == NetworkMode::kRoute) {
      if (auto st = onl->add_route(s.subnet, u.address.address_string()); !st) return context(st);
    }
    if (u.host) {
      // Forwarding per interface (each direction needs it on the interface it arrives on); the
      // table keeps it to the veth and IF.
      for (const std::string& i : {u.device, iface}) {
        if (auto st = write_proc(forwarding_path(i), "1"); !st) return context(st);
      }
      if (auto st = io::load_nftables(host_uplink_ruleset(s, iface, forwarding_was == "0")); !st)
        return context(st);
    }
  }
  if (auto rules = network_ruleset(s); !rules.empty()) {
    if (auto st = load_nftables_in(ns, rules); !st) return context(st);
  }
  return {};
}

Status NetworkKind::start(const Node& n, LabRuntime& rt) const {
  const auto& s = n.as<NetworkSpec>();
  const Topology& t = rt.topo();
  std::string ns = t.netns(n.name);
  std::vector<ResolvedLease> leases;
  for (const auto& l : s.leases) {
    ResolvedLease x{l.mac.value_or(packet::MacAddress{}), l.address, l.name};
    if (!l.mac) {
      const Link* link = lease_link(t, s, l);
      const Node* c = t.node(l.node);
      if (!c || !link || !c->macs.count(link->a.interface))
        return make_error(ENOENT, "network {}: no MAC for the static lease of {}", n.name, l.node);
      x.mac = c->macs.at(link->a.interface);
    }
    leases.push_back(x);
  }
  DnsmasqFiles f{file_of(rt, n, ".hosts"), file_of(rt, n, ".leases"),
                 file_of(rt, n, ".dnsmasq.pid")};
  std::string conf = file_of(rt, n, ".dnsmasq.conf");
  {
    std::ofstream(f.hosts) << network_hosts_file(t);
    std::ofstream(conf) << dnsmasq_config(s, leases, f,
                                          fmt::format("network {} of lab {}", n.name, t.name));
    std::ofstream(f.leases, std::ios::app).flush();
  }
  ServiceSpec svc{{"dnsmasq", "--keep-in-foreground", "--conf-file=" + conf},
                  n.name + " dnsmasq",
                  file_of(rt, n, ".dnsmasq.log")};
  std::string gw = s.gateway.to_string();
  svc.ready = [ns, gw]() -> Status {
    auto r = tcp_connect(ns, gw, 53, std::chrono::milliseconds(200));
    if (!r) return r.error();
    if (*r != TcpResult::kOpen) return make_error(ECONNREFUSED, "dnsmasq not answering yet");
    return {};
  };
  return rt.start_service(n, ns, std::move(svc));
}

}  // namespace

std::unique_ptr<NodeKind> make_network_kind() { return std::make_unique<NetworkKind>(); }

Status restore_host_uplinks(const nlohmann::json& state, std::ostream& progress) {
  auto facts = state.find("facts");
  if (facts == state.end() || !facts->contains(kHostUplinks)) return {};
  struct stat st {};
  if (::stat("/proc/self/ns/net", &st) != 0) return system_error("stat /proc/self/ns/net");
  Status result;
  for (auto& item : (*facts)[kHostUplinks].items()) {
    const std::string& node = item.key();
    const auto& f = item.value();
    std::string dev = f.value("device", ""), iface = f.value("interface", "");
    auto fail = [&](const std::string& why) {
      progress << fmt::format("  network {}: host uplink on {} left as it is: {}\n", node, iface,
                              why);
      if (result) result = make_error(EIO, "network {}: host uplink on {}: {}", node, iface, why);
    };
    if (f.value("netns_inode", uint64_t{0}) != static_cast<uint64_t>(st.st_ino)) {
      fail("`down` runs in another network namespace than `up` did; run it from there");
      continue;
    }
    // Adding the table first makes the delete succeed whether `up` got as far as loading it.
    std::string table = f.value("table", "");
    if (!table.empty()) {
      if (auto s = io::load_nftables(fmt::format("add table {0}\ndelete table {0}\n", table)); !s)
        fail(s.error().message);
    }
    auto nl = io::Netlink::open("the host's namespace");
    if (!nl) return nl.error();
    if (!dev.empty()) {
      if (auto s = nl->del_link(dev); !s) fail(s.error().message);
    }
    std::string was = f.value("forwarding_was", "");
    if (was.empty() || !nl->link_info(iface)) continue;
    // Another lab's uplink veth still there may need IF forwarding: leave it on then.
    bool others = false;
    if (struct if_nameindex* all = ::if_nameindex()) {
      for (auto* i = all; i->if_index != 0; ++i)
        if (std::string_view(i->if_name).starts_with("vnu")) others = true;
      ::if_freenameindex(all);
    }
    if (others) {
      progress << fmt::format(
          "  network {}: {} keeps forwarding on (another lab's host uplink "
          "is up)\n",
          node, iface);
      continue;
    }
    if (auto s = write_proc(forwarding_path(iface), was); !s) fail(s.error().message);
  }
  return result;
}

void add_network_status(nlohmann::json& state) {
  auto facts = state.find("facts");
  if (facts == state.end() || !facts->contains("networks")) return;
  for (auto& [name, f] : (*facts)["networks"].items()) {
    nlohmann::json leases = nlohmann::json::array();
    auto text = read_regular_file(f.value("leases", std::string()));
    if (text) {
      for (auto& l : parse_dnsmasq_leases(*text))
        leases.push_back({{"address", l.address},
                          {"mac", l.mac},
                          {"hostname", l.hostname},
                          {"expires", l.expires}});
    }
    state["networks"][name] = f;
    state["networks"][name]["lease_list"] = leases;
  }
}

}  // namespace vnet::lab
