// vnet lab validate|up|down|status|test|exec|graph — a network from one file.

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <csignal>
#include <fstream>
#include <iostream>

#include "base/parse.hh"
#include "cli/commands.hh"
#include "cli/lab_hosts_cmd.hh"
#include "lab/graph.hh"
#include "lab/hosts.hh"
#include "lab/interrupt.hh"
#include "lab/netns.hh"
#include "lab/orchestrator.hh"
#include "lab/rootless.hh"
#include "lab/scenario.hh"
#include "lab/schema.hh"
#include "lab/state.hh"
#include "lab/vm_console.hh"

namespace vnet::cli {
namespace {

std::string self_exe() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "vnet";
  return std::string(buf, static_cast<size_t>(n));
}

[[noreturn]] void fail(const std::string& msg, int code = 1) {
  std::cerr << msg << "\n";
  std::exit(code);
}

// `vrrp_daemon`: the same lab with every router's VRRP run by another daemon, for comparison.
lab::Topology load_or_die(const std::string& file, const std::string& vrrp_daemon = "") {
  auto t = lab::load_topology(file, lab::LoadOptions{vrrp_daemon});
  if (!t) fail(t.error().message, 2);
  for (auto& w : t->warnings) std::cerr << w.where.str() << ": warning: " << w.message << "\n";
  return std::move(*t);
}

// Run by an ordinary user (docs/rootless.md): what the lab needs root for is refused here, each
// at its file:line.
void refuse_rootless_or_die(const lab::Topology& t) {
  if (!lab::rootless::unprivileged()) return;
  auto refused = lab::rootless::refusals(t);
  for (auto& d : refused) std::cerr << d.str() << "\n";
  if (!refused.empty())
    fail(fmt::format("{}: lab {} needs root for what is listed above (this runs as uid {}, "
                     "without root: a rootless lab, docs/rootless.md)",
                     t.file, t.name, ::getuid()),
         2);
}

// Rootless: joins the lab's holder (its user, mount and network namespaces). A lab without one
// (not up) is left to the command to report.
void join_or_die(const std::string& lab, const std::string& cmd) {
  if (!lab::rootless::unprivileged()) return;
  if (auto s = lab::rootless::join(lab); !s && s.error().code != ENOENT)
    fail("vnet lab " + cmd + ": " + s.error().message);
}

// Rootless `up`: a new holder, joined.
void create_holder_or_die(const std::string& lab, const std::string& cmd) {
  if (!lab::rootless::unprivileged()) return;
  // Before a holder exists: `up` would refuse the lab anyway, and the new holder be left over.
  if (lab::State::exists(lab))
    fail(
        fmt::format("vnet lab {}: lab {} is already up or was not taken down (state in {}); run "
                    "vnet lab down {} first",
                    cmd, lab, lab::state_dir(lab), lab));
  if (auto s = lab::rootless::create_and_join(lab); !s)
    fail("vnet lab " + cmd + ": " + s.error().message);
}

// Rootless: after the lab is down (or never came up), its holder goes too.
void release_holder(const std::string& lab) {
  if (!lab::rootless::unprivileged() || lab::State::exists(lab)) return;
  if (auto s = lab::rootless::release(lab); !s)
    std::cerr << "vnet lab: " << s.error().message << "\n";
}

bool looks_like_file(const std::string& s) {
  return s.find('/') != std::string::npos || s.ends_with(".yaml") || s.ends_with(".yml");
}

// A TCP service for `listen:` ports: accepts and closes, on IPv4 and IPv6, until killed.
int serve_tcp(const std::string& list) {
  std::vector<int> fds;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    auto parsed = parse_int(list.substr(pos, comma - pos), 1, 65535);
    if (!parsed) {
      std::cerr << "vnet lab serve: port " << parsed.error().message << "\n";
      return 2;
    }
    int port = static_cast<int>(*parsed);
    int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int zero = 0, one = 1;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(static_cast<uint16_t>(port));
    sa.sin6_addr = in6addr_any;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 || ::listen(fd, 64) < 0) {
      std::cerr << "vnet lab serve: port " << port << ": " << std::strerror(errno) << "\n";
      return 1;
    }
    fds.push_back(fd);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  std::vector<pollfd> p;
  for (int fd : fds) p.push_back({fd, POLLIN, 0});
  while (true) {
    if (::poll(p.data(), p.size(), -1) < 0 && errno != EINTR) return 1;
    for (auto& x : p) {
      if (x.revents & POLLIN) {
        int c = ::accept4(x.fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
          static const char kHello[] = "vnet lab test service\n";
          [[maybe_unused]] auto w = ::send(c, kHello, sizeof kHello - 1, MSG_NOSIGNAL);
          ::close(c);
        }
      }
    }
  }
}

}  // namespace

