#include "lab/scenario.hh"

#include <ostream>
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
  explicit Runner(const Topology& t) : t_(t) {}

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
      auto nl = open_netlink(t_.switch_netns());
      if (!nl) return {false, nl.error().message};
      if (auto st = nl->set_up(l.veth, up); !st) return {false, st.error().message};
      return {true, fmt::format("{} {}", l.veth, s.args[2])};
    }
    return {false, "no such link"};
  }

 private:
  const Topology& t_;
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

Report run_scenarios(const Topology& topo, const std::string& only, std::ostream& live) {
  Report report;
  report.lab = topo.name;
  Runner runner(topo);
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
