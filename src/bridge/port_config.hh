#pragma once
// VLAN configuration of one bridge port, in IEEE 802.1Q-2018 terms.
//
//   access V         PVID = V; member set {V}, untagged on egress. A frame that arrives tagged with
//                    VID V (or priority-tagged, VID 0) has its outer tag removed and stays in V;
//                    any other tagged frame is dropped (kVlanNotMember). Inner tags are payload, so
//                    a double-tagged frame cannot hop into another VLAN.
//   trunk S [native N]  member set S, tagged on egress; with a native VLAN N (OVS
//                    native-untagged, VDE's untagged VLAN), untagged ingress gets PVID N and N
//                    leaves untagged. Without one, untagged frames are dropped
//                    (kUntaggedNotAllowed).
//
// VIDs are 1..4094 (§9.6: 0 and 4095 are reserved).

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hh"

namespace vnet::bridge {

using VlanId = uint16_t;
using PortNo = uint32_t;

struct PortConfig {
  enum class Mode { kAccess, kTrunk };
  Mode mode = Mode::kAccess;
  VlanId access_vlan = 1;             // access mode
  std::bitset<4096> trunk_vlans;      // trunk mode: tagged member set
  std::optional<VlanId> native_vlan;  // trunk mode: untagged VLAN
  size_t mac_limit = 4096;            // learned MACs on this port (port security)

  static PortConfig access(VlanId v) {
    PortConfig c;
    c.access_vlan = v;
    return c;
  }
  static PortConfig trunk(const std::vector<VlanId>& vlans, std::optional<VlanId> native = {});

  bool is_member(VlanId v) const {
    if (mode == Mode::kAccess) return v == access_vlan;
    return trunk_vlans.test(v) || (native_vlan && *native_vlan == v);
  }
  // The VLAN untagged frames belong to, if any (PVID).
  std::optional<VlanId> pvid() const {
    if (mode == Mode::kAccess) return access_vlan;
    return native_vlan;
  }
  // Whether frames of VLAN v leave this port tagged.
  bool egress_tagged(VlanId v) const {
    if (mode == Mode::kAccess) return false;
    return !(native_vlan && *native_vlan == v);
  }
  std::vector<VlanId> members() const;
  // "access 10", "trunk 10,20,30 native 10"
  std::string to_string() const;
  // Parses the words after `port/mode N`: "access 10" | "trunk 10,20[-30] [native 10]".
  static Result<PortConfig> parse(const std::vector<std::string>& words);
};

// "10,20,30-40" → VIDs (each checked 1..4094).
Result<std::vector<VlanId>> parse_vlan_list(const std::string& text);
Result<VlanId> parse_vid(const std::string& text);

}  // namespace vnet::bridge