std::vector<std::string>& passthrough() {
  static std::vector<std::string> words;
  return words;
}

void add_lab(CLI::App& app) {
  auto* lab = app.add_subcommand(
      "lab", "a network from one file: validate, up, test, status, exec, graph, down");
  lab->require_subcommand(1);
  lab->preparse_callback([](size_t) {
    if (auto s = lab::rootless::prepare_state_root(); !s) fail("vnet lab: " + s.error().message);
  });

  auto file = std::make_shared<std::string>();
  auto* validate =
      lab->add_subcommand("validate", "check a topology file and report every mistake");
  validate->add_option("file", *file, "topology file")->required();
  validate->final_callback([file] {
    auto t = load_or_die(*file);
    refuse_rootless_or_die(t);
    std::cout << fmt::format("{}: lab {} is valid: {} nodes, {} links, {} scenarios\n", *file,
                             t.name, t.nodes.size(), t.links.size(), t.scenarios.size());
    std::exit(0);
  });

  // Labs across hosts (docs/multihost.md): a host's share, or the fan-out from a controller.
  struct HostOpts {
    std::string host, inventory, steps;
  };
  auto ho = std::make_shared<HostOpts>();
  auto host_options = [ho](CLI::App* c) {
    c->add_option("--host", ho->host, "labs across hosts: only this host's share");
    c->add_option(
        "--inventory", ho->inventory,
        "labs across hosts: this Ansible inventory instead of one generated from the file");
  };

  auto* up = lab->add_subcommand("up", "create the lab's namespaces, links and switches");
  up->add_option("file", *file, "topology file")->required();
  host_options(up);
  auto vrrp_daemon = std::make_shared<std::string>();
  up->add_option("--vrrp-daemon", *vrrp_daemon,
                 "run every router's VRRP with this daemon instead (vnet or keepalived)")
      ->check(CLI::IsMember({"vnet", "keepalived"}));
  up->final_callback([file, vrrp_daemon, ho] {
    auto t = load_or_die(*file, *vrrp_daemon);
    refuse_rootless_or_die(t);
    lab::install_interrupt_handlers();
    if (!ho->host.empty()) std::exit(host_share_up(t, ho->host, self_exe()));
    if (!t.hosts.empty()) std::exit(fan_out_up(t, *file, FanOut{self_exe(), ho->inventory}));
    create_holder_or_die(t.name, "up");
    if (auto s = lab::lab_up(t, self_exe(), std::cout); !s) {
      release_holder(t.name);
      fail("vnet lab up: " + s.error().message);
    }
    std::exit(0);
  });

  auto target = std::make_shared<std::string>();
  auto* down = lab->add_subcommand("down", "remove everything a lab created (also after a crash)");
  down->add_option("lab", *target, "topology file or lab name")->required();
  host_options(down);
  down->final_callback([target, ho] {
    std::string name = *target;
    if (looks_like_file(*target)) {
      auto t = load_or_die(*target);
      if (!ho->host.empty()) std::exit(host_share_down(t, ho->host));
      if (!t.hosts.empty()) std::exit(fan_out_down(t, *target, FanOut{self_exe(), ho->inventory}));
      name = t.name;
    }
    join_or_die(name, "down");
    auto s = lab::lab_down(name, std::cout);
    release_holder(name);
    if (!s) fail("vnet lab down: " + s.error().message);
    std::exit(0);
  });

  auto json_out = std::make_shared<bool>(false);
  auto* status =
      lab->add_subcommand("status", "labs that are up; with a name, its nodes, links and switches");
  status->add_option("lab", *target, "topology file or lab name");
  status->add_flag("--json", *json_out, "JSON output");
  host_options(status);
  status->final_callback([target, json_out, ho] {
    std::string name = *target;
    if (looks_like_file(name)) {
      auto t = load_or_die(name);
      if (!ho->host.empty()) {
        auto j = host_share_status(t, ho->host);
        if (*json_out) {
          std::cout << j.dump(2) << "\n";
        } else {
          std::cout << fmt::format("lab {} on host {}: {}\n", t.name, ho->host,
                                   j["up"].get<bool>() ? "up" : "not up");
        }
        std::exit(0);
      }
      if (!t.hosts.empty())
        std::exit(fan_out_status(t, *target, FanOut{self_exe(), ho->inventory}));
      name = t.name;
    }
    if (name.empty()) {
      auto labs = lab::list_labs();
      if (*json_out) {
        std::cout << nlohmann::json(labs).dump(2) << "\n";
      } else if (labs.empty()) {
        std::cout << "no lab is up\n";
      } else {
        for (auto& l : labs) std::cout << l << "\n";
      }
      std::exit(0);
    }
    join_or_die(name, "status");
    auto s = lab::lab_status(name);
    if (!s) fail(s.error().message);
    if (*json_out) {
      std::cout << s->dump(2) << "\n";
      std::exit(0);
    }
    auto& j = *s;
    std::cout << fmt::format("lab {} ({}) from {}\n", name, j.value("phase", "?"),
                             j.value("file", "?"));
    std::cout << "namespaces:\n";
    for (auto& [ns, present] : j["netns_present"].items())
      std::cout << fmt::format("  {:<24} {}\n", ns, present.get<bool>() ? "present" : "MISSING");
    if (!j["power"].empty()) {
      std::cout << "nodes powered off:";
      for (auto& [node, on] : j["power"].items())
        if (!on.get<bool>()) std::cout << " " << node;
      std::cout << "\n";
    }
    std::cout << "processes:\n";
    for (auto& p : j["pids"]) {
      std::cout << fmt::format("  {:>7} {:<8} {}\n", p["pid"].get<int>(),
                               p["state"].get<std::string>(), p["what"].get<std::string>());
    }
    // Where clients started by hand join (docs/topology.md "Joining a running lab").
    if (j.contains("facts") && j["facts"].contains("clients")) {
      std::cout << "clients join at:\n";
      for (auto& [sw, c] : j["facts"]["clients"].items()) {
        std::cout << fmt::format("  {:<12} vde {}\n", sw, c["vde"].get<std::string>());
        for (auto& p : c["ports"])
          std::cout << fmt::format("  {:<12} port {} ({}): vde {}[{}], stream {}\n", sw,
                                   p["port"].get<int>(), p["mode"].get<std::string>(),
                                   c["vde"].get<std::string>(), p["port"].get<int>(),
                                   p["stream"].get<std::string>());
      }
    }
    if (j.contains("facts") && j["facts"].contains("externals")) {
      std::cout << "external interfaces:\n";
      for (auto& [node, e] : j["facts"]["externals"].items())
        std::cout << fmt::format("  {:<12} {} (found {}, ifindex {})\n", node,
                                 e["interface"].get<std::string>(),
                                 e["was_up"].get<bool>() ? "up" : "down", e["ifindex"].get<int>());
    }
    if (j.contains("networks")) {  // lab/networks.hh
      std::cout << "networks:\n";
      for (auto& [net, nw] : j["networks"].items()) {
        std::string up = nw.contains("uplink") ? ", uplink " + nw["uplink"].value("device", "") +
                                                     " in " + nw["uplink"].value("netns", "")
                                               : "";
        std::cout << fmt::format("  {:<12} {} in {}{}, {} leases\n", net, nw.value("mode", "?"),
                                 nw.value("netns", "?"), up, nw["lease_list"].size());
        for (auto& l : nw["lease_list"])
          std::cout << fmt::format("    {:<15} {} {}\n", l["address"].get<std::string>(),
                                   l["mac"].get<std::string>(), l["hostname"].get<std::string>());
      }
    }
    if (j.contains("switches")) {
      for (auto& b : j["switches"]) {
        std::cout << fmt::format("switch {}: vlans {}, {} MACs learned\n",
                                 b["name"].get<std::string>(), b["vlans"].dump(),
                                 b["fdb_entries"].get<size_t>());
        for (auto& p : b["port_table"]) {
          std::string att = p["backend"].get<std::string>();
          if (att.empty()) att = "cable to " + p["cable"].get<std::string>();
          std::cout << fmt::format("  port {:<4} {:<8} {:<24} {:<32} rx {} tx {}\n",
                                   p["port"].get<int>(), p["active"].get<bool>() ? "up" : "down",
                                   p["config"].get<std::string>(), att,
                                   p["rx_frames"].get<uint64_t>(), p["tx_frames"].get<uint64_t>());
        }
      }
    } else if (j.contains("dataplane_error")) {
      std::cout << "dataplane: " << j["dataplane_error"].get<std::string>() << "\n";
    }
    std::exit(0);
  });

  struct TestOpts {
    std::string file, junit, scenario, vrrp_daemon;
    bool keep = false;
  };
  auto to = std::make_shared<TestOpts>();
  auto* test = lab->add_subcommand(
      "test", "bring the lab up (unless up), run its scenarios, report, tear down");
  test->add_option("file", to->file, "topology file")->required();
  test->add_flag("--keep", to->keep, "leave the lab up afterwards");
  test->add_option("--junit", to->junit, "JUnit XML report path (default: lab-NAME.junit.xml)");
  test->add_option("--scenario", to->scenario, "run only this scenario");
  test->add_option("--vrrp-daemon", to->vrrp_daemon,
                   "run every router's VRRP with this daemon instead (vnet or keepalived)")
      ->check(CLI::IsMember({"vnet", "keepalived"}));
  host_options(test);
  test->add_option("--steps", ho->steps,
                   "with --host and --scenario: only steps FROM-TO (1-based) of a lab that is up");
  test->final_callback([to, ho] {
    auto t = load_or_die(to->file, to->vrrp_daemon);
    if (!ho->host.empty()) {
      if (ho->steps.empty() || to->scenario.empty())
        fail(
            "vnet lab test --host: give --scenario and --steps (the controller's `vnet lab test "
            "FILE` runs them where their nodes live)");
      std::exit(host_run_steps(t, ho->host, to->scenario, ho->steps, self_exe()));
    }
    if (!t.hosts.empty()) {
      std::exit(
          fan_out_test(t, to->file, FanOut{self_exe(), ho->inventory}, to->scenario, to->keep));
    }
    // SIGINT/SIGTERM are recorded; the run stops between steps and tears down below.
    lab::install_interrupt_handlers();
    bool brought_up = false;
    std::unique_ptr<lab::LabRuntime> lab;
    if (!lab::lab_is_up(t.name)) {
      refuse_rootless_or_die(t);
      create_holder_or_die(t.name, "test");
      auto r = lab::lab_up(t, self_exe(), std::cout);
      if (!r) {
        release_holder(t.name);
        fail("vnet lab test: " + r.error().message);
      }
      lab = std::move(*r);
      brought_up = true;
    } else {
      join_or_die(t.name, "test");
      auto r = lab::lab_open(t, self_exe());
      if (!r) fail("vnet lab test: " + r.error().message);
      lab = std::move(*r);
      std::cout << "lab " << t.name << " is already up: testing it as it is\n";
    }
    auto report = lab::run_scenarios(t, *lab, to->scenario, std::cout);
    report.print(std::cout);
    std::string junit = to->junit.empty() ? "lab-" + t.name + ".junit.xml" : to->junit;
    std::ofstream(junit) << report.junit_xml();
    std::cout << "JUnit report: " << junit << "\n";
    lab.reset();
    if (brought_up && !to->keep) {
      (void)lab::lab_down(t.name, std::cout);
      release_holder(t.name);
    }
    if (!report.interrupted.empty()) std::exit(report.interrupted == "SIGINT" ? 130 : 143);
    if (report.steps.empty()) fail("vnet lab test: no scenario step ran");
    std::exit(report.failed() ? 1 : 0);
  });

  struct ExecOpts {
    std::string lab, node;
    std::vector<std::string> argv;
  };
  auto eo = std::make_shared<ExecOpts>();
  auto* exec =
      lab->add_subcommand("exec", "run a command inside a node: vnet lab exec [LAB] NODE -- CMD…");
  exec->add_option("names", eo->argv, "[LAB] NODE -- CMD…")->required();
  exec->final_callback([eo] {
    auto a = eo->argv;
    for (auto& x : passthrough()) a.push_back(x);
    // CLI11 consumes the `--`: everything after the node is the command.
    std::vector<std::string> labs = lab::list_labs();
    std::string labname, node;
    size_t cmd_at;
    if (a.size() >= 3 &&
        (std::find(labs.begin(), labs.end(), a[0]) != labs.end() || looks_like_file(a[0]))) {
      labname = looks_like_file(a[0]) ? load_or_die(a[0]).name : a[0];
      node = a[1];
      cmd_at = 2;
    } else {
      if (labs.size() != 1)
        fail("vnet lab exec: name the lab (labs up: " + fmt::format("{}", fmt::join(labs, ", ")) +
             ")");
      labname = labs[0];
      node = a.at(0);
      cmd_at = 1;
    }
    if (cmd_at >= a.size()) fail("vnet lab exec: no command given");
    join_or_die(labname, "exec");
    // A VM: through its guest agent or serial console (docs/vm.md), the words joined into one
    // shell line.
    std::string files = lab::state_dir(labname) + "/" + node;
    if (::access((files + ".console").c_str(), F_OK) == 0) {
      std::string line;
      for (size_t i = cmd_at; i < a.size(); ++i) line += (line.empty() ? "" : " ") + a[i];
      auto r = lab::vm_exec(files, line, std::chrono::seconds(600), 64u << 20);
      if (!r) fail("vnet lab exec: " + r.error().message);
      std::cout << r->out << std::flush;
      std::cerr << r->err << std::flush;
      std::exit(r->timed_out ? 124 : r->status);
    }
    auto r = lab::lab_exec(
        labname, node, std::vector<std::string>(a.begin() + static_cast<long>(cmd_at), a.end()));
    if (!r) fail("vnet lab exec: " + r.error().message);
    std::exit(*r);
  });

  auto con = std::make_shared<std::vector<std::string>>();
  auto* console = lab->add_subcommand(
      "console", "attach to a VM's serial console: vnet lab console [LAB] NODE (Ctrl-] detaches)");
  console->add_option("names", *con, "[LAB] NODE")->required();
  console->final_callback([con] {
    std::vector<std::string> labs = lab::list_labs();
    std::string labname, node;
    if (con->size() == 2) {
      labname = looks_like_file((*con)[0]) ? load_or_die((*con)[0]).name : (*con)[0];
      node = (*con)[1];
    } else if (con->size() == 1 && labs.size() == 1) {
      labname = labs[0];
      node = (*con)[0];
    } else {
      fail("vnet lab console: expected [LAB] NODE (labs up: " +
           fmt::format("{}", fmt::join(labs, ", ")) + ")");
    }
    join_or_die(labname, "console");
    std::string sock = lab::state_dir(labname) + "/" + node + ".console";
    if (::access(sock.c_str(), F_OK) != 0)
      fail(
          fmt::format("vnet lab console: lab {} has no serial console for {} ({} missing: not "
                      "a VM, powered off, or the lab is down)",
                      labname, node, sock));
    if (auto s = lab::console_attach(sock); !s) fail("vnet lab console: " + s.error().message);
    std::exit(0);
  });

  auto out = std::make_shared<std::string>();
  auto* graph = lab->add_subcommand(
      "graph",
      "draw the topology (Graphviz DOT and SVG); of a running lab (by name) with its live state");
  graph->add_option("lab", *file, "topology file, or the name of a running lab")->required();
  graph->add_option("-o,--output", *out,
                    "output prefix (writes PREFIX.dot and PREFIX.svg; '-' prints DOT)");
  graph->final_callback([file, out] {
    std::string dot, name;
    if (looks_like_file(*file)) {
      auto t = load_or_die(*file);
      dot = lab::to_dot(t);
      name = t.name;
    } else {
      // A running lab: its topology from the file it was brought up from, plus its live state.
      auto state = lab::State::load(*file);
      if (!state)
        fail("vnet lab graph: '" + *file + "' is neither a topology file nor a running lab (" +
             state.error().message + ")");
      auto t = load_or_die(state->j().value("file", std::string()));
      join_or_die(t.name, "graph");
      auto live = lab::query_live_state(t);
      dot = lab::to_dot(t, &live);
      name = t.name;
    }
    if (*out == "-") {
      std::cout << dot;
      std::exit(0);
    }
    std::string prefix = out->empty() ? name : *out;
    std::ofstream(prefix + ".dot") << dot;
    std::cout << "wrote " << prefix << ".dot\n";
    std::string cmd = fmt::format("dot -Tsvg '{}.dot' -o '{}.svg'", prefix, prefix);
    if (std::system(cmd.c_str()) == 0) {
      std::cout << "wrote " << prefix << ".svg\n";
    } else {
      fail(
          "vnet lab graph: Graphviz `dot` failed or is missing (apt-get install graphviz); the "
          ".dot file is there");
    }
    std::exit(0);
  });

  auto plan_json = std::make_shared<bool>(false);
  auto* plan = lab->add_subcommand(
      "plan",
      "labs across hosts: which node runs on which host, and the VXLAN cables between them");
  plan->add_option("file", *file, "topology file")->required();
  plan->add_flag("--json", *plan_json, "JSON output");
  plan->add_option("--host", ho->host, "also print this host's share as it would be brought up");
  plan->final_callback([file, plan_json, ho] {
    auto t = load_or_die(*file);
    auto j = lab::plan_json(t);
    if (!ho->host.empty()) {
      auto s = lab::share_of(t, ho->host);
      if (!s) fail(s.error().message, 2);
      nlohmann::json links = nlohmann::json::array();
      for (auto& l : s->links) {
        links.push_back(
            {{"switch", l.b.node}, {"port", l.port_b}, {"to", l.a.node}, {"backend", l.backend}});
      }
      j["share"] = {{"host", ho->host}, {"dataplane_netns", s->switch_netns()}, {"links", links}};
    }
    if (*plan_json) {
      std::cout << j.dump(2) << "\n";
      std::exit(0);
    }
    std::cout << lab::plan_text(t);
    if (j.contains("share")) {
      std::cout << fmt::format("host {}: dataplane in {}\n", ho->host,
                               j["share"]["dataplane_netns"].get<std::string>());
      for (auto& l : j["share"]["links"]) {
        std::cout << fmt::format("  {}:{} – {} {}\n", l["switch"].get<std::string>(),
                                 l["port"].get<uint32_t>(), l["to"].get<std::string>(),
                                 l["backend"].get<std::string>());
      }
    }
    std::exit(0);
  });

  auto* inventory = lab->add_subcommand(
      "inventory", "labs across hosts: the Ansible inventory `up` would generate from the file");
  inventory->add_option("file", *file, "topology file")->required();
  inventory->final_callback([file] {
    auto t = load_or_die(*file);
    if (t.hosts.empty()) fail(*file + ": the lab has no hosts", 2);
    std::cout << lab::ansible_inventory(t, self_exe());
    std::exit(0);
  });

  auto markdown = std::make_shared<bool>(false);
  auto* schema = lab->add_subcommand(
      "schema", "the topology file's JSON Schema (or, with --markdown, its key reference)");
  schema->add_flag("--markdown", *markdown, "the key tables of docs/topology.md instead");
  schema->final_callback([markdown] {
    if (*markdown)
      std::cout << lab::topology_reference_markdown();
    else
      std::cout << lab::topology_schema().dump(2) << "\n";
    std::exit(0);
  });

  auto ports = std::make_shared<std::string>();
  auto* serve = lab->add_subcommand("serve", "a test TCP service (used for `listen:` ports)");
  serve->group("");  // internal
  serve->add_option("--tcp", *ports, "comma-separated ports")->required();
  serve->final_callback([ports] { std::exit(serve_tcp(*ports)); });
}

}  // namespace vnet::cli
