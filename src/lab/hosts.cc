#include "lab/hosts.hh"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>

#include "lab/node_kind.hh"
#include "lab/reader.hh"
#include "packet/address.hh"

namespace vnet::lab {

namespace {

constexpr size_t kMaxHostName = 16;
constexpr int kVnisPerCable = 4096;
constexpr int kMaxCables = 4095;  // k·4096 + 4094 stays below 2^24

// "192.0.2.1:4790", "[2001:db8::1]:4790"
std::string at_port(const LabHost& h, uint16_t port) {
  return h.v6 ? fmt::format("[{}]:{}", h.address, port) : fmt::format("{}:{}", h.address, port);
}

}  // namespace

const KeyTable& host_keys() {
  static const KeyTable t{
      "machine",
      {
          {"name", schema::pattern("^[A-Za-z][A-Za-z0-9_-]{0,15}$"),
           "1–16 letters, digits, - or _: what nodes' `machine` and `--host` name", true},
          {"address", schema::ref("ipAddress"),
           "underlay address (IPv4 or IPv6): VXLAN cables end here, Ansible connects here", true},
          {"user", schema::string(), "ssh user for Ansible (default: Ansible's)"},
          {"port", schema::integer(1, 65535), "ssh port for Ansible (default: Ansible's)"},
      }};
  return t;
}

KeySpec hosts_key() {
  return {"machines", schema::list(schema::ref("machine")),
          "machines the lab is split over (docs/multihost.md); none: one machine"};
}

KeyTable node_keys(const NodeKind& kind) {
  KeyTable t = kind.keys();
  t.keys.push_back({"machine", schema::ref("nodeName"),
                    "with `machines`: the machine this node runs on (default: placed by vnet)"});
  return t;
}

const LabHost* find_host(const Topology& topo, const std::string& name) {
  for (auto& h : topo.hosts) {
    if (h.name == name) return &h;
  }
  return nullptr;
}

void parse_hosts(const YAML::Node& value, Topology& topo, Reader& r) {
  std::map<std::string, int> names, addresses;
  for (auto n : r.list(value, "machines")) {
    if (!r.check_keys(n, host_keys())) continue;
    LabHost h;
    h.where = r.at(n);
    if (!n["name"] || !n["address"]) continue;  // check_keys reported it
    auto name = r.name(n["name"], "machine name", kMaxHostName);
    auto addr = r.str(n["address"], "machine address");
    if (!name || !addr) continue;
    h.name = *name;
    if (auto v4 = packet::Ipv4Address::parse(*addr)) {
      h.address = v4->to_string();
    } else if (auto v6 = packet::Ipv6Address::parse(*addr)) {
      h.address = v6->to_string();
      h.v6 = true;
    } else {
      r.error(n["address"], fmt::format("machine {}: address '{}' is not an IPv4 or IPv6 address",
                                        h.name, *addr));
      continue;
    }
    if (n["user"]) h.user = r.str(n["user"], "ssh user").value_or("");
    if (n["port"])
      h.port = static_cast<int>(r.integer(n["port"], "ssh port", 1, 65535).value_or(0));
    if (auto [it, fresh] = names.emplace(h.name, h.where.line); !fresh) {
      r.error(n["name"], fmt::format("machine name '{}' is used twice (first at line {})", h.name,
                                     it->second));
      continue;
    }
    if (auto [it, fresh] = addresses.emplace(h.address, h.where.line); !fresh) {
      r.error(n["address"],
              fmt::format("machine {}: address {} is also the address of the machine at "
                          "line {} (each machine needs its own underlay address)",
                          h.name, h.address, it->second));
      continue;
    }
    topo.hosts.push_back(std::move(h));
  }
  if (!topo.hosts.empty() && !topo.hosts.front().v6) {
    for (auto& h : topo.hosts) {
      if (h.v6)
        r.error(h.where,
                fmt::format("machine {}: every machine's underlay address is of one family "
                            "(the first machine's is IPv4, {} is IPv6)",
                            h.name, h.address));
    }
  } else if (!topo.hosts.empty()) {
    for (auto& h : topo.hosts) {
      if (!h.v6)
        r.error(h.where,
                fmt::format("machine {}: every machine's underlay address is of one family "
                            "(the first machine's is IPv6, {} is IPv4)",
                            h.name, h.address));
    }
  }
}

void parse_node_host(const YAML::Node& yaml, Node& node, Reader& r) {
  if (!yaml["machine"]) return;
  auto h = r.str(yaml["machine"], "machine");
  if (!h) return;
  if (r.topo().hosts.empty()) {
    r.error(yaml["machine"], fmt::format("node {} is placed on machine '{}' but the lab has no "
                                         "machines: list them under `machines:` (name and address)",
                                         node.name, *h));
    return;
  }
  if (!find_host(r.topo(), *h)) {
    std::vector<std::string> known;
    for (auto& x : r.topo().hosts) known.push_back(x.name);
    r.error(yaml["machine"], fmt::format("node {}: no machine named '{}' (machines: {})", node.name,
                                         *h, fmt::join(known, ", ")));
    return;
  }
  node.host = *h;
}

void place_nodes(Topology& t, Reader& r) {
  if (t.hosts.empty()) return;
  std::map<std::string, size_t> load;
  for (auto& n : t.nodes) {
    if (!n.host.empty()) ++load[n.host];
  }
  auto rank = [&](const std::string& host) {
    for (size_t i = 0; i < t.hosts.size(); ++i) {
      if (t.hosts[i].name == host) return i;
    }
    return t.hosts.size();
  };
  // Switches: where most of their placed neighbours are, else the least loaded host.
  for (auto& sw : t.nodes) {
    if (!sw.kind->is_switch() || !sw.host.empty()) continue;
    std::map<std::string, int> votes;
    for (auto& l : t.links) {
      if (l.switch_to_switch || l.b.node != sw.name) continue;
      const Node* n = t.node(l.a.node);
      if (n && !n->host.empty()) ++votes[n->host];
    }
    std::string best;
    for (auto& [h, v] : votes) {
      if (best.empty() || v > votes[best] || (v == votes[best] && rank(h) < rank(best))) best = h;
    }
    if (best.empty()) {
      for (auto& h : t.hosts) {
        if (best.empty() || load[h.name] < load[best]) best = h.name;
      }
    }
    sw.host = best;
    ++load[best];
  }
  // Other nodes: with the switch of their first link.
  for (auto& n : t.nodes) {
    if (n.kind->is_switch() || !n.host.empty()) continue;
    for (auto& l : t.links) {
      if (!l.switch_to_switch && l.a.node == n.name) {
        n.host = t.node(l.b.node)->host;
        break;
      }
    }
    if (n.host.empty()) n.host = t.hosts.front().name;  // unlinked: reported elsewhere
  }
  for (auto& l : t.links) {
    if (l.switch_to_switch) continue;
    const Node* a = t.node(l.a.node);
    const Node* b = t.node(l.b.node);
    if (a->host == b->host) continue;
    r.error(
        l.where,
        fmt::format("link {}:{}–{} crosses machines ({} on {}, {} on {}): only links between two "
                    "switches may cross machines (they become VXLAN cables); put {} on {} "
                    "(machine: {}) or move the switch",
                    l.a.node, l.a.interface, l.b.node, l.a.node, a->host, l.b.node, b->host,
                    l.a.node, b->host, b->host));
  }
  if (cross_cables(t).size() > static_cast<size_t>(kMaxCables))
    r.error(Where{t.file, 1}, fmt::format("more than {} links cross machines", kMaxCables));
}

std::vector<CrossCable> cross_cables(const Topology& t) {
  std::vector<CrossCable> out;
  for (size_t i = 0; i < t.links.size(); ++i) {
    const Link& l = t.links[i];
    if (!l.switch_to_switch) continue;
    const Node* a = t.node(l.a.node);
    const Node* b = t.node(l.b.node);
    if (!a || !b || a->host == b->host) continue;
    CrossCable c;
    c.link = i;
    c.number = static_cast<int>(out.size()) + 1;
    c.udp_port = static_cast<uint16_t>(kCableUdpPortBase + out.size());
    for (bridge::VlanId v : l.mode.members())
      c.vnis[v] = static_cast<uint32_t>(c.number * kVnisPerCable + v);
    out.push_back(std::move(c));
  }
  return out;
}

Result<Topology> share_of(const Topology& t, const std::string& host,
                          const std::string& underlay_netns) {
  const LabHost* me = find_host(t, host);
  if (!me) {
    std::vector<std::string> known;
    for (auto& x : t.hosts) known.push_back(x.name);
    return make_error(ENOENT, "{}: no machine named '{}' (machines: {})", t.file, host,
                      known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", ")));
  }
  Topology s;
  s.name = t.name;
  s.file = t.file;
  s.hosts = t.hosts;
  s.share = host;
  s.capture_dir = t.capture_dir;
  for (auto& n : t.nodes) {
    if (n.host == host) s.nodes.push_back(n);
  }
  auto here = [&](const std::string& node) { return t.node(node)->host == host; };
  std::map<size_t, const CrossCable*> cables;
  auto cc = cross_cables(t);
  for (auto& c : cc) cables[c.link] = &c;
  for (size_t i = 0; i < t.links.size(); ++i) {
    const Link& l = t.links[i];
    bool ha = here(l.a.node), hb = here(l.b.node);
    if (ha && hb) {
      s.links.push_back(l);
      continue;
    }
    if (!ha && !hb) continue;
    // A cross-host cable: this side becomes b, a vxlan port toward the other host.
    const CrossCable& c = *cables.at(i);
    Link x = l;
    x.switch_to_switch = false;
    if (ha) {
      std::swap(x.a, x.b);
      std::swap(x.port_a, x.port_b);
      std::swap(x.stp_a, x.stp_b);
      std::swap(x.impair_ab, x.impair_ba);
    }
    // Each side impairs what arrives from the far side (its `in`); what it sends is the far
    // side's arrival, impaired there: each direction once.
    x.impair_ba.reset();
    const LabHost& far = *find_host(t, t.node(x.a.node)->host);
    x.mode = bridge::PortConfig::trunk(l.mode.members(), std::nullopt);
    std::string spec = "vxlan:" + at_port(*me, c.udp_port);
    for (auto& [vid, vni] : c.vnis) spec += fmt::format(",map={}:{}", vid, vni);
    for (auto& [vid, vni] : c.vnis)
      spec += fmt::format(",flood={}@{}", vni, at_port(far, c.udp_port));
    if (!underlay_netns.empty()) spec += ",netns=" + underlay_netns;
    x.backend = spec;
    x.device.clear();
    s.links.push_back(std::move(x));
  }
  for (auto& c : t.captures) {
    if (here(c.node)) s.captures.push_back(c);
  }
  return s;
}

