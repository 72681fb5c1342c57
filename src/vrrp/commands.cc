#include "vrrp/commands.hh"

#include <fmt/format.h>

namespace vnet::vrrp {
namespace {

nlohmann::json show_instance(const Instance& in) {
  const Router& r = in.router();
  const auto& k = r.counters();
  nlohmann::json vips = nlohmann::json::array();
  for (auto& v : in.config().vips) vips.push_back(v.prefix.to_string());
  return {
      {"name", in.name()},
      {"state", state_name(r.state())},
      {"interface", in.config().interface},
      {"vrid", in.config().vrid},
      {"version", r.config().version},
      {"priority", r.priority()},
      {"configured_priority", in.config().priority},
      {"advert_int_ms",
       std::chrono::duration_cast<std::chrono::milliseconds>(r.config().advert_interval).count()},
      {"master_down_interval_ms",
       std::chrono::duration<double, std::milli>(r.master_down_interval()).count()},
      {"preempt", r.config().preempt},
      {"sync_group", in.group()},
      {"vips", vips},
      {"counters",
       {{"adverts_sent", k.adverts_sent},
        {"adverts_received", k.adverts_received},
        {"became_master", k.became_master},
        {"priority_zero_received", k.priority_zero_received},
        {"priority_zero_sent", k.priority_zero_sent},
        {"bad_ttl", k.bad_ttl},
        {"bad_version", k.bad_version},
        {"bad_auth", k.bad_auth},
        {"bad_interval", k.bad_interval},
        {"address_mismatch", k.address_mismatch},
        {"malformed", in.rx_malformed()},
        {"bad_checksum", in.rx_bad_checksum()}}}};
}

}  // namespace

nlohmann::json show_json(const Daemon& daemon) {
  nlohmann::json out = nlohmann::json::array();
  for (auto& [n, in] : daemon.instances()) out.push_back(show_instance(*in));
  return out;
}

void register_commands(console::Registry& reg, const Daemon& daemon) {
  reg.add(
      "vrrp/show", "[INSTANCE]", "VRRP instances: state, priority, timers, counters",
      [&daemon](console::Session&, const std::vector<std::string>& a) -> Result<console::Reply> {
        console::Reply r;
        r.json = nlohmann::json::array();
        for (auto& i : show_json(daemon)) {
          if (!a.empty() && i["name"] != a[0]) continue;
          r.json.push_back(i);
          r.text +=
              fmt::format("{:<12} {:<7} VRID {:<3} {:<10} prio {:>3} v{} vips {}\n",
                          i["name"].get<std::string>(), i["state"].get<std::string>(),
                          i["vrid"].get<int>(), i["interface"].get<std::string>(),
                          i["priority"].get<int>(), i["version"].get<int>(), i["vips"].dump());
        }
        if (!a.empty() && r.json.empty()) return make_error(ENXIO, "no vrrp_instance {}", a[0]);
        return r;
      });
}

}  // namespace vnet::vrrp
