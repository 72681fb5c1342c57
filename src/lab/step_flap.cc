// Step `flap`: pulls and plugs a cable again and again, as a loose connector does.
//   flap: X Y times N every PERIOD [down D]
// N cycles (1–1000), one every PERIOD (2 ms–60 s; N × PERIOD at most 10 min): the cable goes
// down for D (default half the period, 1 ms up to the period less 1 ms), then up for the rest of
// the period; the last cycle ends with the cable up and the step returns at once. X and Y name
// the link as `link` steps do, and each change is the one `link X Y down|up` makes (between
// switches both ports in the dataplane; a node's carrier through its kind), so both ends see
// their carrier go and come back. (The `flap` word of `impair` instead drops frames on a link
// whose carrier stays up, as the switch console's impair/set does.) The first down is a fault
// for failover and converge steps. SIGINT/SIGTERM end the flapping early, with the cable up.

#include <thread>

#include "lab/interrupt.hh"
#include "lab/registry.hh"
#include "lab/runtime.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"

namespace vnet::lab {
namespace {

using std::chrono::milliseconds;

constexpr int64_t kMaxTimes = 1000;
constexpr Duration kMinPeriod = milliseconds(2);
constexpr Duration kMaxPeriod = std::chrono::seconds(60);
constexpr Duration kMaxTotal = std::chrono::minutes(10);

// Sleeps until `t` in slices, so SIGINT/SIGTERM (recorded by lab/interrupt.hh; sleeps resume
// after the handler) end the wait within 20 ms. False when interrupted.
bool sleep_until(std::chrono::steady_clock::time_point t) {
  constexpr auto kSlice = milliseconds(20);
  while (!interrupted()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= t) return true;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(t - now, kSlice));
  }
  return false;
}

struct FlapSpec final : StepSpec {
  size_t link = 0;
  int64_t times = 0;
  Duration every{}, down{};
};

class FlapStep final : public StepKind {
 public:
  std::string_view name() const override { return "flap"; }
  bool pollable() const override { return false; }
  KeySpec key() const override {
    return {"",
            schema::pattern("^\\S+\\s+\\S+(\\s+(times|every|down)\\s+\\S+)+$",
                            "X Y times N every PERIOD [down D]"),
            "pulls and plugs the cable between X and Y (as `link` does) N times (1–1000), one "
            "cycle every PERIOD (2ms–60s), down for D of it (default half); ends with the cable "
            "up"};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node&, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, "flap");
    if (!s) return nullptr;
    text = "flap " + *s;
    auto w = Reader::words(*s);
    const char* usage = "flap: expected 'X Y times N every PERIOD [down D]'";
    if (w.size() < 2 || w.size() % 2 != 0) {
      r.error(v, usage);
      return nullptr;
    }
    auto link = find_link(w[0], w[1], "flap", v, r);
    auto spec = std::make_shared<FlapSpec>();
    std::optional<Duration> down;
    bool ok = link.has_value();
    for (size_t i = 2; i + 1 < w.size(); i += 2) {
      const std::string &key = w[i], &value = w[i + 1];
      if (key == "times") {
        auto n = parse_int(value, 1, kMaxTimes);
        if (!n) {
          r.error(v, fmt::format("flap times {}: expected a whole number from 1 to {}", value,
                                 kMaxTimes));
          ok = false;
        } else {
          spec->times = *n;
        }
      } else if (key == "every" || key == "down") {
        auto d = parse_duration(value, key == "every" ? kMinPeriod : milliseconds(1), kMaxPeriod);
        if (!d) {
          r.error(v, fmt::format("flap {} {}: expected a duration from {} to {}", key, value,
                                 format_duration(key == "every" ? kMinPeriod : milliseconds(1)),
                                 format_duration(kMaxPeriod)));
          ok = false;
        } else if (key == "every") {
          spec->every = *d;
        } else {
          down = *d;
        }
      } else {
        r.error(v, fmt::format("flap: unknown word '{}' ({})", key, usage));
        ok = false;
      }
    }
    if (!ok) return nullptr;
    if (spec->times == 0 || spec->every == Duration::zero()) {
      r.error(v, fmt::format("{}: times and every are required", usage));
      return nullptr;
    }
    spec->down = down.value_or(spec->every / 2);
    if (spec->down >= spec->every) {
      r.error(v, fmt::format("flap down {}: expected less than the period ({})",
                             format_duration(spec->down), format_duration(spec->every)));
      return nullptr;
    }
    if (spec->every * spec->times > kMaxTotal) {
      r.error(v, fmt::format("flap: {} times every {} is longer than {}", spec->times,
                             format_duration(spec->every), format_duration(kMaxTotal)));
      return nullptr;
    }
    spec->link = *link;
    return spec;
  }
  Outcome run(const Step& st, ScenarioContext& ctx, bool) const override {
    const auto& s = st.as<FlapSpec>();
    const Link& l = ctx.topo().links.at(s.link);
    if (auto off = refuse_if_off(l.a.node, ctx)) return *off;
    if (auto off = refuse_if_off(l.b.node, ctx)) return *off;
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    ctx.fault(l.a.node);
    int64_t done = 0;
    for (bool go = !interrupted(); go && done < s.times;) {
      const auto cycle = start + done * s.every;
      if (auto r = set_cable(l, false, ctx); !r) return {false, r.error().message};
      go = sleep_until(cycle + s.down);
      // Up again even when interrupted: the step never leaves the cable pulled.
      if (auto r = set_cable(l, true, ctx); !r) return {false, r.error().message};
      ++done;
      if (go && done < s.times) go = sleep_until(cycle + s.every);
    }
    auto ms = std::chrono::duration_cast<milliseconds>(Clock::now() - start);
    std::string what =
        fmt::format("{} flapped {} times (down {}, up {}) in {} ms, now up", link_name(l), done,
                    format_duration(s.down), format_duration(s.every - s.down), ms.count());
    if (done < s.times) return {false, what + ": interrupted"};
    return {true, what};
  }
};

}  // namespace

std::unique_ptr<StepKind> make_flap_step() { return std::make_unique<FlapStep>(); }

}  // namespace vnet::lab
