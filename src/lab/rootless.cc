#include "lab/rootless.hh"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "base/fd.hh"
#include "base/file.hh"
#include "base/parse.hh"
#include "lab/netns.hh"
#include "lab/node_kind.hh"
#include "lab/state.hh"

namespace vnet::lab::rootless {
namespace {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

std::string holder_file(const std::string& lab) { return state_root() + "/" + lab + ".holder"; }

std::string user_name(uid_t uid) {
  passwd* pw = ::getpwuid(uid);
  return pw ? pw->pw_name : "";
}

// The first range of /etc/subuid or /etc/subgid for the user (by name or number), as
// "START COUNT"; empty when there is none.
std::string subordinate(const char* file, uid_t uid) {
  std::ifstream in(file);
  std::string name = user_name(uid), line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string who, start, count;
    if (!std::getline(f, who, ':') || !std::getline(f, start, ':') || !std::getline(f, count))
      continue;
    if ((who == name && !name.empty()) || who == std::to_string(uid)) {
      if (parse_int(start, 1, UINT32_MAX) && parse_int(count, 1, UINT32_MAX))
        return start + " " + count;
    }
  }
  return "";
}

// Runs a program and waits; its stderr and stdout become the error's message on failure.
Status run_tool(const std::vector<std::string>& argv) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return system_error("pipe");
  pid_t pid = ::fork();
  if (pid < 0) return system_error("fork");
  if (pid == 0) {
    ::dup2(p[1], 1);
    ::dup2(p[1], 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  ::close(p[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = ::read(p[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR);)
    if (n > 0) out.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return {};
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return make_error(EPERM, "{} failed{}{}", argv[0], out.empty() ? "" : ": ", out);
}

Status write_file(const std::string& path, const std::string& text) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) return system_error("open " + path);
  if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size()))
    return system_error("write " + path);
  return {};
}

// Maps the child's user namespace: subordinate ids through newuidmap/newgidmap when the user has
// them, else the single-id map. Returns which.
Result<std::string> write_maps(pid_t child) {
  uid_t uid = ::getuid();
  gid_t gid = ::getgid();
  std::string su = subordinate("/etc/subuid", uid), sg = subordinate("/etc/subgid", uid);
  const char* force = std::getenv("VNET_USERNS_MAP");
  bool single = force && std::string(force) == "single";
  if (!single && !su.empty() && !sg.empty() && ::access("/usr/bin/newuidmap", X_OK) == 0 &&
      ::access("/usr/bin/newgidmap", X_OK) == 0) {
    auto args = [&](const char* tool, unsigned id, const std::string& range) {
      std::vector<std::string> a = {tool, std::to_string(child), "0", std::to_string(id), "1", "1"};
      std::istringstream r(range);
      for (std::string w; r >> w;) a.push_back(w);
      return a;
    };
    if (auto s = run_tool(args("/usr/bin/newuidmap", uid, su)); !s) return s.error();
    if (auto s = run_tool(args("/usr/bin/newgidmap", gid, sg)); !s) return s.error();
    return std::string("subordinate");
  }
  std::string proc = "/proc/" + std::to_string(child);
  if (auto s = write_file(proc + "/setgroups", "deny"); !s) return s.error();
  if (auto s = write_file(proc + "/uid_map", fmt::format("0 {} 1", uid)); !s) return s.error();
  if (auto s = write_file(proc + "/gid_map", fmt::format("0 {} 1", gid)); !s) return s.error();
  return std::string("single");
}

// In the holder: /run/netns private (see the header). Returns "" or what failed.
std::string private_run() {
  constexpr unsigned long kFlags = MS_NOSUID | MS_NODEV;
  struct stat st {};
  if (::stat(kNetnsDir, &st) == 0 && S_ISDIR(st.st_mode)) {
    if (::mount("tmpfs", kNetnsDir, "tmpfs", kFlags, "mode=0755") < 0)
      return std::string("mount tmpfs on /run/netns: ") + std::strerror(errno);
    return "";
  }
  int old = ::open("/run", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (old < 0) return std::string("open /run: ") + std::strerror(errno);
  if (::mount("tmpfs", "/run", "tmpfs", kFlags, "mode=0755") < 0)
    return std::string("mount tmpfs on /run: ") + std::strerror(errno);
  DIR* d = ::fdopendir(old);
  if (!d) return std::string("read /run: ") + std::strerror(errno);
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || name == "netns") continue;
    std::string from = "/proc/self/fd/" + std::to_string(old) + "/" + name, to = "/run/" + name;
    struct stat s {};
    if (::lstat(from.c_str(), &s) < 0) continue;
    if (S_ISLNK(s.st_mode)) {
      char target[4096];
      ssize_t n = ::readlink(from.c_str(), target, sizeof target - 1);
      if (n > 0) {
        target[n] = '\0';
        (void)::symlink(target, to.c_str());
      }
      continue;
    }
    if (S_ISDIR(s.st_mode)) {
      ::mkdir(to.c_str(), 0755);
    } else {
      int f = ::open(to.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (f >= 0) ::close(f);
    }
    (void)::mount(from.c_str(), to.c_str(), nullptr, MS_BIND | MS_REC, nullptr);
  }
  ::closedir(d);
  if (::mkdir(kNetnsDir, 0755) < 0) return std::string("mkdir /run/netns: ") + std::strerror(errno);
  return "";
}

