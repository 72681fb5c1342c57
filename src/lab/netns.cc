#include "lab/netns.hh"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <signal.h>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "base/fd.hh"
#include "base/parse.hh"
#include "lab/node_view.hh"

namespace vnet::lab {

static std::string netns_path(const std::string& name) {
  return std::string(kNetnsDir) + "/" + name;
}

bool netns_exists(const std::string& name) {
  struct stat st {};
  return ::stat(netns_path(name).c_str(), &st) == 0;
}

static Status prepare_netns_dir() {
  if (::mkdir(kNetnsDir, 0755) < 0 && errno != EEXIST) return system_error("mkdir /run/netns");
  // As iproute2 does: make /run/netns a shared mount so the bind mounts show in every mount ns.
  if (::mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) < 0) {
    if (errno != EINVAL) return system_error("mount --make-shared /run/netns");
    if (::mount(kNetnsDir, kNetnsDir, "none", MS_BIND | MS_REC, nullptr) < 0)
      return system_error("bind /run/netns");
    if (::mount("", kNetnsDir, "none", MS_SHARED | MS_REC, nullptr) < 0)
      return system_error("share /run/netns");
  }
  return {};
}

Status create_netns(const std::string& name) {
  if (auto s = prepare_netns_dir(); !s) return s;
  std::string path = netns_path(name);
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd < 0) {
    if (errno == EEXIST) return make_error(EEXIST, "network namespace {} already exists", name);
    return system_error("create " + path);
  }
  ::close(fd);
  UniqueFd orig(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (::unshare(CLONE_NEWNET) < 0) {
    auto e = system_error("unshare(CLONE_NEWNET)");
    ::unlink(path.c_str());
    return e;
  }
  Status result;
  if (::mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) < 0) {
    result = system_error("bind mount " + path);
    ::unlink(path.c_str());
  }
  if (::setns(orig.get(), CLONE_NEWNET) < 0)
    return system_error("setns back to the original namespace");
  return result;
}

Status delete_netns(const std::string& name) {
  std::string path = netns_path(name);
  if (!netns_exists(name)) return {};
  ::umount2(path.c_str(), MNT_DETACH);
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) return system_error("unlink " + path);
  return {};
}

Result<UniqueFd> open_netns(const std::string& name) {
  UniqueFd fd(::open(netns_path(name).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return make_error(ENOENT, "network namespace {} does not exist", name);
  return fd;
}

std::vector<std::string> list_netns() {
  std::vector<std::string> out;
  DIR* d = ::opendir(kNetnsDir);
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] != '.') out.push_back(e->d_name);
  }
  ::closedir(d);
  return out;
}

std::vector<pid_t> netns_pids(const std::string& name) {
  std::vector<pid_t> out;
  struct stat ns {};
  if (::stat(netns_path(name).c_str(), &ns) < 0) return out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    if (!std::isdigit(static_cast<unsigned char>(e->d_name[0]))) continue;
    struct stat st {};
    std::string p = std::string("/proc/") + e->d_name + "/ns/net";
    if (::stat(p.c_str(), &st) == 0 && st.st_ino == ns.st_ino && st.st_dev == ns.st_dev) {
      if (auto pid = parse_int(e->d_name, 1, INT32_MAX)) out.push_back(static_cast<pid_t>(*pid));
    }
  }
  ::closedir(d);
  return out;
}

long long process_start_time(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  std::getline(in, s);
  auto rp = s.rfind(')');
  if (rp == std::string::npos) return -1;
  std::istringstream rest(s.substr(rp + 2));
  std::string f;
  for (int i = 3; i <= 22 && rest >> f; ++i) {
    if (i == 22) return parse_int(f, 0, INT64_MAX).value_or(-1);
  }
  return -1;
}

bool process_exiting(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  std::getline(in, s);
  auto rp = s.rfind(')');
  if (rp == std::string::npos) return true;
  std::istringstream rest(s.substr(rp + 2));
  std::string f;
  for (int i = 3; i <= 9 && rest >> f; ++i) {
    if (i == 9) return (parse_int(f, 0, INT64_MAX).value_or(0) & 0x4) != 0;  // PF_EXITING
  }
  return false;
}

bool process_running(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  std::getline(in, s);
  auto rp = s.rfind(')');
  return rp != std::string::npos && rp + 2 < s.size() && s[rp + 2] != 'Z';
}

namespace {

constexpr std::chrono::seconds kKillWait{20};

// Processes whose network namespace is one of `inodes` (device, inode of the ns files).
std::vector<pid_t> pids_in(const std::set<std::pair<dev_t, ino_t>>& inodes) {
  std::vector<pid_t> out;
  if (inodes.empty()) return out;
  DIR* d = ::opendir("/proc");
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    auto pid = parse_int(e->d_name, 1, INT32_MAX);
    if (!pid) continue;
    struct stat st {};
    std::string p = std::string("/proc/") + e->d_name + "/ns/net";
    if (::stat(p.c_str(), &st) == 0 && inodes.count({st.st_dev, st.st_ino}))
      out.push_back(static_cast<pid_t>(*pid));
  }
  ::closedir(d);
  return out;
}

}  // namespace

