#include "lab/orchestrator.hh"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <ostream>
#include <set>
#include <thread>

#include "base/file.hh"
#include "lab/captures.hh"
#include "lab/external.hh"
#include "lab/interrupt.hh"
#include "lab/link_impair.hh"
#include "lab/netns.hh"
#include "lab/networks.hh"
#include "lab/node_kind.hh"
#include "lab/node_view.hh"
#include "lab/state.hh"

namespace vnet::lab {
namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string lab_console(const std::string& name) { return state_dir(name) + "/console.sock"; }

namespace {

constexpr auto kServiceFirstSecond = std::chrono::seconds(1);
// How long `down` gives the captures to finish their files before the rest goes.
constexpr auto kCaptureStop = std::chrono::milliseconds(5000);

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("was killed by signal {}", WTERMSIG(status));
  return "ended";
}

std::string log_tail(const std::string& path, size_t lines = 5) {
  auto text = read_regular_file(path, 64u << 20);
  if (!text || text->empty()) return "";
  std::vector<std::string> all;
  std::istringstream in(*text);
  for (std::string l; std::getline(in, l);) all.push_back(l);
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
    out += "\n    " + all[i];
  return out;
}

// A node is on unless a kill or stop recorded it off (and no start since).
bool node_powered(const json& state, const std::string& node) {
  auto p = state.find("power");
  if (p == state.end()) return true;
  auto it = p->find(node);
  return it == p->end() || it->get<bool>();
}

bool recorded_netns(const json& state, const std::string& ns) {
  auto list = state.find("netns");
  return list != state.end() && std::find(list->begin(), list->end(), ns) != list->end();
}

// The holder of node's view (lab/node_view.hh): the latest one recorded, if it is still the
// process recorded; -1 if it is gone; 0 if the node never had one (isolate: false).
pid_t recorded_view(const json& state, const std::string& node) {
  auto pids = state.find("pids");
  if (pids == state.end()) return 0;
  for (auto it = pids->rbegin(); it != pids->rend(); ++it) {
    if (it->value("node", "") != node || it->value("what", "") != node + " view") continue;
    pid_t pid = (*it)["pid"].get<pid_t>();
    if (process_start_time(pid) == (*it)["start"].get<long long>() && process_running(pid))
      return pid;
    return -1;
  }
  return 0;
}

Status check_interrupt() {
  if (int sig = interrupted())
    return make_error(EINTR, "interrupted by {}", sig == SIGINT ? "SIGINT" : "SIGTERM");
  return {};
}

class LabImpl final : public LabRuntime {
 public:
  LabImpl(const Topology& t, std::string vnet, State state)
      : t_(t), vnet_(std::move(vnet)), state_(std::move(state)) {}

  const Topology& topo() const override { return t_; }
  const std::string& vnet_binary() const override { return vnet_; }
  const std::string& state_dir() const override { return state_.dir(); }
  State& state() { return state_; }

  Result<SwitchClient*> dataplane() override {
    if (!dp_) {
      auto c = SwitchClient::connect(lab_console(t_.name));
      if (!c) return c.error();
      dp_.emplace(std::move(*c));
    }
    return &*dp_;
  }

  Result<io::Netlink*> netlink(const std::string& ns) override {
    auto it = nl_.find(ns);
    if (it != nl_.end()) return &it->second;
    auto nl = open_netlink(ns);
    if (!nl) return nl.error();
    return &nl_.emplace(ns, std::move(*nl)).first->second;
  }

  Status create_netns(const std::string& ns) override {
    if (auto s = lab::create_netns(ns); !s) {
      if (s.error().code == EEXIST)
        return make_error(EEXIST,
                          "network namespace {} already exists and is not this lab's: another "
                          "lab or program owns it (nothing of it was touched)",
                          ns);
      return s;
    }
    return state_.record_netns(ns);
  }

