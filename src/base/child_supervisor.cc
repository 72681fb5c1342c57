#include "base/child_supervisor.hh"

#include <grp.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <fmt/format.h>

#include "base/log.hh"

namespace vnet {
namespace {

// Direct system calls: glibc 2.36's <sys/pidfd.h> declares these without C linkage for C++.
int open_pidfd(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }
void pidfd_kill(int pidfd) { syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0); }

}  // namespace

bool ChildExit::success() const {
  return !timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

std::string ChildExit::describe() const {
  if (timed_out) return "timed out";
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
  return fmt::format("wait status {:#x}", status);
}

ChildSupervisor::~ChildSupervisor() {
  for (auto& [pid, c] : children_) {
    loop_.unwatch(c.pidfd.get());
    loop_.cancel_timer(c.timer);
  }
}

Result<pid_t> ChildSupervisor::start(const ChildSpec& spec, OnExit on_exit) {
  if (spec.argv.empty()) return make_error(EINVAL, "child: empty argv");
  // Everything the child needs is prepared before fork: it only makes async-signal-safe calls.
  std::vector<char*> argv;
  for (auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  bool switch_user = geteuid() == 0 && (spec.uid || spec.gid);
  uid_t uid = spec.uid.value_or(geteuid());
  gid_t gid = spec.gid.value_or(getegid());

  pid_t pid = fork();
  if (pid < 0) return system_error("fork " + spec.argv[0]);
  if (pid == 0) {
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGPIPE, &dfl, nullptr);
    if (switch_user) {
      if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0) _exit(126);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  setpgid(pid, pid);  // also here: a timeout may fire before the child ran setpgid itself
  UniqueFd fd(open_pidfd(pid));
  if (!fd.valid()) {
    auto err = system_error("pidfd_open for " + spec.argv[0]);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);  // ours, and it cannot outlive this call
    return err;
  }
  int raw = fd.get();
  Child& c = children_[pid];
  c.pidfd = std::move(fd);
  c.on_exit = std::move(on_exit);
  if (auto s = loop_.watch(raw, [this, pid] { on_exited(pid); }); !s) {
    kill_group(pid, c);
    int status;
    waitpid(pid, &status, 0);
    children_.erase(pid);
    return s.error();
  }
  if (spec.timeout.count() > 0) {
    c.timer = loop_.add_timer(spec.timeout, [this, pid] {
      auto it = children_.find(pid);
      if (it == children_.end()) return;
      it->second.timer = 0;
      it->second.timed_out = true;
      kill_group(pid, it->second);
    });
  }
  return pid;
}

void ChildSupervisor::kill_group(pid_t pid, const Child& c) {
  // The group holds the child and whatever it started. The pid (the group's id) is not reused
  // while the child is unreaped, which it is until on_exited.
  kill(-pid, SIGKILL);
  pidfd_kill(c.pidfd.get());  // the child itself, in every case
}

void ChildSupervisor::cancel(pid_t pid) {
  auto it = children_.find(pid);
  if (it == children_.end()) return;
  it->second.on_exit = nullptr;
  loop_.cancel_timer(it->second.timer);
  it->second.timer = 0;
  kill_group(pid, it->second);
}

void ChildSupervisor::on_exited(pid_t pid) {
  auto it = children_.find(pid);
  if (it == children_.end()) return;
  int status = 0;
  pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == 0) return;  // not yet (a spurious wake-up): the pidfd stays watched
  if (r < 0) log::warn("waitpid {}: {}", pid, errno);
  loop_.unwatch(it->second.pidfd.get());
  loop_.cancel_timer(it->second.timer);
  ChildExit exit{pid, status, it->second.timed_out};
  OnExit cb = std::move(it->second.on_exit);
  children_.erase(it);  // before the callback, which may start children
  if (cb) cb(exit);
}

}  // namespace vnet