Result<size_t> kill_processes(const std::vector<pid_t>& pids,
                              const std::vector<std::string>& namespaces,
                              std::chrono::milliseconds grace, bool exiting_is_gone) {
  using Clock = std::chrono::steady_clock;
  std::set<std::pair<dev_t, ino_t>> inodes;
  for (auto& ns : namespaces) {
    struct stat st {};
    if (::stat(netns_path(ns).c_str(), &st) == 0) inodes.insert({st.st_dev, st.st_ino});
  }
  std::set<pid_t> seen;
  auto live = [&] {
    std::vector<pid_t> out;
    std::vector<pid_t> all = pids_in(inodes);
    all.insert(all.end(), pids.begin(), pids.end());
    for (pid_t p : all) {
      if (p == ::getpid()) continue;
      int st;
      ::waitpid(p, &st, WNOHANG);  // ours: reaped; others: no effect
      if (process_running(p)) {
        seen.insert(p);
        if (!(exiting_is_gone && process_exiting(p))) out.push_back(p);
      }
    }
    return out;
  };
  auto wait_gone = [&](Clock::duration d, int sig) {
    auto end = Clock::now() + d;
    while (true) {
      auto left = live();
      if (left.empty() || Clock::now() >= end) return left;
      for (pid_t p : left) ::kill(p, sig);  // late arrivals get the signal too
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  };
  if (grace.count() > 0) {
    for (pid_t p : live()) ::kill(p, SIGTERM);
    if (wait_gone(grace, SIGTERM).empty()) return seen.size();
  }
  for (pid_t p : live()) ::kill(p, SIGKILL);
  // A killed process may take seconds to finish exiting: closing each packet socket or TAP
  // descriptor waits for an RCU grace period, and a dataplane has one per port.
  auto left = wait_gone(kKillWait, SIGKILL);
  if (left.empty()) return seen.size();
  return make_error(ETIMEDOUT, "processes {} survived SIGKILL for {} s", fmt::join(left, ", "),
                    kKillWait.count());
}

Status kill_netns_processes(const std::string& name, std::chrono::milliseconds grace) {
  auto r = kill_processes({}, {name}, grace, false);
  if (!r) return make_error(r.error().code, "{}: {}", name, r.error().message);
  return {};
}

Status in_netns(const std::string& name, const std::function<Status()>& fn) {
  auto target = open_netns(name);
  if (!target) return target.error();
  UniqueFd orig(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (::setns(target->get(), CLONE_NEWNET) < 0) return system_error("setns " + name);
  Status s = fn();
  if (::setns(orig.get(), CLONE_NEWNET) < 0) return system_error("setns back");
  return s;
}

namespace {
std::function<Result<pid_t>(const SpawnOptions&)>& home_spawner() {
  static std::function<Result<pid_t>(const SpawnOptions&)> fn;
  return fn;
}
}  // namespace

void set_home_spawner(std::function<Result<pid_t>(const SpawnOptions&)> fn) {
  home_spawner() = std::move(fn);
}

Result<pid_t> spawn(const SpawnOptions& o) {
  if (o.argv.empty()) return make_error(EINVAL, "spawn: empty command");
  if (o.netns.empty() && home_spawner()) return home_spawner()(o);
  UniqueFd target;
  if (!o.netns.empty()) {
    auto t = open_netns(o.netns);
    if (!t) return t.error();
    target = std::move(*t);
  }
  int tfd = target.get();
  ViewFds view;
  char cwd[4096] = "";
  if (o.view < 0)
    return make_error(ESRCH,
                      "the view of {} (hostname, /etc files, /run, /tmp) is gone: its "
                      "holder process ended",
                      o.netns);
  if (o.view > 0) {
    auto v = open_view(o.view);
    if (!v)
      return make_error(v.error().code, "the view of {} is gone: {}", o.netns, v.error().message);
    view = *v;
    if (::getcwd(cwd, sizeof cwd) == nullptr) cwd[0] = '\0';
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    close_view(view);
    return system_error("fork");
  }
  if (pid == 0) {
    if (o.new_session) ::setsid();
    if (tfd >= 0 && ::setns(tfd, CLONE_NEWNET) < 0) _exit(126);
    if (o.out_fd >= 0) {
      int null = ::open("/dev/null", O_RDONLY);
      if (null >= 0) ::dup2(null, 0);
      ::dup2(o.out_fd, 1);
      ::dup2(o.err_fd, 2);
    } else if (!o.log_file.empty()) {
      int fd = ::open(o.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      int null = ::open("/dev/null", O_RDONLY);
      if (null >= 0) ::dup2(null, 0);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
    }
    if (!enter_view(view, cwd)) _exit(126);
    // Only stdin, stdout and stderr go to the service: a descriptor the caller of `vnet lab`
    // left open (a lock held by flock(1), a pipe of a CI runner) must not live as long as the
    // lab's daemons, or the lock stays held and the pipe never reaches end of file.
    unsigned first_closed = 3;
    if (o.fd3 >= 0) {
      if (o.fd3 != 3 && ::dup2(o.fd3, 3) < 0) _exit(126);
      if (o.fd3 == 3) ::fcntl(3, F_SETFD, 0);
      first_closed = 4;
    }
    ::close_range(first_closed, ~0U, 0);
    std::vector<char*> args;
    for (auto& a : o.argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  close_view(view);
  return pid;
}

Result<int> run_in_netns(const std::string& netns, const std::vector<std::string>& argv, bool quiet,
                         pid_t view) {
  SpawnOptions o{netns, argv, quiet ? "/dev/null" : "", false, view};
  auto pid = spawn(o);
  if (!pid) return pid.error();
  int status = 0;
  while (::waitpid(*pid, &status, 0) < 0) {
    if (errno != EINTR) return system_error("waitpid");
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

namespace {

// Appends what `fd` has now (non-blocking) to `into`, at most up to `limit` bytes, counting the
// rest in `dropped`; false at end of file or on an error.
bool read_some(int fd, std::string& into, size_t& dropped, size_t limit) {
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      size_t keep = into.size() < limit ? std::min(limit - into.size(), size_t(n)) : 0;
      into.append(buf, keep);
      dropped += size_t(n) - keep;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
  }
}

}  // namespace

Result<CapturedRun> run_captured(const std::string& netns, const std::vector<std::string>& argv,
                                 pid_t view, Duration timeout, size_t limit) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0) return system_error("pipe");
  if (::pipe2(err, O_CLOEXEC | O_NONBLOCK) < 0) {
    ::close(out[0]);
    ::close(out[1]);
    return system_error("pipe");
  }
  UniqueFd out_r(out[0]), out_w(out[1]), err_r(err[0]), err_w(err[1]);
  // The child's ends block: a command writing more than a pipe holds waits for this reader.
  ::fcntl(out[1], F_SETFL, 0);
  ::fcntl(err[1], F_SETFL, 0);
  SpawnOptions o{netns, argv, "", true, view, out[1], err[1]};
  auto pid = spawn(o);
  if (!pid) return pid.error();
  out_w.reset();
  err_w.reset();
  CapturedRun run;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // A pidfd turns readable when the command exits, so the wait wakes on output, on the exit or
  // at the deadline, never on a timer of its own.
  UniqueFd exited(static_cast<int>(::syscall(SYS_pidfd_open, *pid, 0)));
  if (exited.get() < 0) {
    ::kill(-*pid, SIGKILL);
    while (::waitpid(*pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return system_error("pidfd_open");
  }
  bool out_open = true, err_open = true;
  int status = 0;
  for (;;) {
    pid_t w = ::waitpid(*pid, &status, WNOHANG);
    if (w < 0 && errno != EINTR) return system_error("waitpid");
    if (w == *pid) break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(-*pid, SIGKILL);
      while (::waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
      }
      run.timed_out = true;
      break;
    }
    pollfd p[3];
    nfds_t n = 0;
    p[n++] = {exited.get(), POLLIN, 0};
    if (out_open) p[n++] = {out_r.get(), POLLIN, 0};
    if (err_open) p[n++] = {err_r.get(), POLLIN, 0};
    ::poll(p, n, static_cast<int>(std::min<int64_t>(left.count() + 1, 60'000)));
    if (out_open) out_open = read_some(out_r.get(), run.out, run.out_dropped, limit);
    if (err_open) err_open = read_some(err_r.get(), run.err, run.err_dropped, limit);
  }
  if (out_open) read_some(out_r.get(), run.out, run.out_dropped, limit);
  if (err_open) read_some(err_r.get(), run.err, run.err_dropped, limit);
  run.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

Status set_sysctl(const std::string& netns, const std::string& key, const std::string& value) {
  return in_netns(netns, [&]() -> Status {
    std::string path = "/proc/sys/" + key;
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return system_error("open " + path);
    ssize_t w = ::write(fd, value.data(), value.size());
    ::close(fd);
    if (w < 0) return system_error("write " + path);
    return {};
  });
}

}  // namespace vnet::lab

namespace vnet::lab {

Result<io::Netlink> open_netlink(const std::string& netns) {
  std::optional<io::Netlink> nl;
  Status s = in_netns(netns, [&]() -> Status {
    auto r = io::Netlink::open(netns);
    if (!r) return r.error();
    nl.emplace(std::move(*r));
    return {};
  });
  if (!s) return s.error();
  return std::move(*nl);
}

Status load_nftables_in(const std::string& netns, const std::string& ruleset) {
  return in_netns(netns, [&]() -> Status {
    auto s = io::load_nftables(ruleset);
    if (!s) return make_error(s.error().code, "{}: {}", netns, s.error().message);
    return {};
  });
}

}  // namespace vnet::lab
