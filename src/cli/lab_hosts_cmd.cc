// vnet lab … for labs across hosts (docs/multihost.md): a host's share (`--host NAME`), and the
// fan-out of `up`, `down`, `status` and `test` over every host through Ansible from a controller.
//
// The controller runs share/ansible/lab.yml (found next to the binary: <dir>/share/ansible in a
// build tree, <dir>/../share/vnet/ansible when installed, or $VNET_PLAYBOOK) with an inventory
// generated from the file (or the administrator's, --inventory). The playbook copies the topology
// file to each host and runs `vnet lab ACTION FILE --host NAME` there; ansible-playbook's output
// is passed through (progress per host) and its PLAY RECAP tells which hosts failed or were
// unreachable. Scenarios run step by step where their node lives: consecutive steps acting on
// one host's node (the first node a step names) go to that host in one playbook run.

#include "cli/lab_hosts_cmd.hh"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>

#include "base/parse.hh"

#include "lab/hosts.hh"
#include "lab/orchestrator.hh"
#include "lab/scenario.hh"
#include "lab/state.hh"

namespace vnet::cli {
namespace {

namespace fs = std::filesystem;

// Runs argv with stdout and stderr through `line` one line at a time; returns the exit status.
int run_lines(const std::vector<std::string>& argv,
              const std::function<void(const std::string&)>& line) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return 127;
  pid_t pid = ::fork();
  if (pid < 0) return 127;
  if (pid == 0) {
    ::dup2(p[1], 1);
    ::dup2(p[1], 2);
    std::vector<char*> a;
    for (auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    ::execvp(a[0], a.data());
    std::fprintf(stderr, "cannot run %s: %s\n", a[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(p[1]);
  FILE* in = ::fdopen(p[0], "r");
  char* buf = nullptr;
  size_t cap = 0;
  ssize_t n;
  while ((n = ::getline(&buf, &cap, in)) > 0) {
    std::string s(buf, static_cast<size_t>(n));
    if (!s.empty() && s.back() == '\n') s.pop_back();
    line(s);
  }
  std::free(buf);
  std::fclose(in);
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

std::string exe_dir(const std::string& exe) { return fs::path(exe).parent_path().string(); }

}  // namespace

std::string find_playbook(const std::string& vnet_binary) {
  if (const char* env = std::getenv("VNET_PLAYBOOK"); env && *env) return env;
  std::string dir = exe_dir(vnet_binary);
  for (std::string p : {dir + "/share/ansible/lab.yml", dir + "/../share/vnet/ansible/lab.yml"}) {
    std::error_code ec;
    if (fs::exists(p, ec)) return fs::weakly_canonical(p, ec).string();
  }
  return "";
}

HostRun run_on_hosts(const lab::Topology& t, const std::string& file, const FanOut& f,
                     const std::string& action, const std::vector<std::string>& args,
                     const std::vector<std::string>& limit, std::ostream& out) {
  HostRun r;
  std::string playbook = find_playbook(f.vnet_binary);
  if (playbook.empty()) {
    r.error = "the Ansible playbook lab.yml is not next to " + f.vnet_binary +
              " (share/ansible/lab.yml; or set VNET_PLAYBOOK)";
    return r;
  }
  std::string inventory = f.inventory;
  std::string generated;
  if (inventory.empty()) {
    char tmpl[] = "/tmp/vnet-inventory-XXXXXX";
    int fd = ::mkstemp(tmpl);
    if (fd < 0) {
      r.error = "cannot create a temporary inventory";
      return r;
    }
    ::close(fd);
    generated = tmpl;
    std::ofstream(generated) << lab::ansible_inventory(t, f.vnet_binary);
    inventory = generated;
  }
  std::error_code ec;
  std::string abs_file = fs::absolute(file, ec).string();
  nlohmann::json extra = {
      {"vnet_lab_file", abs_file}, {"vnet_action", action}, {"vnet_args", args}};
  std::vector<std::string> argv = {"ansible-playbook", "-i", inventory,
                                   playbook,           "-e", extra.dump()};
  if (!limit.empty())
    argv.insert(argv.end(), {"--limit", fmt::format("{}", fmt::join(limit, ","))});
  ::setenv("ANSIBLE_PIPELINING", "True", 0);
  ::setenv("ANSIBLE_FORCE_COLOR", "0", 1);
  ::setenv("ANSIBLE_NOCOLOR", "1", 1);
  ::setenv("ANSIBLE_RETRY_FILES_ENABLED", "False", 0);
  // "h1 : ok=3 changed=1 unreachable=0 failed=0 skipped=0 …"
  static const std::regex recap(
      R"(^(\S+)\s*:\s*ok=\d+\s+changed=\d+\s+unreachable=(\d+)\s+failed=(\d+))");
  static const std::regex fatal(R"(^fatal: \[([^\]]+)\]: (UNREACHABLE|FAILED)!)");
  bool in_recap = false;
  int rc = run_lines(argv, [&](const std::string& line) {
    out << "  | " << line << "\n" << std::flush;
    if (line.starts_with("PLAY RECAP")) in_recap = true;
    std::smatch m;
    if (std::regex_search(line, m, fatal)) r.messages[m[1]] = line;
    if (in_recap && std::regex_search(line, m, recap)) {
      std::string host = m[1];
      r.seen.push_back(host);
      if (m[2] != "0")
        r.unreachable.push_back(host);
      else if (m[3] != "0")
        r.failed.push_back(host);
    }
  });
  if (!generated.empty()) ::unlink(generated.c_str());
  if (rc != 0 && r.unreachable.empty() && r.failed.empty())
    r.error = fmt::format("ansible-playbook exited with {} (see its output above)", rc);
  return r;
}

int host_share_up(const lab::Topology& t, const std::string& host, const std::string& vnet_binary) {
  auto ns = lab::own_netns_path();
  if (!ns) {
    std::cerr << "vnet lab up --host " << host << ": " << ns.error().message << "\n";
    return 1;
  }
  auto share = lab::share_of(t, host, *ns);
  if (!share) {
    std::cerr << "vnet lab up: " << share.error().message << "\n";
    return 2;
  }
  if (share->nodes.empty()) {
    std::cout << fmt::format("lab {}: nothing placed on host {}\n", t.name, host);
    return 0;
  }
  if (lab::lab_is_up(t.name)) {
    std::cout << fmt::format("lab {} is already up on host {}\n", t.name, host);
    return 0;
  }
  if (lab::State::exists(t.name)) {  // a crashed up: clean first
    if (auto s = lab::lab_down(t.name, std::cout); !s) {
      std::cerr << "vnet lab up: " << s.error().message << "\n";
      return 1;
    }
  }
  std::cout << fmt::format("lab {} on host {}: {} nodes, {} cables to other hosts\n", t.name, host,
                           share->nodes.size(),
                           std::count_if(share->links.begin(), share->links.end(),
                                         [](auto& l) { return !l.backend.empty(); }));
  if (auto s = lab::lab_up(*share, vnet_binary, std::cout); !s) {
    std::cerr << "vnet lab up --host " << host << ": " << s.error().message << "\n";
    return 1;
  }
  return 0;
}

int host_share_down(const lab::Topology& t, const std::string& host) {
  if (!lab::find_host(t, host)) {
    std::cerr << "vnet lab down: no host named '" << host << "' in " << t.file << "\n";
    return 2;
  }
  if (!lab::State::exists(t.name)) {
    std::cout << fmt::format("lab {} is not up on host {}: nothing to remove\n", t.name, host);
    return 0;
  }
  if (auto s = lab::lab_down(t.name, std::cout); !s) {
    std::cerr << "vnet lab down --host " << host << ": " << s.error().message << "\n";
    return 1;
  }
  return 0;
}

nlohmann::json host_share_status(const lab::Topology& t, const std::string& host) {
  nlohmann::json j = {{"lab", t.name}, {"host", host}, {"up", false}};
  auto share = lab::share_of(t, host);
  if (share) {
    nlohmann::json nodes = nlohmann::json::array();
    for (auto& n : share->nodes) nodes.push_back(n.name);
    j["nodes"] = nodes;
    j["dataplane_netns"] = share->switch_netns();
  }
  if (!lab::State::exists(t.name)) return j;
  auto s = lab::lab_status(t.name);
  if (!s) {
    j["error"] = s.error().message;
    return j;
  }
  j["up"] = s->value("phase", "") == "up";
  j["status"] = *s;
  return j;
}

int host_run_steps(lab::Topology t, const std::string& host, const std::string& scenario,
                   const std::string& steps, const std::string& vnet_binary) {
  auto fail = [](const std::string& m) {
    std::cerr << "vnet lab test: " << m << "\n";
    return 1;
  };
  if (!lab::find_host(t, host)) return fail("no host named '" + host + "'");
  if (!lab::lab_is_up(t.name)) return fail("lab " + t.name + " is not up on host " + host);
  auto dash = steps.find('-');
  auto from = parse_int(steps.substr(0, dash), 1, 100000);
  auto to = parse_int(dash == std::string::npos ? steps : steps.substr(dash + 1), 1, 100000);
  if (!from || !to || *to < *from) return fail("--steps " + steps + ": expected FROM-TO (1-based)");
  lab::Scenario picked;
  for (auto& sc : t.scenarios) {
    if (sc.name != scenario) continue;
    picked = sc;
    picked.steps.clear();
    for (int64_t i = *from; i <= *to && i <= static_cast<int64_t>(sc.steps.size()); ++i)
      picked.steps.push_back(sc.steps[static_cast<size_t>(i - 1)]);
  }
  if (picked.steps.empty()) return fail("no steps " + steps + " in scenario '" + scenario + "'");
  t.scenarios = {picked};
  t.share = host;  // the dataplane's namespace is this host's
  auto rt = lab::lab_open(t, vnet_binary);
  if (!rt) return fail(rt.error().message);
  auto report = lab::run_scenarios(t, **rt, scenario, std::cout);
  report.print(std::cout);
  return report.failed() || report.steps.empty() ? 1 : 0;
}

std::string step_host(const lab::Topology& t, const lab::Step& st, const std::string& previous) {
  std::string word;
  for (char c : st.text + " ") {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') {
      word += c;
      continue;
    }
    if (const lab::Node* n = t.node(word); n && !word.empty()) return n->host;
    word.clear();
  }
  return previous.empty() ? t.hosts.front().name : previous;
}

namespace {

std::string names(const std::vector<std::string>& v) {
  return fmt::format("{}", fmt::join(v, ", "));
}

std::vector<std::string> all_hosts(const lab::Topology& t) {
  std::vector<std::string> out;
  for (auto& h : t.hosts) out.push_back(h.name);
  return out;
}

// "host h4 unreachable (fatal: [h4]: UNREACHABLE! …)" for each host that did not make it.
std::string what_failed(const HostRun& r) {
  if (!r.error.empty()) return r.error;
  std::vector<std::string> parts;
  for (auto& h : r.unreachable) {
    auto m = r.messages.find(h);
    parts.push_back(fmt::format("host {} unreachable{}", h,
                                m == r.messages.end() ? "" : " (" + m->second + ")"));
  }
  for (auto& h : r.failed) {
    auto m = r.messages.find(h);
    parts.push_back(
        fmt::format("host {} failed{}", h, m == r.messages.end() ? "" : " (" + m->second + ")"));
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

}  // namespace

int fan_out_up(const lab::Topology& t, const std::string& file, const FanOut& f) {
  auto t0 = std::chrono::steady_clock::now();
  std::cout << fmt::format("lab {}: up on {} hosts ({}) through Ansible\n", t.name, t.hosts.size(),
                           names(all_hosts(t)))
            << std::flush;
  HostRun r = run_on_hosts(t, file, f, "up", {}, {}, std::cout);
  if (!r.ok()) {
    std::cerr << "vnet lab up: " << what_failed(r) << "\n";
    // Every host that is reachable is taken down again: the lab is up everywhere or nowhere.
    std::vector<std::string> others;
    for (auto& h : all_hosts(t)) {
      if (std::find(r.unreachable.begin(), r.unreachable.end(), h) == r.unreachable.end())
        others.push_back(h);
    }
    if (!others.empty() && r.error.empty()) {
      std::cout << "bringing the other hosts down: " << names(others) << "\n" << std::flush;
      HostRun d = run_on_hosts(t, file, f, "down", {}, others, std::cout);
      if (!d.ok()) std::cerr << "vnet lab up: cleaning up failed too: " << what_failed(d) << "\n";
    }
    return 1;
  }
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::cout << fmt::format("lab {} is up on {} hosts in {} ms\n", t.name, r.seen.size(),
                           ms.count());
  return 0;
}

int fan_out_down(const lab::Topology& t, const std::string& file, const FanOut& f) {
  std::cout << fmt::format("lab {}: down on {} hosts through Ansible\n", t.name, t.hosts.size())
            << std::flush;
  HostRun r = run_on_hosts(t, file, f, "down", {}, {}, std::cout);
  if (!r.ok()) {
    std::cerr << "vnet lab down: " << what_failed(r) << "\n";
    return 1;
  }
  std::cout << fmt::format("lab {} is down on {} hosts\n", t.name, r.seen.size());
  return 0;
}

int fan_out_status(const lab::Topology& t, const std::string& file, const FanOut& f) {
  HostRun r = run_on_hosts(t, file, f, "status", {"--json"}, {}, std::cout);
  if (!r.ok()) {
    std::cerr << "vnet lab status: " << what_failed(r) << "\n";
    return 1;
  }
  return 0;
}

int fan_out_test(const lab::Topology& t, const std::string& file, const FanOut& f,
                 const std::string& only, bool keep) {
  if (int rc = fan_out_up(t, file, f); rc != 0) return rc;
  int failed = 0, runs = 0;
  for (auto& sc : t.scenarios) {
    if (!only.empty() && sc.name != only) continue;
    std::cout << fmt::format("scenario {}\n", sc.name);
    // Runs of consecutive steps on one host: one playbook run each.
    size_t i = 0;
    std::string host;
    while (i < sc.steps.size()) {
      host = step_host(t, sc.steps[i], host);
      size_t j = i + 1;
      while (j < sc.steps.size() && step_host(t, sc.steps[j], host) == host) ++j;
      std::cout << fmt::format("  steps {}-{} on {}\n", i + 1, j, host) << std::flush;
      HostRun r = run_on_hosts(t, file, f, "test",
                               {"--scenario", sc.name, "--steps", fmt::format("{}-{}", i + 1, j)},
                               {host}, std::cout);
      ++runs;
      if (!r.ok()) {
        ++failed;
        std::cout << fmt::format("  FAILED: {}\n", what_failed(r));
      }
      i = j;
    }
  }
  if (!keep) (void)fan_out_down(t, file, f);
  if (runs == 0) {
    std::cerr << "vnet lab test: no scenario step ran\n";
    return 1;
  }
  std::cout << fmt::format("{} of {} step runs across hosts passed\n", runs - failed, runs);
  return failed ? 1 : 0;
}

}  // namespace vnet::cli
