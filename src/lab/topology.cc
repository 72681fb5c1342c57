#include "lab/topology.hh"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

namespace vnet::lab {
namespace {

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

using bridge::VlanId;

class Parser {
 public:
  Parser(std::string file) : file_(std::move(file)) {}

  Where at(const YAML::Node& n) const { return Where{file_, n.Mark().line + 1}; }
  void error(const YAML::Node& n, std::string msg) { diags_.push_back({at(n), std::move(msg)}); }
  void error(const Where& w, std::string msg) { diags_.push_back({w, std::move(msg)}); }

  void check_keys(const YAML::Node& map, std::initializer_list<const char*> allowed,
                  const std::string& what) {
    if (!map.IsMap()) return;
    for (auto it = map.begin(); it != map.end(); ++it) {
      std::string k = it->first.as<std::string>();
      if (std::find_if(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; }) ==
          allowed.end()) {
        std::string list;
        for (auto* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
        error(it->first,
              fmt::format("unknown key '{}' in {} (expected one of: {})", k, what, list));
      }
    }
  }

  std::optional<std::string> str(const YAML::Node& n, const std::string& what) {
    if (!n.IsScalar()) {
      error(n, fmt::format("{}: expected a string", what));
      return std::nullopt;
    }
    return n.as<std::string>();
  }

  std::optional<long> integer(const YAML::Node& n, const std::string& what) {
    if (!n.IsScalar()) {
      error(n, fmt::format("{}: expected a number", what));
      return std::nullopt;
    }
    try {
      return n.as<long>();
    } catch (...) {
      error(n, fmt::format("{}: expected a number, got '{}'", what, n.as<std::string>()));
      return std::nullopt;
    }
  }

  std::optional<VlanId> vid(const YAML::Node& n, const std::string& what) {
    auto v = integer(n, what);
    if (!v) return std::nullopt;
    if (*v < 1 || *v > 4094) {
      error(n, fmt::format("{}: VLAN {} out of range, expected 1..4094", what, *v));
      return std::nullopt;
    }
    return static_cast<VlanId>(*v);
  }

  std::vector<VlanId> vid_list(const YAML::Node& n, const std::string& what) {
    std::vector<VlanId> out;
    if (!n.IsSequence()) {
      error(n, fmt::format("{}: expected a list of VLANs like [10, 20]", what));
      return out;
    }
    for (auto x : n) {
      if (auto v = vid(x, what)) out.push_back(*v);
    }
    return out;
  }

  static bool valid_name(const std::string& s, size_t max) {
    if (s.empty() || s.size() > max || !std::isalpha(static_cast<unsigned char>(s[0])))
      return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    });
  }

  Interface parse_interface(const YAML::Node& n, const std::string& node) {
    Interface i;
    i.where = at(n);
    if (!n.IsMap()) {
      error(n, fmt::format("node {}: an interface is a map with name and addresses", node));
      return i;
    }
    check_keys(n, {"name", "mac", "ipv4", "ipv6", "addresses"}, "interface");
    if (n["name"]) {
      if (auto s = str(n["name"], "interface name")) i.name = *s;
      if (!i.name.empty() && !valid_name(i.name, 15)) {
        error(n["name"], fmt::format("interface name '{}': expected 1..15 letters, digits, '-' or "
                                     "'_', starting with a letter",
                                     i.name));
      }
    } else {
      error(n, fmt::format("node {}: interface without a name", node));
    }
    if (n["mac"]) {
      if (auto s = str(n["mac"], "mac")) {
        auto m = packet::MacAddress::parse(*s);
        if (!m) {
          error(n["mac"], m.error().message);
        } else if (m->is_multicast() || m->is_zero()) {
          error(n["mac"], fmt::format("MAC {} is not a unicast address", *s));
        } else {
          i.mac = *m;
        }
      }
    }
    auto add_addr = [&](const YAML::Node& a, bool want_v6) {
      auto s = str(a, "address");
      if (!s) return;
      auto p = packet::IpPrefix::parse(*s);
      if (!p) return error(a, p.error().message);
      if (p->v6 != want_v6)
        return error(a, fmt::format("'{}' is not an IPv{} address", *s, want_v6 ? 6 : 4));
      i.addresses.push_back(*p);
    };
    for (const char* key : {"ipv4", "ipv6"}) {
      auto v = n[key];
      if (!v) continue;
      bool v6 = std::string(key) == "ipv6";
      if (v.IsSequence()) {
        for (auto a : v) add_addr(a, v6);
      } else {
        add_addr(v, v6);
      }
    }
    if (auto v = n["addresses"]) {
      for (auto a : v) {
        auto s = str(a, "address");
        if (!s) continue;
        add_addr(a, s->find(':') != std::string::npos);
      }
    }
    return i;
  }

