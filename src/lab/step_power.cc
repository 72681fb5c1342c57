// Steps `kill`, `stop` and `start`: a node's power (docs/topology.md "Crash and boot").
//   kill   power cut: every process killed and reaped, cables down, runtime state gone
//   stop   clean shutdown (SIGTERM, then SIGKILL after a deadline), then off like kill
//   start  boot: the declared configuration applied afresh and the services started; fails if a
//          service exits within its first second or its readiness check fails
// A switch (lab/kind_switch.cc) has no processes: kill cuts every cable of it and forgets its
// spanning tree and FDB, stop is the same (a switch has no clean shutdown), start applies its
// spanning tree afresh and plugs back the cables whose other end is powered.
// kill and stop are faults for failover and converge steps.

#include "lab/node_kind.hh"
#include "lab/orchestrator.hh"
#include "lab/registry.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"

namespace vnet::lab {
namespace {

struct PowerSpec final : StepSpec {
  std::string node;
};

class PowerStep final : public StepKind {
 public:
  explicit PowerStep(Power op) : op_(op) {}
  std::string_view name() const override {
    return op_ == Power::kKill ? "kill" : op_ == Power::kStop ? "stop" : "start";
  }
  bool pollable() const override { return false; }
  KeySpec key() const override {
    const char* doc = op_ == Power::kKill
                          ? "crash NODE: every process killed and reaped, cables down, runtime "
                            "network state gone; a switch: every cable dark, its spanning tree "
                            "and FDB forgotten"
                      : op_ == Power::kStop
                          ? "shut NODE down cleanly (SIGTERM, 5 s, then SIGKILL), then off as "
                            "kill; a switch: the same as kill"
                          : "boot NODE: declared configuration applied afresh, services started; "
                            "a switch: spanning tree afresh, cables to powered ends plugged";
    return {"", schema::ref("nodeName"), doc};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node&, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, std::string(name()));
    if (!s) return nullptr;
    text = fmt::format("{} {}", name(), *s);
    auto w = Reader::words(*s);
    if (w.size() != 1) {
      r.error(v, fmt::format("{}: expected one node", name()));
      return nullptr;
    }
    const Node* n = r.topo().node(w[0]);
    if (!n) {
      r.error(v, fmt::format("unknown node '{}'", w[0]));
      return nullptr;
    }
    if (!n->kind->has_power()) {
      r.error(v, fmt::format("{}: '{}' is a {}, which has no power to cut", name(), w[0],
                             n->kind->name()));
      return nullptr;
    }
    auto spec = std::make_shared<PowerSpec>();
    spec->node = w[0];
    return spec;
  }
  Outcome run(const Step& st, ScenarioContext& ctx, bool) const override {
    const auto& s = st.as<PowerSpec>();
    if (op_ != Power::kStart) ctx.fault(s.node);
    if (auto r = node_power(ctx.lab(), s.node, op_); !r) return {false, r.error().message};
    if (ctx.topo().is_switch(s.node)) {
      if (op_ == Power::kStart)
        return {true, "booted: spanning tree afresh, cables to powered ends plugged"};
      return {true, "powered off: every cable dark, spanning tree and FDB forgotten"};
    }
    switch (op_) {
      case Power::kKill:
        return {true, "processes killed and reaped, cables down, namespace gone"};
      case Power::kStop:
        return {true, "stopped cleanly, then powered off"};
      case Power::kStart:
        return {true, "booted: configuration applied, services up and ready"};
    }
    return {};
  }

 private:
  Power op_;
};

}  // namespace

std::unique_ptr<StepKind> make_kill_step() { return std::make_unique<PowerStep>(Power::kKill); }
std::unique_ptr<StepKind> make_stop_step() { return std::make_unique<PowerStep>(Power::kStop); }
std::unique_ptr<StepKind> make_start_step() { return std::make_unique<PowerStep>(Power::kStart); }

}  // namespace vnet::lab
