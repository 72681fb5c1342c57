#pragma once
// Scenario runner: executes a lab's scenarios step by step against the running lab and produces
// a report (text for people, JUnit XML for CI). Steps are registered kinds (lab/step.hh); probes
// poll with deadlines, nothing sleeps for a fixed time. SIGINT/SIGTERM (lab/interrupt.hh) stop the
// run between steps; the caller tears down in the normal flow.

#include <chrono>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "lab/probe.hh"
#include "lab/runtime.hh"
#include "lab/step.hh"
#include "lab/topology.hh"

namespace vnet::lab {

struct StepResult {
  std::string scenario;
  std::string step;
  bool passed = false;
  std::string detail;
  std::chrono::milliseconds duration{0};
  std::vector<Measurement> measurements;  // Outcome::measurements
  std::string out, err;                   // Outcome::out, Outcome::err
};

struct Report {
  std::string lab;
  std::vector<StepResult> steps;
  std::chrono::milliseconds duration{0};
  std::string interrupted;  // "SIGINT" when the run was cut short
  size_t failed() const;
  void print(std::ostream& out) const;
  std::string junit_xml() const;
};

// What steps see of a run: the lab, targets, and the bookkeeping of faults for failover steps.
class ScenarioContext {
 public:
  using Clock = std::chrono::steady_clock;
  ScenarioContext(const Topology& t, LabRuntime& lab) : t_(t), lab_(lab) {}
  const Topology& topo() const { return t_; }
  LabRuntime& lab() { return lab_; }
  // A node's first address of the family, or the text itself (an address).
  std::string target(const std::string& name, bool v6) const;

  // Failover measurement: a failover step watches its VRRP group; each fault (kill, stop, link
  // down or silent) starts, for every watched group, a 10 ms echo probe to the group's first
  // virtual address from a host on its subnet, ignoring replies from the failed node's MACs.
  // A step calls fault() as it begins the fault (the time outages are measured from); the runner
  // calls fault_applied() once that step has returned, and only then do the probes start: a
  // reply the old master sent while a switch or cable was still being taken away must not count
  // as the new master's.
  void watch_group(const std::string& group) { watched_.insert(group); }
  void fault(const std::string& node);
  void fault_applied();
  // When the last fault had taken effect (the step causing it returned): a probe sent after it
  // crossed the network as the fault left it.
  std::optional<Clock::time_point> fault_applied_time() const { return applied_; }
  struct Probe {
    std::unique_ptr<FailoverProbe> probe;
    std::string host, vip;
  };
  const Probe* probe(const std::string& group) const;
  std::optional<Clock::time_point> fault_time() const { return fault_; }

  // Layer-2 probe streams by "FROM TO": `stream` starts one, `converge` stops and judges it.
  struct Stream {
    std::unique_ptr<ProbeStream> stream;
    Clock::time_point started;
  };
  std::map<std::string, Stream>& streams() { return streams_; }

 private:
  const Topology& t_;
  LabRuntime& lab_;
  std::set<std::string> watched_;
  std::map<std::string, Probe> probes_;
  std::optional<Clock::time_point> fault_, applied_;
  std::string fault_node_;
  bool fault_pending_ = false;
  std::map<std::string, Stream> streams_;  // last: stopped (threads joined) first
};

// Runs every scenario (or only `only` when non-empty), printing each step as it finishes.
Report run_scenarios(const Topology& topo, LabRuntime& lab, const std::string& only,
                     std::ostream& live);

}  // namespace vnet::lab
