#include "lab/step_common.hh"

#include "lab/node_kind.hh"
#include "lab/scenario.hh"

namespace vnet::lab {

namespace {

// The node exists and `can` holds for its kind; else a diagnostic "'N' is a KIND: WHAT".
bool check_node(const std::string& name, bool (NodeKind::*can)() const, std::string_view what,
                const YAML::Node& where, Reader& r) {
  const Node* n = r.topo().node(name);
  if (!n) {
    r.error(where, fmt::format("unknown node '{}'", name));
    return false;
  }
  if (!(n->kind->*can)()) {
    r.error(where, fmt::format("'{}' is a {}: {}", name, n->kind->name(), what));
    return false;
  }
  return true;
}

}  // namespace

bool check_prober(const std::string& name, const YAML::Node& where, Reader& r) {
  return check_node(name, &NodeKind::runs_probes, "probes run on hosts and routers", where, r);
}

bool check_commands(const std::string& name, const YAML::Node& where, Reader& r) {
  return check_node(name, &NodeKind::runs_commands, "commands run on hosts, routers and VMs", where,
                    r);
}

bool check_target(const std::string& target, bool v6, const YAML::Node& where, Reader& r) {
  if (r.topo().node(target)) {
    if (r.topo().address_of(target, v6)) return true;
    r.error(where, fmt::format("node {} has no IPv{} address to probe", target, v6 ? 6 : 4));
    return false;
  }
  bool ok = v6 ? packet::Ipv6Address::parse(target).ok() : packet::Ipv4Address::parse(target).ok();
  if (!ok) r.error(where, fmt::format("unknown node or IPv{} address '{}'", v6 ? 6 : 4, target));
  return ok;
}

std::optional<std::string> expect_word(const YAML::Node& step, Reader& r, std::string_view name,
                                       const std::vector<std::string>& allowed,
                                       const std::string& dflt) {
  if (!step["expect"]) return dflt;
  auto w = r.str(step["expect"], "expect");
  if (!w) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), *w) != allowed.end()) return w;
  r.error(step["expect"],
          fmt::format("{} expects {}, got '{}'", name, fmt::join(allowed, " or "), *w));
  return std::nullopt;
}

KeySpec expect_key(const std::vector<std::string>& allowed, const std::string& doc) {
  return {"expect", schema::enumeration(allowed), doc};
}

std::string json_text(const nlohmann::json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end()) return "?";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::optional<Outcome> refuse_if_off(const std::string& node, ScenarioContext& ctx) {
  if (ctx.topo().node(node) && !ctx.lab().powered(node))
    return Outcome{false, fmt::format("{} is powered off (a kill or stop step ran)", node)};
  return std::nullopt;
}

std::optional<size_t> find_link(const std::string& x, const std::string& y, std::string_view step,
                                const YAML::Node& where, Reader& r) {
  for (size_t i = 0; i < r.topo().links.size(); ++i) {
    const Link& l = r.topo().links[i];
    auto match = [&](const std::string& p, const std::string& q) {
      return (l.a.node == p || l.a.node + ":" + l.a.interface == p) && l.b.node == q;
    };
    if (match(x, y) || match(y, x)) return i;
  }
  r.error(where, fmt::format("{} step: no link between {} and {}", step, x, y));
  return std::nullopt;
}

Status set_cable(const Link& l, bool up, ScenarioContext& ctx) {
  if (l.switch_to_switch) {
    auto dp = ctx.lab().dataplane();
    if (!dp) return dp.error();
    return (*dp)->set_link(l.a.node, l.port_a, up);
  }
  const Node& n = *ctx.topo().node(l.a.node);
  return n.kind->set_link(n, l, up, ctx.lab());
}

std::string link_name(const Link& l) {
  if (l.switch_to_switch) return fmt::format("{}:{}–{}:{}", l.a.node, l.port_a, l.b.node, l.port_b);
  return fmt::format("{}:{}–{}:{}", l.a.node, l.a.interface, l.b.node, l.port_b);
}

}  // namespace vnet::lab
