// Node kind "external": a host interface (a physical NIC, a bridge, a TAP, a VLAN device) as a
// port of a lab switch, access or trunk like any link, so the lab joins a real network with its
// 802.1Q tags (docs/topology.md "External interfaces").
//
// By default the interface stays where it is, in the network namespace `vnet lab up` runs in
// (the host's): the dataplane, in its own namespace `<lab>-vnet`, opens its AF_PACKET socket
// there (`afpacket:IF,netns=/proc/PID/ns/net`, io/backend.hh), so nothing about the interface
// moves. With `move: true` the interface leaves the host for the switch's namespace (as an
// administrator does by hand with `ip link set IF netns …`): the host's stack, its addresses and
// its services no longer see it, the switch's socket opens it there. `down` moves it back
// before the namespace goes (the kernel would delete a virtual interface, a veth, with the
// namespace) and gives it back what the move took: addresses (the kernel drops them on a move),
// MTU and admin state; its name and MAC travel with it.
// The kernel hands the switch every frame the interface receives with its tag (PACKET_AUXDATA
// puts back a tag the NIC took off), and the switch sends tagged frames as its port mode says.
//
// What `up` changes, and `down` puts back (lab_down → restore_externals):
//  - admin state: an interface found down is set up (frames do not flow otherwise) and set down
//    again by `down`; one found up is left up;
//  - promiscuous mode: the socket's PACKET_MR_PROMISC membership, which the kernel drops when the
//    dataplane's socket closes (the interface's own promisc flag is never written);
//  - nothing else: no address, route, MTU, master or namespace is touched (unless `move`).
// What the interface was is recorded in the lab's state (facts.externals) before anything
// changes, so `down` restores it also after a crash of `up`. `down` touches the interface only
// while it is the one found (same namespace, same ifindex): a re-created interface of the same
// name is left alone, and said so.
//
// Power: an external node is the outside world, it has none (kill/stop/start refuse). A
// `link NODE SW down` step (or the switch's power-off) darkens the switch's port only; the host
// interface keeps its carrier.
//
// Validation warns (Reader::warn) when an external trunk carries two or more VLANs that one lab
// router routes between: a machine on the outside network can then send into each of those VLANs
// directly and reach their hosts without passing the router's filtering.

#include <sys/stat.h>
#include <unistd.h>

#include <ostream>
#include <set>
#include <thread>

#include "io/netlink.hh"
#include "lab/external.hh"
#include "lab/netns.hh"
#include "lab/node_kind.hh"
#include "lab/reader.hh"
#include "lab/registry.hh"
#include "lab/runtime.hh"

