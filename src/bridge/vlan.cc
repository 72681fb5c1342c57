#include "bridge/vlan.hh"

namespace vnet::bridge {

IngressDecision classify_ingress(const PortConfig& port, const packet::TagStack& tags) {
  IngressDecision d;
  const AcceptableFrames admit = port.acceptable_frames();
  const packet::TagHeader* outer = tags.depth > 0 ? &tags.tags[0] : nullptr;

  if (outer && outer->is_c_tag() && outer->vid != 0) {  // VLAN-tagged
    if (outer->vid == packet::kVidReserved) {
      d.drop = DropReason::kReservedVid;
    } else if (admit == AcceptableFrames::kUntaggedOnly) {
      d.drop = DropReason::kFrameTypeNotAdmitted;
    } else if (!port.is_member(outer->vid)) {
      d.drop = DropReason::kVlanNotMember;
    } else {
      d.vid = outer->vid;
      d.pcp = outer->pcp;
      d.dei = outer->dei;
      d.pop_outer = true;
    }
  } else {  // untagged, priority-tagged or S-tagged: the PVID applies
    const bool s_tagged = outer && !outer->is_c_tag();
    const bool admitted =
        s_tagged ? admit == AcceptableFrames::kAll : admit != AcceptableFrames::kTaggedOnly;
    auto pvid = port.pvid();
    if (!pvid) {
      d.drop = DropReason::kUntaggedNotAllowed;
    } else if (!admitted) {
      d.drop = DropReason::kFrameTypeNotAdmitted;
    } else {
      d.vid = *pvid;
      if (outer && !s_tagged) {  // priority tag: keep its priority, remove the tag
        d.pcp = outer->pcp;
        d.dei = outer->dei;
        d.pop_outer = true;
      }
    }
  }
  if (!d.drop) d.leading_type = tags.leading_type(d.pop_outer ? 1 : 0);
  return d;
}

EgressDecision classify_egress(VlanId vid, const PortConfig& port, uint16_t leading_type) {
  if (!port.is_member(vid)) return {EgressAction::kDrop, DropReason::kVlanNotMember};
  if (port.egress_tagged(vid)) return {EgressAction::kTag, DropReason::kCount};
  if (packet::is_vlan_tpid(leading_type)) return {EgressAction::kDrop, DropReason::kExposedTag};
  return {EgressAction::kUntag, DropReason::kCount};
}

}  // namespace vnet::bridge