// The holder's life after fork: namespaces, then nothing until killed. `to_parent` gets one line
// per step ("U" unshared, "R" ready, "E why" failed); `from_parent` one byte once the maps are
// written.
[[noreturn]] void holder_main(int to_parent, int from_parent) {
  ::setsid();
  auto say = [&](const std::string& line) {
    std::string l = line + "\n";
    [[maybe_unused]] auto w = ::write(to_parent, l.data(), l.size());
  };
  if (::unshare(CLONE_NEWUSER) < 0) {
    say(std::string("E unshare(CLONE_NEWUSER): ") + std::strerror(errno));
    _exit(1);
  }
  say("U");
  char c;
  if (::read(from_parent, &c, 1) != 1) _exit(1);
  if (::unshare(CLONE_NEWNS | CLONE_NEWNET) < 0) {
    say(std::string("E unshare(CLONE_NEWNS|CLONE_NEWNET): ") + std::strerror(errno));
    _exit(1);
  }
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) < 0) {
    say(std::string("E mount --make-rslave /: ") + std::strerror(errno));
    _exit(1);
  }
  if (auto why = private_run(); !why.empty()) {
    say("E " + why);
    _exit(1);
  }
  say("R");
  int null = ::open("/dev/null", O_RDWR);
  for (int fd = 0; fd < 3; ++fd) ::dup2(null, fd);
  ::close_range(3, ~0U, 0);
  if (::chdir("/") < 0) _exit(1);
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  for (;;) ::pause();
}

// Reads one line from fd (blocking).
std::string read_line(int fd) {
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1 && c != '\n') line.push_back(c);
  return line;
}

Result<pid_t> start_holder(std::string& map) {
  int up[2], down[2];
  if (::pipe2(up, O_CLOEXEC) < 0 || ::pipe2(down, O_CLOEXEC) < 0) return system_error("pipe");
  UniqueFd up_r(up[0]), up_w(up[1]), down_r(down[0]), down_w(down[1]);
  pid_t pid = ::fork();
  if (pid < 0) return system_error("fork");
  if (pid == 0) holder_main(up[1], down[0]);
  up_w.reset();
  down_r.reset();
  auto fail = [&](Error e) -> Result<pid_t> {
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return e;
  };
  std::string line = read_line(up_r.get());
  if (line != "U")
    return fail(make_error(EPERM, "the lab's user namespace: {}",
                           line.empty() ? "the holder ended" : line.substr(2)));
  auto m = write_maps(pid);
  if (!m)
    return fail(
        make_error(m.error().code, "mapping the lab's user namespace: {}", m.error().message));
  map = *m;
  if (::write(down_w.get(), "m", 1) != 1) return fail(system_error("write to the holder"));
  line = read_line(up_r.get());
  if (line != "R")
    return fail(make_error(EPERM, "the lab's namespaces: {}",
                           line.empty() ? "the holder ended" : line.substr(2)));
  return pid;
}

// The holder of a lab that is up, if it is alive and still the process recorded.
Result<pid_t> find_holder(const std::string& lab) {
  auto text = read_regular_file(holder_file(lab), 1 << 16);
  if (!text)
    return make_error(ENOENT, "lab {} has no rootless holder ({} missing)", lab, holder_file(lab));
  json j = json::parse(*text, nullptr, false);
  if (!j.is_object() || !j.contains("pid") || !j.contains("start"))
    return make_error(EINVAL, "{}: not a holder record", holder_file(lab));
  pid_t pid = j["pid"].get<pid_t>();
  if (process_start_time(pid) != j["start"].get<long long>() || !process_running(pid))
    return make_error(ESRCH,
                      "lab {}: its holder process {} is gone, and with it the lab's namespaces "
                      "(remove {} and the lab's state directory)",
                      lab, pid, holder_file(lab));
  return pid;
}

