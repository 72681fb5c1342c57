#include "lab/topology.hh"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "base/file.hh"
#include "base/hash.hh"
#include "lab/captures.hh"
#include "lab/direct_routing.hh"
#include "lab/hosts.hh"
#include "lab/link_impair.hh"
#include "lab/port_auth.hh"
#include "lab/reader.hh"
#include "lab/registry.hh"
#include "lab/step.hh"
#include "lab/tenants.hh"
#include "vrrp/keepalived_conf.hh"

namespace vnet::lab {

using bridge::VlanId;

std::string Where::str() const {
  if (col > 0) return fmt::format("{}:{}:{}", file, line, col);
  return fmt::format("{}:{}", file, line);
}

// ---- the model's queries -------------------------------------------------------------------

const Node* Topology::node(const std::string& n) const {
  for (auto& x : nodes) {
    if (x.name == n) return &x;
  }
  return nullptr;
}

Node* Topology::node(const std::string& n) {
  for (auto& x : nodes) {
    if (x.name == n) return &x;
  }
  return nullptr;
}

bool Topology::is_switch(const std::string& n) const {
  const Node* x = node(n);
  return x && x->kind->is_switch();
}

std::vector<const Node*> Topology::switches() const {
  std::vector<const Node*> out;
  for (auto& n : nodes) {
    if (n.kind->is_switch()) out.push_back(&n);
  }
  return out;
}

std::vector<const Node*> Topology::of_kind(std::string_view kind) const {
  std::vector<const Node*> out;
  for (auto& n : nodes) {
    if (n.kind->name() == kind) out.push_back(&n);
  }
  return out;
}

std::optional<std::string> Topology::address_of(const std::string& name, bool v6) const {
  const Node* n = node(name);
  if (!n) return std::nullopt;
  for (auto& i : n->interfaces) {
    for (auto& a : i.addresses) {
      if (a.v6 == v6) return a.address_string();
    }
  }
  return std::nullopt;
}

const vrrp::KeepalivedConfig* Topology::vrrp_config(const Node& n) const { return n.kind->vrrp(n); }

std::vector<packet::IpPrefix> Topology::group_vips(const std::string& group) const {
  std::vector<packet::IpPrefix> out;
  for (auto& n : nodes) {
    const vrrp::KeepalivedConfig* c = vrrp_config(n);
    if (!c) continue;
    std::vector<std::string> members = {group};
    for (auto& g : c->sync_groups) {
      if (g.name == group) members = g.instances;
    }
    for (auto& in : c->instances) {
      if (std::find(members.begin(), members.end(), in.name) == members.end()) continue;
      for (auto& v : in.vips) {
        if (std::find(out.begin(), out.end(), v.prefix) == out.end()) out.push_back(v.prefix);
      }
    }
  }
  return out;
}

std::vector<std::string> Topology::vrrp_routers() const {
  std::vector<std::string> out;
  for (auto& n : nodes) {
    if (vrrp_config(n)) out.push_back(n.name);
  }
  return out;
}

std::vector<const Link*> Topology::links_of(const std::string& node) const {
  std::vector<const Link*> out;
  for (auto& l : links) {
    if (!l.switch_to_switch && l.a.node == node) out.push_back(&l);
  }
  return out;
}

// ---- the planner ---------------------------------------------------------------------------

namespace {

// The seed of the derived MACs: the FNV offset basis without its last digit, as the planner has
// always used it; kept so that labs keep their MACs.
constexpr uint64_t kMacSeed = 1469598103934665603ull;

}  // namespace

void plan(Topology& t) {
  // Switch ports: written ones first, then the lowest free numbers in file order.
  std::map<std::string, std::set<uint32_t>> used;
  for (auto& l : t.links) {
    if (l.switch_to_switch && l.a.port) used[l.a.node].insert(*l.a.port);
    if (l.b.port) used[l.b.node].insert(*l.b.port);
  }
  for (auto& n : t.nodes) {
    for (uint32_t p : n.kind->reserved_ports(n)) used[n.name].insert(p);
  }
  auto next = [&](const std::string& sw) {
    uint32_t p = 1;
    while (used[sw].count(p)) ++p;
    used[sw].insert(p);
    return p;
  };
  // Switch-side devices: "<node>-<iface>" when it fits IFNAMSIZ and is not taken (node "a-b" with
  // "c" and node "a" with "b-c" would both be "a-b-c"), else "vl<index>" (which has no '-', so it
  // never meets a "<node>-<iface>" name).
  std::set<std::string> devices;
  for (size_t i = 0; i < t.links.size(); ++i) {
    auto& l = t.links[i];
    if (l.switch_to_switch) l.port_a = l.a.port ? *l.a.port : next(l.a.node);
    l.port_b = l.b.port ? *l.b.port : next(l.b.node);
    if (l.switch_to_switch) continue;
    std::string d = l.a.node + "-" + l.a.interface;
    if (d.size() > 15 || devices.count(d)) d = fmt::format("vl{}", i);
    devices.insert(d);
    l.device = d;
  }
  // MACs: declared ones, else 02:xx:xx:xx:xx:xx from the lab, node and interface names — stable
  // across runs and reboots of the node, unique within the lab.
  std::set<packet::MacAddress> macs;
  for (auto& n : t.nodes) {
    for (auto& i : n.interfaces) {
      if (i.mac) macs.insert(*i.mac);
    }
  }
  for (auto& n : t.nodes) {
    n.macs.clear();
    for (auto& i : n.interfaces) {
      if (i.mac) {
        n.macs[i.name] = *i.mac;
        continue;
      }
      if (i.name.find('.') != std::string::npos) continue;  // a VLAN subinterface: below
      for (uint64_t salt = 0;; ++salt) {
        uint64_t h = fnv1a(fmt::format("{}/{}/{}/{}", t.name, n.name, i.name, salt), kMacSeed);
        packet::MacAddress m;
        m.bytes = {0x02,
                   static_cast<uint8_t>(h >> 32),
                   static_cast<uint8_t>(h >> 24),
                   static_cast<uint8_t>(h >> 16),
                   static_cast<uint8_t>(h >> 8),
                   static_cast<uint8_t>(h)};
        if (macs.insert(m).second) {
          n.macs[i.name] = m;
          break;
        }
      }
    }
    // VLAN subinterfaces without a declared MAC share their parent's, as VLAN devices do.
    for (auto& i : n.interfaces) {
      auto dot = i.name.find('.');
      if (i.mac || dot == std::string::npos) continue;
      auto parent = n.macs.find(i.name.substr(0, dot));
      if (parent != n.macs.end()) n.macs[i.name] = parent->second;
    }
  }
}

// ---- the parser ------------------------------------------------------------------------------

namespace {

// A lab of 1,000 hosts is about 20,000 values; anything past this bound is an alias bomb.
constexpr size_t kMaxDocumentNodes = 100000;

}  // namespace

const KeyTable& link_keys() {
  static const KeyTable t = [] {
    KeyTable t{
        "link",
        {
            {"endpoints",
             {{"type", "array"},
              {"minItems", 2},
              {"maxItems", 2},
              {"items", schema::pattern("^[A-Za-z][A-Za-z0-9_-]*(:[A-Za-z0-9_-]+)?$")}},
             "the two ends: NODE:IFACE (or NODE with one interface) and SWITCH[:PORT], or two "
             "switches",
             true},
            {"vlan", schema::ref("vid"), "access port of this VLAN (untagged)"},
            {"trunk", schema::ref("vids"), "trunk port carrying these VLANs tagged"},
            {"native", schema::ref("vid"), "with trunk: the VLAN that travels untagged"},
            {"admit", schema::enumeration({"all", "tagged", "untagged"}),
             "802.1Q acceptable frame types of the switch port(s), instead of the mode's default "
             "(access: untagged and priority-tagged; trunk with native: all; trunk: tagged); see "
             "docs/switch.md for the risk of widening it"},
        }};
    for (auto& k : stp_link_keys()) t.keys.push_back(k);
    t.keys.push_back(link_impair_key());
    t.keys.push_back({"auth", port_auth_schema(),
                      "the switch port authenticates its client before it forwards: `dot1x`, "
                      "`mac`, `dot1x,mac`, `mac,dot1x` (fallback order), `force-authorized`, "
                      "`force-unauthorized`, or `{methods, TIMER: VALUE …}` (docs/nac.md); the "
                      "switch needs `radius`"});
    t.keys.push_back({"drop_arp_for", schema::one_or_list(schema::string("an IPv4 address")),
                      "the switch port drops ARP the node sends with one of these addresses as "
                      "sender (replies, gratuitous ARP, requests): a direct-routing real server "
                      "that holds the VIP must not answer for it (docs/keepalived-compat.md); "
                      "counted as `arp_filtered`"});
    return t;
  }();
  return t;
}

const KeyTable& scenario_keys() {
  static const KeyTable t{"scenario",
                          {
                              {"name", schema::string(), "shown in the report and JUnit XML"},
                              {"steps", schema::list(schema::ref("step")), "run in order", true},
                          }};
  return t;
}

KeyTable step_keys(const StepKind& kind) {
  KeyTable t{fmt::format("step {}", kind.name()), {}};
  KeySpec main = kind.key();
  main.name = std::string(kind.name());
  main.required = true;
  t.keys.push_back(main);
  for (auto& o : kind.options()) t.keys.push_back(o);
  return t;
}

KeyTable root_keys() {
  KeyTable t{"the lab", {}};
  t.keys.push_back({"name", schema::pattern("^[A-Za-z][A-Za-z0-9_-]{0,11}$"),
                    "1–12 letters, digits, - or _: namespaces are \"<name>-<node>\"", true});
  for (auto& k : registry().kinds()) {
    t.keys.push_back({std::string(k->section()), schema::list(schema::ref(k->name())),
                      fmt::format("{} nodes", k->name())});
  }
  t.keys.push_back({"links", schema::list(schema::ref("link")), "cables"});
  t.keys.push_back({"scenarios", schema::list(schema::ref("scenario")), "what `test` runs"});
  t.keys.push_back(captures_key());
  t.keys.push_back(tenants_key());
  t.keys.push_back(hosts_key());
  return t;
}

namespace {

class Parser {
 public:
  Parser(std::string file, const LoadOptions& o) : file_(std::move(file)), r_(file_, topo_, o) {}

