#include "vrrp/trackers.hh"

#include <algorithm>

namespace vnet::vrrp {

TrackerConfig tracker_config(const InstanceConfig& in, const std::vector<ScriptConfig>& scripts) {
  TrackerConfig t;
  t.priority = in.priority;
  t.interface = in.interface;
  for (auto& i : in.track_interfaces) t.interfaces.push_back({i.name, i.weight});
  for (auto& ts : in.track_scripts) {
    auto s = std::find_if(scripts.begin(), scripts.end(),
                          [&](const ScriptConfig& c) { return c.name == ts.name; });
    if (s == scripts.end()) continue;
    t.scripts.push_back({ts.name, ts.weight.value_or(s->weight)});
  }
  return t;
}

Effective evaluate(const TrackerConfig& c, const Observed& o) {
  Effective e{c.priority, o.links_down.count(c.interface) > 0};
  int prio = c.priority;
  // `bad` is the tracked thing's failure (link down, script failing).
  auto apply = [&](int weight, bool bad) {
    if (weight == 0 && bad) e.fault = true;
    if (weight > 0 && !bad) prio += weight;
    if (weight < 0 && bad) prio += weight;
  };
  for (auto& t : c.interfaces) apply(t.weight, o.links_down.count(t.name) > 0);
  for (auto& t : c.scripts) apply(t.weight, o.scripts_failing.count(t.name) > 0);
  if (c.priority != 255) e.priority = std::clamp(prio, 1, 254);
  return e;
}

bool ScriptHealth::on_result(bool success) {
  if (success == ok_) {
    streak_ = 0;
    return false;
  }
  if (++streak_ < (ok_ ? fall_ : rise_)) return false;
  ok_ = success;
  streak_ = 0;
  return true;
}

}  // namespace vnet::vrrp
