// Node kind "external": a host interface (a physical NIC, a bridge, a TAP, a VLAN device) as a
// port of a lab switch, access or trunk like any link, so the lab joins a real network with its
// 802.1Q tags (docs/topology.md "External interfaces").
//
// The interface stays where it is, in the network namespace `vnet lab up` runs in (the host's):
// the dataplane, in its own namespace `<lab>-vnet`, opens its AF_PACKET socket there
// (`afpacket:IF,netns=/proc/PID/ns/net`, io/backend.hh), so nothing about the interface moves.
// The kernel hands the switch every frame the interface receives with its tag (PACKET_AUXDATA
// puts back a tag the NIC took off), and the switch sends tagged frames as its port mode says.
//
// What `up` changes, and `down` puts back (lab_down → restore_externals):
//  - admin state: an interface found down is set up (frames do not flow otherwise) and set down
//    again by `down`; one found up is left up;
//  - promiscuous mode: the socket's PACKET_MR_PROMISC membership, which the kernel drops when the
//    dataplane's socket closes (the interface's own promisc flag is never written);
//  - nothing else: no address, route, MTU, master or namespace is touched.
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

#include "io/netlink.hh"
#include "lab/external.hh"
#include "lab/node_kind.hh"
#include "lab/reader.hh"
#include "lab/registry.hh"
#include "lab/runtime.hh"

namespace vnet::lab {
namespace {

constexpr const char* kFacts = "externals";

struct ExternalSpec final : NodeSpec {
  std::string device;  // the host interface
};

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
           "real network, tags and all. It stays in the host's namespace; `down` leaves it as "
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
          true}}};
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
    return rt.record_fact(kFacts, n.name,
                          {{"interface", dev},
                           {"ifindex", info->ifindex},
                           {"netns_inode", *ns},
                           {"was_up", info->up}});
  }

  Result<std::string> attach(const Node& n, const Link&, LabRuntime&) const override {
    const std::string& dev = n.as<ExternalSpec>().device;
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

  nlohmann::json status(const Node& n, const Topology&) const override {
    return {{"interface", n.as<ExternalSpec>().device}};
  }
};

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
