#include "vrrp/reload.hh"

#include <tuple>
#include <vector>

namespace vnet::vrrp {
namespace {

// A VIP as it matters on the host and on the wire (not where it was written).
auto vip_key(const std::vector<VipConfig>& vips) {
  std::vector<std::tuple<std::string, std::string, std::string>> k;
  for (auto& v : vips) k.emplace_back(v.prefix.to_string(), v.dev, v.label);
  return k;
}

}  // namespace

ReloadDecision classify_reload(const InstanceConfig& a, const GlobalDefs& ag,
                               const InstanceConfig& b, const GlobalDefs& bg) {
  auto restart = [](const char* why) { return ReloadDecision{ReloadKind::kRestart, why}; };
  if (a.vrid != b.vrid) return restart("virtual_router_id");
  if (a.effective_version(ag.vrrp_version) != b.effective_version(bg.vrrp_version))
    return restart("version");
  if (a.advert_int != b.advert_int) return restart("advert_int");
  if (a.ipv6 != b.ipv6 || vip_key(a.vips) != vip_key(b.vips)) return restart("virtual_ipaddress");
  if (vip_key(a.vips_excluded) != vip_key(b.vips_excluded))
    return restart("virtual_ipaddress_excluded");
  if (a.auth_type != b.auth_type || a.auth_pass != b.auth_pass) return restart("authentication");
  if (a.nopreempt != b.nopreempt || a.preempt_delay != b.preempt_delay)
    return restart("preemption");
  if ((a.priority == 255) != (b.priority == 255)) return restart("address owner (priority 255)");

  auto rebuild = [](const char* why) { return ReloadDecision{ReloadKind::kRebuildHost, why}; };
  if (a.interface != b.interface) return rebuild("interface");
  if (a.unicast_src != b.unicast_src) return rebuild("unicast_src_ip");
  if (a.unicast_peers != b.unicast_peers) return rebuild("unicast_peer");
  if (a.use_vmac != b.use_vmac || a.vmac_name != b.vmac_name ||
      a.vmac_xmit_base != b.vmac_xmit_base)
    return rebuild("use_vmac");
  return {};
}

}  // namespace vnet::vrrp