Status join_pid(pid_t pid) {
  std::string proc = "/proc/" + std::to_string(pid) + "/ns/";
  UniqueFd user(::open((proc + "user").c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd mnt(::open((proc + "mnt").c_str(), O_RDONLY | O_CLOEXEC));
  UniqueFd net(::open((proc + "net").c_str(), O_RDONLY | O_CLOEXEC));
  if (!user.valid() || !mnt.valid() || !net.valid()) return system_error("open " + proc);
  char cwd[4096];
  bool have_cwd = ::getcwd(cwd, sizeof cwd) != nullptr;
  if (::setns(user.get(), CLONE_NEWUSER) < 0) return system_error("setns " + proc + "user");
  if (::setns(mnt.get(), CLONE_NEWNS) < 0) return system_error("setns " + proc + "mnt");
  if (::setns(net.get(), CLONE_NEWNET) < 0) return system_error("setns " + proc + "net");
  // Entering a mount namespace moves to its root; the same directory exists in it, but the user
  // may not be able to reach it by its path (a directory inherited from a parent that could):
  // then "/", as `ip netns exec` does. Paths the lab needs are absolute by then.
  if (have_cwd && ::chdir(cwd) < 0) (void)!::chdir("/");
  return {};
}

// The launcher: stays in the user's own namespaces and spawns what is asked of it (see the
// header). A request is a JSON {argv, log} datagram, with the descriptor for fd 3 attached
// (SCM_RIGHTS) or not; the answer an int: the pid, or -errno.
[[noreturn]] void launcher_main(int sock) {
  if (sock != 3 && ::dup2(sock, 3) < 0) _exit(1);
  ::close_range(4, ~0U, 0);
  ::signal(SIGCHLD, SIG_IGN);  // its children are reaped by nobody else
  for (;;) {
    char buf[65536];
    char control[CMSG_SPACE(sizeof(int))];
    iovec iov{buf, sizeof buf};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(3, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(0);
    int fd3 = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
        std::memcpy(&fd3, CMSG_DATA(c), sizeof fd3);
    }
    json req = json::parse(std::string(buf, static_cast<size_t>(n)), nullptr, false);
    int answer = -EINVAL;
    if (req.is_object() && req.contains("argv") && !req["argv"].empty()) {
      std::vector<std::string> argv = req["argv"].get<std::vector<std::string>>();
      std::string log = req.value("log", std::string());
      pid_t pid = ::fork();
      if (pid == 0) {
        ::signal(SIGCHLD, SIG_DFL);
        ::setsid();
        int null = ::open("/dev/null", O_RDONLY);
        if (null >= 0) ::dup2(null, 0);
        int out = log.empty() ? -1 : ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (out >= 0) {
          ::dup2(out, 1);
          ::dup2(out, 2);
        }
        unsigned first = 3;
        if (fd3 >= 0) {
          if (::dup2(fd3, 3) < 0) _exit(126);
          first = 4;
        }
        ::close_range(first, ~0U, 0);
        std::vector<char*> args;
        for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        _exit(127);
      }
      answer = pid < 0 ? -errno : pid;
    }
    if (fd3 >= 0) ::close(fd3);
    [[maybe_unused]] auto w = ::send(3, &answer, sizeof answer, MSG_NOSIGNAL);
  }
}

Status start_launcher() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return system_error("socketpair");
  pid_t pid = ::fork();
  if (pid < 0) return system_error("fork");
  if (pid == 0) {
    ::close(sv[0]);
    launcher_main(sv[1]);
  }
  ::close(sv[1]);
  int sock = sv[0];  // lives as long as this process: the launcher ends at its end of file
  set_home_spawner([sock](const SpawnOptions& o) -> Result<pid_t> {
    if (o.view != 0 || o.out_fd >= 0)
      return make_error(EINVAL, "spawning {} outside the lab: no node view or pipes there",
                        o.argv.front());
    std::string req = json{{"argv", o.argv}, {"log", o.log_file}}.dump();
    iovec iov{req.data(), req.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    char control[CMSG_SPACE(sizeof(int))] = {};
    if (o.fd3 >= 0) {
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(c), &o.fd3, sizeof(int));
    }
    if (::sendmsg(sock, &msg, MSG_NOSIGNAL) < 0) return system_error("the outside launcher");
    int answer = 0;
    ssize_t n;
    while ((n = ::recv(sock, &answer, sizeof answer, 0)) < 0 && errno == EINTR) {
    }
    if (n != sizeof answer) return make_error(EIO, "the outside launcher ended");
    if (answer < 0)
      return make_error(-answer, "spawning {} outside the lab: {}", o.argv.front(),
                        std::strerror(-answer));
    return static_cast<pid_t>(answer);
  });
  return {};
}

}  // namespace