Result<std::string> own_netns_path() {
  struct stat self {};
  if (::stat("/proc/self/ns/net", &self) < 0) return system_error("stat /proc/self/ns/net");
  auto same = [&](const std::string& p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0 && st.st_dev == self.st_dev && st.st_ino == self.st_ino;
  };
  if (same("/proc/1/ns/net")) return std::string("/proc/1/ns/net");
  std::error_code ec;
  for (auto& e : std::filesystem::directory_iterator("/run/netns", ec)) {
    if (same(e.path().string())) return e.path().string();
  }
  return make_error(ENOENT,
                    "this process's network namespace has no name that outlives it (neither the "
                    "initial one nor one under /run/netns): run `vnet lab up --host` in the "
                    "namespace of the host's underlay address");
}

nlohmann::json plan_json(const Topology& t) {
  nlohmann::json hosts = nlohmann::json::array();
  for (auto& h : t.hosts) {
    nlohmann::json nodes = nlohmann::json::array();
    for (auto& n : t.nodes) {
      if (n.host == h.name) nodes.push_back(n.name);
    }
    hosts.push_back({{"name", h.name}, {"address", h.address}, {"nodes", nodes}});
  }
  nlohmann::json cables = nlohmann::json::array();
  for (auto& c : cross_cables(t)) {
    const Link& l = t.links[c.link];
    nlohmann::json vnis = nlohmann::json::object();
    for (auto& [vid, vni] : c.vnis) vnis[std::to_string(vid)] = vni;
    cables.push_back({{"a", l.a.node},
                      {"a_host", t.node(l.a.node)->host},
                      {"b", l.b.node},
                      {"b_host", t.node(l.b.node)->host},
                      {"udp_port", c.udp_port},
                      {"vnis", vnis}});
  }
  return {{"lab", t.name}, {"hosts", hosts}, {"cables", cables}};
}