namespace vnet::lab {
namespace {

constexpr const char* kFacts = "externals";

struct ExternalSpec final : NodeSpec {
  std::string device;  // the host interface
  bool move = false;   // into the switch's namespace while the lab runs
};

constexpr auto kIpDeadline = std::chrono::seconds(10);
constexpr auto kCarrierWait = std::chrono::seconds(3);

// Runs iproute2's `ip` in the namespace `vnet lab up` runs in (ARGS after "ip"); its stdout.
Result<std::string> ip(std::vector<std::string> args) {
  args.insert(args.begin(), "ip");
  auto r = run_captured("", args, 0, kIpDeadline, 1 << 20);
  if (!r) return r.error();
  if (r->status != 0 || r->timed_out) {
    std::string cmd;
    for (auto& a : args) cmd += (cmd.empty() ? "" : " ") + a;
    std::string err = r->err;
    while (!err.empty() && err.back() == '\n') err.pop_back();
    return make_error(EIO, "{}: {}", cmd, r->timed_out ? "timed out" : err);
  }
  return r->out;
}

// What a move takes from an interface: its MTU and addresses (`ip -j addr show`), IPv6
// link-local ones left out (the kernel makes them again when the interface comes up).
Result<nlohmann::json> movable_facts(const std::string& dev) {
  auto out = ip({"-j", "addr", "show", "dev", dev});
  if (!out) return out.error();
  auto j = nlohmann::json::parse(*out, nullptr, false);
  if (j.is_discarded() || !j.is_array() || j.empty() || !j[0].is_object())
    return make_error(EPROTO, "ip -j addr show dev {}: unexpected output '{}'", dev, *out);
  nlohmann::json addrs = nlohmann::json::array();
  for (const auto& a : j[0].value("addr_info", nlohmann::json::array())) {
    std::string family = a.value("family", ""), scope = a.value("scope", "");
    if (family == "inet6" && scope == "link") continue;
    if (family != "inet" && family != "inet6") continue;
    nlohmann::json addr = {{"local", a.value("local", "")}, {"prefixlen", a.value("prefixlen", 0)}};
    if (a.contains("broadcast")) addr["broadcast"] = a["broadcast"];
    if (a.contains("label") && a["label"] != dev) addr["label"] = a["label"];
    addrs.push_back(addr);
  }
  return nlohmann::json{
      {"ifindex", j[0].value("ifindex", 0)}, {"mtu", j[0].value("mtu", 0)}, {"addresses", addrs}};
}

// The inode of the calling process's network namespace: which namespace `up` found the
// interface in, so `down` from another one does not touch a namesake.
Result<uint64_t> own_netns() {
  struct stat st {};
  if (::stat("/proc/self/ns/net", &st) != 0) return system_error("stat /proc/self/ns/net");
  return static_cast<uint64_t>(st.st_ino);
}

// A name the kernel accepts for an interface (IFNAMSIZ, no '/', no whitespace) that also fits
// the backend spec and the link endpoint syntax (no ',' or ':').
bool valid_device(const std::string& s) {
  if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
  for (unsigned char c : s) {
    if (c <= ' ' || c >= 0x7f || c == '/' || c == ',' || c == ':') return false;
  }
  return true;
}

class ExternalKind final : public NodeKind {
 public:
  std::string_view name() const override { return "external"; }
  std::string_view section() const override { return "externals"; }
  std::string_view doc() const override {
    return "A host interface (NIC, bridge, TAP, VLAN device) as a switch port: the lab joins the "
           "real network, tags and all. It stays in the host's namespace unless `move: true`; "
           "`down` leaves it as "
           "`up` found it (docs/topology.md, \"External interfaces\").";
  }
  const KeyTable& keys() const override {
    static const KeyTable t{
        "external",
        {{"name", schema::ref("nodeName"),
          "node name (unique among all nodes); its link's node end (`endpoints: [NAME, SW]`)",
          true},
         {"interface", schema::string("a host interface name, 1–15 characters"),
          "the interface in the namespace `vnet lab up` runs in (the host's): a NIC, bridge, TAP "
          "or VLAN device; it must exist at `up`",
          true},
         {"move", schema::boolean(),
          "true: move the interface into the switch's namespace while the lab runs (the host "
          "no longer sees or uses it; `down` moves it back with its name, addresses, MTU and "
          "state). Default false: it stays in the host's namespace"}}};
    return t;
  }
  std::pair<std::string_view, std::string_view> graph_style() const override {
    return {"hexagon", "#f3e6cf"};
  }
  std::string rootless_refusal(const Node&) const override {
    return "a host interface is opened with AF_PACKET in the host's network namespace, which "
           "needs root (CAP_NET_RAW there); run the lab as root, or reach the outside through "
           "an uplink (uplinks:, docs/rootless.md)";
  }

  void parse(const YAML::Node& yaml, Node& n, Reader& r) const override {
    auto spec = std::make_shared<ExternalSpec>();
    n.spec = spec;
    if (auto v = yaml["move"]) {
      auto m = r.str(v, "move");
      if (m && *m != "true" && *m != "false")
        r.error(v, fmt::format("external {}: move '{}': expected true or false", n.name, *m));
      spec->move = m == "true";
    }
    if (!yaml["interface"]) return;  // check_keys said it is missing
    if (auto dev = r.str(yaml["interface"], "external interface")) {
      if (!valid_device(*dev)) {
        r.error(yaml["interface"],
                fmt::format("external {}: interface '{}': expected an interface name of 1 to 15 "
                            "characters without '/', ',', ':' or spaces",
                            n.name, *dev));
      } else {
        spec->device = *dev;
        Interface i;
        i.name = *dev;
        i.where = r.at(yaml["interface"]);
        n.interfaces.push_back(std::move(i));
      }
    }
  }

