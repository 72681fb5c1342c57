#pragma once
// keepalived.conf's routes and policy rules (virtual_routes, virtual_rules, static_routes,
// static_rules): one line's words into a RouteConfig or RuleConfig (keepalived_conf.hh), as
// keepalived 2.2.7 reads them (vrrp/vrrp_iproute.c alloc_route(), vrrp/vrrp_iprule.c
// alloc_rule()), with keepalived's messages. What keepalived repairs and runs with is a warning
// (a `gw`, a route without `dev` and without `no_track`, a rule without a priority, which gets
// keepalived's 16384 counting down); a malformed value is an error. ip-route(8)/ip-rule(8) words
// keepalived accepts but vnet does not apply (mtu, nexthop, fwmark, …) are errors saying so,
// rather than routes installed differently from what was written.

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "vrrp/keepalived_conf.hh"

namespace vnet::vrrp {

struct RouteSink {
  std::function<void(const std::string&)> error, warn;
};

// keepalived's rules without a priority get 16384, 16383, … per family, in file order.
struct RulePriorities {
  uint32_t next_v4 = 16384, next_v6 = 16384;
};

// The entries of `a` that `b` lacks, compared by key(entry): what a reload removes (old, new) or
// adds (new, old). Quadratic: for the few routes and rules of one configuration.
template <typename T, typename Key>
std::vector<T> missing(const std::vector<T>& a, const std::vector<T>& b, Key key) {
  std::vector<T> out;
  for (auto& x : a) {
    bool found = false;
    for (auto& y : b) found |= key(x) == key(y);
    if (!found) out.push_back(x);
  }
  return out;
}
// A route's or rule's key: as written, not where.
template <typename T>
std::pair<bool, std::string> route_key(const T& r) {
  return {r.v6, r.str()};
}

std::optional<RouteConfig> parse_route(const std::vector<std::string>& words,
                                       const ConfWhere& where, const RouteSink& sink);
std::optional<RuleConfig> parse_rule(const std::vector<std::string>& words, const ConfWhere& where,
                                     const RouteSink& sink, RulePriorities& priorities);

}  // namespace vnet::vrrp
