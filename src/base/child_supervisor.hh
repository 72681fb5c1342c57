#pragma once
// ChildSupervisor: starts child processes and reaps exactly those, on the EventLoop.
//
// A daemon that runs scripts (VRRP notify_* and vrrp_script checks, the load balancer's
// MISC_CHECK health checkers) must collect their exit statuses without taking anyone else's:
// waitpid(-1) would also reap children that another part of the process (or a test) started and
// waits for. So each child is started here, gets a pidfd (pidfd_open(2), Linux ≥ 5.3) that the
// loop watches, and is reaped with waitpid(pid) when that pidfd turns readable — only then and
// only that pid. There is no SIGCHLD handler and no periodic reap timer. A child cannot be
// reaped by someone else before its pidfd is opened (nothing else here waits for arbitrary
// children), so its pid is not reused under us.
//
// Each child becomes the leader of its own process group. A timeout (ChildSpec::timeout > 0)
// sends SIGKILL to that group when it runs out — so `sh -c "a | b"` goes as a whole — and the
// exit is reported with timed_out set. The owner's callback runs once, on the loop thread,
// after the child was reaped; it may start or cancel children. cancel(pid) is for an owner that
// lost interest: it kills the group and forgets the callback; the child is still reaped here.
//
// Children still running when the supervisor is destroyed are left to finish (a notify_stop
// script runs on the way out): their pidfds are closed, nobody here waits for them any more, and
// whoever adopts them (init, once this process exits) reaps them.
//
// Between fork and exec the child only makes async-signal-safe calls: setpgid, sigprocmask,
// sigaction (SIGPIPE back to default), setgroups/setgid/setuid when credentials are given, execv.
// A failed credential switch exits 126, a failed exec 127 (as sh(1) does).
//
// Children is the interface owners use, so their logic runs in tests against a fake that
// records what was started and lets the test decide how it ends.

#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.hh"
#include "base/event_loop.hh"
#include "base/fd.hh"
#include "base/result.hh"

namespace vnet {

struct ChildSpec {
  std::vector<std::string> argv;  // argv[0] is the program's path (execv: no PATH search)
  // Run as this user and group (supplementary groups dropped); only when running as root.
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  Duration timeout{0};  // 0 = may run for ever
};

struct ChildExit {
  pid_t pid = -1;
  int status = 0;          // as from waitpid(2)
  bool timed_out = false;  // killed by the supervisor when its timeout ran out
  // Exited with status 0 (and was not killed for its timeout).
  bool success() const;
  // "exit status 1", "killed by signal 9", "timed out".
  std::string describe() const;
};

class Children {
 public:
  using OnExit = std::function<void(const ChildExit&)>;
  virtual ~Children() = default;
  // Starts a child; on_exit (may be empty) runs once it has been reaped. Errors: fork(2) or
  // pidfd_open(2) failures, with errno.
  virtual Result<pid_t> start(const ChildSpec& spec, OnExit on_exit) = 0;
  // SIGKILL to the child's process group; its callback will not run. Unknown pids are ignored.
  virtual void cancel(pid_t pid) = 0;
  // Children started and not yet reaped.
  virtual size_t running() const = 0;
};

class ChildSupervisor final : public Children {
 public:
  explicit ChildSupervisor(EventLoop& loop) : loop_(loop) {}
  ~ChildSupervisor() override;
  ChildSupervisor(const ChildSupervisor&) = delete;
  ChildSupervisor& operator=(const ChildSupervisor&) = delete;

  Result<pid_t> start(const ChildSpec& spec, OnExit on_exit) override;
  void cancel(pid_t pid) override;
  size_t running() const override { return children_.size(); }

 private:
  struct Child {
    UniqueFd pidfd;
    OnExit on_exit;
    EventLoop::TimerId timer = 0;
    bool timed_out = false;
  };
  void on_exited(pid_t pid);
  void kill_group(pid_t pid, const Child& c);

  EventLoop& loop_;
  std::map<pid_t, Child> children_;
};

}  // namespace vnet