std::string plan_text(const Topology& t) {
  if (t.hosts.empty())
    return fmt::format("lab {}: on one machine (the file lists no machines)\n", t.name);
  std::string out = fmt::format("lab {} over {} machines\n", t.name, t.hosts.size());
  for (auto& h : t.hosts) {
    std::vector<std::string> nodes;
    for (auto& n : t.nodes) {
      if (n.host == h.name) nodes.push_back(n.name);
    }
    out += fmt::format("  machine {:<10} {:<16} {}\n", h.name, h.address,
                       nodes.empty() ? "(nothing)" : fmt::format("{}", fmt::join(nodes, " ")));
  }
  for (auto& c : cross_cables(t)) {
    const Link& l = t.links[c.link];
    std::vector<std::string> vnis;
    for (auto& [vid, vni] : c.vnis) vnis.push_back(fmt::format("{}:{}", vid, vni));
    out +=
        fmt::format("  cable {}@{} – {}@{} udp {} vlan:vni {}\n", l.a.node, t.node(l.a.node)->host,
                    l.b.node, t.node(l.b.node)->host, c.udp_port, fmt::join(vnis, " "));
  }
  return out;
}

std::string ansible_inventory(const Topology& t, const std::string& vnet_binary) {
  std::string out =
      fmt::format("# generated by `vnet lab inventory` from {}\n[vnet_lab]\n", t.file);
  for (auto& h : t.hosts) {
    out += fmt::format("{} ansible_host={}", h.name, h.address);
    if (h.port) out += fmt::format(" ansible_port={}", h.port);
    if (!h.user.empty()) out += fmt::format(" ansible_user={}", h.user);
    out += "\n";
  }
  out += fmt::format("\n[vnet_lab:vars]\nvnet_binary={}\n", vnet_binary);
  return out;
}

}  // namespace vnet::lab
