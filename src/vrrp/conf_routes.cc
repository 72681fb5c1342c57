#include "vrrp/conf_routes.hh"

#include <fmt/format.h>

#include <set>

#include "base/parse.hh"

namespace vnet::vrrp {
namespace {

// An address or prefix; "default"/"all" (any, family from the rest of the line) gives length 0
// and `any`.
struct Dest {
  packet::IpPrefix prefix;
  bool any = false;
};

std::optional<Dest> dest(const std::string& text) {
  if (text == "default" || text == "all" || text == "any") return Dest{{}, true};
  std::string t = text;
  if (t.find('/') == std::string::npos) t += t.find(':') != std::string::npos ? "/128" : "/32";
  auto p = packet::IpPrefix::parse(t);
  if (!p) return std::nullopt;
  return Dest{*p, false};
}

std::optional<packet::IpPrefix> address(const std::string& text) {
  if (text.find('/') != std::string::npos) return std::nullopt;
  auto d = dest(text);
  if (!d || d->any) return std::nullopt;
  return d->prefix;
}

// iproute2's rt_tables names, else a number.
std::optional<uint32_t> table(const std::string& t) {
  if (t == "main") return 254;
  if (t == "local") return 255;
  if (t == "default") return 253;
  auto v = parse_int(t, 1, 0xffffffffLL);
  if (!v) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

std::optional<uint8_t> scope(const std::string& t) {
  if (t == "global" || t == "universe") return 0;
  if (t == "site") return 200;
  if (t == "link") return 253;
  if (t == "host") return 254;
  if (t == "nowhere") return 255;
  auto v = parse_int(t, 0, 255);
  if (!v) return std::nullopt;
  return static_cast<uint8_t>(*v);
}

// Family bookkeeping: the first address decides; a later one of the other family is an error.
struct Family {
  std::optional<bool> v6;
  bool take(bool is_v6) {
    if (v6 && *v6 != is_v6) return false;
    v6 = is_v6;
    return true;
  }
};

// ip-route(8) words keepalived reads that vnet does not apply.
const std::set<std::string> kRouteUnsupported = {
    "tos",      "dsfield",    "protocol", "onlink",        "encap",
    "expires",  "mtu",        "hoplimit", "advmss",        "rtt",
    "rttvar",   "reordering", "window",   "cwnd",          "ssthresh",
    "realms",   "rto_min",    "initcwnd", "initrwnd",      "features",
    "quickack", "congctl",    "pref",     "ttl-propagate", "fastopen_no_cookie",
    "nexthop",  "or",         "as",       "track_group",   "vrf",
    "from",     "add",        "append",   "prepend"};

const std::set<std::string> kRuleUnsupported = {"not",       "tos",
                                                "dsfield",   "fwmark",
                                                "realms",    "suppress_prefixlength",
                                                "sup_pl",    "suppress_ifgroup",
                                                "sup_group", "dev",
                                                "iif",       "oif",
                                                "tunnel-id", "uidrange",
                                                "l3mdev",    "protocol",
                                                "ipproto",   "sport",
                                                "dport",     "goto",
                                                "nop",       "track_group"};

}  // namespace

std::string RouteConfig::str() const {
  static const char* kTypes[] = {"",          "",      "", "", "", "", "blackhole ", "unreachable ",
                                 "prohibit ", "throw "};
  std::string s = kTypes[static_cast<int>(type)] + to.to_string();
  if (via) s += " via " + via->address_string();
  if (!dev.empty()) s += " dev " + dev;
  if (src) s += " src " + src->address_string();
  if (table != 254) s += fmt::format(" table {}", table);
  if (metric) s += fmt::format(" metric {}", *metric);
  if (scope) s += fmt::format(" scope {}", scope);
  return s;
}

std::string RuleConfig::str() const {
  std::string s = "from " + (from ? from->to_string() : std::string("all"));
  if (to) s += " to " + to->to_string();
  switch (action) {
    case Action::kTable:
      s += fmt::format(" lookup {}", table);
      break;
    case Action::kBlackhole:
      s += " blackhole";
      break;
    case Action::kUnreachable:
      s += " unreachable";
      break;
    case Action::kProhibit:
      s += " prohibit";
      break;
  }
  return s + fmt::format(" priority {}", priority);
}

std::optional<RouteConfig> parse_route(const std::vector<std::string>& w, const ConfWhere& where,
                                       const RouteSink& sink) {
  RouteConfig r;
  r.where = where;
  Family fam;
  std::optional<Dest> to;
  std::string to_text;
  bool no_track = false, ok = true;
  auto fail = [&](const std::string& m) {
    sink.error(m);
    ok = false;
  };
  auto value = [&](size_t& i) -> const std::string* {
    if (i + 1 >= w.size()) {
      fail(fmt::format("route: '{}' needs a value", w[i]));
      return nullptr;
    }
    return &w[++i];
  };
  for (size_t i = 0; i < w.size() && ok; ++i) {
    const std::string& k = w[i];
    if (k == "inet" || k == "inet6") {
      if (!fam.take(k == "inet6"))
        fail(fmt::format("{} specified for a route of the other family", k));
    } else if (k == "src") {
      auto v = value(i);
      if (!v) break;
      r.src = address(*v);
      if (!r.src) {
        fail(fmt::format("invalid route src address {}", *v));
      } else if (!fam.take(r.src->v6)) {
        fail("Cannot mix IPv4 and IPv6 addresses for route");
      }
    } else if (k == "via" || k == "gw") {
      if (k == "gw") sink.warn("\"gw\" for routes is deprecated. Please use \"via\"");
      auto v = value(i);
      if (!v) break;
      if ((*v == "inet" || *v == "inet6") && !(v = value(i))) break;
      r.via = address(*v);
      if (!r.via) {
        fail(fmt::format("invalid route via address {}", *v));
      } else if (!fam.take(r.via->v6)) {
        fail("Cannot mix IPv4 and IPv6 addresses for route");
      }
    } else if (k == "dev" || k == "oif") {
      auto v = value(i);
      if (!v) break;
      if (v->empty() || v->size() > 15 || v->find_first_of("/: \t") != std::string::npos) {
        fail(fmt::format("route: 'dev' {}: expected an interface name of 1 to 15 characters", *v));
      }
      r.dev = *v;
    } else if (k == "table") {
      auto v = value(i);
      if (!v) break;
      auto t = table(*v);
      if (!t) fail(fmt::format("Routing table {} not found for route", *v));
      r.table = t.value_or(254);
    } else if (k == "scope") {
      auto v = value(i);
      if (!v) break;
      auto sc = scope(*v);
      if (!sc) fail(fmt::format("Scope {} not found or invalid for route", *v));
      r.scope = sc.value_or(0);
    } else if (k == "metric" || k == "priority" || k == "preference") {
      auto v = value(i);
      if (!v) break;
      auto m = parse_int(*v, 0, 0xffffffffLL);
      if (!m)
        fail(fmt::format("route: '{}' {}: expected a whole number from 0 to 4294967295", k, *v));
      r.metric = static_cast<uint32_t>(m.value_or(0));
    } else if (k == "no_track") {
      no_track = true;
    } else if (kRouteUnsupported.count(k)) {
      fail(fmt::format("route option '{}' is not supported by vnet", k));
    } else {
      size_t j = i;
      if (w[j] == "to" && j + 1 < w.size()) ++j;
      static const std::pair<const char*, RouteConfig::Type> kTypes[] = {
          {"unicast", RouteConfig::Type::kUnicast},
          {"blackhole", RouteConfig::Type::kBlackhole},
          {"unreachable", RouteConfig::Type::kUnreachable},
          {"prohibit", RouteConfig::Type::kProhibit},
          {"throw", RouteConfig::Type::kThrow}};
      bool typed = false;
      for (auto& [name, type] : kTypes) {
        if (w[j] == name && j + 1 < w.size()) {
          r.type = type;
          typed = true;
        }
      }
      static const std::set<std::string> kOtherTypes = {"local",     "broadcast", "anycast",
                                                        "multicast", "nat",       "xresolve"};
      if (!typed && kOtherTypes.count(w[j]) && j + 1 < w.size()) {
        fail(fmt::format("route type '{}' is not supported by vnet", w[j]));
        break;
      }
      if (typed) ++j;
      to = dest(w[j]);
      to_text = w[j];
      if (!to) {
        fail(fmt::format("unknown route keyword {}", w[j]));
      } else if (!to->any && !fam.take(to->prefix.v6)) {
        fail(fmt::format("Cannot mix IPv4 and IPv6 addresses for route ({})", w[j]));
      }
      i = j;
    }
  }
  if (!ok) return std::nullopt;
  if (!to) {
    sink.error("Route must have a destination");
    return std::nullopt;
  }
  r.v6 = fam.v6.value_or(false);
  r.to = to->prefix;
  if (to->any) r.to = *packet::IpPrefix::parse(r.v6 ? "::/0" : "0.0.0.0/0");
  if (r.type == RouteConfig::Type::kUnicast && r.dev.empty() && !r.via) {
    sink.error(
        fmt::format("route {}: needs 'dev' or 'via' (or a type: blackhole, unreachable, "
                    "prohibit, throw)",
                    r.to.to_string()));
    return std::nullopt;
  }
  if (!no_track && r.dev.empty()) {
    // keepalived's words, and its repair: the route is not tracked.
    sink.warn(
        fmt::format("Warning - cannot track route {} with no interface specified, not "
                    "tracking",
                    to_text));
  }
  return r;
}

std::optional<RuleConfig> parse_rule(const std::vector<std::string>& w, const ConfWhere& where,
                                     const RouteSink& sink, RulePriorities& priorities) {
  RuleConfig r;
  r.where = where;
  Family fam;
  bool ok = true, has_action = false, has_priority = false;
  auto fail = [&](const std::string& m) {
    sink.error(m);
    ok = false;
  };
  auto action = [&](RuleConfig::Action a) {
    if (has_action) {
      fail("Cannot specify more than one of table/blackhole/prohibit/unreachable for rule");
    }
    has_action = true;
    r.action = a;
  };
  for (size_t i = 0; i < w.size() && ok; ++i) {
    const std::string& k = w[i];
    bool valued = k == "from" || k == "to" || k == "table" || k == "lookup" || k == "priority" ||
                  k == "preference" || k == "order";
    if (valued && i + 1 >= w.size()) {
      fail(fmt::format("rule: '{}' needs a value", k));
      break;
    }
    if (k == "inet" || k == "inet6") {
      if (!fam.take(k == "inet6"))
        fail(fmt::format("{} specified for a rule of the other family", k));
    } else if (k == "from" || k == "to") {
      auto d = dest(w[++i]);
      if (!d) {
        fail(fmt::format("Invalid rule {} address {}", k, w[i]));
      } else if (!d->any) {
        if (!fam.take(d->prefix.v6)) fail("rule specification has mixed IPv4 and IPv6");
        (k == "from" ? r.from : r.to) = d->prefix;
      }
    } else if (k == "table" || k == "lookup") {
      auto t = table(w[++i]);
      if (!t) fail(fmt::format("Routing table {} not found for rule", w[i]));
      action(RuleConfig::Action::kTable);
      r.table = t.value_or(0);
    } else if (k == "priority" || k == "preference" || k == "order") {
      auto p = parse_int(w[++i], 0, 0xffffffffLL);
      if (!p) fail(fmt::format("Invalid rule preference {} specified", w[i]));
      r.priority = static_cast<uint32_t>(p.value_or(0));
      has_priority = true;
    } else if (k == "no_track") {
    } else if (k == "type" && i + 1 < w.size()) {
      continue;  // the action follows
    } else if (k == "blackhole") {
      action(RuleConfig::Action::kBlackhole);
    } else if (k == "unreachable") {
      action(RuleConfig::Action::kUnreachable);
    } else if (k == "prohibit") {
      action(RuleConfig::Action::kProhibit);
    } else if (kRuleUnsupported.count(k)) {
      fail(fmt::format("rule option '{}' is not supported by vnet", k));
    } else {
      fail(fmt::format("Unknown rule option {}", k));
    }
  }
  if (!ok) return std::nullopt;
  if (!has_action) {
    sink.error("No action specified for rule (table N, blackhole, unreachable or prohibit)");
    return std::nullopt;
  }
  r.v6 = fam.v6.value_or(false);
  if (!has_priority) {
    r.priority = r.v6 ? priorities.next_v6-- : priorities.next_v4--;
    sink.warn(
        fmt::format("Rule has no preference specified - setting to {}. This is probably "
                    "not what you want.",
                    r.priority));
  }
  return r;
}

}  // namespace vnet::vrrp