  Result<Topology> parse(const std::string& text) {
    try {
      return parse_unchecked(text);
    } catch (const YAML::Exception& e) {
      // yaml-cpp reports a value of the wrong shape (a list where a word belongs…) by throwing.
      return make_error(
          EINVAL,
          "{}:{}:{}: {} (a value has the wrong shape: a list or map where a single value belongs?)",
          file_, e.mark.line + 1, e.mark.column + 1, e.msg);
    }
  }

 private:
  Result<Topology> parse_unchecked(const std::string& text) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::DeepRecursion& e) {
      return make_error(EINVAL, "{}:{}:{}: YAML syntax: nesting deeper than yaml-cpp's limit",
                        file_, e.mark.line + 1, e.mark.column + 1);
    } catch (const YAML::Exception& e) {
      return make_error(EINVAL, "{}:{}:{}: YAML syntax: {}", file_, e.mark.line + 1,
                        e.mark.column + 1, e.msg);
    }
    // Only aliases (*name) can make the tree larger than the text.
    if (text.find('*') != std::string::npos) {
      if (auto s = check_size(root); !s) return s.error();
    }
    topo_.file = file_;
    if (!root.IsMap())
      return make_error(
          EINVAL, "{}:1: expected a map with name, switches, hosts, routers, links, scenarios",
          file_);
    KeyTable rk = root_keys();
    r_.check_keys(root, rk);
    if (root["name"]) {
      if (auto n = r_.name(root["name"], "lab name", 12)) topo_.name = *n;
    } else {
      r_.error(Where{file_, 1}, "the lab needs a name (name: campus)");
    }
    parse_hosts(root["machines"], topo_, r_);
    for (auto& k : registry().kinds()) {
      for (auto n : r_.list(root[std::string(k->section())], std::string(k->section())))
        parse_node(n, *k);
    }
    if (topo_.switches().empty()) r_.error(Where{file_, 1}, "a lab needs at least one switch");
    parse_tenants(root["tenants"], topo_, r_);
    for (auto n : r_.list(root["links"], "links")) parse_link(n);
    for (const Node& n : topo_.nodes) {
      for (auto& l : n.kind->own_links(n, r_)) topo_.links.push_back(std::move(l));
    }
    expand_vlan_subinterfaces();
    parse_captures(root["captures"], topo_, r_);
    for (auto s : r_.list(root["scenarios"], "scenarios")) parse_scenario(s);
    validate_global();
    if (r_.diagnostics().empty()) {
      plan(topo_);
      check_capture_ports(topo_, r_);  // the planner's port numbers
    }
    auto diags = r_.diagnostics();
    if (!diags.empty()) {
      std::stable_sort(diags.begin(), diags.end(), [](auto& a, auto& b) {
        return std::tie(a.where.line, a.where.col) < std::tie(b.where.line, b.where.col);
      });
      std::string msg;
      for (auto& d : diags) msg += d.str() + "\n";
      msg.pop_back();
      return Error{EINVAL, msg};
    }
    topo_.warnings = r_.warnings();
    std::stable_sort(topo_.warnings.begin(), topo_.warnings.end(), [](auto& a, auto& b) {
      return std::tie(a.where.line, a.where.col) < std::tie(b.where.line, b.where.col);
    });
    return std::move(topo_);
  }