  // One node per host interface; the bypass warning: a trunk to the outside carrying VLANs a
  // router routes between.
  void validate(const Node& n, Reader& r) const override {
    const Topology& t = r.topo();
    for (const Node& other : t.nodes) {
      if (&other == &n) break;  // each pair once, at the later node
      if (other.kind == n.kind && !n.interfaces.empty() && !other.interfaces.empty() &&
          other.as<ExternalSpec>().device == n.as<ExternalSpec>().device) {
        r.error(n.interfaces.front().where,
                fmt::format("external {}: interface {} is external {}'s already (line {})", n.name,
                            n.as<ExternalSpec>().device, other.name, other.where.line));
      }
    }
    for (const Link* l : t.links_of(n.name)) {
      auto carried = l->mode.members();
      if (carried.size() < 2) continue;
      std::set<bridge::VlanId> out(carried.begin(), carried.end());
      for (const Node& router : t.nodes) {
        if (!router.kind->joins_tenants()) continue;
        std::set<bridge::VlanId> both;
        for (const Link* rl : t.links_of(router.name)) {
          for (auto v : rl->mode.members()) {
            if (out.count(v)) both.insert(v);
          }
        }
        if (both.size() < 2) continue;
        r.warn(l->where,
               fmt::format("external {} (interface {}) carries VLANs {} to the outside network, "
                           "and {} routes between them: a machine out there that tags its frames "
                           "reaches every one of these VLANs directly, past {}'s filtering "
                           "(docs/topology.md, \"External interfaces\")",
                           n.name, n.as<ExternalSpec>().device, fmt::join(both, ", "), router.name,
                           router.name));
      }
    }
  }

  // The interface exists here; what it is now is recorded before anything changes.
  Status create(const Node& n, LabRuntime& rt) const override {
    const std::string& dev = n.as<ExternalSpec>().device;
    auto nl = io::Netlink::open("the host's namespace");
    if (!nl) return nl.error();
    auto info = nl->link_info(dev);
    if (!info) {
      return make_error(ENODEV,
                        "{}: external {}: interface {} does not exist in the namespace `vnet lab "
                        "up` runs in (the host's); create it or name another",
                        n.interfaces.front().where.str(), n.name, dev);
    }
    auto ns = own_netns();
    if (!ns) return ns.error();
    nlohmann::json facts = {
        {"interface", dev}, {"ifindex", info->ifindex}, {"netns_inode", *ns}, {"was_up", info->up}};
    if (n.as<ExternalSpec>().move) {
      auto m = movable_facts(dev);
      if (!m) return make_error(m.error().code, "external {}: {}", n.name, m.error().message);
      facts["moved_to"] = rt.topo().switch_netns();
      facts.update(*m);
    }
    return rt.record_fact(kFacts, n.name, facts);
  }

