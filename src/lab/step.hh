#pragma once
// StepKind: one kind of scenario step (ping, tcp, exec, link, wait_until, kill, stop, start,
// vrrp_master, failover, …). A step kind is one file implementing this interface plus one line in
// lab/registry.cc. Its key table (the step's own key plus options such as `expect`) feeds
// validation, the JSON Schema and docs/topology.md like every other table.
//
// A step is a YAML map with exactly one step key; parse() turns it into a typed StepSpec and
// reports every mistake with file:line:col (nodes and links are known by then). run() executes it
// against a running lab through the ScenarioContext and says whether it passed and why.

#include <yaml-cpp/yaml.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lab/keys.hh"
#include "lab/topology.hh"

namespace vnet::lab {

class Reader;
class ScenarioContext;

// A figure a step measured, for the report and JUnit (<property name="probe.loss_pct" …>):
// `name` is "probe.loss_pct", `unit` "pct", "ms", "bps" or "count".
struct Measurement {
  std::string name;
  double value = 0;
  std::string unit;
};

struct Outcome {
  bool passed = false;
  std::string detail;
  std::vector<Measurement> measurements;  // steps that measure (probe); empty for the others
  // What the step's command printed (exec), trimmed to its last lines: in the report under the
  // step and in JUnit's <system-out>/<system-err>.
  std::string out, err;
};

class StepKind {
 public:
  virtual ~StepKind() = default;
  virtual std::string_view name() const = 0;  // the step's key: "ping"
  // The step key's value (schema and doc; the name is filled in by the registry).
  virtual KeySpec key() const = 0;
  // The other keys the step map may have (expect, within, …).
  virtual std::vector<KeySpec> options() const { return {}; }
  // Parses the step; `value` is step[name()]. Sets `text` (the step as the report shows it).
  // Returns null after recording diagnostics.
  virtual std::shared_ptr<const StepSpec> parse(const YAML::Node& step, const YAML::Node& value,
                                                Reader& r, std::string& text) const = 0;
  // Called for every step of a run before the first one executes (e.g. a failover step asks for
  // probes to start at the next fault).
  virtual void prepare(const Step&, ScenarioContext&) const {}
  // `quick`: one short attempt, when polled by wait_until.
  virtual Outcome run(const Step& s, ScenarioContext& ctx, bool quick) const = 0;
  // Steps that can be polled by wait_until (probes and assertions, not actions).
  virtual bool pollable() const { return true; }
};

// Parses one step map with the registry's kinds (also used by wait_until for its inner step).
Step parse_step(const YAML::Node& n, Reader& r, bool inner);

}  // namespace vnet::lab