  // Aliases make a small file expand into a huge tree ("billion laughs"): count what a walk of
  // the document would visit and refuse it past a bound, without recursion.
  Status check_size(const YAML::Node& root) {
    std::vector<YAML::Node> stack = {root};
    size_t visited = 0;
    while (!stack.empty()) {
      YAML::Node n = stack.back();
      stack.pop_back();
      if (++visited > kMaxDocumentNodes)
        return make_error(EINVAL,
                          "{}:1: the document expands to more than {} values (anchors and "
                          "aliases?): refused",
                          file_, kMaxDocumentNodes);
      if (n.IsSequence()) {
        for (auto x : n) stack.push_back(x);
      } else if (n.IsMap()) {
        for (auto it = n.begin(); it != n.end(); ++it) {
          stack.push_back(it->first);
          stack.push_back(it->second);
        }
      }
    }
    return {};
  }

  void parse_node(const YAML::Node& n, const NodeKind& kind) {
    Node node;
    node.kind = &kind;
    node.where = r_.at(n);
    if (!r_.check_keys(n, node_keys(kind))) return;
    if (!n["name"]) return;  // check_keys reported it
    node.name = r_.name(n["name"], "node name", 24).value_or("");
    parse_node_host(n, node, r_);
    if (node.name == "vnet")
      r_.error(n["name"], "node name 'vnet' is reserved for the lab's dataplane namespace");
    kind.parse(n, node, r_);
    topo_.nodes.push_back(std::move(node));
  }

