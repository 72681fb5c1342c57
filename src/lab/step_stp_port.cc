// Step `stp_port`: the spanning-tree role and/or state of one switch port, as `stp/show` reports
// it (IEEE 802.1D-2004 §17.7 roles, §17.5 states). The port is named the way cables are:
//   stp_port: SW PEER   SW's port on the link to PEER (a switch, or NODE[:IFACE])
//   stp_port: SW:PORT   SW's port PORT, as written in a link's endpoints (for parallel links)
// with `role: root|designated|alternate|backup|disabled` and/or
// `state: discarding|learning|forwarding`.

#include "lab/registry.hh"
#include "lab/scenario.hh"
#include "lab/step_common.hh"

namespace vnet::lab {
namespace {

using nlohmann::json;

const std::vector<std::string> kRoles = {"root", "designated", "alternate", "backup", "disabled"};
const std::vector<std::string> kStates = {"discarding", "learning", "forwarding"};

struct StpPortSpec final : StepSpec {
  std::string sw;
  size_t link = 0;     // index into Topology::links
  bool end_a = false;  // SW is the link's end a (else b)
  std::string peer;    // as the report names it
  std::optional<std::string> role, state;
};

class StpPortStep final : public StepKind {
 public:
  std::string_view name() const override { return "stp_port"; }
  KeySpec key() const override {
    return {"", schema::pattern("^\\S+(\\s+\\S+)?$", "SWITCH PEER or SWITCH:PORT"),
            "the spanning-tree role and/or state of SWITCH's port toward PEER (a switch, or "
            "NODE[:IFACE]), or of its port PORT as written in a link"};
  }
  std::vector<KeySpec> options() const override {
    return {{"role", schema::enumeration(kRoles), "the port's role"},
            {"state", schema::enumeration(kStates), "the port's state"}};
  }
  std::shared_ptr<const StepSpec> parse(const YAML::Node& step, const YAML::Node& v, Reader& r,
                                        std::string& text) const override {
    auto s = r.str(v, "stp_port");
    if (!s) return nullptr;
    auto spec = std::make_shared<StpPortSpec>();
    auto w = Reader::words(*s);
    text = "stp_port " + *s;
    bool ok = true;
    for (const char* key : {"role", "state"}) {
      if (!step[key]) continue;
      auto word = r.str(step[key], key);
      const auto& allowed = std::string(key) == "role" ? kRoles : kStates;
      if (word && std::find(allowed.begin(), allowed.end(), *word) == allowed.end()) {
        r.error(step[key],
                fmt::format("stp_port {} '{}': expected {}", key, *word, fmt::join(allowed, ", ")));
        word.reset();
      }
      if (!word) ok = false;
      (std::string(key) == "role" ? spec->role : spec->state) = word;
      if (word) text += fmt::format(" {} {}", key, *word);
    }
    if (!step["role"] && !step["state"]) {
      r.error(step, "stp_port: say what the port must be: role, state or both");
      ok = false;
    }
    if (w.empty() || w.size() > 2 || (w.size() == 1 && w[0].find(':') == std::string::npos)) {
      r.error(v, "stp_port: expected 'SWITCH PEER' or 'SWITCH:PORT'");
      return nullptr;
    }
    std::string port;
    if (w.size() == 1) {
      port = w[0].substr(w[0].find(':') + 1);
      w[0].resize(w[0].find(':'));
    }
    spec->sw = w[0];
    if (!r.topo().is_switch(spec->sw)) {
      r.error(v, fmt::format("stp_port: '{}' is not a switch", spec->sw));
      return nullptr;
    }
    if (!spanning_tree(r.topo(), spec->sw)) {
      r.error(v, fmt::format("stp_port: switch {} runs no spanning tree (stp: off)", spec->sw));
      return nullptr;
    }
    std::vector<std::pair<size_t, bool>> found;  // (link, SW is end a)
    const auto& links = r.topo().links;
    for (size_t i = 0; i < links.size(); ++i) {
      const Link& l = links[i];
      if (!port.empty()) {
        auto is = [&](const Endpoint& e) {
          return e.node == spec->sw && e.port && std::to_string(*e.port) == port;
        };
        if (l.switch_to_switch && is(l.a)) found.push_back({i, true});
        if (is(l.b)) found.push_back({i, false});
        continue;
      }
      const std::string& peer = w[1];
      if (l.switch_to_switch) {
        if (l.a.node == spec->sw && l.b.node == peer) found.push_back({i, true});
        if (l.b.node == spec->sw && l.a.node == peer) found.push_back({i, false});
      } else if (l.b.node == spec->sw &&
                 (l.a.node == peer || l.a.node + ":" + l.a.interface == peer)) {
        found.push_back({i, false});
      }
    }
    if (found.empty()) {
      r.error(v, port.empty()
                     ? fmt::format("stp_port: no link between {} and {}", spec->sw, w[1])
                     : fmt::format("stp_port: no link names port {} of {} in its endpoints "
                                   "(write the port number there, e.g. {}:{})",
                                   port, spec->sw, spec->sw, port));
      return nullptr;
    }
    if (found.size() > 1) {
      std::vector<int> lines;
      for (auto& [i, a] : found) lines.push_back(links[i].where.line);
      r.error(v, fmt::format("stp_port: {} links between {} and {} (lines {}): write a port "
                             "number in their endpoints and name the port as {}:PORT",
                             found.size(), spec->sw, w[1], fmt::join(lines, ", "), spec->sw));
      return nullptr;
    }
    spec->link = found[0].first;
    spec->end_a = found[0].second;
    const Link& l = links[spec->link];
    spec->peer = spec->end_a          ? l.b.node
                 : l.switch_to_switch ? l.a.node
                                      : l.a.node + ":" + l.a.interface;
    if (!ok) return nullptr;
    return spec;
  }
  Outcome run(const Step& st, ScenarioContext& ctx, bool) const override {
    const auto& s = st.as<StpPortSpec>();
    const Link& l = ctx.topo().links.at(s.link);
    bridge::PortNo port = s.end_a ? l.port_a : l.port_b;
    std::string where = fmt::format("{} port {} (to {})", s.sw, port, s.peer);
    if (auto off = refuse_if_off(s.sw, ctx)) return *off;
    auto dp = ctx.lab().dataplane();
    if (!dp) return {false, dp.error().message};
    auto stp = (*dp)->spanning_tree(s.sw);
    if (!stp) return {false, stp.error().message};
    auto ports = stp->find("ports");
    if (ports == stp->end() || !ports->is_array())
      return {false, fmt::format("{}: stp/show has no port list", s.sw)};
    for (auto& p : *ports) {
      auto no = p.find("port");
      if (no == p.end() || !no->is_number_unsigned() || no->get<uint64_t>() != port) continue;
      std::string role = json_text(p, "role"), state = json_text(p, "state");
      bool ok = (!s.role || *s.role == role) && (!s.state || *s.state == state);
      std::string want;
      if (s.role) want += *s.role;
      if (s.state) want += (want.empty() ? "" : " ") + *s.state;
      return {ok, fmt::format("{} is {} {}{}", where, role, state,
                              ok ? "" : fmt::format(", expected {}", want))};
    }
    return {false, fmt::format("{}: not in stp/show", where)};
  }
};

}  // namespace

std::unique_ptr<StepKind> make_stp_port_step() { return std::make_unique<StpPortStep>(); }

}  // namespace vnet::lab
