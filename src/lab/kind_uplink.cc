// Node kind "uplink": user-mode networking as a switch port (docs/rootless.md). The lab's VLAN
// reaches the outside through passt (https://passt.top): passt answers ARP, DHCP, DHCPv6/NDP and
// DNS for the hosts behind it and turns their TCP, UDP and ICMP echo into ordinary sockets of the
// namespace `vnet lab up` was started from — the host's, or for a rootless lab the user's own —
// so it needs no privilege at all and works the same with and without root.
//
// Wiring: the link's switch port listens on a QEMU stream socket `<state>/<node>.stream` (4-byte
// big-endian length + frame, io/qemu.cc), exactly as for a VM's NIC. `start` connects to it and
// hands the connected socket to passt as its `--fd 3` (passt speaks QEMU's stream protocol on
// it), then runs passt in the foreground in the namespace `up` started from
// (LabRuntime::start_service with an empty namespace), its pid recorded like every service so
// `down` stops it. passt logs to `<state>/<node>.passt.log`; its stdout and stderr go to
// `<state>/<node>.log`.
//
// passt serves one guest: its DHCP hands every client the same address (the outside's own, as
// passt does) and it answers the MAC it heard last. One uplink therefore serves one host, or a
// router that routes or NATs for the rest of the lab.
//
// Power: an uplink is the outside world; it has none (kill/stop/start refuse). A `link NODE SW
// down` step darkens the switch's port only.

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "base/fd.hh"
#include "lab/node_kind.hh"
#include "lab/reader.hh"
#include "lab/registry.hh"
#include "lab/runtime.hh"

namespace vnet::lab {
namespace {

constexpr const char* kPasst = "passt";
constexpr const char* kInterface = "uplink";  // the node's one interface (link endpoint NAME)

struct UplinkSpec final : NodeSpec {
  int64_t mtu = 1500;  // what passt's DHCP and NDP tell the hosts
};

std::string file_of(const LabRuntime& rt, const Node& n, const std::string& suffix) {
  return rt.state_dir() + "/" + n.name + suffix;
}

// A unix stream socket connected to `path` (the switch port's listener).
Result<UniqueFd> connect_unix(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path)
    return make_error(ENAMETOOLONG, "socket path {} is longer than {} bytes", path,
                      sizeof sa.sun_path - 1);
  std::memcpy(sa.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return system_error("socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
    return system_error("connect " + path);
  return fd;
}

class UplinkKind final : public NodeKind {
 public:
  std::string_view name() const override { return "uplink"; }
  std::string_view section() const override { return "uplinks"; }
  std::string_view doc() const override {
    return "User-mode networking as a switch port: passt gives the hosts behind it DHCP, DNS and "
           "NAT to the network `vnet lab up` runs in, without privileges, so it is the uplink of "
           "a rootless lab (docs/rootless.md). Its one interface is `uplink`: link it with "
           "`endpoints: [NAME, SW]`.";
  }
  const KeyTable& keys() const override {
    static const KeyTable t{
        "uplink",
        {{"name", schema::ref("nodeName"),
          "node name (unique among all nodes); its link's node end (`endpoints: [NAME, SW]`)",
          true},
         {"via", schema::enumeration({kPasst}), "the user-mode network program (default passt)"},
         {"mtu", schema::integer(576, 65520),
          "the MTU passt's DHCP and NDP announce (default 1500, the veths' MTU)"}}};
    return t;
  }
  std::pair<std::string_view, std::string_view> graph_style() const override {
    return {"hexagon", "#d8ecd0"};
  }

  void parse(const YAML::Node& yaml, Node& n, Reader& r) const override {
    auto spec = std::make_shared<UplinkSpec>();
    n.spec = spec;
    if (auto v = yaml["via"]) {
      auto s = r.str(v, "uplink via");
      if (s && *s != kPasst)
        r.error(v, fmt::format("uplink {}: via '{}': expected passt", n.name, *s));
    }
    if (auto v = yaml["mtu"]) spec->mtu = r.integer(v, "uplink mtu", 576, 65520).value_or(1500);
    Interface i;
    i.name = kInterface;
    i.where = n.where;
    n.interfaces.push_back(std::move(i));
  }

  Result<std::string> attach(const Node& n, const Link&, LabRuntime& rt) const override {
    std::string sock = file_of(rt, n, ".stream");
    if (sock.size() >= sizeof(sockaddr_un::sun_path))
      return make_error(ENAMETOOLONG,
                        "uplink {}: socket path {} is longer than {} bytes: use a shorter "
                        "VNET_STATE_DIR or lab name",
                        n.name, sock, sizeof(sockaddr_un::sun_path) - 1);
    return "qemu-stream:" + sock;
  }

  // The switch's port goes dark (the caller's doing); passt keeps its end.
  Status set_link(const Node&, const Link&, bool, LabRuntime&) const override { return {}; }

  Status start(const Node& n, LabRuntime& rt) const override {
    auto links = rt.topo().links_of(n.name);
    if (links.empty()) return {};  // not linked: nothing to serve
    const Link& link = *links.front();
    auto fd = connect_unix(file_of(rt, n, ".stream"));
    if (!fd)
      return make_error(fd.error().code, "uplink {}: the switch port's socket: {}", n.name,
                        fd.error().message);
    ServiceSpec s;
    s.argv = {kPasst,       "--foreground",
              "--fd",       "3",
              "--mtu",      std::to_string(n.as<UplinkSpec>().mtu),
              "--log-file", file_of(rt, n, ".passt.log")};
    s.what = n.name + " passt";
    s.log_file = file_of(rt, n, ".log");
    s.fd3 = fd->get();
    // Ready when the switch port has its client: passt ended (its outside has no usable
    // interface, say) closes the connection and darkens the port.
    std::string log = file_of(rt, n, ".passt.log");
    s.ready = [&rt, &link, log, name = n.name]() -> Status {
      auto dp = rt.dataplane();
      if (!dp) return dp.error();
      auto ports = (*dp)->ports(link.b.node);
      if (!ports) return ports.error();
      for (auto& p : *ports) {
        if (p.value("port", 0u) == link.port_b && p.value("active", false)) return {};
      }
      return make_error(ENOTCONN, "uplink {}: passt is not on switch port {}:{} (see {})", name,
                        link.b.node, link.port_b, log);
    };
    s.ready_within = std::chrono::milliseconds(3000);
    // The empty namespace: the one `up` started from (passt's outside).
    return rt.start_service(n, "", std::move(s));
  }

  nlohmann::json status(const Node& n, const Topology&) const override {
    return {{"via", kPasst}, {"mtu", n.as<UplinkSpec>().mtu}};
  }
};

}  // namespace

std::unique_ptr<NodeKind> make_uplink_kind() { return std::make_unique<UplinkKind>(); }

}  // namespace vnet::lab
