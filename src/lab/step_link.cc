// Step `link`: pulls or plugs a cable, or makes it silent. Between switches both ports go down
// in the dataplane; between a node and a switch the node's kind takes the node side's carrier
// away (a namespace node: the switch end of its veth goes down). `silent` (between switches only)
// keeps the carrier but drops every frame both ways (Dataplane::set_silent): a link that fails
// without either end seeing it go down, so spanning tree notices only when BPDUs stop arriving;
// `up` ends it. Pulling a cable and making it silent are faults for failover and converge steps.
// A cable with a powered-off end (`kill`, `stop`) is refused: it is dark until that end boots.

#include "lab/node_kind.hh"
#include "lab/registry.hh"
#include "lab/runtime.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"

namespace vnet::lab {
namespace {

enum class LinkChange { kUp, kDown, kSilent };

struct LinkSpec final : StepSpec {
  size_t link = 0;  // index into Topology::links
  LinkChange change = LinkChange::kDown;
};

const char* change_name(LinkChange c) {
  switch (c) {
    case LinkChange::kUp:
      return "up";
    case LinkChange::kDown:
      return "down";
    case LinkChange::kSilent:
      return "silent";
  }
  return "?";
}

class LinkStep final : public StepKind {
 public:
  std::string_view name() const override { return "link"; }
  bool pollable() const override { return false; }
  KeySpec key() const override {
    return {"", schema::pattern("^\\S+\\s+\\S+\\s+(up|down|silent)$", "X Y up|down|silent"),
            "pulls (down) or plugs (up) the cable between X and Y (NODE[:IFACE] or SWITCH); "
            "silent (between two switches): the carrier stays but no frame crosses either way, "
            "BPDUs included, until up"};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node&, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, "link");
    if (!s) return nullptr;
    text = "link " + *s;
    auto w = Reader::words(*s);
    if (w.size() != 3 || (w[2] != "up" && w[2] != "down" && w[2] != "silent")) {
      r.error(v, "link: expected 'X Y up|down|silent'");
      return nullptr;
    }
    auto i = find_link(w[0], w[1], "link", v, r);
    if (!i) return nullptr;
    const Link& l = r.topo().links[*i];
    if (w[2] == "silent" && !l.switch_to_switch) {
      r.error(v, fmt::format("link {} {} silent: only a cable between two switches can be made "
                             "silent ({} is not a switch)",
                             w[0], w[1], l.a.node));
      return nullptr;
    }
    auto spec = std::make_shared<LinkSpec>();
    spec->link = *i;
    spec->change = w[2] == "up"     ? LinkChange::kUp
                   : w[2] == "down" ? LinkChange::kDown
                                    : LinkChange::kSilent;
    return spec;
  }
  Outcome run(const Step& st, ScenarioContext& ctx, bool) const override {
    const auto& s = st.as<LinkSpec>();
    const Link& l = ctx.topo().links.at(s.link);
    const char* state = change_name(s.change);
    // A cable of a powered-off node or switch is dark until it boots (then its boot decides).
    if (auto off = refuse_if_off(l.a.node, ctx)) return *off;
    if (auto off = refuse_if_off(l.b.node, ctx)) return *off;
    if (s.change != LinkChange::kUp) ctx.fault(l.a.node);
    if (s.change == LinkChange::kSilent) {
      if (!l.switch_to_switch) {  // refused by parse(); a node has no silent link
        return {false, fmt::format("{}–{}: only a cable between two switches can be made silent",
                                   l.a.node, l.b.node)};
      }
      auto dp = ctx.lab().dataplane();
      if (!dp) return {false, dp.error().message};
      if (auto r = (*dp)->set_link_silent(l.a.node, l.port_a); !r)
        return {false, r.error().message};
    } else if (auto r = set_cable(l, s.change == LinkChange::kUp, ctx); !r) {
      return {false, r.error().message};
    }
    return {true, fmt::format("{} {}", link_name(l), state)};
  }
};

}  // namespace

std::unique_ptr<StepKind> make_link_step() { return std::make_unique<LinkStep>(); }

}  // namespace vnet::lab
