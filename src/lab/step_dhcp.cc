// Step `dhcp`: a DHCP exchange (RFC 2131 §3.1) from a node, with busybox udhcpc in the node's
// namespace and view.
//   dhcp: NODE[:IFACE] [expect PREFIX | ADDRESS | none]
//   expect: 10.0.10.0/24     the lease lies in this prefix (also written inline, as above)
//   expect: 10.0.10.12       the lease is exactly this address
//   expect: none             no server answers within `within` (default: any lease)
//   within: 15s              how long udhcpc keeps asking (default 15 s)
// A lease is applied as a distribution's client script would: the address on the interface, the
// default route through the offered router, and (for a node with its own view) the offered DNS
// servers and domain in its /etc/resolv.conf — later `ping`, `tcp` and `dns` steps use them. The
// client sends the node's name (option 12), so a network's DNS serves NODE.DOMAIN for it. The
// exchange time is reported as the measurement dhcp.ms.

#include <sys/stat.h>

#include <fstream>

#include "base/parse.hh"
#include "lab/netns.hh"
#include "lab/node_kind.hh"
#include "lab/registry.hh"
#include "lab/runtime.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"

namespace vnet::lab {
namespace {

constexpr const char* kScript = R"(#!/bin/sh
# udhcpc event script written by vnet's dhcp step.
case "$1" in
  deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
  bound | renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    for r in $router; do ip route replace default via "$r" dev "$interface"; break; done
    if [ -n "$VNET_DHCP_RESOLV" ]; then
      : > /etc/resolv.conf
      [ -n "$domain" ] && echo "search $domain" >> /etc/resolv.conf
      for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    fi
    echo "vnet-lease $ip/${mask:-24} server=$serverid router=$router dns=$dns"
    ;;
esac
exit 0
)";

struct DhcpSpec final : StepSpec {
  std::string node, interface;
  std::optional<packet::IpPrefix> prefix;  // lease inside (length < 32) or equal (32)
  bool none = false;
  Duration within{std::chrono::seconds(15)};
};

class DhcpStep final : public StepKind {
 public:
  std::string_view name() const override { return "dhcp"; }
  KeySpec key() const override {
    return {"", schema::pattern("^\\S+(\\s+expect\\s+\\S+)?$", "NODE[:IFACE] [expect X]"),
            "runs a DHCP client (busybox udhcpc) on the node's interface and applies the lease"};
  }
  std::vector<KeySpec> options() const override {
    return {{"expect", schema::string("PREFIX | ADDRESS | none"),
             "the lease lies in PREFIX, equals ADDRESS, or none comes (default: any lease)"},
            {"within", schema::ref("duration"), "how long the client asks (default 15 s)"}};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node& step, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, "dhcp");
    if (!s) return nullptr;
    auto w = Reader::words(*s);
    std::string expect;
    if (w.size() == 3 && w[1] == "expect") {
      expect = w[2];
    } else if (w.size() != 1) {
      r.error(v, "dhcp: expected 'NODE[:IFACE]' or 'NODE[:IFACE] expect PREFIX|ADDRESS|none'");
      return nullptr;
    }
    if (step["expect"]) {
      if (!expect.empty()) {
        r.error(step["expect"], "dhcp: expect is given twice (inline and as a key)");
        return nullptr;
      }
      expect = r.str(step["expect"], "dhcp expect").value_or("");
    }
    auto spec = std::make_shared<DhcpSpec>();
    auto colon = w[0].find(':');
    spec->node = w[0].substr(0, colon);
    if (!check_prober(spec->node, v, r)) return nullptr;
    const Node* n = r.topo().node(spec->node);
    if (colon != std::string::npos) {
      spec->interface = w[0].substr(colon + 1);
      if (!n->interface(spec->interface)) {
        r.error(v, fmt::format("dhcp: {} has no interface '{}'", spec->node, spec->interface));
        return nullptr;
      }
    } else if (n->interfaces.size() == 1) {
      spec->interface = n->interfaces[0].name;
    } else {
      r.error(v, fmt::format("dhcp: {} has {} interfaces: name one (NODE:IFACE)", spec->node,
                             n->interfaces.size()));
      return nullptr;
    }
    if (expect == "none") {
      spec->none = true;
    } else if (!expect.empty()) {
      auto p =
          packet::IpPrefix::parse(expect.find('/') == std::string::npos ? expect + "/32" : expect);
      if (!p || p->v6) {
        r.error(step["expect"] ? step["expect"] : v,
                fmt::format("dhcp expect '{}': expected an IPv4 prefix, an IPv4 address or none",
                            expect));
        return nullptr;
      }
      spec->prefix = *p;
    }
    if (step["within"]) {
      auto d =
          r.duration(step["within"], "within", std::chrono::seconds(1), std::chrono::seconds(600));
      if (!d) return nullptr;
      spec->within = *d;
    }
    text = fmt::format("dhcp {}:{} expect {}", spec->node, spec->interface,
                       expect.empty() ? "a lease" : expect);
    return spec;
  }

