// Step `root_bridge: SW`: SW is the root bridge of its spanning tree (IEEE 802.1D-2004 §17.6),
// and every switch of that tree agrees. The tree is SW and the switches running spanning tree
// that switch links join to it through switches running spanning tree (a switch without it
// consumes BPDUs, so the switches beyond it elect their own root). SW says it is the root
// (`is_root`) and every other one's root identifier is SW's bridge identifier (`stp/show`). A
// switch that is powered off (`kill: SW`) belongs to no tree: it is left out, and the switches
// beyond it form trees of their own; the step fails when SW itself is off.

#include "lab/registry.hh"
#include "lab/runtime.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"

namespace vnet::lab {
namespace {

using nlohmann::json;

struct RootSpec final : StepSpec {
  std::string root;
};

class RootBridgeStep final : public StepKind {
 public:
  std::string_view name() const override { return "root_bridge"; }
  KeySpec key() const override {
    return {"", schema::ref("nodeName"),
            "SWITCH is the root bridge, and every switch of its spanning tree says so"};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node&, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, "root_bridge");
    if (!s) return nullptr;
    text = "root_bridge " + *s;
    const Topology& t = r.topo();
    if (!t.is_switch(*s)) {
      r.error(v, fmt::format("root_bridge: '{}' is not a switch", *s));
      return nullptr;
    }
    if (!spanning_tree(t, *s)) {
      r.error(v, fmt::format("root_bridge: switch {} runs no spanning tree (stp: off)", *s));
      return nullptr;
    }
    auto spec = std::make_shared<RootSpec>();
    spec->root = *s;
    return spec;
  }
  Outcome run(const Step& st, ScenarioContext& ctx, bool) const override {
    const auto& s = st.as<RootSpec>();
    if (auto off = refuse_if_off(s.root, ctx)) return *off;
    LabRuntime& lab = ctx.lab();
    // Computed now: a switch that is powered off is in no tree, and may split one.
    const std::vector<std::string> tree = spanning_tree_members(
        ctx.topo(), s.root, [&](const std::string& sw) { return lab.powered(sw); });
    auto dp = lab.dataplane();
    if (!dp) return {false, dp.error().message};
    std::map<std::string, json> shown;
    std::map<std::string, std::string> by_id;  // bridge id → switch
    for (auto& sw : tree) {
      auto j = (*dp)->spanning_tree(sw);
      if (!j) return {false, j.error().message};
      by_id[json_text(*j, "bridge_id")] = sw;
      shown[sw] = std::move(*j);
    }
    auto name_of = [&](const std::string& id) {
      auto it = by_id.find(id);
      return it == by_id.end() ? id : fmt::format("{} ({})", it->second, id);
    };
    const json& root = shown[s.root];
    std::string root_id = json_text(root, "bridge_id");
    auto is_root = root.find("is_root");
    if (is_root == root.end() || !is_root->is_boolean() || !is_root->get<bool>())
      return {false, fmt::format("{} ({}) is not the root: its root is {}", s.root, root_id,
                                 name_of(json_text(root, "root_id")))};
    std::vector<std::string> disagree;
    for (auto& sw : tree) {
      std::string id = json_text(shown[sw], "root_id");
      if (id != root_id) disagree.push_back(fmt::format("{} says {}", sw, name_of(id)));
    }
    if (!disagree.empty())
      return {false, fmt::format("{} ({}) says it is the root, but {}", s.root, root_id,
                                 fmt::join(disagree, "; "))};
    return {true, fmt::format("{} ({}) is the root of {}", s.root, root_id, fmt::join(tree, ", "))};
  }
};

}  // namespace

std::unique_ptr<StepKind> make_root_bridge_step() { return std::make_unique<RootBridgeStep>(); }

}  // namespace vnet::lab
