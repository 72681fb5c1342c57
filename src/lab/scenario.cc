#include "lab/scenario.hh"

#include <algorithm>
#include <map>
#include <ostream>
#include <set>
#include <thread>

#include "console/console.hh"
#include "lab/netns.hh"
#include "lab/orchestrator.hh"
#include "lab/probe.hh"

namespace vnet::lab {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct Outcome {
  bool passed;
  std::string detail;
};

class Runner {
 public:
  Runner(const Topology& t, std::string vnet) : t_(t), vnet_(std::move(vnet)) {
    for (auto& sc : t.scenarios) {
      for (auto& st : sc.steps) {
        if (st.kind == Step::Kind::kFailover) failover_groups_.insert(st.args[0]);
      }
    }
  }

  std::string target(const std::string& name, bool v6) {
    if (t_.node(name)) return t_.address_of(name, v6).value_or(name);
    return name;
  }

  // `quick`: one short attempt, for wait_until polling.
  Outcome run(const Step& s, bool quick) {
    switch (s.kind) {
      case Step::Kind::kPing: {
        std::string addr = target(s.args[1], s.ipv6);
        bool want = s.expect == "reach";
        milliseconds deadline = want ? milliseconds(quick ? 500 : 3000) : milliseconds(1000);
        milliseconds interval = want ? milliseconds(100) : milliseconds(330);
        auto r = ping(t_.netns(s.args[0]), addr, deadline, interval);
        if (!r) return {false, r.error().message};
        std::string d =
            r->reply ? fmt::format("reply from {} in {:.2f} ms", addr, r->rtt.count() / 1000.0)
                     : fmt::format("no reply from {} to {} requests", addr, r->sent);
        return {r->reply == want, d};
      }
      case Step::Kind::kTcp: {
        std::string addr = target(s.args[1], false);
        uint16_t port = static_cast<uint16_t>(std::atoi(s.args[2].c_str()));
        bool want_open = s.expect == "open";
        auto end = Clock::now() + milliseconds(want_open && !quick ? 2000 : 1000);
        TcpResult last = TcpResult::kTimeout;
        do {
          auto r = tcp_connect(t_.netns(s.args[0]), addr, port, milliseconds(1000));
          if (!r) return {false, r.error().message};
          last = *r;
          if (last == TcpResult::kOpen || !want_open) break;
          std::this_thread::sleep_for(
              milliseconds(50));  // refused: the listener may still be starting
        } while (Clock::now() < end);
        const char* what = last == TcpResult::kOpen      ? "connected"
                           : last == TcpResult::kRefused ? "refused"
                                                         : "no answer";
        return {(last == TcpResult::kOpen) == want_open, fmt::format("{}:{} {}", addr, port, what)};
      }
      case Step::Kind::kExec: {
        auto r = run_in_netns(t_.netns(s.args[0]), {"/bin/sh", "-c", s.args[1]}, true);
        if (!r) return {false, r.error().message};
        return {*r == s.exit_code, fmt::format("exit status {}", *r)};
      }
      case Step::Kind::kLink:
        return set_link(s);
      case Step::Kind::kKill:
      case Step::Kind::kStop: {
        start_probes(s.args[0]);
        auto st = s.kind == Step::Kind::kKill ? node_kill(t_, s.args[0]) : node_stop(t_, s.args[0]);
        if (!st) return {false, st.error().message};
        if (s.kind == Step::Kind::kKill) crashed_.insert(s.args[0]);
        return {true,
                s.kind == Step::Kind::kKill ? "processes killed, links down" : "processes stopped"};
      }
      case Step::Kind::kStart: {
        auto st = node_start(t_, s.args[0], vnet_);
        if (!st) return {false, st.error().message};
        crashed_.erase(s.args[0]);
        return {true, "links up, services started"};
      }
      case Step::Kind::kVrrpMaster:
        return vrrp_master(s.args[0], s.args[1]);
      case Step::Kind::kFailover:
        return failover(s);
      case Step::Kind::kWaitUntil: {
        auto start = Clock::now();
        auto end = start + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double>(s.within_s));
        Outcome last{false, "not tried"};
        while (Clock::now() < end) {
          last = run(s.inner[0], true);
          if (last.passed) {
            auto ms = std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
            return {true, fmt::format("after {} ms: {}", ms, last.detail)};
          }
          std::this_thread::sleep_for(milliseconds(20));
        }
        return {false, fmt::format("not within {} s: {}", s.within_s, last.detail)};
      }
    }
    return {false, "unknown step"};
  }

