// Step `link`: pulls or plugs a cable. Between switches both ports go down in the dataplane;
// between a node and a switch the node's kind takes the node side's carrier away (a namespace
// node: the switch end of its veth goes down). Pulling a cable is a fault for failover steps. A
// cable with a powered-off end (`kill`, `stop`) is refused: it is dark until that end boots.

#include "lab/node_kind.hh"
#include "lab/registry.hh"
#include "lab/runtime.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"

namespace vnet::lab {
namespace {

struct LinkSpec final : StepSpec {
  size_t link = 0;  // index into Topology::links
  bool up = false;
};

class LinkStep final : public StepKind {
 public:
  std::string_view name() const override { return "link"; }
  bool pollable() const override { return false; }
  KeySpec key() const override {
    return {"", schema::pattern("^\\S+\\s+\\S+\\s+(up|down)$", "X Y up|down"),
            "pulls (down) or plugs (up) the cable between X and Y (NODE[:IFACE] or SWITCH)"};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node&, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, "link");
    if (!s) return nullptr;
    text = "link " + *s;
    auto w = Reader::words(*s);
    if (w.size() != 3 || (w[2] != "up" && w[2] != "down")) {
      r.error(v, "link: expected 'X Y up|down'");
      return nullptr;
    }
    for (size_t i = 0; i < r.topo().links.size(); ++i) {
      const Link& l = r.topo().links[i];
      auto match = [&](const std::string& x, const std::string& y) {
        return (l.a.node == x || l.a.node + ":" + l.a.interface == x) && l.b.node == y;
      };
      if (match(w[0], w[1]) || match(w[1], w[0])) {
        auto spec = std::make_shared<LinkSpec>();
        spec->link = i;
        spec->up = w[2] == "up";
        return spec;
      }
    }
    r.error(v, fmt::format("link step: no link between {} and {}", w[0], w[1]));
    return nullptr;
  }
  Outcome run(const Step& st, ScenarioContext& ctx, bool) const override {
    const auto& s = st.as<LinkSpec>();
    const Link& l = ctx.topo().links.at(s.link);
    const char* state = s.up ? "up" : "down";
    // A cable of a powered-off node or switch is dark until it boots (then its boot decides).
    if (auto off = refuse_if_off(l.a.node, ctx)) return *off;
    if (auto off = refuse_if_off(l.b.node, ctx)) return *off;
    if (l.switch_to_switch) {
      auto dp = ctx.lab().dataplane();
      if (!dp) return {false, dp.error().message};
      if (!s.up) ctx.fault(l.a.node);
      if (auto r = (*dp)->set_link(l.a.node, l.port_a, s.up); !r) return {false, r.error().message};
      return {true, fmt::format("{}:{}–{}:{} {}", l.a.node, l.port_a, l.b.node, l.port_b, state)};
    }
    if (!s.up) ctx.fault(l.a.node);
    const Node& n = *ctx.topo().node(l.a.node);
    if (auto r = n.kind->set_link(n, l, s.up, ctx.lab()); !r) return {false, r.error().message};
    return {true,
            fmt::format("{}:{}–{}:{} {}", l.a.node, l.a.interface, l.b.node, l.port_b, state)};
  }
};

}  // namespace

std::unique_ptr<StepKind> make_link_step() { return std::make_unique<LinkStep>(); }

}  // namespace vnet::lab