// Taken before main: after joining a holder this process is root inside the lab.
const bool kUnprivileged = ::geteuid() != 0;

bool unprivileged() { return kUnprivileged; }

Status prepare_state_root() {
  if (!unprivileged()) return {};
  const char* set = std::getenv("VNET_STATE_DIR");
  if (set && *set) return {};
  std::string root;
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  if (xdg && *xdg) {
    root = std::string(xdg) + "/vnet/labs";
  } else {
    std::string base = "/tmp/vnet-" + std::to_string(::getuid());
    if (::mkdir(base.c_str(), 0700) < 0 && errno != EEXIST) return system_error("mkdir " + base);
    struct stat st {};
    if (::lstat(base.c_str(), &st) < 0) return system_error("stat " + base);
    if (!S_ISDIR(st.st_mode) || st.st_uid != ::getuid() || (st.st_mode & 0077) != 0)
      return make_error(EPERM,
                        "{} (the state directory of rootless labs without XDG_RUNTIME_DIR) is not "
                        "a directory of yours with mode 0700; remove it or set XDG_RUNTIME_DIR",
                        base);
    root = base + "/labs";
  }
  ::setenv("VNET_STATE_DIR", root.c_str(), 1);
  return {};
}

std::vector<Diagnostic> refusals(const Topology& t) {
  std::vector<Diagnostic> out;
  if (!t.hosts.empty()) {
    out.push_back({t.hosts.front().where,
                   "a lab across machines (machines:) cannot run rootless: its VXLAN cables leave "
                   "this machine from the host's network namespace, which needs root (run it as "
                   "root)"});
  }
  for (const Node& n : t.nodes) {
    std::string why = n.kind->rootless_refusal(n);
    if (!why.empty())
      out.push_back({n.where, fmt::format("{} {} cannot run in a rootless lab: {}", n.kind->name(),
                                          n.name, why)});
  }
  return out;
}

Status create_and_join(const std::string& lab) {
  if (auto live = find_holder(lab))
    return make_error(EEXIST,
                      "lab {} is already up (its holder, pid {}, is alive); run vnet lab "
                      "down {} first",
                      lab, *live, lab);
  std::error_code ec;
  std::filesystem::create_directories(state_root(), ec);
  if (ec) return make_error(ec.value(), "create {}: {}", state_root(), ec.message());
  if (auto s = start_launcher(); !s) return s;
  std::string map;
  auto pid = start_holder(map);
  if (!pid) return pid.error();
  json j = {{"pid", *pid}, {"start", process_start_time(*pid)}, {"map", map}};
  std::string path = holder_file(lab), tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << j.dump() << "\n";
    if (!out) {
      ::kill(*pid, SIGKILL);
      return make_error(EIO, "write {}", tmp);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    ::kill(*pid, SIGKILL);
    return system_error("rename " + tmp);
  }
  return join_pid(*pid);
}

bool has_holder(const std::string& lab) { return static_cast<bool>(find_holder(lab)); }

Status join(const std::string& lab) {
  auto pid = find_holder(lab);
  if (pid) return join_pid(*pid);
  if (pid.error().code != ESRCH) return pid.error();
  // The holder was killed, but the lab's processes still hold its namespaces: join one of them
  // (so `down` can still find and remove everything).
  if (auto state = State::load(lab)) {
    for (auto& p : state->j().value("pids", json::array())) {
      // A node's processes live in its view's mount namespace: only the lab's own (the
      // dataplane, a capture) see the lab's /run/netns.
      if (!p.value("node", std::string()).empty()) continue;
      pid_t other = p["pid"].get<pid_t>();
      if (process_start_time(other) == p["start"].get<long long>() && process_running(other) &&
          join_pid(other))
        return {};
    }
  }
  return pid.error();
}

Status release(const std::string& lab) {
  std::string path = holder_file(lab);
  if (auto pid = find_holder(lab)) {
    ::kill(*pid, SIGKILL);
    auto end = SteadyClock::now() + std::chrono::seconds(5);
    while (process_running(*pid) && SteadyClock::now() < end) {
      ::waitpid(*pid, nullptr, WNOHANG);  // our child when `up` failed in this process
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    if (process_running(*pid))
      return make_error(ETIMEDOUT, "lab {}: its holder {} survived SIGKILL", lab, *pid);
  }
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) return system_error("unlink " + path);
  return {};
}

}  // namespace vnet::lab::rootless
