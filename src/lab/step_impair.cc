// Step `impair`: impairs a link while a scenario runs, or clears it.
//   impair: X Y WORDS…            both directions
//   impair: X Y from END WORDS…   only the frames END (X or Y) sends
//   impair: X Y [from END] clear  removes the impairment (held frames are sent on at once)
// X and Y name the link as `link` steps do (NODE[:IFACE] or SWITCH, either order). WORDS are
// those of the switch console's `impair/set` (impair/settings.hh) and add up, as there, on the
// direction's current settings (the link's declared `impair` and earlier steps); `clear` first
// replaces them. The words are checked when the file is loaded, on top of the link's declared
// settings. The step reports what each direction has afterwards, read back from the dataplane.
// A router's VLAN subinterfaces ride their parent's cable: impairing the parent's link impairs
// them too.

#include "lab/link_impair.hh"
#include "lab/registry.hh"
#include "lab/runtime.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"

namespace vnet::lab {
namespace {

enum class Which : uint8_t { kBoth, kFromA, kFromB };

struct ImpairSpec final : StepSpec {
  size_t link = 0;
  Which which = Which::kBoth;
  bool clear = false;  // `clear` alone: impair/clear
  std::string words;
};

// The link and the links of the VLAN subinterfaces that ride its cable.
std::vector<const Link*> cable_links(const Topology& t, const Link& l) {
  std::vector<const Link*> out = {&l};
  if (l.switch_to_switch) return out;
  for (auto& x : t.links) {
    if (&x != &l && !x.switch_to_switch && x.a.node == l.a.node && x.b.node == l.b.node &&
        x.a.interface.rfind(l.a.interface + ".", 0) == 0)
      out.push_back(&x);
  }
  return out;
}

// "pc1→sw1 (sw1:1 in): loss 10%; sw1→pc1 (sw1:1 out): nothing", as the dataplane has it now.
std::string read_back(const Link& l, SwitchClient& dp) {
  ImpairPort p = impair_port(l, true);
  auto j = dp.impairments(p.bridge, p.port);
  if (!j) return j.error().message;
  std::string out;
  for (auto& e : *j) {
    std::string dir = json_text(e, "direction");
    bool from_a = dir == p.direction;
    std::string settings = json_text(e, "settings");
    out += fmt::format("{}{}→{} ({}:{} {}): {}", out.empty() ? "" : "; ",
                       from_a ? l.a.node : l.b.node, from_a ? l.b.node : l.a.node, p.bridge, p.port,
                       dir, settings.empty() ? "nothing" : settings);
  }
  return out.empty() ? "not impaired" : out;
}

class ImpairStep final : public StepKind {
 public:
  std::string_view name() const override { return "impair"; }
  bool pollable() const override { return false; }
  KeySpec key() const override {
    return {"",
            schema::pattern("^\\S+\\s+\\S+(\\s+from\\s+\\S+)?(\\s+\\S+)+$",
                            "X Y [from END] WORDS…|clear"),
            "impairs the link between X and Y (NODE[:IFACE] or SWITCH): the words of "
            "`impair/set` (loss 10% delay 20ms 5ms …), added to its current settings, for both "
            "directions or only the frames END sends; `clear` removes it (docs/impairment.md)"};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node&, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, "impair");
    if (!s) return nullptr;
    text = "impair " + *s;
    auto w = Reader::words(*s);
    if (w.size() < 3) {
      r.error(v, "impair: expected 'X Y [from END] WORDS…' or 'X Y [from END] clear'");
      return nullptr;
    }
    auto i = find_link(w[0], w[1], "impair", v, r);
    if (!i) return nullptr;
    const Link& l = r.topo().links[*i];
    auto spec = std::make_shared<ImpairSpec>();
    spec->link = *i;
    size_t first = 2;
    if (w[2] == "from") {
      if (w.size() < 5) {
        r.error(v, "impair: expected 'X Y from END WORDS…' or 'X Y from END clear'");
        return nullptr;
      }
      const std::string& end = w[3];
      auto is = [&](const Endpoint& e) {
        return end == e.node || (!e.interface.empty() && end == e.node + ":" + e.interface);
      };
      if (is(l.a)) {
        spec->which = Which::kFromA;
      } else if (is(l.b)) {
        spec->which = Which::kFromB;
      } else {
        r.error(v, fmt::format("impair {} {} from {}: not an end of this link (expected {} or {})",
                               w[0], w[1], end, w[0], w[1]));
        return nullptr;
      }
      first = 4;
    }
    std::vector<std::string_view> words(w.begin() + first, w.end());
    if (words.size() == 1 && words[0] == "clear") {
      spec->clear = true;
      return spec;
    }
    // Checked on top of what the link declares for each direction the step changes.
    for (bool from_a : {true, false}) {
      if (spec->which == (from_a ? Which::kFromB : Which::kFromA)) continue;
      const auto& declared = from_a ? l.impair_ab : l.impair_ba;
      auto parsed = impair::parse_settings(words, declared.value_or(impair::Settings{}));
      if (!parsed) {
        r.error(v, fmt::format("impair {} {}: {}", w[0], w[1], parsed.error().message));
        return nullptr;
      }
    }
    for (auto word : words) spec->words += (spec->words.empty() ? "" : " ") + std::string(word);
    return spec;
  }
  Outcome run(const Step& st, ScenarioContext& ctx, bool) const override {
    const auto& s = st.as<ImpairSpec>();
    const Link& l = ctx.topo().links.at(s.link);
    auto dp = ctx.lab().dataplane();
    if (!dp) return {false, dp.error().message};
    for (const Link* x : cable_links(ctx.topo(), l)) {
      ImpairPort p = impair_port(*x, s.which != Which::kFromB);
      std::string_view dir = s.which == Which::kBoth ? "both" : p.direction;
      auto r = s.clear ? (*dp)->clear_impair(p.bridge, p.port, dir)
                       : (*dp)->set_impair(p.bridge, p.port, dir, s.words);
      if (!r) return {false, r.error().message};
    }
    return {true, fmt::format("{}: {}", link_name(l), read_back(l, **dp))};
  }
};

}  // namespace

std::unique_ptr<StepKind> make_impair_step() { return std::make_unique<ImpairStep>(); }

}  // namespace vnet::lab
