// Step `nac_port`: whether a switch port that authenticates (IEEE 802.1X-2010, docs/nac.md) is
// open, and in which VLAN, as `nac/show` reports it. The port is named as in `stp_port`:
//   nac_port: SW PEER [expect authorized|unauthorized] [vlan N] [within T]
//   SW PEER      SW's port on the link to PEER (NODE or NODE:IFACE); the link has `auth`
//   expect       authorized (the default) or unauthorized
//   vlan: N      with authorized: the VLAN the port is in — the one RADIUS assigned
//                (Tunnel-Private-Group-Id, RFC 3580 §3.31), else the link's own
//   within: T    poll nac/show every 100 ms until it holds (default: look once); the time it
//                took is reported as the measurement nac.ms (an 802.1X or MAC authentication
//                time, counted from the step's start)
// The report line says what the port is: its state, open or not, method, identity, VLAN, and the
// last failure (a reject, a silent server) when it is closed.

#include <map>
#include <thread>

#include "base/parse.hh"
#include "lab/registry.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"

namespace vnet::lab {
namespace {

using nlohmann::json;

struct NacPortSpec final : StepSpec {
  std::string sw, peer;
  size_t link = 0;
  bool authorized = true;
  std::optional<bridge::VlanId> vlan;
  Duration within{0};
};

// Options written inline after SW PEER: "expect X", "vlan N", "within T", in any order.
bool inline_options(const std::vector<std::string>& w, const YAML::Node& v, Reader& r,
                    std::map<std::string, std::string>& out) {
  for (size_t i = 2; i < w.size(); i += 2) {
    if ((w[i] != "expect" && w[i] != "vlan" && w[i] != "within") || i + 1 >= w.size()) {
      r.error(v, fmt::format("nac_port: '{}': expected 'SWITCH PEER [expect authorized|"
                             "unauthorized] [vlan N] [within T]'",
                             w[i]));
      return false;
    }
    if (!out.emplace(w[i], w[i + 1]).second) {
      r.error(v, fmt::format("nac_port: {} is given twice", w[i]));
      return false;
    }
  }
  return true;
}

class NacPortStep final : public StepKind {
 public:
  std::string_view name() const override { return "nac_port"; }
  KeySpec key() const override {
    return {"",
            schema::pattern("^\\S+\\s+\\S+(\\s+(expect|vlan|within)\\s+\\S+)*$",
                            "SWITCH PEER [expect authorized|unauthorized] [vlan N] [within T]"),
            "whether SWITCH's authenticating port toward PEER (NODE[:IFACE]) is authorised, and "
            "its VLAN, from `nac/show`"};
  }
  std::vector<KeySpec> options() const override {
    return {expect_key({"authorized", "unauthorized"}, "the port's state (default authorized)"),
            {"vlan", schema::ref("vid"),
             "with authorized: the port's VLAN (RADIUS-assigned, else the link's)"},
            {"within", schema::ref("duration"),
             "poll until it holds, up to this long (default: look once); reports nac.ms"}};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node& step, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, "nac_port");
    if (!s) return nullptr;
    auto w = Reader::words(*s);
    if (w.size() < 2) {
      r.error(v,
              "nac_port: expected 'SWITCH PEER [expect authorized|unauthorized] [vlan N] "
              "[within T]'");
      return nullptr;
    }
    std::map<std::string, std::string> opts;
    if (!inline_options(w, v, r, opts)) return nullptr;
    for (const char* key : {"expect", "vlan", "within"}) {
      if (!step[key]) continue;
      if (opts.count(key)) {
        r.error(step[key], fmt::format("nac_port: {} is given twice (inline and as a key)", key));
        return nullptr;
      }
      auto t = r.str(step[key], std::string("nac_port ") + key);
      if (!t) return nullptr;
      opts[key] = *t;
    }
    auto spec = std::make_shared<NacPortSpec>();
    spec->sw = w[0];
    spec->peer = w[1];
    if (!r.topo().is_switch(spec->sw)) {
      r.error(v, fmt::format("nac_port: '{}' is not a switch", spec->sw));
      return nullptr;
    }
    bool ok = true;
    if (opts.count("expect")) {
      const std::string& e = opts["expect"];
      if (e != "authorized" && e != "unauthorized") {
        r.error(step["expect"] ? step["expect"] : v,
                fmt::format("nac_port expects authorized or unauthorized, got '{}'", e));
        ok = false;
      }
      spec->authorized = e == "authorized";
    }
    if (opts.count("vlan")) {
      auto n = parse_int_as<bridge::VlanId>(opts["vlan"], 1, 4094);
      if (!n) {
        r.error(step["vlan"] ? step["vlan"] : v,
                fmt::format("nac_port vlan: {}", n.error().message));
        ok = false;
      } else if (!spec->authorized) {
        r.error(step["vlan"] ? step["vlan"] : v,
                "nac_port: vlan goes with expect authorized (a closed port has no VLAN)");
        ok = false;
      } else {
        spec->vlan = *n;
      }
    }
    if (opts.count("within")) {
      auto d =
          parse_duration(opts["within"], std::chrono::milliseconds(100), std::chrono::seconds(600));
      if (!d) {
        r.error(step["within"] ? step["within"] : v,
                fmt::format("nac_port within: {}", d.error().message));
        ok = false;
      } else {
        spec->within = *d;
      }
    }
    auto link = find_link(spec->sw, spec->peer, "nac_port", v, r);
    if (!link) return nullptr;
    const Link& l = r.topo().links[*link];
    if (l.switch_to_switch || l.b.node != spec->sw) {
      r.error(v,
              fmt::format("nac_port: {} is not a node facing a port of {}", spec->peer, spec->sw));
      return nullptr;
    }
    if (!l.auth) {
      r.error(v, fmt::format("nac_port: {}'s port toward {} does not authenticate (its link, "
                             "line {}, has no auth)",
                             spec->sw, spec->peer, l.where.line));
      return nullptr;
    }
    spec->link = *link;
    if (!ok) return nullptr;
    text =
        fmt::format("nac_port {} {} expect {}{}{}", spec->sw, spec->peer,
                    spec->authorized ? "authorized" : "unauthorized",
                    spec->vlan ? fmt::format(" vlan {}", *spec->vlan) : "",
                    spec->within > Duration{0} ? " within " + format_duration(spec->within) : "");
    return spec;
  }

