// Step `exec`: a shell command inside a node; passes when its exit status is `expect`
// (default 0).

#include "lab/netns.hh"
#include "lab/registry.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"

namespace vnet::lab {
namespace {

struct ExecSpec final : StepSpec {
  std::string node, command;
  int status = 0;
};

class ExecStep final : public StepKind {
 public:
  std::string_view name() const override { return "exec"; }
  KeySpec key() const override {
    return {"", schema::pattern("^\\S+\\s+.+$", "NODE COMMAND…"),
            "runs COMMAND with /bin/sh -c inside NODE (environment as for `commands`)"};
  }
  std::vector<KeySpec> options() const override {
    return {{"expect", schema::integer(0, 255), "the exit status that passes (default 0)"}};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node& step, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, "exec");
    if (!s) return nullptr;
    auto spec = std::make_shared<ExecSpec>();
    auto sp = s->find(' ');
    spec->node = s->substr(0, sp);
    spec->command = sp == std::string::npos ? "" : s->substr(sp + 1);
    bool ok = check_prober(spec->node, v, r);
    if (spec->command.find_first_not_of(' ') == std::string::npos) {
      r.error(v, "exec: expected 'NODE COMMAND…'");
      ok = false;
    }
    if (step["expect"]) {
      auto code = r.integer(step["expect"], "exec expect: exit status", 0, 255);
      if (!code) ok = false;
      spec->status = static_cast<int>(code.value_or(0));
    }
    text = fmt::format("exec {} expect exit {}", *s, spec->status);
    return ok ? spec : nullptr;
  }
  Outcome run(const Step& st, ScenarioContext& ctx, bool) const override {
    const auto& s = st.as<ExecSpec>();
    if (auto off = refuse_if_off(s.node, ctx)) return *off;
    auto argv = command_env(ctx.lab(), s.node);
    if (!argv) return {false, argv.error().message};
    argv->insert(argv->end(), {"/bin/sh", "-c", s.command});
    auto r = run_in_netns(ctx.topo().netns(s.node), *argv, true, ctx.lab().view_of(s.node));
    if (!r) return {false, r.error().message};
    return {*r == s.status, fmt::format("exit status {}", *r)};
  }
};

}  // namespace

std::unique_ptr<StepKind> make_exec_step() { return std::make_unique<ExecStep>(); }

}  // namespace vnet::lab