  // "sw1", "sw1:3", "pc1:eth0", "pc1"
  std::optional<Endpoint> endpoint(const YAML::Node& n) {
    auto s = r_.str(n, "link endpoint");
    if (!s) return std::nullopt;
    Endpoint e;
    auto colon = s->find(':');
    e.node = s->substr(0, colon);
    const Node* node = topo_.node(e.node);
    if (!node) {
      r_.error(n, fmt::format("link to nowhere: no node named '{}'", e.node));
      return std::nullopt;
    }
    std::string rest = colon == std::string::npos ? "" : s->substr(colon + 1);
    if (node->kind->is_switch()) {
      if (!rest.empty()) {
        auto p = parse_int(rest, 1, 65535);
        if (!p) {
          r_.error(n,
                   fmt::format("switch port '{}' in '{}': expected a number 1..65535", rest, *s));
          return std::nullopt;
        }
        e.port = static_cast<uint32_t>(*p);
      }
      return e;
    }
    if (rest.empty()) {
      if (node->interfaces.size() != 1) {
        r_.error(n, fmt::format("link endpoint '{}': name the interface (NODE:IFACE), {} has {}",
                                *s, e.node, node->interfaces.size()));
        return std::nullopt;
      }
      rest = node->interfaces[0].name;
    }
    if (!node->interface(rest)) {
      r_.error(n, fmt::format("link to nowhere: node {} has no interface '{}'", e.node, rest));
      return std::nullopt;
    }
    e.interface = rest;
    return e;
  }

