// Step `lb_real`: whether a director's load balancer has a real server in its table — what
// `ipvsadm -Ln` would list — asked of the router's `vnet vrrp` daemon (`lb/show --json` on its
// console, STATE/NODE.vrrp.sock).
//   lb_real: NODE ADDR:PORT in    some virtual server of NODE sends new connections to ADDR:PORT
//   lb_real: NODE ADDR:PORT out   none does (removed by its checkers, or weight 0 inhibited)
// With wait_until it measures detection: from a real server's failure to its removal (`out`),
// from its recovery to its return (`in`), to the polling interval.

#include "console/console.hh"
#include "lab/registry.hh"
#include "lab/runtime.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"

namespace vnet::lab {
namespace {

struct LbRealSpec final : StepSpec {
  std::string node, real;
  bool in = true;
};

class LbRealStep final : public StepKind {
 public:
  std::string_view name() const override { return "lb_real"; }
  KeySpec key() const override {
    return {"", schema::pattern("^\\S+\\s+\\S+:[0-9]+\\s+(in|out)$", "NODE ADDR:PORT in|out"),
            "real server ADDR:PORT is in (or out of) the table of a virtual server of router "
            "NODE's vnet vrrp daemon (lb/show)"};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node&, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, "lb_real");
    if (!s) return nullptr;
    text = "lb_real " + *s;
    auto w = Reader::words(*s);
    if (w.size() != 3 || (w[2] != "in" && w[2] != "out") || w[1].find(':') == std::string::npos) {
      r.error(v, "lb_real: expected 'NODE ADDR:PORT in|out'");
      return nullptr;
    }
    const Node* n = r.topo().node(w[0]);
    if (!n || !r.topo().vrrp_config(*n)) {
      r.error(v,
              fmt::format("lb_real: {} is not a router with a vrrp (keepalived.conf) block", w[0]));
      return nullptr;
    }
    auto spec = std::make_shared<LbRealSpec>();
    spec->node = w[0];
    spec->real = w[1];
    spec->in = w[2] == "in";
    return spec;
  }
  Outcome run(const Step& st, ScenarioContext& ctx, bool) const override {
    const auto& s = st.as<LbRealSpec>();
    if (auto off = refuse_if_off(s.node, ctx)) return *off;
    const std::string sock = ctx.lab().state_dir() + "/" + s.node + ".vrrp.sock";
    auto c = console::Client::connect(sock);
    if (!c)
      return {false, fmt::format("{}'s vnet vrrp daemon does not answer on {}: {}", s.node, sock,
                                 c.error().message)};
    auto out = c->run("lb/show --json");
    if (!out) return {false, fmt::format("{}: lb/show: {}", s.node, out.error().message)};
    auto j = nlohmann::json::parse(*out, nullptr, false);
    if (j.is_discarded() || !j.is_array()) return {false, s.node + ": lb/show: not a JSON list"};
    std::vector<std::string> in, known;
    for (const auto& vs : j) {
      for (const auto& rs : vs.value("reals", nlohmann::json::array())) {
        if (rs.value("address", "") != s.real) continue;
        std::string svc = vs.value("service", "?");
        known.push_back(svc);
        if (rs.value("in_table", false) && rs.value("table_weight", 0) > 0) in.push_back(svc);
      }
    }
    if (known.empty())
      return {false, fmt::format("{} is no real server of {}'s virtual servers", s.real, s.node)};
    bool is_in = !in.empty();
    return {is_in == s.in,
            is_in ? fmt::format("{} in the table of {}", s.real, fmt::join(in, ", "))
                  : fmt::format("{} out of the table of {}", s.real, fmt::join(known, ", "))};
  }
};

}  // namespace

std::unique_ptr<StepKind> make_lb_real_step() { return std::make_unique<LbRealStep>(); }

}  // namespace vnet::lab
