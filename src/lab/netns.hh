#pragma once
// Network namespaces the way iproute2 names them (/run/netns/NAME bind mounts), without
// shelling out to `ip`, plus running code and processes inside one.
//
// Threading: in_netns() switches the *calling thread* into the namespace for the duration of the
// callback (setns(2) is per thread) and back afterwards. Sockets created inside stay bound to the
// namespace after the switch back, which is how the orchestrator keeps one netlink socket per
// namespace.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "base/clock.hh"
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

// Signals every process whose network namespace is `name` — SIGTERM first when grace > 0, then
// SIGKILL to what is left after it — and waits until none is left. Our own children are reaped; a
// zombie of another parent counts as gone (it holds no sockets and no namespace). Processes that
// enter the namespace meanwhile are caught by rescanning. Fails (ETIMEDOUT, naming the pids) when
// something survives 20 s after SIGKILL (a dataplane with hundreds of ports takes seconds to exit).
Status kill_netns_processes(const std::string& name, std::chrono::milliseconds grace);
// The same for several namespaces at once (one /proc scan per round) plus the given pids;
// returns how many processes it saw. With `exiting_is_gone`, a process that is past the point of
// no return (PF_EXITING: it runs no more user code, the kernel is closing its descriptors —
// seconds for a dataplane with hundreds of packet sockets) counts as gone.
Result<size_t> kill_processes(const std::vector<pid_t>& pids,
                              const std::vector<std::string>& namespaces,
                              std::chrono::milliseconds grace, bool exiting_is_gone);
// The process exists and is not a zombie.
bool process_running(pid_t pid);
// /proc/PID/stat start time (clock ticks since boot), or -1: tells a process from a recycled pid.
long long process_start_time(pid_t pid);

// Runs fn with the calling thread inside the namespace.
Status in_netns(const std::string& name, const std::function<Status()>& fn);

struct SpawnOptions {
  std::string netns;
  std::vector<std::string> argv;
  std::string log_file;  // stdout+stderr appended here ("" = inherit)
  bool new_session = true;
  pid_t view = 0;   // a node view's holder (lab/node_view.hh) to enter as well; 0 = none,
                    // -1 = a view whose holder is gone (refused)
  int out_fd = -1;  // when set (with err_fd): stdout and stderr go here, stdin is /dev/null
  int err_fd = -1;
  int fd3 = -1;  // when set: the process gets this descriptor as its fd 3 (passt --fd 3)
};
// fork + setns + exec; returns the child's pid (it is not waited for). An empty netns is the
// namespace this process runs in (the host's), or, when a home spawner is set, the one it
// stands for.
Result<pid_t> spawn(const SpawnOptions& options);
// Spawns for an empty netns go through `fn` from now on (a rootless lab: the namespace `vnet lab
// up` was started from, left by this process; lab/rootless.hh). An empty function resets.
void set_home_spawner(std::function<Result<pid_t>(const SpawnOptions&)> fn);
// Runs a command in a namespace and waits: returns its exit status (128+signal when killed).
Result<int> run_in_netns(const std::string& netns, const std::vector<std::string>& argv, bool quiet,
                         pid_t view = 0);

// What a command printed, bounded: the first `limit` bytes of each stream are kept, the rest
// only counted.
struct CapturedRun {
  int status = 0;          // exit status; 128+signal when killed
  bool timed_out = false;  // killed (its whole process group, SIGKILL) at the deadline
  std::string out, err;
  size_t out_dropped = 0, err_dropped = 0;  // bytes past `limit`
  // How it ran when not as a process of the lab's host: "guest agent" or "serial console" (a
  // VM, lab/kind_vm.cc); exec steps name it in their report.
  std::string via;
};
// Runs a command in a namespace (and a node's view) in a session of its own, stdin /dev/null,
// stdout and stderr read through pipes until it exits; `timeout` after the start its process
// group is killed. What processes it left running in the background write after it exited is
// not waited for (a daemon keeping the pipe open does not hold the caller).
Result<CapturedRun> run_captured(const std::string& netns, const std::vector<std::string>& argv,
                                 pid_t view, Duration timeout, size_t limit);

// A netlink route socket bound to the namespace.
Result<io::Netlink> open_netlink(const std::string& netns);
// Loads an nftables ruleset into the namespace.
Status load_nftables_in(const std::string& netns, const std::string& ruleset);

// Writes a sysctl under /proc/sys inside the namespace ("net/ipv4/ip_forward", "1").
Status set_sysctl(const std::string& netns, const std::string& key, const std::string& value);

}  // namespace vnet::lab
