#pragma once
// VLAN configuration of one bridge port, in IEEE 802.1Q-2018 terms.
//
//   access V         PVID = V; member set {V}, untagged on egress.
//   trunk S [native N]  member set S, tagged on egress; with a native VLAN N (OVS
//                    native-untagged, VDE's untagged VLAN), untagged ingress gets PVID N and N
//                    leaves untagged. Without one there is no PVID.
//
// Acceptable frame types (§6.9, the port parameter of §12.10.1.3; "admit" here), by the outer
// tag of a received frame:
//   untagged  Admit Only Untagged and Priority-tagged frames (no tag, or a C-tag with VID 0)
//   tagged    Admit Only VLAN-tagged frames (a C-tag, TPID 0x8100, with VID 1..4094)
//   all       Admit All frames, including frames whose outer tag is an S-tag (TPID 0x88a8),
//             which this C-VLAN bridge cannot classify: they take the PVID and keep the S-tag.
// The default follows the mode: access → untagged; trunk with native → all; trunk without
// native → tagged. An explicit setting (`admit X` after the mode) lasts until the mode changes.
// Admitting tagged frames on an access port lets a host choose to send tagged frames of its own
// VLAN, and admitting all lets S-tagged frames in; neither lets a frame change VLAN (the egress
// rule in bridge/vlan.hh sees to that), but both widen what a host can inject.
//
// VIDs are 1..4094 (§9.6: 0 and 4095 are reserved).

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hh"

namespace vnet::bridge {

using VlanId = uint16_t;
using PortNo = uint32_t;

// 802.1Q-2018 §6.9: the port parameter "Acceptable frame types".
enum class AcceptableFrames : uint8_t { kAll, kTaggedOnly, kUntaggedOnly };
std::string_view acceptable_frames_name(AcceptableFrames a);  // "all", "tagged", "untagged"
Result<AcceptableFrames> parse_acceptable_frames(const std::string& text);

struct PortConfig {
  enum class Mode { kAccess, kTrunk };
  Mode mode = Mode::kAccess;
  VlanId access_vlan = 1;                 // access mode
  std::bitset<4096> trunk_vlans;          // trunk mode: tagged member set
  std::optional<VlanId> native_vlan;      // trunk mode: untagged VLAN
  size_t mac_limit = 4096;                // learned MACs on this port (port security)
  std::optional<AcceptableFrames> admit;  // explicit setting; unset = the mode's default

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
  // The acceptable frame types in effect: the explicit setting or the mode's default.
  AcceptableFrames acceptable_frames() const {
    if (admit) return *admit;
    if (mode == Mode::kAccess) return AcceptableFrames::kUntaggedOnly;
    return native_vlan ? AcceptableFrames::kAll : AcceptableFrames::kTaggedOnly;
  }
  std::vector<VlanId> members() const;
  // "access 10", "trunk 10,20,30 native 10", "access 10 admit all", "trunk none"
  // (the admit setting is printed only when it was set explicitly).
  std::string to_string() const;
  // Parses the words after `port/mode N`, the inverse of to_string():
  //   access VLAN [admit all|tagged|untagged]
  //   trunk VLANS|none [native VLAN] [admit all|tagged|untagged]
  // A trunk without a native VLAN has no PVID, so `admit untagged` there is refused (it would
  // admit nothing).
  static Result<PortConfig> parse(const std::vector<std::string>& words);
  friend bool operator==(const PortConfig&, const PortConfig&) = default;
};

// "10,20,30-40" → VIDs (each checked 1..4094).
Result<std::vector<VlanId>> parse_vlan_list(const std::string& text);
Result<VlanId> parse_vid(const std::string& text);

}  // namespace vnet::bridge