  void parse_node(const YAML::Node& n, NodeKind kind) {
    Node node;
    node.kind = kind;
    node.where = at(n);
    const char* what = kind == NodeKind::kSwitch ? "switch"
                       : kind == NodeKind::kHost ? "host"
                                                 : "router";
    if (!n.IsMap()) return error(n, fmt::format("a {} is a map with at least a name", what));
    if (kind == NodeKind::kSwitch) {
      check_keys(n, {"name", "vlans"}, "switch");
    } else {
      check_keys(n,
                 {"name", "interfaces", "gateway", "gateway6", "routes", "nftables", "commands",
                  "listen", "vrrp"},
                 what);
    }
    if (!n["name"]) return error(n, fmt::format("{} without a name", what));
    node.name = str(n["name"], "name").value_or("");
    if (!valid_name(node.name, 24)) {
      error(
          n["name"],
          fmt::format(
              "node name '{}': expected 1..24 letters, digits, '-' or '_', starting with a letter",
              node.name));
    }
    if (node.name == "vnet")
      error(n["name"], "node name 'vnet' is reserved for the lab's dataplane namespace");
    if (kind == NodeKind::kSwitch) {
      if (n["vlans"]) node.vlans = vid_list(n["vlans"], "switch " + node.name + " vlans");
    } else {
      if (auto ifs = n["interfaces"]) {
        if (!ifs.IsSequence()) {
          error(ifs, "interfaces: expected a list");
        } else {
          for (auto i : ifs) node.interfaces.push_back(parse_interface(i, node.name));
        }
      }
      std::set<std::string> seen;
      for (auto& i : node.interfaces) {
        if (!i.name.empty() && !seen.insert(i.name).second) {
          error(i.where, fmt::format("node {}: interface {} is declared twice", node.name, i.name));
        }
      }
      if (auto g = n["gateway"]) {
        if (auto s = str(g, "gateway")) {
          auto a = packet::Ipv4Address::parse(*s);
          if (!a)
            error(g, a.error().message);
          else
            node.gateway = *a;
          if (a) gateways_.push_back({node.name, *s, false, at(g)});
        }
      }
      if (auto g = n["gateway6"]) {
        if (auto s = str(g, "gateway6")) {
          auto a = packet::Ipv6Address::parse(*s);
          if (!a)
            error(g, a.error().message);
          else
            node.gateway6 = *a;
          if (a) gateways_.push_back({node.name, *s, true, at(g)});
        }
      }
      if (auto rs = n["routes"]) {
        for (auto r : rs) {
          check_keys(r, {"to", "via"}, "route");
          Route route;
          route.where = at(r);
          if (!r.IsMap() || !r["to"] || !r["via"]) {
            error(r, "a route is a map {to: PREFIX|default, via: ADDRESS}");
            continue;
          }
          std::string to = r["to"].as<std::string>(), via = r["via"].as<std::string>();
          bool v6 = via.find(':') != std::string::npos;
          if (to == "default") to = v6 ? "::/0" : "0.0.0.0/0";
          auto p = packet::IpPrefix::parse(to);
          if (!p) {
            error(r["to"], p.error().message);
            continue;
          }
          route.to = *p;
          route.via = via;
          if (v6 ? !packet::Ipv6Address::parse(via).ok() : !packet::Ipv4Address::parse(via).ok()) {
            error(r["via"],
                  fmt::format("route via '{}': expected an IPv{} address", via, p->v6 ? 6 : 4));
            continue;
          }
          if (p->v6 != v6) {
            error(r, fmt::format("route to {} via {}: address families differ", to, via));
            continue;
          }
          gateways_.push_back({node.name, via, v6, at(r["via"])});
          node.routes.push_back(route);
        }
      }
      if (auto nf = n["nftables"]) {
        if (kind != NodeKind::kRouter) error(nf, "nftables rulesets belong to routers");
        node.nftables = str(nf, "nftables").value_or("");
      }
      if (auto v = n["vrrp"]) parse_vrrp(v, node);
      if (auto cs = n["commands"]) {
        if (!cs.IsSequence())
          error(cs, "commands: expected a list of shell commands");
        else
          for (auto c : cs) node.commands.push_back(str(c, "command").value_or(""));
      }
      if (auto ls = n["listen"]) {
        if (!ls.IsSequence()) {
          error(ls, "listen: expected a list of TCP ports like [22, 80]");
        } else {
          for (auto p : ls) {
            auto v = integer(p, "listen port");
            if (v && (*v < 1 || *v > 65535))
              error(p, fmt::format("TCP port {} out of range, expected 1..65535", *v));
            else if (v)
              node.listen.push_back(static_cast<uint16_t>(*v));
          }
        }
      }
    }
    topo_.nodes.push_back(std::move(node));
  }

