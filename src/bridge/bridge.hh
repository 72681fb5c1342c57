#pragma once
// Bridge: an IEEE 802.1Q VLAN-aware learning bridge (802.1Q-2018 §8.6 forwarding process).
//
// For each frame received on a port:
//   0. reserved group addresses (§8.6.3, Table 8-1: 01-80-C2-00-00-00 … -0F: BPDUs, LACP,
//      EAPOL, LLDP, …) are never relayed: before classification and whatever the port state,
//      they go to the control hook (spanning tree, 802.1X) and are counted as `control`;
//   1. ingress rules: bridge/vlan.hh classifies the frame from the port's configuration and the
//      frame's tag stack (acceptable frame types, PVID, member set) or names the drop reason.
//      The classified C-tag is removed here; frames travel the bridge with their VID and PCP
//      kept aside;
//   2. port state (802.1D-2004 §7.4): discarding drops before learning, learning drops after it;
//      then, on a port with an ARP sender filter, ARP claiming a listed address is dropped
//      (bridge/arp_filter.hh);
//   3. learning (§8.7): (VID, source MAC) → port, refused past the port's MAC limit;
//   4. forwarding (§8.6.3–8.6.5): known unicast to one port; broadcast, multicast and unknown
//      unicast flooded to the other active, forwarding member ports of that VLAN only;
//   5. egress (§8.6.6): tagged, untagged, or dropped (exposed_tag) by bridge/vlan.hh: a frame
//      never leaves untagged while it still starts with a tag, so it cannot hop VLANs.
// Malformed frames (runts, truncated tags, multicast source) are dropped and counted; nothing in
// here throws or allocates per frame in the steady state except when cloning for floods.
//
// Every drop is counted in one place (drop()), which also tells the port's drop observer, if it
// has one (a capture on the port: set_drop_observer), about the frame before it is discarded, so
// counters and capture comments cannot disagree. A frame dropped on its way in (steps 0–4: port
// inactive, malformed, ingress rules, port state, learning limits, same-port filtering) is
// reported on its ingress port, as received, before the bridge changes a byte of it; one refused
// at egress (exposed_tag) on the port it would have left by, as it would have left. Ports
// without an observer pay nothing: the check sits on the drop path only.
//
// Port state is driven from outside (spanning tree): discarding = no learning, received frames
// dropped, nothing transmitted but control frames (send_control); learning = learn, then drop,
// transmit nothing; forwarding = normal. New ports are forwarding (no spanning tree = no
// blocking). Flushing a port's FDB entries on a state change is the caller's choice
// (fdb().flush(port)).
//
// Output is queued per port; the owner (Dataplane) takes it with drain() after each batch.
// Single-threaded: one Bridge belongs to one dataplane thread. The control hook runs inside
// ingress(); it may call send_control(), set_port_state() and configure ports, but must not
// remove the port the frame came in on.

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hh"
#include "base/result.hh"
#include "bridge/drop_reason.hh"
#include "bridge/fdb.hh"
#include "bridge/port_config.hh"
#include "bridge/vlan.hh"
#include "packet/address.hh"
#include "packet/frame.hh"
#include "stp/port_state.hh"

namespace vnet::bridge {

// IEEE 802.1D-2004 §7.4 (stp/port_state.hh): the state spanning tree decides and the bridge
// applies.
using PortState = stp::PortState;
inline std::string_view port_state_name(PortState s) { return stp::state_name(s); }
Result<PortState> parse_port_state(const std::string& text);

// 802.1Q-2018 §8.6.3, Table 8-1: 01-80-C2-00-00-00 … 01-80-C2-00-00-0F, which a C-VLAN bridge
// never relays. `dst` points at a destination MAC (6 bytes).
inline bool is_reserved_group_address(const uint8_t* dst) {
  return dst[0] == 0x01 && dst[1] == 0x80 && dst[2] == 0xc2 && dst[3] == 0 && dst[4] == 0 &&
         (dst[5] & 0xf0) == 0;
}

// Told about each frame the bridge drops on a port it watches (Bridge::set_drop_observer),
// before the frame is discarded. `received`: the frame came in on `port` (bytes as received);
// otherwise the bridge would have sent it on `port` (bytes as they would have left).
class BridgeDropObserver {
 public:
  virtual void dropped(PortNo port, bool received, const packet::Frame& frame,
                       DropReason reason) = 0;

 protected:
  ~BridgeDropObserver() = default;
};

struct PortCounters {
  uint64_t rx_frames = 0, rx_bytes = 0, tx_frames = 0, tx_bytes = 0;
  uint64_t control = 0;  // reserved-address frames received and handed to the control plane
  std::array<uint64_t, static_cast<size_t>(DropReason::kCount)> drops{};
  uint64_t total_drops() const;
};

class Bridge {
 public:
  static constexpr VlanId kDefaultVlan = 1;
  // Receives every reserved-address frame: (ingress port, the frame as received, now).
  using ControlHook = std::function<void(PortNo, packet::Frame&&, TimePoint)>;

  explicit Bridge(std::string name);
  const std::string& name() const { return name_; }

  // Ports. A new port is inactive (no backend) with `access 1`.
  Status add_port(PortNo port, PortConfig config = PortConfig::access(kDefaultVlan));
  Status remove_port(PortNo port);
  bool has_port(PortNo port) const { return port < ports_.size() && ports_[port]; }
  Status configure_port(PortNo port, PortConfig config);  // every VLAN must exist
  Status set_active(PortNo port, bool active);
  bool active(PortNo port) const { return has_port(port) && ports_[port]->active; }
  const PortConfig& port_config(PortNo port) const { return ports_.at(port)->config; }
  const PortCounters& counters(PortNo port) const { return ports_.at(port)->counters; }
  void reset_counters(PortNo port);
  std::vector<PortNo> port_numbers() const;
  void count_drop(PortNo port, DropReason reason, uint64_t n = 1);
  // Frames dropped on `port` from now on are reported to `observer` (nullptr = nobody); the
  // observer must outlive the setting. Ignored for a port that does not exist.
  void set_drop_observer(PortNo port, BridgeDropObserver* observer);