  void parse_link(const YAML::Node& n) {
    Link link;
    link.where = r_.at(n);
    if (!r_.check_keys(n, link_keys())) return;
    auto eps = n["endpoints"];
    if (!eps || !eps.IsSequence() || eps.size() != 2) {
      return r_.error(
          n, "a link needs endpoints: [A, B] (a node interface and a switch, or two switches)");
    }
    auto a = endpoint(eps[0]), b = endpoint(eps[1]);
    if (!a || !b) return;
    const Node* na = topo_.node(a->node);
    const Node* nb = topo_.node(b->node);
    bool sa = na->kind->is_switch(), sb = nb->kind->is_switch();
    if (!sa && !sb)
      return r_.error(n, fmt::format("link {}–{}: one end must be a switch", a->node, b->node));
    if (sa && !sb) std::swap(a, b), std::swap(na, nb), std::swap(sa, sb);
    link.a = *a;
    link.b = *b;
    link.switch_to_switch = sa && sb;
    if (link.switch_to_switch && a->node == b->node)
      return r_.error(n, fmt::format("link from switch {} to itself", a->node));
    bool has_vlan = static_cast<bool>(n["vlan"]), has_trunk = static_cast<bool>(n["trunk"]);
    if (has_vlan && has_trunk)
      return r_.error(n, "a link is either 'vlan: N' (access) or 'trunk: [..]', not both");
    if (link.switch_to_switch && !has_trunk)
      return r_.error(n, fmt::format("switch link {}–{} needs 'trunk: [VLANS]'", a->node, b->node));
    std::optional<VlanId> native;
    if (n["native"]) {
      if (!has_trunk) r_.error(n["native"], "'native' goes with 'trunk'");
      native = r_.vid(n["native"], "native VLAN");
    }
    if (has_trunk) {
      link.mode = bridge::PortConfig::trunk(r_.vid_list(n["trunk"], "trunk"), native);
    } else if (has_vlan) {
      link.mode = bridge::PortConfig::access(r_.vid(n["vlan"], "vlan").value_or(1));
    } else {
      link.mode = bridge::PortConfig::access(1);
    }
    if (n["admit"]) {
      if (auto a = r_.str(n["admit"], "admit")) {
        auto frames = bridge::parse_acceptable_frames(*a);
        if (!frames) {
          r_.error(n["admit"], frames.error().message);
        } else {
          link.mode.admit = *frames;
          // The port refuses settings that admit nothing; say so here, not at `up`.
          if (auto check = bridge::PortConfig::parse(Reader::words(link.mode.to_string())); !check)
            r_.error(n["admit"], check.error().message);
        }
      }
    }
    parse_stp_link(n, link, r_);
    parse_link_impair(n, link, r_);
    if (n["auth"]) {
      if (link.switch_to_switch) {
        r_.error(n["auth"], fmt::format("link {}–{}: auth is for a switch port facing a node, "
                                        "not a link between switches",
                                        a->node, b->node));
      } else if (auto pa = parse_port_auth_key(
                     n["auth"], r_, fmt::format("link {}–{}", link.a.node, link.b.node))) {
        link.auth = pa->settings;
        link.auth_where = pa->where;
      }
    }
    if (auto d = n["drop_arp_for"]) {
      link.drop_arp_where = r_.at(d);
      if (link.switch_to_switch) {
        r_.error(d, fmt::format("link {}–{}: drop_arp_for is for a switch port facing a node, "
                                "not a link between switches",
                                a->node, b->node));
      }
      for (auto& v : d.IsSequence() ? r_.list(d, "drop_arp_for") : std::vector<YAML::Node>{d}) {
        auto s = r_.str(v, "drop_arp_for address");
        if (!s) continue;
        auto ip = packet::Ipv4Address::parse(*s);
        if (!ip) {
          r_.error(v,
                   fmt::format("drop_arp_for '{}': expected an IPv4 address (ARP is IPv4's)", *s));
          continue;
        }
        link.drop_arp_for.push_back(*ip);
      }
    }
    topo_.links.push_back(std::move(link));
  }