  Status destroy_netns(const std::string& ns) override {
    if (!recorded_netns(state_.j(), ns))
      return make_error(EPERM, "namespace {} was not created by lab {}", ns, t_.name);
    nl_.erase(ns);
    return delete_netns(ns);
  }

  Status create_view(const Node& n, const std::string& ns,
                     const std::vector<std::string>& dns) override {
    std::error_code ec;
    std::vector<std::string> keep = {state_.dir(), fs::absolute(t_.file, ec).parent_path().string(),
                                     fs::absolute(vnet_, ec).parent_path().string()};
    auto view =
        start_view({ns, n.name, hosts_text(t_, n.name), resolv_text(t_.name, n.name, dns), keep});
    if (!view) return view.error();
    pending_views_[n.name] = *view;
    return state_.record_pid(view->pid, process_start_time(view->pid), n.name + " view", n.name);
  }

  // Waits for the holders still setting views up (all of them when node is empty).
  Status views_ready(const std::string& node) const {
    Status result;
    for (auto it = pending_views_.begin(); it != pending_views_.end();) {
      if (!node.empty() && it->first != node) {
        ++it;
        continue;
      }
      if (auto s = await_view(it->second); !s && result) result = s;
      it = pending_views_.erase(it);
    }
    return result;
  }

  pid_t view_of(const std::string& node) const override {
    if (!views_ready(node)) return -1;
    return recorded_view(state_.j(), node);
  }

  // Forks the process in ns (in its node's view, if it has one) and records it.
  Result<pid_t> spawn_recorded(const std::string& ns, const std::vector<std::string>& argv,
                               const std::string& log, const std::string& what,
                               const std::string& node, int fd3 = -1) {
    if (!node.empty()) {
      if (auto s = views_ready(node); !s) return s.error();
    }
    SpawnOptions o{ns, argv, log, true, node.empty() ? 0 : view_of(node)};
    o.fd3 = fd3;
    auto pid = spawn(o);
    if (!pid) return pid.error();
    if (auto s = state_.record_pid(*pid, process_start_time(*pid), what, node); !s)
      return s.error();
    return *pid;
  }

  Status start_service(const Node& n, const std::string& ns, ServiceSpec s) override {
    auto pid = spawn_recorded(ns, s.argv, s.log_file, s.what, n.name, s.fd3);
    if (!pid) return pid.error();
    pending_.push_back({*pid, Clock::now(), std::move(s)});
    return {};
  }

