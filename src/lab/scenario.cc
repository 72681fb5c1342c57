#include "lab/scenario.hh"

#include <signal.h>

#include <ostream>
#include <sstream>

#include "lab/interrupt.hh"
#include "lab/netns.hh"
#include "lab/node_kind.hh"
#include "lab/step.hh"

namespace vnet::lab {

using std::chrono::milliseconds;

std::string ScenarioContext::target(const std::string& name, bool v6) const {
  if (t_.node(name)) return t_.address_of(name, v6).value_or(name);
  return name;
}

void ScenarioContext::fault(const std::string& node) {
  fault_ = Clock::now();
  applied_.reset();
  fault_node_ = node;
  fault_pending_ = true;
  probes_.clear();
}

void ScenarioContext::fault_applied() {
  if (!fault_pending_) return;
  fault_pending_ = false;
  applied_ = Clock::now();
  const std::string& node = fault_node_;
  std::vector<packet::MacAddress> macs;
  if (const Node* n = t_.node(node)) {
    for (auto& [iface, mac] : n->macs) macs.push_back(mac);
  }
  for (auto& g : watched_) {
    auto vips = t_.group_vips(g);
    if (vips.empty()) continue;
    const packet::IpPrefix& vip = vips.front();
    for (auto& h : t_.nodes) {
      if (!h.kind->runs_probes() || t_.vrrp_config(h) || !lab_.powered(h.name)) continue;
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

const ScenarioContext::Probe* ScenarioContext::probe(const std::string& group) const {
  auto it = probes_.find(group);
  return it == probes_.end() ? nullptr : &it->second;
}

namespace {

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
        // XML 1.0 has no other control characters (a command's output may hold them).
        o += static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r' ? '?' : c;
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
    if (!s.measurements.empty()) {
      std::string line;
      for (auto& m : s.measurements) {
        line += fmt::format("{}{} {:.6g} {}", line.empty() ? "" : ", ", m.name, m.value, m.unit);
      }
      out << "         measured: " << line << "\n";
    }
    for (auto [name, text] : {std::pair{"stdout", &s.out}, std::pair{"stderr", &s.err}}) {
      if (text->empty()) continue;
      out << "         " << name << ":\n";
      std::istringstream lines(*text);
      for (std::string l; std::getline(lines, l);) out << "           | " << l << "\n";
    }
  }
  out << fmt::format("{} steps: {} passed, {} failed ({:.1f} s)\n", steps.size(),
                     steps.size() - failed(), failed(), duration.count() / 1000.0);
  if (!interrupted.empty()) out << "the run was interrupted by " << interrupted << "\n";
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
      x += ">";
      if (!s->measurements.empty()) {
        x += "<properties>";
        for (auto& m : s->measurements) {
          x += fmt::format("<property name=\"{}\" value=\"{}\"/>", xml_escape(m.name), m.value);
        }
        x += "</properties>";
      }
      if (!s->passed) x += fmt::format("<failure message=\"{}\"/>", xml_escape(s->detail));
      std::string out = s->passed ? s->detail : "";
      if (!s->out.empty()) out += (out.empty() ? "" : "\n") + s->out;
      if (!out.empty()) x += fmt::format("<system-out>{}</system-out>", xml_escape(out));
      if (!s->err.empty()) x += fmt::format("<system-err>{}</system-err>", xml_escape(s->err));
      x += "</testcase>\n";
    }
    x += "  </testsuite>\n";
  }
  x += "</testsuites>\n";
  return x;
}

Report run_scenarios(const Topology& topo, LabRuntime& lab, const std::string& only,
                     std::ostream& live) {
  using Clock = std::chrono::steady_clock;
  Report report;
  report.lab = topo.name;
  ScenarioContext ctx(topo, lab);
  for (auto& sc : topo.scenarios) {
    for (auto& st : sc.steps) st.kind->prepare(st, ctx);
  }
  auto t0 = Clock::now();
  for (auto& sc : topo.scenarios) {
    if (!only.empty() && sc.name != only) continue;
    live << "scenario " << sc.name << "\n" << std::flush;
    for (auto& st : sc.steps) {
      if (int sig = interrupted()) {
        report.interrupted = sig == SIGINT ? "SIGINT" : "SIGTERM";
        break;
      }
      auto s0 = Clock::now();
      Outcome o = st.kind->run(st, ctx, false);
      ctx.fault_applied();
      StepResult r{sc.name,
                   st.text,
                   o.passed,
                   o.detail,
                   std::chrono::duration_cast<milliseconds>(Clock::now() - s0),
                   std::move(o.measurements),
                   std::move(o.out),
                   std::move(o.err)};
      live << fmt::format("  [{}] {} — {}\n", r.passed ? "PASS" : "FAIL", r.step, r.detail)
           << std::flush;
      report.steps.push_back(std::move(r));
    }
    if (!report.interrupted.empty()) break;
  }
  report.duration = std::chrono::duration_cast<milliseconds>(Clock::now() - t0);
  return report;
}

}  // namespace vnet::lab