  // Who holds the group's virtual addresses: exactly `node`, and no other router. A crashed node
  // keeps its addresses (as a crashed machine does) but holds nothing on the network.
  Outcome vrrp_master(const std::string& group, const std::string& node) {
    auto vips = t_.group_vips(group);
    std::vector<std::string> holders;
    for (auto& r : t_.vrrp_routers()) {
      if (crashed_.count(r)) continue;
      auto addrs = netns_addresses(t_.netns(r));
      if (!addrs) return {false, addrs.error().message};
      size_t held = 0;
      for (auto& v : vips) held += std::count(addrs->begin(), addrs->end(), v.address_string());
      if (held == vips.size())
        holders.push_back(r);
      else if (held > 0)
        holders.push_back(r + " (partly)");
    }
    std::string who = holders.empty() ? "nobody" : fmt::format("{}", fmt::join(holders, ", "));
    bool ok = holders.size() == 1 && holders[0] == node;
    return {ok, fmt::format("{} virtual address{} held by {}", vips.size(),
                            vips.size() == 1 ? "" : "es", who)};
  }

  // At a fault, every group that a failover step names gets a 10 ms probe from a host on the
  // virtual address's subnet, which ignores replies from the failing node.
  void start_probes(const std::string& node) {
    fault_ = std::chrono::steady_clock::now();
    probes_.clear();
    std::vector<packet::MacAddress> macs;
    if (const Node* n = t_.node(node)) {
      if (auto nl = open_netlink(t_.netns(node))) {
        for (auto& i : n->interfaces) {
          if (auto info = nl->link_info(i.name)) macs.push_back(info->mac);
        }
      }
    }
    for (auto& g : failover_groups_) {
      auto vips = t_.group_vips(g);
      if (vips.empty()) continue;
      const packet::IpPrefix& vip = vips.front();
      for (auto& h : t_.nodes) {
        if (h.kind != NodeKind::kHost) continue;
        for (auto& i : h.interfaces) {
          for (auto& a : i.addresses) {
            if (probes_.count(g) || !a.contains(vip)) continue;
            auto p = FailoverProbe::start(t_.netns(h.name), i.name, vip.address_string(), macs,
                                          std::chrono::seconds(30));
            if (p) probes_[g] = Probe{std::move(*p), h.name, vip.address_string()};
          }
        }
      }
    }
  }

  Outcome failover(const Step& s) {
    auto it = probes_.find(s.args[0]);
    if (!fault_ || it == probes_.end())
      return {false, "no kill or stop step ran before (or no host on the VIP's subnet)"};
    auto limit =
        std::chrono::duration_cast<milliseconds>(std::chrono::duration<double>(s.within_s));
    auto wait =
        limit -
        std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - *fault_) +
        milliseconds(500);
    auto reply = it->second.probe->first_reply(std::max(wait, milliseconds(0)));
    if (!reply) {
      return {false,
              fmt::format("no reply from {} to {} within {} s of the fault ({} probes)",
                          it->second.vip, it->second.host, s.within_s, it->second.probe->sent())};
    }
    double ms = std::chrono::duration<double, std::milli>(*reply - *fault_).count();
    return {ms < limit.count(),
            fmt::format("first reply through {} to {} {:.1f} ms after the fault", it->second.vip,
                        it->second.host, ms)};
  }

  Outcome set_link(const Step& s) {
    bool up = s.args[2] == "up";
    for (auto& l : t_.links) {
      auto match = [&](const std::string& x, const std::string& y) {
        return (l.a.node == x || l.a.node + ":" + l.a.interface == x) && l.b.node == y;
      };
      if (!match(s.args[0], s.args[1]) && !match(s.args[1], s.args[0])) continue;
      if (l.switch_to_switch) {
        auto c = console::Client::connect(lab_console(t_.name));
        if (!c) return {false, c.error().message};
        if (auto r = c->run("bridge/select " + l.a.node); !r) return {false, r.error().message};
        if (auto r = c->run(fmt::format("port/link {} {}", l.port_a, s.args[2])); !r)
          return {false, r.error().message};
        return {true,
                fmt::format("{}:{}–{}:{} {}", l.a.node, l.port_a, l.b.node, l.port_b, s.args[2])};
      }
      if (!up) start_probes(l.a.node);
      auto nl = open_netlink(t_.switch_netns());
      if (!nl) return {false, nl.error().message};
      if (auto st = nl->set_up(l.veth, up); !st) return {false, st.error().message};
      return {true, fmt::format("{} {}", l.veth, s.args[2])};
    }
    return {false, "no such link"};
  }

 private:
  struct Probe {
    std::unique_ptr<FailoverProbe> probe;
    std::string host, vip;
  };
  const Topology& t_;
  std::string vnet_;
  std::set<std::string> failover_groups_;
  std::set<std::string> crashed_;
  std::map<std::string, Probe> probes_;
  std::optional<std::chrono::steady_clock::time_point> fault_;
};