  Status await_services() override {
    auto pending = std::move(pending_);
    pending_.clear();
    Status result = views_ready("");
    std::vector<bool> done(pending.size(), false);
    while (true) {
      bool all = true;
      for (size_t i = 0; i < pending.size(); ++i) {
        if (done[i]) continue;
        auto& p = pending[i];
        int st = 0;
        pid_t r = ::waitpid(p.pid, &st, WNOHANG);
        if (r == p.pid) {
          (void)state_.record_exit(p.pid, st);
          bool clean = WIFEXITED(st) && WEXITSTATUS(st) == 0;
          done[i] = true;
          if (p.spec.daemon || !clean) {
            if (result)
              result = make_error(ECHILD, "{} {} at once (log {}){}", p.spec.what,
                                  describe_exit(st), p.spec.log_file, log_tail(p.spec.log_file));
          }
          continue;
        }
        if (r < 0 && errno == ECHILD && !process_running(p.pid)) {
          // Not our child (spawned outside a rootless lab, lab/rootless.hh) and gone: its
          // status is unknown, but a daemon must not end.
          done[i] = true;
          if (p.spec.daemon && result)
            result = make_error(ECHILD, "{} ended at once (log {}){}", p.spec.what, p.spec.log_file,
                                log_tail(p.spec.log_file));
          continue;
        }
        if (Clock::now() - p.started < kServiceFirstSecond) {
          all = false;
          continue;
        }
        if (p.spec.ready) {
          Status ready = p.spec.ready();
          if (!ready) {
            if (Clock::now() - p.started > p.spec.ready_within) {
              if (result)
                result =
                    make_error(ETIMEDOUT, "{} did not become ready within {} ms: {}", p.spec.what,
                               p.spec.ready_within.count(), ready.error().message);
              done[i] = true;
            } else {
              all = false;
            }
            continue;
          }
        }
        done[i] = true;
      }
      if (all) break;
      if (auto s = check_interrupt(); !s) return s;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return result;
  }

  Status set_power(const Node& n, bool on) override { return state_.record_power(n.name, on); }
  bool powered(const std::string& node) const override { return node_powered(state_.j(), node); }
  Status record_fact(const std::string& key, const std::string& node, json value) override {
    return state_.record_fact(key, node, std::move(value));
  }

 private:
  struct Pending {
    pid_t pid;
    Clock::time_point started;
    ServiceSpec spec;
  };
  const Topology& t_;
  std::string vnet_;
  State state_;
  std::optional<SwitchClient> dp_;
  std::map<std::string, io::Netlink> nl_;
  std::vector<Pending> pending_;
  mutable std::map<std::string, PendingView> pending_views_;
};

// Boots one node that is off. A switch's bridge stays in the dataplane while it is off, so its
// kind's start is all of its boot. Other nodes: create (namespace), links, configure, services;
// a cable to a switch that is off is left dark until that switch boots.
Status boot(const Node& n, LabImpl& lab) {
  const NodeKind& k = *n.kind;
  if (k.is_switch()) return k.start(n, lab);
  if (auto s = k.create(n, lab); !s) return s;
  auto dp = lab.dataplane();
  if (!dp) return dp.error();
  for (const Link* l : lab.topo().links_of(n.name)) {
    auto spec = k.attach(n, *l, lab);
    if (!spec) return spec.error();
    if (auto s = (*dp)->attach(l->b.node, l->port_b, *spec); !s) return s;
    if (!lab.powered(l->b.node)) {
      if (auto s = k.set_link(n, *l, false, lab); !s) return s;
    }
  }
  if (auto s = k.configure(n, lab); !s) return s;
  if (auto s = k.start(n, lab); !s) return s;
  return lab.await_services();
}

class Upper {
 public:
  Upper(LabImpl& lab, std::ostream& out) : lab_(lab), t_(lab.topo()), out_(out) {}

  // One progress line, flushed: a user (or a test) following a log file sees each phase.
  void say(const std::string& line) { out_ << line << std::flush; }

