// Step `wait_until`: repeats its inner step (a probe or an assertion) until it passes or
// `within` runs out.

#include <thread>

#include "lab/registry.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"

namespace vnet::lab {
namespace {

struct WaitSpec final : StepSpec {
  Step inner;
  Duration within{};
};

class WaitUntilStep final : public StepKind {
 public:
  std::string_view name() const override { return "wait_until"; }
  bool pollable() const override { return false; }
  KeySpec key() const override {
    return {"", schema::ref("step"), "a probe or assertion step, repeated until it passes"};
  }
  std::vector<KeySpec> options() const override {
    return {{"within", schema::ref("duration"), "the deadline (up to 600 s)", true}};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node& step, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto spec = std::make_shared<WaitSpec>();
    spec->inner = parse_step(v, r, true);
    std::optional<Duration> within;
    if (step["within"])
      within = r.duration(step["within"], "within", std::chrono::milliseconds(1),
                          std::chrono::seconds(600), DurationUnit::kSeconds);
    text = fmt::format("wait_until {} within {}", spec->inner.text,
                       within ? format_duration(*within) : "?");
    if (!within || !spec->inner.spec) return nullptr;
    spec->within = *within;
    return spec;
  }
  void prepare(const Step& st, ScenarioContext& ctx) const override {
    const auto& s = st.as<WaitSpec>();
    s.inner.kind->prepare(s.inner, ctx);
  }
  Outcome run(const Step& st, ScenarioContext& ctx, bool) const override {
    const auto& s = st.as<WaitSpec>();
    using Clock = std::chrono::steady_clock;
    auto start = Clock::now();
    auto end = start + s.within;
    Outcome last{false, "not tried"};
    while (Clock::now() < end) {
      last = s.inner.kind->run(s.inner, ctx, true);
      if (last.passed) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
        return {true, fmt::format("after {} ms: {}", ms.count(), last.detail)};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return {false, fmt::format("not within {}: {}", format_duration(s.within), last.detail)};
  }
};

}  // namespace

std::unique_ptr<StepKind> make_wait_until_step() { return std::make_unique<WaitUntilStep>(); }

}  // namespace vnet::lab
