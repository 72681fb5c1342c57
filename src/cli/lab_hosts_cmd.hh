#pragma once
// `vnet lab` across hosts (docs/multihost.md): a host's share, and the Ansible fan-out from a
// controller (lab_hosts_cmd.cc).

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lab/topology.hh"

namespace vnet::cli {

struct FanOut {
  std::string vnet_binary;  // the controller's; the generated inventory names it for every host
  std::string inventory;    // the administrator's; empty: generated from the file
};

// What one ansible-playbook run did, from its PLAY RECAP.
struct HostRun {
  std::vector<std::string> seen, unreachable, failed;
  std::map<std::string, std::string> messages;  // host → its "fatal: [h]: …" line
  std::string error;                            // the run itself failed (no recap)
  bool ok() const { return error.empty() && unreachable.empty() && failed.empty(); }
};

std::string find_playbook(const std::string& vnet_binary);
// Runs `vnet lab ACTION FILE --host H ARGS…` on every host (or those in `limit`) through the
// playbook, its output passed to `out` line by line.
HostRun run_on_hosts(const lab::Topology& t, const std::string& file, const FanOut& f,
                     const std::string& action, const std::vector<std::string>& args,
                     const std::vector<std::string>& limit, std::ostream& out);

// On a host: its share up (idempotent), down (idempotent), status; exit codes as `vnet lab`.
int host_share_up(const lab::Topology& t, const std::string& host, const std::string& vnet_binary);
int host_share_down(const lab::Topology& t, const std::string& host);
nlohmann::json host_share_status(const lab::Topology& t, const std::string& host);
// Steps FROM-TO (1-based) of one scenario, on this host's share of a lab that is up.
int host_run_steps(lab::Topology t, const std::string& host, const std::string& scenario,
                   const std::string& steps, const std::string& vnet_binary);
// The host a step runs on: that of the first node its text names, else `previous` (else the
// first host).
std::string step_host(const lab::Topology& t, const lab::Step& st, const std::string& previous);

// On a controller (the file has hosts): the same over every host through Ansible. `up` that
// fails on a host (unreachable, or its share failed) names it and takes the others down again.
int fan_out_up(const lab::Topology& t, const std::string& file, const FanOut& f);
int fan_out_down(const lab::Topology& t, const std::string& file, const FanOut& f);
int fan_out_status(const lab::Topology& t, const std::string& file, const FanOut& f);
// Up, every scenario (or `only`) step by step where its node lives, down unless `keep`.
int fan_out_test(const lab::Topology& t, const std::string& file, const FanOut& f,
                 const std::string& only, bool keep);

}  // namespace vnet::cli