  Status run() {
    auto t0 = Clock::now();
    // 1. namespaces: the dataplane's, then every node's that needs one.
    size_t before = lab_.state().j().at("netns").size();
    if (auto s = lab_.create_netns(t_.switch_netns()); !s) return s;
    if (auto nl = lab_.netlink(t_.switch_netns()); !nl) {
      return nl.error();
    } else if (auto s = (*nl)->set_up("lo", true); !s) {
      return s;
    }
    for (auto& n : t_.nodes) {
      if (auto s = check_interrupt(); !s) return s;
      if (auto s = n.kind->create(n, lab_); !s) return s;
    }
    say(fmt::format("  namespaces   {} created\n", lab_.state().j().at("netns").size() - before));
    // 2. the dataplane
    if (auto s = start_dataplane(); !s) return s;
    // 3. switches (bridge, VLANs, spanning tree), and the cables between them
    for (auto& n : t_.nodes) {
      if (!n.kind->is_switch()) continue;
      if (auto s = n.kind->configure(n, lab_); !s) return s;
    }
    auto dp = lab_.dataplane();
    if (!dp) return dp.error();
    // A port with its spanning-tree settings, before anything carries frames to it.
    auto port = [&](const std::string& sw, bridge::PortNo p, const Link& l, const StpPort& stp) {
      if (auto s = (*dp)->create_port(sw, p, l.mode); !s) return s;
      if (auto s = (*dp)->set_stp_port(sw, p, stp); !s) return s;
      const Node& node = *t_.node(sw);
      return node.kind->port_created(node, l, p, lab_);
    };
    size_t node_links = 0;
    for (auto& l : t_.links) {
      if (auto s = check_interrupt(); !s) return s;
      if (l.switch_to_switch) {
        if (auto s = port(l.a.node, l.port_a, l, l.stp_a); !s) return s;
        if (auto s = port(l.b.node, l.port_b, l, l.stp_b); !s) return s;
        if (auto s = (*dp)->connect_cable(l.a.node, l.port_a, l.b.node, l.port_b); !s) return s;
        continue;
      }
      if (!l.backend.empty()) {  // a cable to another host (lab/hosts.hh)
        if (auto s = port(l.b.node, l.port_b, l, l.stp_b); !s) return s;
        if (auto s = (*dp)->attach(l.b.node, l.port_b, l.backend); !s) return s;
        continue;
      }
      // 4. node links: the node's kind makes the carrier, the switch port takes it.
      const Node& n = *t_.node(l.a.node);
      if (auto s = port(l.b.node, l.port_b, l, l.stp_b); !s) return s;
      auto spec = n.kind->attach(n, l, lab_);
      if (!spec) return spec.error();
      if (auto s = (*dp)->attach(l.b.node, l.port_b, *spec); !s) return s;
      ++node_links;
    }
    say(fmt::format("  links        {} node links, {} switch ports\n", node_links,
                    t_.links.size() + (t_.links.size() - node_links)));
    // Declared impairment, once every port and cable exists (a cable's `in` is its peer's `out`).
    size_t impaired = 0, directions = 0;
    for (auto& l : t_.links) {
      auto n = apply_link_impair(l, **dp);
      if (!n) return n.error();
      directions += *n;
      impaired += *n > 0;
    }
    if (impaired > 0)
      say(fmt::format("  impairment   {} links, {} directions\n", impaired, directions));
    // Declared captures, before any node sends a frame (awaited with the nodes' services).
    if (auto s = start_captures(lab_); !s) return s;
    if (!t_.captures.empty())
      say(fmt::format("  captures     {} to {}\n", t_.captures.size(), t_.capture_dir));
    // 5. node configuration, then services
    size_t nodes = 0;
    for (auto& n : t_.nodes) {
      if (n.kind->is_switch()) continue;
      if (auto s = check_interrupt(); !s) return s;
      if (auto s = n.kind->configure(n, lab_); !s) return s;
      ++nodes;
    }
    say(fmt::format("  nodes        {} configured\n", nodes));
    for (auto& n : t_.nodes) {
      if (n.kind->is_switch()) continue;
      if (auto s = n.kind->start(n, lab_); !s) return s;
    }
    if (auto s = lab_.await_services(); !s) return s;
    std::string vrrp;
    for (auto& n : t_.nodes) {
      if (auto* c = n.kind->vrrp(n); c) {
        auto st = n.kind->status(n, t_);
        vrrp += fmt::format("{}{} ({})", vrrp.empty() ? "" : ", ", n.name,
                            st.value("vrrp", std::string("vnet")));
      }
    }
    if (!vrrp.empty()) say("  vrrp         " + vrrp + "\n");
    if (auto s = lab_.state().set_phase("up"); !s) return s;
    auto ms = std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count();
    say(fmt::format("lab {} is up in {} ms\n", t_.name, ms));
    return {};
  }

 private:
  Status start_dataplane() {
    std::string console = lab_console(t_.name);
    auto sws = t_.switches();
    std::string first = sws.front()->name;
    ::unlink(console.c_str());
    auto pid = lab_.spawn_recorded(
        t_.switch_netns(),
        {lab_.vnet_binary(), "switch", "-M", console, "-p", lab_.state_dir() + "/switch.pid",
         "--bridge", first, "--numports", "4096"},
        lab_.state_dir() + "/switch.log", "dataplane", "");
    if (!pid) return pid.error();
    auto end = Clock::now() + std::chrono::seconds(5);
    while (Clock::now() < end) {
      int st;
      if (::waitpid(*pid, &st, WNOHANG) == *pid) {
        (void)lab_.state().record_exit(*pid, st);
        return make_error(EIO, "the dataplane {} during start; see {}/switch.log{}",
                          describe_exit(st), lab_.state_dir(),
                          log_tail(lab_.state_dir() + "/switch.log"));
      }
      if (auto dp = lab_.dataplane()) {
        say(fmt::format("  dataplane    pid {} ({} switches)\n", *pid, sws.size()));
        return {};
      }
      if (auto s = check_interrupt(); !s) return s;
      std::this_thread::sleep_for(milliseconds(5));
    }
    return make_error(ETIMEDOUT,
                      "the dataplane's console did not come up within 5 s; see {}/switch.log",
                      lab_.state_dir());
  }

