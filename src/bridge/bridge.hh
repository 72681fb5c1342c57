#pragma once
// Bridge: an IEEE 802.1Q VLAN-aware learning bridge (802.1Q-2018 §8.6 forwarding process).
//
// For each frame received on a port:
//   1. ingress rules (§8.6.1): classify the VLAN — untagged/priority-tagged frames take the PVID,
//      tagged frames keep their VID if the port is in that VLAN's member set; otherwise the frame
//      is dropped and counted. The C-tag (TPID 0x8100) is removed here; frames travel the bridge
//      untagged with their VID and PCP kept aside.
//   2. learning (§8.7): (VID, source MAC) → port, refused past the port's MAC limit;
//   3. forwarding (§8.6.3–8.6.5): known unicast to one port; broadcast, multicast and unknown
//      unicast flooded to the other active member ports of that VLAN only;
//   4. egress (§8.6.6): tagged or untagged according to the egress port's mode.
// Malformed frames (runts, truncated tags, multicast source) are dropped and counted; nothing in
// here throws or allocates per frame in the steady state except when cloning for floods.
//
// Output is queued per port; the owner (Dataplane) takes it with drain() after each batch.
// Single-threaded: one Bridge belongs to one dataplane thread.

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.hh"
#include "base/result.hh"
#include "bridge/fdb.hh"
#include "bridge/port_config.hh"
#include "packet/frame.hh"

namespace vnet::bridge {

enum class DropReason : uint8_t {
  kMalformed,           // shorter than an Ethernet header, or a truncated 802.1Q tag
  kSourceMulticast,     // source MAC is group address (802.1Q §8.6.2 learning must not use it)
  kVlanNotMember,       // tagged with a VID outside the port's member set
  kUntaggedNotAllowed,  // untagged on a trunk without a native VLAN
  kReservedVid,         // VID 4095
  kMacLimit,            // new source MAC past the port's MAC limit
  kStaticMacConflict,   // source MAC is a static entry on another port
  kSamePort,            // destination learned on the ingress port (filtered)
  kPortInactive,        // port exists but has no backend
  kTxQueueFull,         // backend could not take the frame (non-blocking send, queue full)
  kOffload,             // offload metadata the egress backend cannot honour
  kCount
};
std::string_view drop_reason_name(DropReason r);

struct PortCounters {
  uint64_t rx_frames = 0, rx_bytes = 0, tx_frames = 0, tx_bytes = 0;
  std::array<uint64_t, static_cast<size_t>(DropReason::kCount)> drops{};
  uint64_t total_drops() const;
};

class Bridge {
 public:
  static constexpr VlanId kDefaultVlan = 1;

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
    bool active = false;
    bool queued = false;
    std::vector<packet::Frame> out;
  };
  void process(PortNo in, Port& port, packet::Frame& frame, TimePoint now);
  void emit(PortNo out, packet::Frame&& frame, VlanId vlan, uint8_t pcp);
  void drop(Port& port, DropReason r) { ++port.counters.drops[static_cast<size_t>(r)]; }
  void rebuild_flood_lists();
  Status check_vlans_exist(const PortConfig& config) const;

  std::string name_;
  std::vector<std::unique_ptr<Port>> ports_;
  std::bitset<4096> vlans_;
  std::vector<std::vector<PortNo>> flood_;  // per VID: active member ports
  std::vector<PortNo> dirty_;
  Fdb fdb_;
};

}  // namespace vnet::bridge