  // Port state (spanning tree drives it); a new port is forwarding.
  Status set_port_state(PortNo port, PortState state);
  PortState port_state(PortNo port) const { return ports_.at(port)->state; }

  // Port access control (IEEE 802.1X-2010 §6.4, the controlled port; AdminControlledDirections
  // both): an unauthorised port takes part in nothing but control frames — what it receives
  // is dropped as `unauthorized` (after the unauthorised-frame hook has seen its source, which
  // starts MAC authentication), nothing is forwarded or flooded to it, and its learned FDB
  // entries are flushed when it closes. A new port is authorised. ENXIO: no such port.
  Status set_authorized(PortNo port, bool authorized);
  bool authorized(PortNo port) const { return ports_.at(port)->authorized; }
  // ARP sender filter (bridge/arp_filter.hh): ARP received on `port` whose sender protocol
  // address is one of `senders` is dropped as `arp_filtered` (before learning), an ARP frame too
  // short for its own addresses as `malformed`; empty = off (the default), and then nothing is
  // parsed. ENXIO: no such port.
  Status set_drop_arp_for(PortNo port, std::vector<packet::Ipv4Address> senders);
  const std::vector<packet::Ipv4Address>& drop_arp_for(PortNo port) const {
    return ports_.at(port)->drop_arp_for;
  }
  using UnauthorizedHook = std::function<void(PortNo, const packet::MacAddress& source, TimePoint)>;
  void set_unauthorized_hook(UnauthorizedHook hook) { unauthorized_hook_ = std::move(hook); }

  // Control plane. With no hook, reserved-address frames are consumed (and still counted).
  void set_control_hook(ControlHook hook) { control_hook_ = std::move(hook); }
  // Queues `frame` (a complete Ethernet frame, sent as is) on an active port whatever its state
  // (spanning tree sends BPDUs from discarding ports). ENXIO: no such port; ENETDOWN: inactive;
  // EINVAL: shorter than an Ethernet header.
  Status send_control(PortNo port, packet::Frame frame);

  // VLANs. VLAN 1 always exists.
  Status create_vlan(VlanId vlan);
  Status remove_vlan(VlanId vlan);  // refused while a port is a member
  bool vlan_exists(VlanId vlan) const { return vlan < vlans_.size() && vlans_.test(vlan); }
  std::vector<VlanId> vlan_ids() const;
  std::vector<PortNo> vlan_ports(VlanId vlan) const;  // member ports, active or not

  // Datapath. Consumes the frames (moved-from afterwards).
  void ingress(PortNo port, std::span<packet::Frame> frames, TimePoint now);
  // Hands each port's queued output to cb(PortNo, std::vector<Frame>&); the vector is cleared
  // after the call (frames the callee did not move out are dropped).
  template <typename F>
  void drain(F&& cb) {
    for (PortNo p : dirty_) {
      auto& port = ports_[p];
      if (!port) continue;
      port->queued = false;
      if (!port->out.empty()) cb(p, port->out);
      port->out.clear();
    }
    dirty_.clear();
  }

  Fdb& fdb() { return fdb_; }
  const Fdb& fdb() const { return fdb_; }

 private:
  struct Port {
    PortConfig config;
    PortCounters counters;
    PortState state = PortState::kForwarding;
    bool active = false;
    bool authorized = true;  // 802.1X controlled port status (set_authorized)
    bool queued = false;
    std::vector<packet::Frame> out;
    BridgeDropObserver* observer = nullptr;
    std::vector<packet::Ipv4Address> drop_arp_for;  // set_drop_arp_for
  };
  void process(PortNo in, Port& port, packet::Frame& frame, TimePoint now);
  // The second half of process(), split for reading and always inlined into it (as a call it
  // cost a quarter of BM_BridgeIngress). After classification a frame travels with its VLAN,
  // what it starts with (for the egress rule) and the TCI of the C-tag it gets where its VLAN
  // leaves tagged.
  void forward(PortNo in, Port& port, packet::Frame& frame, VlanId vid, uint16_t leading_type,
               uint16_t tci, bool pop_outer, TimePoint now);
  void emit(PortNo out, packet::Frame&& frame, EgressAction action, uint16_t tci);
  void enqueue(PortNo out, Port& port, packet::Frame&& frame);
  // Counts the drop of `frame` on port `p` and tells the port's observer (received: it came in on
  // p; else it would have left by p).
  void drop(PortNo p, Port& port, DropReason r, const packet::Frame& frame, bool received = true) {
    ++port.counters.drops[static_cast<size_t>(r)];
    if (port.observer) [[unlikely]] {
      port.observer->dropped(p, received, frame, r);
    }
  }
  void rebuild_flood_lists();
  Status check_vlans_exist(const PortConfig& config) const;

  std::string name_;
  std::vector<std::unique_ptr<Port>> ports_;
  std::bitset<4096> vlans_;
  std::vector<std::vector<PortNo>> flood_;  // per VID: active member ports
  std::vector<PortNo> dirty_;
  Fdb fdb_;
  ControlHook control_hook_;
  UnauthorizedHook unauthorized_hook_;
};

}  // namespace vnet::bridge