  LabImpl& lab_;
  const Topology& t_;
  std::ostream& out_;
};

}  // namespace

bool lab_is_up(const std::string& lab) {
  auto s = State::load(lab);
  return s && s->j().value("phase", "") == "up";
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

Result<std::unique_ptr<LabRuntime>> lab_up(const Topology& topo, const std::string& vnet_binary,
                                           std::ostream& progress) {
  auto state = State::create(topo.name, topo.file);
  if (!state) return state.error();
  progress << fmt::format("lab {}: bringing up {} nodes, {} links\n", topo.name, topo.nodes.size(),
                          topo.links.size())
           << std::flush;
  auto lab = std::make_unique<LabImpl>(topo, vnet_binary, std::move(*state));
  Status s = Upper(*lab, progress).run();
  if (!s && interrupted()) s = check_interrupt();  // a wait cut short by the signal says why
  if (!s) {
    progress << "up failed: " << s.error().message << "\nremoving what this up created\n";
    lab.reset();
    (void)lab_down(topo.name, progress);
    return s.error();
  }
  return std::unique_ptr<LabRuntime>(std::move(lab));
}

Result<std::unique_ptr<LabRuntime>> lab_open(const Topology& topo, const std::string& vnet_binary) {
  auto state = State::load(topo.name);
  if (!state) return state.error();
  return std::unique_ptr<LabRuntime>(
      std::make_unique<LabImpl>(topo, vnet_binary, std::move(*state)));
}

Status lab_down(const std::string& name, std::ostream& progress) {
  auto t0 = Clock::now();
  auto state = State::load(name);
  if (!state) return state.error();
  std::vector<std::string> namespaces;
  for (auto& ns : state->j().value("netns", json::array()))
    namespaces.push_back(ns.get<std::string>());
  // Recorded processes that still are what was recorded (a recycled pid is someone else's).
  std::vector<pid_t> pids, captures;
  for (auto& p : state->j().value("pids", json::array())) {
    pid_t pid = p["pid"].get<pid_t>();
    if (process_start_time(pid) == p["start"].get<long long>() && process_running(pid)) {
      bool capture = p.value("what", std::string()).starts_with("capture ");
      (capture ? captures : pids).push_back(pid);
    }
  }
  // Captures first, while the dataplane runs: on SIGTERM each asks the switch to end its capture
  // and writes the statistics blocks it sends, so every file is complete (lab/captures.hh).
  size_t stopped = 0;
  if (!captures.empty()) {
    auto c = kill_processes(captures, {}, kCaptureStop, false);
    stopped = c ? *c : 0;
  }
  // Every process living in one of the lab's own namespaces is the lab's.
  auto killed = kill_processes(pids, namespaces, milliseconds(300), true);
  if (killed) *killed += stopped;
  size_t removed = 0;
  Status result;
  if (!killed) result = killed.error();
  // Host interfaces the lab used, as it found them (the dataplane is gone).
  if (auto s = restore_externals(state->j(), progress); !s && result) result = s;
  // What a network's host uplink changed in the host's namespace (lab/networks.hh).
  if (auto s = restore_host_uplinks(state->j(), progress); !s && result) result = s;
  for (auto& ns : namespaces) {
    if (!netns_exists(ns)) continue;
    if (auto s = delete_netns(ns); !s)
      result = s;
    else
      ++removed;
  }
  if (auto s = state->remove(); !s) result = s;
  auto ms = std::chrono::duration_cast<milliseconds>(Clock::now() - t0).count();
  progress << fmt::format("lab {} is down in {} ms ({} processes stopped, {} namespaces removed)\n",
                          name, ms, killed ? *killed : 0, removed);
  return result;
}

Result<json> lab_status(const std::string& name) {
  auto state = State::load(name);
  if (!state) return state.error();
  json j = state->j();
  for (auto& ns : j["netns"]) {
    j["netns_present"][ns.get<std::string>()] = netns_exists(ns.get<std::string>());
  }
  for (auto& p : j["pids"]) {
    pid_t pid = p["pid"].get<pid_t>();
    bool same = process_start_time(pid) == p["start"].get<long long>();
    p["alive"] = same && process_running(pid);
    if (p["alive"].get<bool>())
      p["state"] = "running";
    else if (p.contains("status"))
      p["state"] = "gone (" + describe_exit(p["status"].get<int>()) + ")";
    else
      p["state"] = "gone";
  }
  add_network_status(j);  // leases of the lab's networks (lab/networks.hh)
  auto c = SwitchClient::connect(lab_console(name));
  if (c) {
    if (auto bridges = c->bridges(); bridges) {
      for (auto& b : *bridges) {
        std::string bn = b["name"];
        if (auto ports = c->ports(bn)) b["port_table"] = *ports;
        if (auto fdb = c->fdb(bn)) b["fdb"] = *fdb;
      }
      j["switches"] = *bridges;
    }
  } else {
    j["dataplane_error"] = c.error().message;
  }
  return j;
}

Result<int> lab_exec(const std::string& name, const std::string& node,
                     const std::vector<std::string>& argv) {
  auto state = State::load(name);
  if (!state) return state.error();
  if (!node_powered(state->j(), node))
    return make_error(EHOSTDOWN, "node {} of lab {} is powered off (killed or stopped)", node,
                      name);
  std::string ns = name + "-" + node;
  if (!recorded_netns(state->j(), ns) || !netns_exists(ns))
    return make_error(ENOENT, "lab {} has no node {} (namespace {} missing)", name, node, ns);
  return run_in_netns(ns, argv, false, recorded_view(state->j(), node));
}

Result<std::vector<std::string>> command_env(const LabRuntime& rt, const std::string& node) {
  std::string run = rt.state_dir() + "/" + node + ".run";
  if (::mkdir(run.c_str(), 0700) != 0 && errno != EEXIST)
    return make_error(errno, "{}: cannot create {}: {}", node, run, std::strerror(errno));
  std::error_code ec;
  auto file_dir = std::filesystem::absolute(rt.topo().file, ec).parent_path().string();
  return std::vector<std::string>{"/usr/bin/env", "VNET_LAB=" + rt.topo().name, "VNET_NODE=" + node,
                                  "VNET_LAB_DIR=" + file_dir, "VNET_RUN_DIR=" + run};
}

Status node_power(LabRuntime& rt, const std::string& node, Power op) {
  const Node* n = rt.topo().node(node);
  if (!n) return make_error(ENOENT, "no node {}", node);
  if (!n->kind->has_power())
    return make_error(ENOTSUP,
                      "{} is a {}: only nodes with power (hosts, routers, switches) can be "
                      "killed, stopped and started",
                      node, n->kind->name());
  auto& lab = static_cast<LabImpl&>(rt);
  switch (op) {
    case Power::kKill:
      return n->kind->kill(*n, rt);
    case Power::kStop:
      return n->kind->stop(*n, rt);
    case Power::kStart:
      if (rt.powered(node))
        return make_error(EALREADY, "{} is running: kill or stop it before starting it", node);
      if (auto s = boot(*n, lab); !s) return s;
      return rt.set_power(*n, true);
  }
  return {};
}

}  // namespace vnet::lab
