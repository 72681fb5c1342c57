#include "lab/orchestrator.hh"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <set>
#include <sstream>
#include <thread>

#include "console/console.hh"
#include "lab/netns.hh"

namespace vnet::lab {
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string state_root() {
  const char* env = std::getenv("VNET_STATE_DIR");
  return env && *env ? env : "/run/vnet/labs";
}
std::string state_dir(const std::string& lab) { return state_root() + "/" + lab; }
std::string lab_console(const std::string& name) { return state_dir(name) + "/console.sock"; }

namespace {

// /proc/PID/stat field 22: start time, to tell our process from a recycled pid.
long long process_start(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  std::getline(in, s);
  auto rp = s.rfind(')');
  if (rp == std::string::npos) return -1;
  std::istringstream rest(s.substr(rp + 2));
  std::string f;
  for (int i = 3; i <= 22 && rest >> f; ++i) {
    if (i == 22) return std::stoll(f);
  }
  return -1;
}

class State {
 public:
  explicit State(std::string name) : name_(std::move(name)), dir_(state_dir(name_)) {}
  Status load() {
    std::ifstream in(dir_ + "/state.json");
    if (!in) return make_error(ENOENT, "lab {} is not up (no {}/state.json)", name_, dir_);
    try {
      in >> j_;
    } catch (const std::exception& e) {
      return make_error(EINVAL, "{}/state.json: {}", dir_, e.what());
    }
    return {};
  }
  Status init(const Topology& t) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) return make_error(EIO, "create {}: {}", dir_, ec.message());
    j_ = {{"name", name_},
          {"file", fs::absolute(t.file).string()},
          {"phase", "creating"},
          {"netns", json::array()},
          {"pids", json::array()}};
    return save();
  }
  Status save() {
    std::string tmp = dir_ + "/state.json.tmp";
    {
      std::ofstream out(tmp);
      out << j_.dump(2) << "\n";
      if (!out) return make_error(EIO, "write {}", tmp);
    }
    if (std::rename(tmp.c_str(), (dir_ + "/state.json").c_str()) < 0)
      return system_error("rename state.json");
    return {};
  }
  Status add_netns(const std::string& ns) {
    j_["netns"].push_back(ns);
    return save();
  }
  Status add_pid(pid_t pid, const std::string& what) {
    j_["pids"].push_back({{"pid", pid}, {"what", what}, {"start", process_start(pid)}});
    return save();
  }
  Status set_phase(const std::string& p) {
    j_["phase"] = p;
    return save();
  }
  json& j() { return j_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string name_, dir_;
  json j_;
};

// A zombie counts as gone: once it is not our child, only its new parent can reap it.
bool alive(pid_t pid) {
  if (::kill(pid, 0) != 0) return false;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  std::getline(in, s);
  auto rp = s.rfind(')');
  return rp != std::string::npos && rp + 2 < s.size() && s[rp + 2] != 'Z';
}

void reap(pid_t pid) {
  int st;
  ::waitpid(pid, &st, WNOHANG);
}

// Kills pids (SIGTERM, then SIGKILL after `grace`) and waits until they are gone.
void kill_all(const std::vector<pid_t>& pids, std::chrono::milliseconds grace) {
  for (pid_t p : pids) ::kill(p, SIGTERM);
  auto end = Clock::now() + grace;
  auto any_alive = [&] {
    bool any = false;
    for (pid_t p : pids) {
      reap(p);
      any |= alive(p);
    }
    return any;
  };
  while (any_alive() && Clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  for (pid_t p : pids) {
    if (alive(p)) ::kill(p, SIGKILL);
  }
  end = Clock::now() + std::chrono::seconds(2);
  while (any_alive() && Clock::now() < end)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
}

// Listeners, commands and the VRRP daemon of a node, recorded in the state before they run.
Status start_services(const Topology& t, const Node& n, const std::string& vnet, State& state) {
  std::string ns = t.netns(n.name);
  std::string log = state.dir() + "/" + n.name + ".log";
  auto run = [&](std::vector<std::string> argv, const std::string& what,
                 const std::string& logfile) -> Status {
    auto pid = spawn({ns, std::move(argv), logfile, true});
    if (!pid) return pid.error();
    return state.add_pid(*pid, what);
  };
  if (!n.listen.empty()) {
    std::string ports;
    for (auto p : n.listen) ports += (ports.empty() ? "" : ",") + std::to_string(p);
    if (auto s = run({vnet, "lab", "serve", "--tcp", ports}, n.name + " listener", log); !s)
      return s;
  }
  for (auto& c : n.commands) {
    if (auto s = run({"/bin/sh", "-c", c}, n.name + ": " + c, log); !s) return s;
  }
  if (n.vrrp) {
    std::string conf = state.dir() + "/" + n.name + ".keepalived.conf";
    std::ofstream(conf) << n.vrrp->config;
    std::string vlog = state.dir() + "/" + n.name + ".vrrp.log";
    std::vector<std::string> argv;
    if (n.vrrp->daemon == "keepalived") {
      // keepalived refuses to start while its pid files name a live process, and a killed one
      // can linger as a zombie where PID 1 does not reap: the lab knows it is gone.
      std::error_code ec;
      std::filesystem::remove(state.dir() + "/" + n.name + ".ka.pid", ec);
      std::filesystem::remove(state.dir() + "/" + n.name + ".kav.pid", ec);
      argv = {"keepalived", "-n",
              "-l",         "-f",
              conf,         "--vrrp",
              "-p",         state.dir() + "/" + n.name + ".ka.pid",
              "-r",         state.dir() + "/" + n.name + ".kav.pid"};
    } else {
      argv = {vnet, "vrrp", "-f", conf, "-M", state.dir() + "/" + n.name + ".vrrp.sock"};
    }
    if (auto s = run(argv, n.name + " vrrp (" + n.vrrp->daemon + ")", vlog); !s) return s;
  }
  return {};
}

Status set_node_links(const Topology& t, const std::string& node, bool up) {
  auto nl = open_netlink(t.switch_netns());
  if (!nl) return nl.error();
  for (auto& l : t.links) {
    if (l.switch_to_switch || l.a.node != node) continue;
    if (auto s = nl->set_up(l.veth, up); !s) return s;
  }
  return {};
}

class Upper {
 public:
  Upper(Topology& t, std::string vnet, std::ostream& out)
      : t_(t), vnet_(std::move(vnet)), out_(out), state_(t.name) {}

  Status run() {
    auto t0 = Clock::now();
    if (auto s = state_.init(t_); !s) return s;
    // 1. namespaces
    std::vector<std::string> names = {t_.switch_netns()};
    for (auto& n : t_.nodes) {
      if (n.kind != NodeKind::kSwitch) names.push_back(t_.netns(n.name));
    }
    for (auto& ns : names) {
      if (netns_exists(ns))
        return make_error(EEXIST,
                          "network namespace {} already exists: is lab {} up? (vnet lab down {})",
                          ns, t_.name, t_.name);
    }
    for (auto& ns : names) {
      if (auto s = state_.add_netns(ns); !s) return s;
      if (auto s = create_netns(ns); !s) return s;
      // No DAD: addresses are usable at once, and scenarios do not wait for it.
      (void)set_sysctl(ns, "net/ipv6/conf/all/accept_dad", "0");
      (void)set_sysctl(ns, "net/ipv6/conf/default/accept_dad", "0");
      auto nl = open_netlink(ns);
      if (!nl) return nl.error();
      if (auto s = nl->set_up("lo", true); !s) return s;
      nl_.emplace(ns, std::move(*nl));
    }
    out_ << fmt::format("  namespaces   {} created\n", names.size());
    // 2. veth pairs
    io::Netlink& sw = nl_.at(t_.switch_netns());
    size_t veths = 0;
    for (auto& l : t_.links) {
      if (l.switch_to_switch) continue;
      const Interface* i = t_.node(l.a.node)->interface(l.a.interface);
      auto peer = open_netns(t_.netns(l.a.node));
      if (!peer) return peer.error();
      if (auto s = sw.add_veth(l.veth, peer->get(), t_.netns(l.a.node), l.a.interface, i->mac); !s)
        return s;
      if (auto s = sw.set_up(l.veth, true); !s) return s;
      ++veths;
    }
    out_ << fmt::format("  links        {} veth pairs\n", veths);
    // 3. dataplane
    if (auto s = start_dataplane(); !s) return s;
    if (auto s = configure_switches(); !s) return s;
    // 4. nodes
    if (auto s = configure_nodes(); !s) return s;
    if (auto s = state_.set_phase("up"); !s) return s;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    out_ << fmt::format("lab {} is up in {} ms\n", t_.name, ms);
    return {};
  }

 private:
  Status start_dataplane() {
    std::string console = lab_console(t_.name);
    std::string first = t_.of_kind(NodeKind::kSwitch).front()->name;
    SpawnOptions o{t_.switch_netns(),
                   {vnet_, "switch", "-M", console, "-p", state_.dir() + "/switch.pid", "--bridge",
                    first, "--numports", "4096"},
                   state_.dir() + "/switch.log",
                   true};
    ::unlink(console.c_str());
    auto pid = spawn(o);
    if (!pid) return pid.error();
    if (auto s = state_.add_pid(*pid, "dataplane"); !s) return s;
    auto end = Clock::now() + std::chrono::seconds(5);
    while (Clock::now() < end) {
      int st;
      if (::waitpid(*pid, &st, WNOHANG) == *pid) {
        return make_error(EIO, "the dataplane exited during start; see {}/switch.log",
                          state_.dir());
      }
      auto c = console::Client::connect(console);
      if (c) {
        client_.emplace(std::move(*c));
        out_ << fmt::format("  dataplane    pid {} ({} switches)\n", *pid,
                            t_.of_kind(NodeKind::kSwitch).size());
        return {};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return make_error(ETIMEDOUT,
                      "the dataplane's console did not come up within 5 s; see {}/switch.log",
                      state_.dir());
  }

  Status cmd(const std::string& line) {
    auto r = client_->run(line);
    if (!r) return make_error(r.error().code, "dataplane: {}: {}", line, r.error().message);
    return {};
  }

  Status configure_switches() {
    bool first = true;
    for (const Node* s : t_.of_kind(NodeKind::kSwitch)) {
      if (!first) {
        if (auto st = cmd("bridge/create " + s->name); !st) return st;
      }
      first = false;
      if (auto st = cmd("bridge/select " + s->name); !st) return st;
      for (auto v : s->vlans) {
        if (v == 1) continue;
        if (auto st = cmd(fmt::format("vlan/create {}", v)); !st) return st;
      }
    }
    for (auto& l : t_.links) {
      auto port = [&](const std::string& sw, uint32_t p) -> Status {
        if (auto st = cmd("bridge/select " + sw); !st) return st;
        if (auto st = cmd(fmt::format("port/create {}", p)); !st) return st;
        return cmd(fmt::format("port/mode {} {}", p, l.mode.to_string()));
      };
      if (l.switch_to_switch) {
        if (auto st = port(l.a.node, l.port_a); !st) return st;
        if (auto st = port(l.b.node, l.port_b); !st) return st;
        if (auto st = cmd(
                fmt::format("cable/connect {} {} {} {}", l.a.node, l.port_a, l.b.node, l.port_b));
            !st)
          return st;
      } else {
        if (auto st = port(l.b.node, l.port_b); !st) return st;
        if (auto st = cmd(fmt::format("port/attach {} afpacket:{}", l.port_b, l.veth)); !st)
          return st;
      }
    }
    out_ << fmt::format("  switches     configured ({} ports)\n", t_.links.size());
    return {};
  }

  Status configure_nodes() {
    size_t n_nodes = 0;
    for (auto& n : t_.nodes) {
      if (n.kind == NodeKind::kSwitch) continue;
      std::string ns = t_.netns(n.name);
      io::Netlink& nl = nl_.at(ns);
      if (n.kind == NodeKind::kRouter) {
        if (auto s = set_sysctl(ns, "net/ipv4/ip_forward", "1"); !s) return s;
        if (auto s = set_sysctl(ns, "net/ipv6/conf/all/forwarding", "1"); !s) return s;
      }
      for (auto& i : n.interfaces) {
        for (auto& a : i.addresses) {
          if (auto s = nl.add_address(i.name, a); !s) return s;
        }
        if (auto s = nl.set_up(i.name, true); !s) return s;
      }
      if (n.gateway) {
        if (auto s = nl.add_route(*packet::IpPrefix::parse("0.0.0.0/0"), n.gateway->to_string());
            !s)
          return s;
      }
      if (n.gateway6) {
        if (auto s = nl.add_route(*packet::IpPrefix::parse("::/0"), n.gateway6->to_string()); !s)
          return s;
      }
      for (auto& r : n.routes) {
        if (auto s = nl.add_route(r.to, r.via); !s)
          return make_error(s.error().code, "{}: {}", r.where.str(), s.error().message);
      }
      if (!n.nftables.empty()) {
        if (auto s = load_nftables_in(ns, n.nftables); !s)
          return make_error(s.error().code, "{}: {}", n.where.str(), s.error().message);
      }
      if (auto st = start_services(t_, n, vnet_, state_); !st) return st;
      ++n_nodes;
    }
    out_ << fmt::format("  nodes        {} configured\n", n_nodes);
    std::string vrrp;
    for (auto& n : t_.nodes)
      if (n.vrrp)
        vrrp += fmt::format("{}{} ({})", vrrp.empty() ? "" : ", ", n.name, n.vrrp->daemon);
    if (!vrrp.empty()) out_ << "  vrrp         " << vrrp << "\n";
    return {};
  }

  Topology& t_;
  std::string vnet_;
  std::ostream& out_;
  State state_;
  std::map<std::string, io::Netlink> nl_;
  std::optional<console::Client> client_;
};

}  // namespace

bool lab_is_up(const std::string& lab) {
  State s(lab);
  return s.load() && s.j().value("phase", "") == "up";
}

void plan(Topology& t) {
  std::map<std::string, std::set<uint32_t>> used;
  for (auto& l : t.links) {
    if (l.switch_to_switch && l.a.port) used[l.a.node].insert(*l.a.port);
    if (l.b.port) used[l.b.node].insert(*l.b.port);
  }
  auto next = [&](const std::string& sw) {
    uint32_t p = 1;
    while (used[sw].count(p)) ++p;
    used[sw].insert(p);
    return p;
  };
  for (size_t i = 0; i < t.links.size(); ++i) {
    auto& l = t.links[i];
    if (l.switch_to_switch) l.port_a = l.a.port ? *l.a.port : next(l.a.node);
    l.port_b = l.b.port ? *l.b.port : next(l.b.node);
    if (!l.switch_to_switch) {
      std::string v = l.a.node + "-" + l.a.interface;
      l.veth = v.size() <= 15 ? v : fmt::format("vl{}", i);
    }
  }
}

Status lab_up(Topology& topo, const std::string& vnet_binary, std::ostream& progress) {
  plan(topo);
  if (State s(topo.name); s.load()) {
    return make_error(EEXIST, "lab {} is already up (state in {}); run vnet lab down {} first",
                      topo.name, state_dir(topo.name), topo.name);
  }
  progress << fmt::format("lab {}: bringing up {} nodes, {} links\n", topo.name, topo.nodes.size(),
                          topo.links.size());
  Upper up(topo, vnet_binary, progress);
  Status s = up.run();
  if (!s) {
    progress << "up failed: " << s.error().message << "\nremoving what was created\n";
    (void)lab_down(topo.name, &topo, progress);
    return s;
  }
  return {};
}

Status lab_down(const std::string& name, const Topology* topo, std::ostream& progress) {
  auto t0 = Clock::now();
  State state(name);
  bool have_state = static_cast<bool>(state.load());
  std::set<std::string> namespaces;
  std::vector<pid_t> pids;
  if (have_state) {
    for (auto& ns : state.j()["netns"]) namespaces.insert(ns.get<std::string>());
    for (auto& p : state.j()["pids"]) {
      pid_t pid = p["pid"].get<pid_t>();
      if (process_start(pid) == p["start"].get<long long>()) pids.push_back(pid);
    }
  }
  if (topo) {
    namespaces.insert(topo->switch_netns());
    for (auto& n : topo->nodes) {
      if (n.kind != NodeKind::kSwitch) namespaces.insert(topo->netns(n.name));
    }
  }
  if (!have_state && !topo)
    return make_error(ENOENT, "lab {} is not up (no state in {})", name, state_dir(name));
  // Every process living in one of the lab's namespaces is the lab's.
  for (auto& ns : namespaces) {
    for (pid_t p : netns_pids(ns)) {
      if (p != ::getpid()) pids.push_back(p);
    }
  }
  kill_all(pids, std::chrono::milliseconds(300));
  size_t removed = 0;
  Status result;
  for (auto& ns : namespaces) {
    if (!netns_exists(ns)) continue;
    if (auto s = delete_netns(ns); !s)
      result = s;
    else
      ++removed;
  }
  std::error_code ec;
  fs::remove_all(state_dir(name), ec);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  progress << fmt::format("lab {} is down in {} ms ({} processes stopped, {} namespaces removed)\n",
                          name, ms, pids.size(), removed);
  return result;
}

std::vector<std::string> list_labs() {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(state_root(), ec)) {
    if (fs::exists(e.path() / "state.json")) out.push_back(e.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<json> lab_status(const std::string& name) {
  State state(name);
  if (auto s = state.load(); !s) return s.error();
  json j = state.j();
  for (auto& ns : j["netns"]) {
    j["netns_present"][ns.get<std::string>()] = netns_exists(ns.get<std::string>());
  }
  for (auto& p : j["pids"])
    p["alive"] = process_start(p["pid"].get<pid_t>()) == p["start"].get<long long>();
  auto c = console::Client::connect(lab_console(name));
  if (c) {
    if (auto r = c->run("bridge/list --json"); r) {
      json bridges = json::parse(*r, nullptr, false);
      for (auto& b : bridges) {
        std::string bn = b["name"];
        (void)c->run("bridge/select " + bn);
        if (auto ports = c->run("port/allprint --json"); ports)
          b["port_table"] = json::parse(*ports, nullptr, false);
        if (auto fdb = c->run("fdb/show --json"); fdb) b["fdb"] = json::parse(*fdb, nullptr, false);
      }
      j["switches"] = bridges;
    }
  } else {
    j["dataplane_error"] = c.error().message;
  }
  return j;
}

Status node_kill(const Topology& t, const std::string& node) {
  auto pids = netns_pids(t.netns(node));
  for (pid_t p : pids) ::kill(p, SIGKILL);
  return set_node_links(t, node, false);
}

Status node_stop(const Topology& t, const std::string& node) {
  kill_all(netns_pids(t.netns(node)), std::chrono::seconds(5));
  return {};
}

Status node_start(const Topology& t, const std::string& node, const std::string& vnet_binary) {
  const Node* n = t.node(node);
  if (!n) return make_error(ENOENT, "no node {}", node);
  if (auto s = set_node_links(t, node, true); !s) return s;
  State state(t.name);
  if (auto s = state.load(); !s) return s;
  return start_services(t, *n, vnet_binary, state);
}

Result<int> lab_exec(const std::string& name, const std::string& node,
                     const std::vector<std::string>& argv) {
  std::string ns = name + "-" + node;
  if (!netns_exists(ns))
    return make_error(ENOENT, "lab {} has no node {} (namespace {} missing)", name, node, ns);
  return run_in_netns(ns, argv, false);
}

}  // namespace vnet::lab
