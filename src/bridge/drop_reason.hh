#pragma once
// Why the bridge or the dataplane dropped a frame. Every drop is counted per port under one of
// these reasons and shown by `port/stats` / `port/print` (text and JSON, by name).

#include <cstdint>
#include <string_view>

namespace vnet::bridge {

enum class DropReason : uint8_t {
  kMalformed,             // shorter than an Ethernet header, a truncated tag, > 4 stacked tags,
                          // ARP too short for its addresses on a port filtering ARP
  kSourceMulticast,       // source MAC is group address (802.1Q §8.6.2 learning must not use it)
  kFrameTypeNotAdmitted,  // refused by the port's acceptable frame types (802.1Q §6.9)
  kVlanNotMember,         // tagged with a VID outside the port's member set (§8.6.2 filtering)
  kUntaggedNotAllowed,    // untagged (or S-tagged) on a trunk without a native VLAN: no PVID
  kReservedVid,           // VID 4095 (§9.6 Table 9-2)
  kPortDiscarding,        // received on a port in the discarding state (802.1D-2004 §7.4)
  kPortLearning,          // received on a port in the learning state: learned, not forwarded
  kMacLimit,              // new source MAC past the port's MAC limit
  kStaticMacConflict,     // source MAC is a static entry on another port
  kSamePort,              // destination learned on the ingress port (filtered)
  kExposedTag,            // would leave untagged still starting with a 0x8100/0x88a8 tag
                          // (counted at the egress port; that is VLAN hopping)
  kStormGuard,            // crossed more in-process cables than there are bridges (a loop)
  kPortInactive,          // port exists but has no backend
  kTxQueueFull,           // backend could not take the frame (non-blocking send, queue full)
  kOffload,               // offload metadata the egress backend cannot honour
  kLinkSilent,            // sent or received on a silent link (a fault: carrier up, no frames)
  kUnauthorized,          // received on a port 802.1X/MAC authentication has not authorised
                          // (IEEE 802.1X-2010 §6.4: only EAPOL crosses an unauthorised port)
  kArpFiltered,           // ARP whose sender address the port's drop_arp_for list names
                          // (bridge/arp_filter.hh: a DR real server claiming the VIP)
  // Link impairment (bridge/impair_stage.hh), one reason per cause of impair::Engine:
  kImpairCarrierDown,  // impaired carrier down (carrier down, or the down part of a flap)
  kImpairMtu,          // longer than the impaired link's MTU
  kImpairEveryNth,     // the Nth frame (drop-every)
  kImpairLoss,         // Bernoulli loss
  kImpairBurstLoss,    // Gilbert–Elliott or 4-state loss
  kImpairQueueFull,    // the impairment's queue limit (packets or bytes): tail drop
  kCount
};
std::string_view drop_reason_name(DropReason r);

}  // namespace vnet::bridge