  // Router-on-a-stick: an interface named PARENT.VID rides the trunk of PARENT's link. This
  // kernel cannot demultiplex 802.1Q in a namespace (no 8021q module), so vnet realises each such
  // interface as a veth of its own to an access port of VLAN VID on the same switch, and takes
  // VID off the parent's trunk port: the node sees eth0.10, eth0.20 … as on a real router (with
  // the parent's MAC, as VLAN devices have), and VRRP instances and nftables rules use those
  // names. The new links carry the parent link's line for messages.
  void expand_vlan_subinterfaces() {
    std::vector<Link> added;
    for (auto& n : topo_.nodes) {
      // Only namespace nodes: an external node's interface may be a host's VLAN device.
      if (n.kind->is_switch() || !n.kind->needs_netns()) continue;
      for (auto& i : n.interfaces) {
        auto dot = i.name.find('.');
        if (dot == std::string::npos) continue;
        std::string parent = i.name.substr(0, dot);
        auto vid = parse_int(std::string_view(i.name).substr(dot + 1), 1, 4094);
        if (!vid) continue;  // the interface parser said so
        if (!n.interface(parent)) {
          r_.error(i.where, fmt::format("interface {}:{} is a VLAN subinterface of {}, which {} "
                                        "does not have",
                                        n.name, i.name, parent, n.name));
          continue;
        }
        Link* up = nullptr;
        for (auto& l : topo_.links) {
          if (l.switch_to_switch || l.a.node != n.name) continue;
          if (l.a.interface == i.name) {
            r_.error(l.where, fmt::format("{}:{} rides {}'s trunk: it needs no link of its own",
                                          n.name, i.name, parent));
          }
          if (l.a.interface == parent) up = &l;
        }
        if (!up) continue;  // "not connected" is reported for the parent
        VlanId v = static_cast<VlanId>(*vid);
        auto& m = up->mode;
        if (m.mode != bridge::PortConfig::Mode::kTrunk || !m.trunk_vlans.test(v)) {
          r_.error(i.where, fmt::format("interface {}:{} needs VLAN {} tagged on {}'s link (line "
                                        "{}): make it 'trunk: [.., {}, ..]'",
                                        n.name, i.name, v, parent, up->where.line, v));
          continue;
        }
        if (m.native_vlan && *m.native_vlan == v) {
          r_.error(i.where, fmt::format("interface {}:{}: VLAN {} is the native VLAN of {}'s "
                                        "trunk, it travels untagged on {} itself",
                                        n.name, i.name, v, parent, parent));
          continue;
        }
        m.trunk_vlans.reset(v);
        Link sub;
        sub.a = Endpoint{n.name, i.name, std::nullopt};
        sub.b = Endpoint{up->b.node, {}, std::nullopt};
        sub.mode = bridge::PortConfig::access(v);
        sub.stp_b = up->stp_b;
        // The subinterface's frames cross the same cable: the same impairment.
        sub.impair_ab = up->impair_ab;
        sub.impair_ba = up->impair_ba;
        sub.drop_arp_for = up->drop_arp_for;  // and the same port filter, on its own port
        sub.drop_arp_where = up->drop_arp_where;
        sub.where = up->where;
        added.push_back(std::move(sub));
      }
    }
    for (auto& l : added) topo_.links.push_back(std::move(l));
  }

  void parse_scenario(const YAML::Node& s) {
    Scenario sc;
    sc.where = r_.at(s);
    if (!r_.check_keys(s, scenario_keys())) return;
    sc.name = s["name"] ? r_.str(s["name"], "scenario name").value_or("")
                        : fmt::format("scenario-{}", topo_.scenarios.size() + 1);
    for (auto st : r_.list(s["steps"], fmt::format("scenario {} steps", sc.name)))
      sc.steps.push_back(parse_step(st, r_, false));
    topo_.scenarios.push_back(std::move(sc));
  }

