#pragma once
// Network namespaces the way iproute2 names them (/run/netns/NAME bind mounts), without
// shelling out to `ip`, plus running code and processes inside one.
//
// Threading: in_netns() switches the *calling thread* into the namespace for the duration of the
// callback (setns(2) is per thread) and back afterwards. Sockets created inside stay bound to the
// namespace after the switch back, which is how the orchestrator keeps one netlink socket per
// namespace.

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "base/fd.hh"
#include "base/result.hh"
#include "io/netlink.hh"

namespace vnet::lab {

constexpr const char* kNetnsDir = "/run/netns";

Status create_netns(const std::string& name);  // EEXIST if it already exists
Status delete_netns(const std::string& name);  // OK if it does not exist
bool netns_exists(const std::string& name);
Result<UniqueFd> open_netns(const std::string& name);
std::vector<std::string> list_netns();
// PIDs of the processes whose network namespace is this one (like `ip netns pids`).
std::vector<pid_t> netns_pids(const std::string& name);

// Runs fn with the calling thread inside the namespace.
Status in_netns(const std::string& name, const std::function<Status()>& fn);

struct SpawnOptions {
  std::string netns;
  std::vector<std::string> argv;
  std::string log_file;  // stdout+stderr appended here ("" = inherit)
  bool new_session = true;
};
// fork + setns + exec; returns the child's pid (it is not waited for).
Result<pid_t> spawn(const SpawnOptions& options);
// Runs a command in a namespace and waits: returns its exit status (128+signal when killed).
Result<int> run_in_netns(const std::string& netns, const std::vector<std::string>& argv,
                         bool quiet);

// A netlink route socket bound to the namespace.
Result<io::Netlink> open_netlink(const std::string& netns);
// Loads an nftables ruleset into the namespace.
Status load_nftables_in(const std::string& netns, const std::string& ruleset);

// Writes a sysctl under /proc/sys inside the namespace ("net/ipv4/ip_forward", "1").
Status set_sysctl(const std::string& netns, const std::string& key, const std::string& value);

}  // namespace vnet::lab
