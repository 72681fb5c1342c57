#pragma once
// VLAN classification of the 802.1Q bridge, in one place, as pure functions over a port's
// configuration and a frame's tag stack (packet/tag_stack.hh). The bridge calls these two and
// does nothing VLAN-related of its own beyond removing and pushing the tag they name.
//
// Ingress (IEEE 802.1Q-2018 §6.9 acceptable frame types and PVID, §8.6.1 ingress filtering),
// by the frame's outer tag:
//   none              untagged: admitted unless the port admits only tagged frames; VLAN = PVID
//   C-tag, VID 0      priority-tagged: as untagged; PCP/DEI from the tag; the tag is removed
//   C-tag, VID 1-4094 VLAN-tagged: admitted unless the port admits only untagged frames; the
//                     VID must be in the port's member set; the tag is removed
//   C-tag, VID 4095   dropped (reserved_vid, §9.6 Table 9-2)
//   S-tag (0x88a8)    not a tag this C-VLAN bridge classifies on, and not untagged either:
//                     admitted only by `admit all`, into the PVID, S-tag kept
// Untagged, priority-tagged and S-tagged frames on a port without PVID (trunk without native)
// are dropped as untagged_not_allowed; refused frame types as frame_type_not_admitted.
//
// Egress (§8.6.6 and the rule that makes VLAN hopping impossible): a frame of VLAN V leaves a port
// that is a member of V tagged (a C-tag with V pushed in front of whatever the frame starts with)
// or untagged, by the port's mode. It never leaves untagged while it still starts with a 0x8100
// or 0x88a8 tag once the bridge removed the tag it classified on: the next bridge would classify
// it by that tag, in a VLAN the sender chose (double-tagging attack). Such a frame may leave
// tagged only; on an untagged egress it is dropped (exposed_tag).
//
// Both functions are total over their inputs, allocate nothing and never fail otherwise. They
// are inline, and classify_ingress always so: it runs for every frame, and GCC returns the small
// decision struct through the stack, where the load after the field stores stalls store
// forwarding (perf: ~15% of BM_BridgeIngress) unless the struct never leaves registers.

#include <cstdint>

#include "bridge/drop_reason.hh"
#include "bridge/port_config.hh"
#include "packet/tag_stack.hh"

namespace vnet::bridge {

struct IngressDecision {
  bool admitted = false;
  DropReason drop = DropReason::kCount;  // not admitted: why; the rest is then unset
  VlanId vid = 0;                        // the VLAN the frame belongs to
  uint8_t pcp = 0;  // priority (0 for untagged frames: the port default, §6.9.1)
  bool dei = false;
  bool pop_outer = false;     // remove the outer C-tag (the one classified on, or a priority tag)
  uint16_t leading_type = 0;  // TPID or EtherType the frame starts with after that removal
};

enum class EgressAction : uint8_t { kTag, kUntag, kDrop };
struct EgressDecision {
  EgressAction action = EgressAction::kDrop;
  DropReason reason = DropReason::kCount;  // with kDrop: why
};

// The VLAN a received frame belongs to, or why it is dropped.
[[gnu::always_inline]] inline IngressDecision classify_ingress(const PortConfig& port,
                                                               const packet::TagStack& tags) {
  const AcceptableFrames admit = port.acceptable_frames();
  const packet::TagHeader* outer = tags.depth > 0 ? &tags.tags[0] : nullptr;
  if (outer && outer->is_c_tag() && outer->vid != 0) {  // VLAN-tagged
    if (outer->vid == packet::kVidReserved) return {false, DropReason::kReservedVid};
    if (admit == AcceptableFrames::kUntaggedOnly) return {false, DropReason::kFrameTypeNotAdmitted};
    if (!port.is_member(outer->vid)) return {false, DropReason::kVlanNotMember};
    return {true, DropReason::kCount,  outer->vid, outer->pcp, outer->dei,
            true, tags.leading_type(1)};
  }
  // Untagged, priority-tagged or S-tagged: the PVID applies.
  const bool s_tagged = outer && !outer->is_c_tag();
  auto pvid = port.pvid();
  if (!pvid) return {false, DropReason::kUntaggedNotAllowed};
  if (s_tagged ? admit != AcceptableFrames::kAll : admit == AcceptableFrames::kTaggedOnly) {
    return {false, DropReason::kFrameTypeNotAdmitted};
  }
  if (outer && !s_tagged) {  // priority tag: keep its priority, remove the tag
    return {true, DropReason::kCount, *pvid, outer->pcp, outer->dei, true, tags.leading_type(1)};
  }
  return {true, DropReason::kCount, *pvid, 0, false, false, tags.leading_type(0)};
}

// `leading_type` is IngressDecision::leading_type: what the frame starts with as the bridge
// carries it (untagged, with its VID aside).
inline EgressDecision classify_egress(VlanId vid, const PortConfig& port, uint16_t leading_type) {
  if (!port.is_member(vid)) return {EgressAction::kDrop, DropReason::kVlanNotMember};
  if (port.egress_tagged(vid)) return {EgressAction::kTag, DropReason::kCount};
  if (packet::is_vlan_tpid(leading_type)) return {EgressAction::kDrop, DropReason::kExposedTag};
  return {EgressAction::kUntag, DropReason::kCount};
}

}  // namespace vnet::bridge