  void validate_global() {
    // Names are unique across kinds.
    std::map<std::string, const Node*> names;
    for (auto& n : topo_.nodes) {
      if (n.name.empty()) continue;
      auto [it, fresh] = names.emplace(n.name, &n);
      if (!fresh)
        r_.error(n.where, fmt::format("node name '{}' is used twice (first at line {})", n.name,
                                      it->second->where.line));
    }
    // Ports and interfaces used twice; interfaces left unconnected.
    std::map<std::pair<std::string, uint32_t>, int> ports;
    std::map<std::pair<std::string, std::string>, int> ifaces;
    for (auto& l : topo_.links) {
      auto use_port = [&](const Endpoint& e) {
        if (!e.port) return;
        auto [it, fresh] = ports.emplace(std::pair{e.node, *e.port}, l.where.line);
        if (!fresh)
          r_.error(l.where, fmt::format("port {}:{} is used twice (also at line {})", e.node,
                                        *e.port, it->second));
      };
      if (l.switch_to_switch) {
        use_port(l.a);
      } else {
        auto [it, fresh] = ifaces.emplace(std::pair{l.a.node, l.a.interface}, l.where.line);
        if (!fresh)
          r_.error(l.where, fmt::format("interface {}:{} is linked twice (also at line {})",
                                        l.a.node, l.a.interface, it->second));
      }
      use_port(l.b);
    }
    for (auto& n : topo_.nodes) {
      for (auto& i : n.interfaces) {
        // A VLAN subinterface is connected through its parent (or its error was reported).
        if (i.name.find('.') != std::string::npos) continue;
        if (!ifaces.count({n.name, i.name})) {
          r_.error(
              i.where,
              fmt::format(
                  "interface {}:{} is not connected: add a link with endpoints [{}:{}, SWITCH]",
                  n.name, i.name, n.name, i.name));
        }
      }
    }
    // Tenants: VLAN and interface membership, where they meet (lab/tenants.hh).
    validate_tenants(topo_, r_);
    // Addresses and MACs are unique within a tenant (RFC 7364 §3.2: tenants may reuse each
    // other's); interfaces of no tenant share one space.
    std::map<std::pair<std::string, std::string>, std::string> addrs, macs;
    for (auto& n : topo_.nodes) {
      for (auto& i : n.interfaces) {
        std::string tenant = interface_tenant(topo_, n, i);
        std::string in = tenant.empty() ? "" : " in tenant " + tenant;
        for (auto& a : i.addresses) {
          std::string key = a.address_string();
          auto [it, fresh] = addrs.emplace(std::pair{tenant, key}, n.name + ":" + i.name);
          if (!fresh)
            r_.error(i.where,
                     fmt::format("duplicate address {}{} (also on {})", key, in, it->second));
        }
        if (i.mac) {
          auto [it, fresh] =
              macs.emplace(std::pair{tenant, i.mac->to_string()}, n.name + ":" + i.name);
          if (!fresh)
            r_.error(i.where, fmt::format("duplicate MAC {}{} (also on {})", i.mac->to_string(), in,
                                          it->second));
        }
      }
    }
    // Loops of switch links storm unless every switch on them runs spanning tree.
    check_switch_loops(topo_, r_);
    for (auto& n : topo_.nodes) n.kind->validate(n, r_);
    check_direct_routing_arp(topo_, r_);
    place_nodes(topo_, r_);
  }

  std::string file_;
  Topology topo_;
  Reader r_;
};

}  // namespace

Step parse_step(const YAML::Node& n, Reader& r, bool inner) {
  Step st;
  st.where = r.at(n);
  std::string all;
  for (auto& k : registry().steps()) all += (all.empty() ? "" : ", ") + std::string(k->name());
  if (!n.IsMap()) {
    r.error(n, "a step is a map like {ping: \"pc1 pc2\", expect: reach}");
    return st;
  }
  const StepKind* kind = nullptr;
  int kinds = 0;
  for (auto& k : registry().steps()) {
    if (n[std::string(k->name())]) {
      kind = k.get();
      ++kinds;
    }
  }
  if (kinds != 1) {
    r.error(n, fmt::format("a step has exactly one of {}", all));
    return st;
  }
  r.check_keys(n, step_keys(*kind));
  if (inner && !kind->pollable()) {
    r.error(n, fmt::format("wait_until polls probes and assertions, not '{}'", kind->name()));
    return st;
  }
  st.kind = kind;
  st.spec = kind->parse(n, n[std::string(kind->name())], r, st.text);
  if (st.text.empty()) st.text = std::string(kind->name());
  return st;
}

Result<Topology> parse_topology(const std::string& text, const std::string& file,
                                const LoadOptions& options) {
  Parser p(file, options);
  return p.parse(text);
}

Result<Topology> load_topology(const std::string& path, const LoadOptions& options) {
  auto text = read_regular_file(path);
  if (!text) {
    if (text.error().code == ENOENT)
      return make_error(ENOENT, "{}: cannot open the topology file", path);
    return text.error();
  }
  return parse_topology(*text, path, options);
}

}  // namespace vnet::lab