  Result<std::string> attach(const Node& n, const Link&, LabRuntime& rt) const override {
    const std::string& dev = n.as<ExternalSpec>().device;
    if (n.as<ExternalSpec>().move) {
      // Into the switch's namespace (the dataplane's), up there; the socket opens it there.
      std::string ns = rt.topo().switch_netns();
      if (auto s = ip({"link", "set", "dev", dev, "netns", ns}); !s)
        return make_error(s.error().code, "external {}: moving {} into {}: {}", n.name, dev, ns,
                          s.error().message);
      if (auto s = ip({"-n", ns, "link", "set", "dev", dev, "up"}); !s)
        return make_error(s.error().code, "external {}: {}", n.name, s.error().message);
      // The switch takes the port's carrier from the interface when it attaches it (an
      // interface of its own namespace, Dataplane::watch_carrier): give the kernel the moment it
      // takes to report the carrier of an interface just set up (linkwatch). One without a
      // carrier after kCarrierWait (nothing plugged in out there) is attached as it is.
      auto end = std::chrono::steady_clock::now() + kCarrierWait;
      while (std::chrono::steady_clock::now() < end) {
        auto out = ip({"-n", ns, "-j", "link", "show", "dev", dev});
        if (out && out->find("\"LOWER_UP\"") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      return "afpacket:" + dev;
    }
    auto nl = io::Netlink::open("the host's namespace");
    if (!nl) return nl.error();
    auto info = nl->link_info(dev);
    if (!info) return make_error(ENODEV, "external {}: interface {} is gone", n.name, dev);
    if (!info->up) {
      if (auto s = nl->set_up(dev, true); !s) return s.error();
    }
    // The dataplane opens the socket while this process (and so this path) exists.
    return fmt::format("afpacket:{},netns=/proc/{}/ns/net", dev, ::getpid());
  }

  // The switch's port goes dark (the caller's doing); the host interface is not ours to pull.
  Status set_link(const Node&, const Link&, bool, LabRuntime&) const override { return {}; }

  nlohmann::json status(const Node& n, const Topology& t) const override {
    nlohmann::json j = {{"interface", n.as<ExternalSpec>().device}};
    if (n.as<ExternalSpec>().move) j["moved_to"] = t.switch_netns();
    return j;
  }
};

}  // namespace

namespace {

// An interface `up` moved into the switch's namespace (facts.moved_to) comes back to this one:
// down there, moved, then its MTU, addresses and admin state as `up` found them. One not in
// that namespace (never moved: `up` failed before; or back already) gets the same restoration
// here when it is this one (same ifindex).
Status move_back(const nlohmann::json& f, const std::string& dev) {
  std::string ns = f.value("moved_to", "");
  if (netns_exists(ns) && ip({"-n", ns, "link", "show", "dev", dev}).ok()) {
    if (auto s = ip({"-n", ns, "link", "set", "dev", dev, "down"}); !s) return s.error();
    if (auto s = ip({"-n", ns, "link", "set", "dev", dev, "netns", std::to_string(::getpid())}); !s)
      return make_error(s.error().code, "moving it back from {}: {}", ns, s.error().message);
  } else {
    auto now = movable_facts(dev);
    if (!now) return {};  // gone (a veth whose namespace went): nothing of ours on it
    if ((*now)["ifindex"] != f["ifindex"])
      return make_error(EEXIST, "it is another interface now (ifindex {}, {} when `up` found it)",
                        (*now)["ifindex"].dump(), f["ifindex"].dump());
  }
  if (f.contains("mtu") && f["mtu"].get<int>() > 0) {
    if (auto s = ip({"link", "set", "dev", dev, "mtu", std::to_string(f["mtu"].get<int>())}); !s)
      return s.error();
  }
  auto now = movable_facts(dev);
  if (!now) return now.error();
  for (const auto& a : f.value("addresses", nlohmann::json::array())) {
    bool present = false;
    for (const auto& b : (*now)["addresses"]) {
      present |= b["local"] == a["local"] && b["prefixlen"] == a["prefixlen"];
    }
    if (present) continue;
    std::vector<std::string> args = {
        "addr", "add",
        a["local"].get<std::string>() + "/" + std::to_string(a["prefixlen"].get<int>())};
    for (const char* k : {"broadcast", "label"}) {
      if (a.contains(k)) args.insert(args.end(), {k, a[k].get<std::string>()});
    }
    args.insert(args.end(), {"dev", dev});
    if (auto s = ip(args); !s) return s.error();
  }
  if (auto s = ip({"link", "set", "dev", dev, f.value("was_up", false) ? "up" : "down"}); !s)
    return s.error();
  return {};
}

}  // namespace

Status restore_externals(const nlohmann::json& state, std::ostream& progress) {
  auto facts = state.find("facts");
  if (facts == state.end() || !facts->contains(kFacts)) return {};
  Status result;
  auto ns = own_netns();
  std::optional<io::Netlink> nl;
  for (auto& item : (*facts)[kFacts].items()) {
    const std::string& node = item.key();  // not a structured binding: lambdas capture it
    const auto& f = item.value();
    std::string dev = f.value("interface", "");
    auto fail = [&](std::string why) {
      progress << fmt::format("  external {}: interface {} left as it is: {}\n", node, dev, why);
      if (result) result = make_error(EIO, "external {}: interface {}: {}", node, dev, why);
    };
    if (!ns || *ns != f.value("netns_inode", uint64_t{0})) {
      fail("`down` runs in another network namespace than `up` did; run it from there");
      continue;
    }
    if (f.contains("moved_to")) {
      if (auto s = move_back(f, dev); !s) fail(s.error().message);
      continue;
    }
    if (!nl) {
      auto n = io::Netlink::open("the host's namespace");
      if (!n) return n.error();
      nl.emplace(std::move(*n));
    }
    auto info = nl->link_info(dev);
    if (!info) continue;  // gone: nothing of ours on it
    if (info->ifindex != f.value("ifindex", 0)) {
      fail(fmt::format("it is another interface now (ifindex {}, {} when `up` found it)",
                       info->ifindex, f.value("ifindex", 0)));
      continue;
    }
    if (!f.value("was_up", true) && info->up) {
      if (auto s = nl->set_up(dev, false); !s) fail(s.error().message);
    }
  }
  return result;
}

std::unique_ptr<NodeKind> make_external_kind() { return std::make_unique<ExternalKind>(); }

}  // namespace vnet::lab
