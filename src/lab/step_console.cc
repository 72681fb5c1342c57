// Step `console`: waits for a line on a VM's serial console.
//   console: NODE expect TEXT [within DURATION]
// passes once the console has printed TEXT (a substring; it may be quoted: "login:") in the
// node's current boot, that is since its last `up` or `start`, at most DURATION (default 60 s,
// at most 600 s) after the step began. What the console log holds counts: the guest's output and
// the terminal's echo of `exec` commands sent to it. In `wait_until` it is one look at the log.

#include <thread>

#include "base/parse.hh"
#include "lab/node_kind.hh"
#include "lab/registry.hh"
#include "lab/runtime.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"

namespace vnet::lab {
namespace {

struct ConsoleSpec final : StepSpec {
  std::string node, text;
  Duration within{std::chrono::seconds(60)};
};

class ConsoleStep final : public StepKind {
 public:
  std::string_view name() const override { return "console"; }
  KeySpec key() const override {
    return {"", schema::pattern("^\\S+\\s+expect\\s+.+$", "NODE expect TEXT [within DURATION]"),
            "waits until NODE's serial console (a vm) prints TEXT in its current boot (default "
            "within 60s)"};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node&, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, "console");
    if (!s) return nullptr;
    text = "console " + *s;
    auto spec = std::make_shared<ConsoleSpec>();
    auto sp = s->find(' ');
    spec->node = s->substr(0, sp);
    std::string rest = sp == std::string::npos ? "" : s->substr(sp + 1);
    if (rest.rfind("expect ", 0) != 0) {
      r.error(v, "console: expected 'NODE expect TEXT [within DURATION]'");
      return nullptr;
    }
    rest = rest.substr(7);
    if (auto w = rest.rfind(" within "); w != std::string::npos) {
      auto d = parse_duration(rest.substr(w + 8), std::chrono::milliseconds(1),
                              std::chrono::seconds(600));
      if (!d) {
        r.error(v, "console: within " + d.error().message);
        return nullptr;
      }
      spec->within = *d;
      rest = rest.substr(0, w);
    }
    while (!rest.empty() && rest.back() == ' ') rest.pop_back();
    if (rest.size() >= 2 && rest.front() == '"' && rest.back() == '"')
      rest = rest.substr(1, rest.size() - 2);
    if (rest.empty()) {
      r.error(v, "console: the text to wait for is empty");
      return nullptr;
    }
    spec->text = rest;
    const Node* n = r.topo().node(spec->node);
    if (!n) {
      r.error(v, fmt::format("unknown node '{}'", spec->node));
      return nullptr;
    }
    if (!n->kind->has_console()) {
      r.error(v, fmt::format("console: '{}' is a {}, which has no serial console (vms have one)",
                             spec->node, n->kind->name()));
      return nullptr;
    }
    return spec;
  }
  Outcome run(const Step& st, ScenarioContext& ctx, bool quick) const override {
    using std::chrono::milliseconds;
    const auto& s = st.as<ConsoleSpec>();
    if (auto off = refuse_if_off(s.node, ctx)) return *off;
    const Node& n = *ctx.topo().node(s.node);
    auto t0 = std::chrono::steady_clock::now();
    while (true) {
      auto r = n.kind->console_shows(n, ctx.lab(), s.text);
      auto ms =
          std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - t0).count();
      if (r) return {true, fmt::format("after {} ms: the console showed '{}'", ms, s.text)};
      if (r.error().code != EAGAIN) return {false, r.error().message};
      if (quick || std::chrono::steady_clock::now() - t0 >= s.within)
        return {false, quick ? r.error().message
                             : fmt::format("not within {}: {}", format_duration(s.within),
                                           r.error().message)};
      std::this_thread::sleep_for(milliseconds(100));
    }
  }
};

}  // namespace

std::unique_ptr<StepKind> make_console_step() { return std::make_unique<ConsoleStep>(); }

}  // namespace vnet::lab