std::string xml_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '&':
        o += "&amp;";
        break;
      case '"':
        o += "&quot;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

}  // namespace

size_t Report::failed() const {
  size_t n = 0;
  for (auto& s : steps) n += s.passed ? 0 : 1;
  return n;
}

void Report::print(std::ostream& out) const {
  out << fmt::format("\n==== lab {} report ====\n", lab);
  std::string current;
  for (auto& s : steps) {
    if (s.scenario != current) {
      current = s.scenario;
      out << "scenario " << current << "\n";
    }
    out << fmt::format("  [{}] {:<52} {:>6} ms  {}\n", s.passed ? "PASS" : "FAIL", s.step,
                       s.duration.count(), s.detail);
  }
  out << fmt::format("{} steps: {} passed, {} failed ({:.1f} s)\n", steps.size(),
                     steps.size() - failed(), failed(), duration.count() / 1000.0);
}

std::string Report::junit_xml() const {
  std::map<std::string, std::vector<const StepResult*>> by;
  std::vector<std::string> order;
  for (auto& s : steps) {
    if (!by.count(s.scenario)) order.push_back(s.scenario);
    by[s.scenario].push_back(&s);
  }
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x += fmt::format(
      "<testsuites name=\"vnet lab {}\" tests=\"{}\" failures=\"{}\" time=\"{:.3f}\">\n",
      xml_escape(lab), steps.size(), failed(), duration.count() / 1000.0);
  for (auto& sc : order) {
    size_t f = 0;
    double t = 0;
    for (auto* s : by[sc]) {
      f += s->passed ? 0 : 1;
      t += s->duration.count() / 1000.0;
    }
    x += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" time=\"{:.3f}\">\n",
                     xml_escape(sc), by[sc].size(), f, t);
    for (auto* s : by[sc]) {
      x += fmt::format("    <testcase classname=\"{}.{}\" name=\"{}\" time=\"{:.3f}\"",
                       xml_escape(lab), xml_escape(sc), xml_escape(s->step),
                       s->duration.count() / 1000.0);
      if (s->passed) {
        x += fmt::format("><system-out>{}</system-out></testcase>\n", xml_escape(s->detail));
      } else {
        x += fmt::format("><failure message=\"{}\"/></testcase>\n", xml_escape(s->detail));
      }
    }
    x += "  </testsuite>\n";
  }
  x += "</testsuites>\n";
  return x;
}

Report run_scenarios(const Topology& topo, const std::string& only, std::ostream& live,
                     const std::string& vnet_binary) {
  Report report;
  report.lab = topo.name;
  Runner runner(topo, vnet_binary);
  auto t0 = Clock::now();
  for (auto& sc : topo.scenarios) {
    if (!only.empty() && sc.name != only) continue;
    live << "scenario " << sc.name << "\n";
    for (auto& st : sc.steps) {
      auto s0 = Clock::now();
      auto o = runner.run(st, false);
      StepResult r{sc.name, st.text, o.passed, o.detail,
                   std::chrono::duration_cast<milliseconds>(Clock::now() - s0)};
      live << fmt::format("  [{}] {} — {}\n", r.passed ? "PASS" : "FAIL", r.step, r.detail)
           << std::flush;
      report.steps.push_back(std::move(r));
    }
  }
  report.duration = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
  return report;
}

}  // namespace vnet::lab
