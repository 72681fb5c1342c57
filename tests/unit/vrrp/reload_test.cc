// Which settings a reload applies in place, by reopening the host part, or by a restart.
#include "vrrp/reload.hh"

#include <gtest/gtest.h>

#include <functional>

namespace vnet::vrrp {
namespace {

InstanceConfig base() {
  InstanceConfig c;
  c.name = "VI_1";
  c.interface = "eth0";
  c.vrid = 1;
  c.priority = 100;
  VipConfig v;
  v.prefix = *packet::IpPrefix::parse("10.0.0.254/24");
  c.vips = {v};
  return c;
}

struct Row {
  const char* setting;
  std::function<void(InstanceConfig&, GlobalDefs&)> change;
  ReloadKind want;
};

TEST(Reload, EachSettingIsAppliedWithTheLeastDisturbance) {
  auto prefix = [](const char* p) { return *packet::IpPrefix::parse(p); };
  const Row rows[] = {
      {"nothing", [](auto&, auto&) {}, ReloadKind::kInPlace},
      {"notify_master", [](auto& c, auto&) { c.notify_master = "/x"; }, ReloadKind::kInPlace},
      {"notify", [](auto& c, auto&) { c.notify = "/x"; }, ReloadKind::kInPlace},
      {"notify_stop", [](auto& c, auto&) { c.notify_stop = "/x"; }, ReloadKind::kInPlace},
      {"priority", [](auto& c, auto&) { c.priority = 120; }, ReloadKind::kInPlace},
      {"garp_master_delay", [](auto& c, auto&) { c.garp_master_delay = std::chrono::seconds(1); },
       ReloadKind::kInPlace},
      {"garp_master_repeat", [](auto& c, auto&) { c.garp_master_repeat = 2; },
       ReloadKind::kInPlace},
      {"vrrp_garp_master_delay", [](auto&, auto& g) { g.garp_master_delay = {}; },
       ReloadKind::kInPlace},
      {"track_interface",
       [](auto& c, auto&) {
         c.track_interfaces = {{"eth1", 0}};
       },
       ReloadKind::kInPlace},
      {"track_script",
       [](auto& c, auto&) {
         c.track_scripts = {{"chk", 5}};
       },
       ReloadKind::kInPlace},
      {"no_accept", [](auto& c, auto&) { c.accept = false; }, ReloadKind::kInPlace},
      {"vrrp_skip_check_adv_addr", [](auto&, auto& g) { g.skip_check_adv_addr = true; },
       ReloadKind::kInPlace},
      {"state", [](auto& c, auto&) { c.state = "MASTER"; }, ReloadKind::kInPlace},
      {"unicast_src_ip", [&](auto& c, auto&) { c.unicast_src = prefix("10.0.0.9/32"); },
       ReloadKind::kRebuildHost},
      {"unicast_peer", [&](auto& c, auto&) { c.unicast_peers = {prefix("10.0.0.2/32")}; },
       ReloadKind::kRebuildHost},
      {"interface", [](auto& c, auto&) { c.interface = "eth1"; }, ReloadKind::kRebuildHost},
      {"use_vmac", [](auto& c, auto&) { c.use_vmac = true; }, ReloadKind::kRebuildHost},
      {"vmac_xmit_base", [](auto& c, auto&) { c.vmac_xmit_base = true; }, ReloadKind::kRebuildHost},
      {"virtual_router_id", [](auto& c, auto&) { c.vrid = 2; }, ReloadKind::kRestart},
      {"version", [](auto& c, auto&) { c.version = 3; }, ReloadKind::kRestart},
      {"vrrp_version", [](auto&, auto& g) { g.vrrp_version = 3; }, ReloadKind::kRestart},
      {"advert_int", [](auto& c, auto&) { c.advert_int = std::chrono::seconds(2); },
       ReloadKind::kRestart},
      {"virtual_ipaddress", [&](auto& c, auto&) { c.vips[0].prefix = prefix("10.0.0.1/24"); },
       ReloadKind::kRestart},
      {"virtual_ipaddress dev", [](auto& c, auto&) { c.vips[0].dev = "eth1"; },
       ReloadKind::kRestart},
      {"virtual_ipaddress_excluded", [&](auto& c, auto&) { c.vips_excluded = c.vips; },
       ReloadKind::kRestart},
      {"auth_pass", [](auto& c, auto&) { c.auth_pass = "secret"; }, ReloadKind::kRestart},
      {"nopreempt", [](auto& c, auto&) { c.nopreempt = true; }, ReloadKind::kRestart},
      {"preempt_delay", [](auto& c, auto&) { c.preempt_delay = std::chrono::seconds(5); },
       ReloadKind::kRestart},
      {"priority 255", [](auto& c, auto&) { c.priority = 255; }, ReloadKind::kRestart},
      {"interface and vrid",
       [](auto& c, auto&) {
         c.interface = "eth1";
         c.vrid = 9;
       },
       ReloadKind::kRestart},
  };
  for (auto& r : rows) {
    InstanceConfig after = base();
    GlobalDefs g;
    r.change(after, g);
    auto d = classify_reload(base(), GlobalDefs{}, after, g);
    EXPECT_EQ(d.kind, r.want) << r.setting;
    EXPECT_EQ(d.kind == ReloadKind::kInPlace, d.why.empty()) << r.setting;
  }
}

TEST(Reload, WhereAConfigurationLineMovedIsNoChange) {
  InstanceConfig a = base(), b = base();
  b.where.line = 40;
  b.vips[0].where.line = 44;
  EXPECT_EQ(classify_reload(a, {}, b, {}).kind, ReloadKind::kInPlace);
}

}  // namespace
}  // namespace vnet::vrrp