  Outcome run(const Step& st, ScenarioContext& ctx, bool quick) const override {
    const auto& s = st.as<NacPortSpec>();
    const Link& l = ctx.topo().links.at(s.link);
    std::string where =
        fmt::format("{} port {} (to {}:{})", s.sw, l.port_b, l.a.node, l.a.interface);
    if (auto off = refuse_if_off(s.sw, ctx)) return *off;
    auto dp = ctx.lab().dataplane();
    if (!dp) return {false, dp.error().message};
    auto start = std::chrono::steady_clock::now();
    auto deadline = start + (quick ? Duration{0} : s.within);
    // The port's own VLAN when RADIUS assigns none.
    bridge::VlanId own = l.mode.mode == bridge::PortConfig::Mode::kAccess
                             ? l.mode.access_vlan
                             : l.mode.native_vlan.value_or(0);
    for (;;) {
      auto nac = (*dp)->nac(s.sw);
      if (!nac) return {false, nac.error().message};
      const json* port = nullptr;
      if (auto ps = nac->find("ports"); ps != nac->end() && ps->is_array()) {
        for (const auto& p : *ps) {
          if (p.value("port", uint64_t{0}) == l.port_b) port = &p;
        }
      }
      if (!port) return {false, fmt::format("{}: not in nac/show", where)};
      bool open = port->value("authorized", false);
      std::optional<bridge::VlanId> vlan;
      if (auto v = port->find("vlan"); v != port->end() && v->is_number_unsigned()) {
        vlan = v->get<bridge::VlanId>();
      } else if (own != 0) {
        vlan = own;
      }
      bool ok = open == s.authorized && (!s.vlan || (vlan && *vlan == *s.vlan));
      auto now = std::chrono::steady_clock::now();
      if (ok || now >= deadline) {
        std::string what = fmt::format("{}: {}", where, open ? "authorized" : "unauthorized");
        if (!open) what += fmt::format(" ({})", json_text(*port, "state"));
        if (open) {
          what += fmt::format(" by {} for {}, VLAN {}", json_text(*port, "method"),
                              json_text(*port, "identity"),
                              vlan ? std::to_string(*vlan) : std::string("-"));
        } else if (auto f = port->find("last_failure"); f != port->end() && f->is_string()) {
          what += "; last failure: " + f->get<std::string>();
        }
        double ms = std::chrono::duration<double, std::milli>(now - start).count();
        Outcome out;
        out.passed = ok;
        if (ok && s.within > Duration{0}) {
          what += fmt::format(" after {:.0f} ms", ms);
          out.measurements.push_back({"nac.ms", ms, "ms"});
        }
        if (!ok) {
          what += fmt::format(", expected {}{}{}", s.authorized ? "authorized" : "unauthorized",
                              s.vlan ? fmt::format(" in VLAN {}", *s.vlan) : "",
                              s.within > Duration{0} ? " within " + format_duration(s.within) : "");
        }
        out.detail = what;
        return out;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
};

}  // namespace

std::unique_ptr<StepKind> make_nac_port_step() { return std::make_unique<NacPortStep>(); }

}  // namespace vnet::lab