  // Reads a keepalived.conf named in the topology (relative to the topology file).
  bool read_conf(const YAML::Node& where, const std::string& f, VrrpSpec& spec,
                 std::string& label) {
    std::filesystem::path p = f;
    if (p.is_relative()) p = std::filesystem::path(file_).parent_path() / p;
    std::ifstream in(p);
    if (!in) {
      error(where, fmt::format("vrrp file {}: cannot open", p.string()));
      return false;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    spec.config = ss.str();
    label = p.string();
    return true;
  }

  // Forms: a map {config: TEXT | file: PATH, daemon: vnet|keepalived}; or a scalar
  // "PATH" (vnet's daemon) or "keepalived PATH" (Debian's keepalived, for comparison).
  void parse_vrrp(const YAML::Node& v, Node& node) {
    if (node.kind != NodeKind::kRouter) return error(v, "vrrp runs on routers");
    VrrpSpec spec;
    spec.where = at(v);
    std::string label = "\x01inline";  // replaced by file:line of the YAML block below
    int base = 0;
    if (v.IsScalar()) {
      auto w = words(v.as<std::string>());
      if (w.size() == 2 && (w[0] == "keepalived" || w[0] == "vnet")) {
        spec.daemon = w[0];
        w.erase(w.begin());
      }
      if (w.size() != 1 || w[0] == "keepalived" || w[0] == "vnet") {
        return error(v,
                     "vrrp: expected a keepalived.conf path, 'keepalived PATH' or a map with "
                     "config or file (and daemon)");
      }
      if (!read_conf(v, w[0], spec, label)) return;
    } else if (!v.IsMap()) {
      return error(v,
                   "vrrp: expected a map with config (keepalived.conf text) or file, and daemon");
    } else {
      check_keys(v, {"config", "file", "daemon"}, "vrrp");
      base = v["config"] ? at(v["config"]).line : 0;
      if (v["config"] && v["file"]) return error(v, "vrrp: give either config or file, not both");
      if (v["config"]) {
        spec.config = v["config"].as<std::string>();
      } else if (v["file"]) {
        if (!read_conf(v["file"], v["file"].as<std::string>(), spec, label)) return;
      } else {
        return error(v, "vrrp: expected config (keepalived.conf text) or file");
      }
      if (v["daemon"]) {
        spec.daemon = v["daemon"].as<std::string>();
        if (spec.daemon != "vnet" && spec.daemon != "keepalived") {
          error(v["daemon"],
                fmt::format("vrrp daemon '{}': expected vnet or keepalived", spec.daemon));
        }
      }
    }
    auto parsed = vrrp::parse_keepalived_conf(spec.config, label);
    if (!parsed) {
      // Inline errors point into the topology file: the block's line plus the line inside it.
      std::istringstream lines(parsed.error().message);
      for (std::string l; std::getline(lines, l);) {
        if (l.rfind(label + ":", 0) == 0) {
          size_t colon = l.find(':', label.size() + 1);
          int inner = std::atoi(l.substr(label.size() + 1).c_str());
          error(Where{file_, base + inner}, "keepalived config: " + l.substr(colon + 2));
        } else {
          error(v, "keepalived config: " + l);
        }
      }
      return;
    }
    spec.parsed = std::move(*parsed);
    for (auto& in : spec.parsed.instances) {
      if (!node.interface(in.interface)) {
        error(v, fmt::format("vrrp instance {} uses interface {}, which router {} does not have",
                             in.name, in.interface, node.name));
      }
    }
    node.vrrp = std::move(spec);
  }

  // "sw1", "sw1:3", "pc1:eth0"
  std::optional<Endpoint> endpoint(const YAML::Node& n) {
    auto s = str(n, "link endpoint");
    if (!s) return std::nullopt;
    Endpoint e;
    auto colon = s->find(':');
    e.node = s->substr(0, colon);
    const Node* node = topo_.node(e.node);
    if (!node) {
      error(n, fmt::format("link to nowhere: no node named '{}'", e.node));
      return std::nullopt;
    }
    std::string rest = colon == std::string::npos ? "" : s->substr(colon + 1);
    if (node->kind == NodeKind::kSwitch) {
      if (!rest.empty()) {
        try {
          size_t used = 0;
          unsigned long p = std::stoul(rest, &used);
          if (used != rest.size() || p < 1 || p > 65535) throw std::out_of_range("port");
          e.port = static_cast<uint32_t>(p);
        } catch (...) {
          error(n, fmt::format("switch port '{}' in '{}': expected a number 1..65535", rest, *s));
          return std::nullopt;
        }
      }
    } else {
      if (rest.empty()) {
        if (node->interfaces.size() == 1) {
          rest = node->interfaces[0].name;
        } else {
          error(n, fmt::format("link endpoint '{}': name the interface (NODE:IFACE), {} has {}", *s,
                               e.node, node->interfaces.size()));
          return std::nullopt;
        }
      }
      if (!node->interface(rest)) {
        error(n, fmt::format("link to nowhere: node {} has no interface '{}'", e.node, rest));
        return std::nullopt;
      }
      e.interface = rest;
    }
    return e;
  }

  void parse_link(const YAML::Node& n) {
    check_keys(n, {"endpoints", "vlan", "trunk", "native"}, "link");
    Link link;
    link.where = at(n);
    auto eps = n["endpoints"];
    if (!eps || !eps.IsSequence() || eps.size() != 2) {
      return error(
          n, "a link needs endpoints: [A, B] (a node interface and a switch, or two switches)");
    }
    auto a = endpoint(eps[0]), b = endpoint(eps[1]);
    if (!a || !b) return;
    const Node* na = topo_.node(a->node);
    const Node* nb = topo_.node(b->node);
    bool sa = na->kind == NodeKind::kSwitch, sb = nb->kind == NodeKind::kSwitch;
    if (!sa && !sb)
      return error(n, fmt::format("link {}–{}: one end must be a switch", a->node, b->node));
    if (sa && !sb) std::swap(a, b), std::swap(na, nb), std::swap(sa, sb);
    link.a = *a;
    link.b = *b;
    link.switch_to_switch = sa && sb;
    if (link.switch_to_switch && a->node == b->node)
      return error(n, fmt::format("link from switch {} to itself", a->node));
    // Mode.
    bool has_vlan = static_cast<bool>(n["vlan"]), has_trunk = static_cast<bool>(n["trunk"]);
    if (has_vlan && has_trunk)
      return error(n, "a link is either 'vlan: N' (access) or 'trunk: [..]', not both");
    if (link.switch_to_switch && !has_trunk)
      return error(n, fmt::format("switch link {}–{} needs 'trunk: [VLANS]'", a->node, b->node));
    std::optional<VlanId> native;
    if (n["native"]) {
      if (!has_trunk) error(n["native"], "'native' goes with 'trunk'");
      native = vid(n["native"], "native VLAN");
    }
    if (has_trunk) {
      link.mode = bridge::PortConfig::trunk(vid_list(n["trunk"], "trunk"), native);
    } else if (has_vlan) {
      auto v = vid(n["vlan"], "vlan");
      link.mode = bridge::PortConfig::access(v.value_or(1));
    } else {
      link.mode = bridge::PortConfig::access(1);
    }
    for (const Node* sw : {nb, sa ? na : nullptr}) {
      if (!sw) continue;
      for (VlanId v : link.mode.members()) {
        if (std::find(sw->vlans.begin(), sw->vlans.end(), v) == sw->vlans.end() && v != 1) {
          error(n, fmt::format("VLAN {} is not declared on switch {} (its vlans: [{}])", v,
                               sw->name, fmt::join(sw->vlans, ", ")));
        }
      }
    }
    topo_.links.push_back(std::move(link));
  }

  Step parse_step(const YAML::Node& n, bool inner = false) {
    Step st;
    st.where = at(n);
    if (!n.IsMap()) {
      error(n, "a step is a map like {ping: \"pc1 pc2\", expect: reach}");
      return st;
    }
    check_keys(n,
               {"ping", "ping6", "tcp", "exec", "link", "wait_until", "kill", "stop", "start",
                "vrrp_master", "failover", "expect", "within"},
               "step");
    int kinds = 0;
    for (const char* k : {"ping", "ping6", "tcp", "exec", "link", "wait_until", "kill", "stop",
                          "start", "vrrp_master", "failover"})
      kinds += n[k] ? 1 : 0;
    if (kinds != 1) {
      error(n,
            "a step has exactly one of ping, ping6, tcp, exec, link, wait_until, kill, stop, "
            "start, vrrp_master, failover");
      return st;
    }
    std::string expect = n["expect"] ? n["expect"].as<std::string>() : "";
    auto need_node = [&](const std::string& name, const YAML::Node& where) {
      if (!topo_.node(name))
        error(where, fmt::format("unknown node '{}'", name));
      else if (topo_.node(name)->kind == NodeKind::kSwitch)
        error(where, fmt::format("'{}' is a switch: probes run on hosts and routers", name));
    };
    if (n["ping"] || n["ping6"]) {
      auto v = n["ping"] ? n["ping"] : n["ping6"];
      st.kind = Step::Kind::kPing;
      st.ipv6 = !n["ping"];
      st.args = words(v.as<std::string>());
      st.expect = expect.empty() ? "reach" : expect;
      st.text = fmt::format("{} {} expect {}", st.ipv6 ? "ping6" : "ping", v.as<std::string>(),
                            st.expect);
      if (st.args.size() != 2)
        error(v, "ping: expected 'FROM TO' (TO a node or an address)");
      else {
        need_node(st.args[0], v);
        targets_.push_back({st.args[1], st.ipv6, at(v)});
      }
      if (st.expect != "reach" && st.expect != "unreachable")
        error(n["expect"], fmt::format("ping expects reach or unreachable, got '{}'", st.expect));
    } else if (n["tcp"]) {
      st.kind = Step::Kind::kTcp;
      auto w = words(n["tcp"].as<std::string>());
      st.expect = expect.empty() ? "open" : expect;
      st.text = fmt::format("tcp {} expect {}", n["tcp"].as<std::string>(), st.expect);
      auto colon = w.size() == 2 ? w[1].rfind(':') : std::string::npos;
      if (w.size() != 2 || colon == std::string::npos) {
        error(n["tcp"], "tcp: expected 'FROM TO:PORT'");
      } else {
        st.args = {w[0], w[1].substr(0, colon), w[1].substr(colon + 1)};
        need_node(st.args[0], n["tcp"]);
        targets_.push_back({st.args[1], false, at(n["tcp"])});
        int port = std::atoi(st.args[2].c_str());
        if (port < 1 || port > 65535)
          error(n["tcp"],
                fmt::format("tcp: port '{}' out of range, expected 1..65535", st.args[2]));
      }
      if (st.expect != "open" && st.expect != "closed")
        error(n["expect"], fmt::format("tcp expects open or closed, got '{}'", st.expect));
    } else if (n["exec"]) {
      st.kind = Step::Kind::kExec;
      std::string s = n["exec"].as<std::string>();
      auto sp = s.find(' ');
      st.args = {s.substr(0, sp), sp == std::string::npos ? "" : s.substr(sp + 1)};
      need_node(st.args[0], n["exec"]);
      if (st.args[1].empty()) error(n["exec"], "exec: expected 'NODE COMMAND…'");
      st.exit_code = expect.empty() ? 0 : std::atoi(expect.c_str());
      st.text = fmt::format("exec {} expect exit {}", s, st.exit_code);
    } else if (n["link"]) {
      st.kind = Step::Kind::kLink;
      st.args = words(n["link"].as<std::string>());
      st.text = "link " + n["link"].as<std::string>();
      if (st.args.size() != 3 || (st.args[2] != "up" && st.args[2] != "down")) {
        error(n["link"], "link: expected 'X Y up|down'");
      } else {
        link_steps_.push_back({st.args[0], st.args[1], at(n["link"])});
      }
    } else if (n["kill"] || n["stop"] || n["start"]) {
      const char* k = n["kill"] ? "kill" : n["stop"] ? "stop" : "start";
      st.kind = n["kill"] ? Step::Kind::kKill : n["stop"] ? Step::Kind::kStop : Step::Kind::kStart;
      st.args = words(n[k].as<std::string>());
      st.text = fmt::format("{} {}", k, n[k].as<std::string>());
      if (st.args.size() != 1)
        error(n[k], fmt::format("{}: expected one node", k));
      else
        need_node(st.args[0], n[k]);
    } else if (n["vrrp_master"]) {
      st.kind = Step::Kind::kVrrpMaster;
      auto w = words(n["vrrp_master"].as<std::string>());
      st.text = "vrrp_master " + n["vrrp_master"].as<std::string>();
      if (w.size() != 3 || w[1] != "is") {
        error(n["vrrp_master"], "vrrp_master: expected 'GROUP is NODE'");
      } else {
        st.args = {w[0], w[2]};
        need_node(w[2], n["vrrp_master"]);
        groups_.push_back({w[0], at(n["vrrp_master"])});
      }
    } else if (n["failover"]) {
      st.kind = Step::Kind::kFailover;
      auto w = words(n["failover"].as<std::string>());
      st.text = "failover " + n["failover"].as<std::string>();
      if (w.size() != 3 || w[1] != "<") {
        error(n["failover"], "failover: expected 'GROUP < DURATION' (e.g. 'VI_10 < 4s')");
      } else {
        st.args = {w[0]};
        groups_.push_back({w[0], at(n["failover"])});
        char* end = nullptr;
        double v = std::strtod(w[2].c_str(), &end);
        std::string unit = end ? end : "";
        if (unit == "ms")
          v /= 1000;
        else if (unit != "s")
          error(n["failover"],
                fmt::format("failover duration '{}': expected a number with s or ms", w[2]));
        st.within_s = v;
      }
    } else if (auto w = n["wait_until"]) {
      st.kind = Step::Kind::kWaitUntil;
      if (inner) error(n, "wait_until cannot be nested");
      st.inner.push_back(parse_step(w, true));
      if (!n["within"]) {
        error(n, "wait_until needs 'within: DURATION' (e.g. 5s, 500ms)");
      } else {
        std::string d = n["within"].as<std::string>();
        char* end = nullptr;
        double v = std::strtod(d.c_str(), &end);
        std::string unit = end ? end : "";
        if (unit == "ms")
          v /= 1000;
        else if (unit != "s" && !unit.empty())
          error(n["within"], fmt::format("duration '{}': expected a number with s or ms", d));
        if (v <= 0 || v > 600)
          error(n["within"],
                fmt::format("duration '{}': expected more than 0 and at most 600 s", d));
        st.within_s = v;
      }
      st.text = fmt::format("wait_until {} within {}", st.inner.empty() ? "" : st.inner[0].text,
                            n["within"] ? n["within"].as<std::string>() : "?");
    }
    if (n["within"] && st.kind != Step::Kind::kWaitUntil)
      error(n["within"], "'within' goes with wait_until");
    return st;
  }

  void validate_global() {
    // Duplicate names.
    std::map<std::string, const Node*> names;
    for (auto& n : topo_.nodes) {
      if (n.name.empty()) continue;
      auto [it, fresh] = names.emplace(n.name, &n);
      if (!fresh)
        error(n.where, fmt::format("node name '{}' is used twice (first at line {})", n.name,
                                   it->second->where.line));
    }
    // Ports and interfaces used twice, and auto port numbers.
    std::map<std::pair<std::string, uint32_t>, int> ports;
    std::map<std::pair<std::string, std::string>, int> ifaces;
    for (auto& l : topo_.links) {
      auto use_port = [&](const Endpoint& e) {
        if (!e.port) return;
        auto [it, fresh] = ports.emplace(std::pair{e.node, *e.port}, l.where.line);
        if (!fresh)
          error(l.where, fmt::format("port {}:{} is used twice (also at line {})", e.node, *e.port,
                                     it->second));
      };
      if (l.switch_to_switch)
        use_port(l.a);
      else {
        auto [it, fresh] = ifaces.emplace(std::pair{l.a.node, l.a.interface}, l.where.line);
        if (!fresh)
          error(l.where, fmt::format("interface {}:{} is linked twice (also at line {})", l.a.node,
                                     l.a.interface, it->second));
      }
      use_port(l.b);
    }
    for (auto& n : topo_.nodes) {
      for (auto& i : n.interfaces) {
        if (!ifaces.count({n.name, i.name})) {
          error(i.where,
                fmt::format(
                    "interface {}:{} is not connected: add a link with endpoints [{}:{}, SWITCH]",
                    n.name, i.name, n.name, i.name));
        }
      }
    }
    // Duplicate addresses and MACs.
    std::map<std::string, std::string> addrs, macs;
    for (auto& n : topo_.nodes) {
      for (auto& i : n.interfaces) {
        for (auto& a : i.addresses) {
          std::string key = a.address_string();
          auto [it, fresh] = addrs.emplace(key, n.name + ":" + i.name);
          if (!fresh)
            error(i.where, fmt::format("duplicate address {} (also on {})", key, it->second));
        }
        if (i.mac) {
          auto [it, fresh] = macs.emplace(i.mac->to_string(), n.name + ":" + i.name);
          if (!fresh)
            error(i.where,
                  fmt::format("duplicate MAC {} (also on {})", i.mac->to_string(), it->second));
        }
      }
    }
    // Gateways and route next hops must be on a connected subnet of the node.
    for (auto& g : gateways_) {
      const Node* n = topo_.node(g.node);
      auto gw = packet::IpPrefix::parse(g.address + (g.v6 ? "/128" : "/32"));
      bool on_link = false;
      for (auto& i : n->interfaces) {
        for (auto& a : i.addresses) on_link |= gw && a.contains(*gw);
      }
      if (!on_link)
        error(g.where,
              fmt::format("gateway {} of {} is off-subnet: no interface of {} is in its network",
                          g.address, g.node, g.node));
    }
    // Probe targets: a node with an address of that family, or an address.
    for (auto& t : targets_) {
      if (topo_.node(t.target)) {
        if (!topo_.address_of(t.target, t.v6))
          error(t.where,
                fmt::format("node {} has no IPv{} address to probe", t.target, t.v6 ? 6 : 4));
      } else if (!packet::Ipv4Address::parse(t.target).ok() &&
                 !packet::Ipv6Address::parse(t.target).ok()) {
        error(t.where, fmt::format("unknown node or address '{}'", t.target));
      }
    }
    // VRRP groups named by steps must exist on some router.
    for (auto& g : groups_) {
      if (topo_.group_vips(g.name).empty()) {
        error(g.where,
              fmt::format("no VRRP instance or sync group named '{}' on any router", g.name));
      }
    }
    // link steps must name an existing link.
    for (auto& ls : link_steps_) {
      bool found = false;
      for (auto& l : topo_.links) {
        auto match = [&](const std::string& x, const std::string& y) {
          return (l.a.node == x || l.a.node + ":" + l.a.interface == x) && l.b.node == y;
        };
        found |= match(ls.x, ls.y) || match(ls.y, ls.x);
      }
      if (!found) error(ls.where, fmt::format("link step: no link between {} and {}", ls.x, ls.y));
    }
    // Switch loops: the dataplane has no STP yet, a cycle of trunks would storm.
    std::map<std::string, std::string> parent;
    std::function<std::string(const std::string&)> root = [&](const std::string& x) {
      auto it = parent.find(x);
      if (it == parent.end() || it->second == x) return x;
      return it->second = root(it->second);
    };
    for (auto& l : topo_.links) {
      if (!l.switch_to_switch) continue;
      std::string ra = root(l.a.node), rb = root(l.b.node);
      if (ra == rb) {
        error(
            l.where,
            fmt::format(
                "switch link {}–{} closes a loop: vnet has no STP yet, remove one link of the loop",
                l.a.node, l.b.node));
      } else {
        parent[ra] = rb;
      }
    }
  }

  // yaml-cpp reports a value of the wrong shape (a list where a word belongs…) by throwing: that
  // stops here, as one more diagnostic with its position.
  Result<Topology> parse(const std::string& text) {
    try {
      return parse_unchecked(text);
    } catch (const YAML::Exception& e) {
      return make_error(
          EINVAL,
          "{}:{}:{}: {} (a value has the wrong shape: a list or map where a single value belongs?)",
          file_, e.mark.line + 1, e.mark.column + 1, e.msg);
    }
  }

  Result<Topology> parse_unchecked(const std::string& text) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      return make_error(EINVAL, "{}:{}:{}: YAML syntax: {}", file_, e.mark.line + 1,
                        e.mark.column + 1, e.msg);
    }
    topo_.file = file_;
    if (!root.IsMap())
      return make_error(
          EINVAL, "{}:1: expected a map with name, switches, hosts, routers, links, scenarios",
          file_);
    check_keys(root, {"name", "switches", "hosts", "routers", "links", "scenarios"}, "the lab");
    if (!root["name"]) {
      error(Where{file_, 1}, "the lab needs a name (name: campus)");
    } else {
      topo_.name = str(root["name"], "name").value_or("");
      if (!valid_name(topo_.name, 12)) {
        error(
            root["name"],
            fmt::format(
                "lab name '{}': expected 1..12 letters, digits, '-' or '_', starting with a letter",
                topo_.name));
      }
    }
    auto seq = [&](const char* key) {
      YAML::Node n = root[key];
      if (n && !n.IsSequence()) {
        error(n, fmt::format("{}: expected a list", key));
        return YAML::Node(YAML::NodeType::Sequence);
      }
      return n ? n : YAML::Node(YAML::NodeType::Sequence);
    };
    for (auto n : seq("switches")) parse_node(n, NodeKind::kSwitch);
    for (auto n : seq("hosts")) parse_node(n, NodeKind::kHost);
    for (auto n : seq("routers")) parse_node(n, NodeKind::kRouter);
    if (topo_.of_kind(NodeKind::kSwitch).empty())
      error(Where{file_, 1}, "a lab needs at least one switch");
    for (auto n : seq("links")) parse_link(n);
    for (auto s : seq("scenarios")) {
      Scenario sc;
      sc.where = at(s);
      check_keys(s, {"name", "steps"}, "scenario");
      sc.name = s["name"] ? s["name"].as<std::string>()
                          : fmt::format("scenario-{}", topo_.scenarios.size() + 1);
      if (!s["steps"] || !s["steps"].IsSequence())
        error(s, fmt::format("scenario {}: expected steps: [...]", sc.name));
      else
        for (auto st : s["steps"]) sc.steps.push_back(parse_step(st));
      topo_.scenarios.push_back(std::move(sc));
    }
    validate_global();
    if (!diags_.empty()) {
      std::sort(diags_.begin(), diags_.end(),
                [](auto& a, auto& b) { return a.where.line < b.where.line; });
      std::string msg;
      for (auto& d : diags_) msg += d.str() + "\n";
      msg.pop_back();
      return Error{EINVAL, msg};
    }
    return std::move(topo_);
  }

 private:
  struct GatewayRef {
    std::string node, address;
    bool v6;
    Where where;
  };
  struct TargetRef {
    std::string target;
    bool v6;
    Where where;
  };
  struct LinkStepRef {
    std::string x, y;
    Where where;
  };
  struct GroupRef {
    std::string name;
    Where where;
  };
  std::vector<GroupRef> groups_;
  std::string file_;
  Topology topo_;
  std::vector<Diagnostic> diags_;
  std::vector<GatewayRef> gateways_;
  std::vector<TargetRef> targets_;
  std::vector<LinkStepRef> link_steps_;
};

}  // namespace

std::vector<const Node*> Topology::of_kind(NodeKind k) const {
  std::vector<const Node*> out;
  for (auto& n : nodes) {
    if (n.kind == k) out.push_back(&n);
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

std::vector<packet::IpPrefix> Topology::group_vips(const std::string& group) const {
  std::vector<packet::IpPrefix> out;
  for (auto& n : nodes) {
    if (!n.vrrp) continue;
    const auto& c = n.vrrp->parsed;
    std::vector<std::string> members = {group};
    for (auto& g : c.sync_groups) {
      if (g.name == group) members = g.instances;
    }
    for (auto& in : c.instances) {
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
    if (n.vrrp) out.push_back(n.name);
  }
  return out;
}

Result<Topology> parse_topology(const std::string& text, const std::string& file) {
  Parser p(file);
  return p.parse(text);
}

Result<Topology> load_topology(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(ENOENT, "{}: cannot open the topology file", path);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_topology(ss.str(), path);
}

}  // namespace vnet::lab