  Outcome run(const Step& st, ScenarioContext& ctx, bool quick) const override {
    const auto& s = st.as<DhcpSpec>();
    if (auto off = refuse_if_off(s.node, ctx)) return *off;
    LabRuntime& rt = ctx.lab();
    std::string script = rt.state_dir() + "/dhcp-step.udhcpc";
    { std::ofstream(script) << kScript; }
    ::chmod(script.c_str(), 0755);
    auto within = quick ? std::min<Duration>(s.within, std::chrono::seconds(2)) : s.within;
    long tries = std::max<long>(
        1, static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(within).count()));
    pid_t view = rt.view_of(s.node);
    std::vector<std::string> argv = {"/usr/bin/env"};
    if (view > 0) argv.push_back("VNET_DHCP_RESOLV=1");
    argv.insert(argv.end(), {"busybox", "udhcpc", "-f", "-q", "-n", "-i", s.interface, "-t",
                             std::to_string(tries), "-T", "1", "-A", "1", "-x",
                             "hostname:" + s.node, "-s", script});
    auto t0 = std::chrono::steady_clock::now();
    auto r = run_captured(ctx.topo().netns(s.node), argv, view, within + std::chrono::seconds(2),
                          16 * 1024);
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!r) return {false, r.error().message};
    std::string lease, rest;
    auto at = r->out.find("vnet-lease ");
    if (at != std::string::npos) {
      auto end = r->out.find('\n', at);
      std::string line = r->out.substr(at + 11, end - at - 11);
      auto sp = line.find(' ');
      lease = line.substr(0, sp);
      rest = sp == std::string::npos ? "" : line.substr(sp + 1);
    }
    Outcome o;
    o.err = r->err.size() > 2000 ? r->err.substr(r->err.size() - 2000) : r->err;
    if (lease.empty()) {
      o.passed = s.none;
      o.detail = fmt::format("{}:{}: no lease within {} s (udhcpc exit {})", s.node, s.interface,
                             tries, r->status);
      return o;
    }
    o.measurements.push_back({"dhcp.ms", ms, "ms"});
    auto got = packet::IpPrefix::parse(lease);
    o.detail =
        fmt::format("{}:{} leased {} ({}) in {:.0f} ms", s.node, s.interface, lease, rest, ms);
    if (s.none) {
      o.detail += "; expected none";
      return o;
    }
    if (!got) {
      o.detail += "; not an address";
      return o;
    }
    if (s.prefix) {
      packet::IpPrefix host = *got;
      host.length = 32;
      bool ok = s.prefix->length == 32 ? got->v4addr == s.prefix->v4addr : s.prefix->contains(host);
      o.passed = ok;
      if (!ok)
        o.detail += fmt::format("; expected {}", s.prefix->length == 32
                                                     ? s.prefix->address_string()
                                                     : "inside " + s.prefix->to_string());
      return o;
    }
    o.passed = true;
    return o;
  }
};

}  // namespace

std::unique_ptr<StepKind> make_dhcp_step() { return std::make_unique<DhcpStep>(); }

}  // namespace vnet::lab
