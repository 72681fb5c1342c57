#pragma once
// Scenario runner: executes a lab's scenarios step by step against the running lab and produces
// a report (text for people, JUnit XML for CI). Probes poll with deadlines; nothing sleeps for a
// fixed time.
//
// Expectations:
//   ping A B       reach: a reply within 3 s | unreachable: no reply to 3 requests over 1 s
//   tcp A B:P      open: connected within 2 s | closed: refused or unanswered within 1 s
//   exec N CMD     exit status equals `expect` (default 0)
//   link X Y up|down   pulls or plugs the cable (switch↔switch: the dataplane's ports;
//                      node↔switch: the switch end of the veth, so the node loses carrier)
//   wait_until STEP within D   repeats STEP until it passes or D runs out
//   kill N / stop N / start N  crash (SIGKILL + carrier loss), clean stop, restart of a node
//   vrrp_master G is N         exactly N holds the virtual addresses of instance or sync group G
//   failover G < D             from the last kill/stop/link-down to the first echo reply from the
//                              virtual address (a 10 ms probe from a host on its subnet, replies
//                              from the failed node ignored) took less than D

#include <chrono>
#include <iosfwd>
#include <string>
#include <vector>

#include "lab/topology.hh"

namespace vnet::lab {

struct StepResult {
  std::string scenario;
  std::string step;
  bool passed = false;
  std::string detail;
  std::chrono::milliseconds duration{0};
};

struct Report {
  std::string lab;
  std::vector<StepResult> steps;
  std::chrono::milliseconds duration{0};
  size_t failed() const;
  void print(std::ostream& out) const;
  std::string junit_xml() const;
};

// Runs every scenario (or only `only` when non-empty), printing each step as it finishes.
// `vnet_binary` restarts node services for `start` steps.
Report run_scenarios(const Topology& topo, const std::string& only, std::ostream& live,
                     const std::string& vnet_binary);

}  // namespace vnet::lab
