// libFuzzer target: 802.1Q bridge ingress. Arbitrary frames on access and trunk ports never crash,
// never leak between VLANs, never leave untagged with a tag in front, and reserved addresses
// never leave at all. Ports 1 and 2 filter ARP claiming 10.0.0.100 (bridge/arp_filter.hh):
// such ARP from them never leaves, and truncated ARP is read safely.
#include <cstddef>
#include <cstdint>

#include "bridge/arp_filter.hh"
#include "bridge/bridge.hh"
#include "packet/offload.hh"
#include "packet/tag_stack.hh"

namespace {
const vnet::packet::Ipv4Address kVip{0x0a000064};  // 10.0.0.100
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vnet;
  using bridge::PortConfig;
  static bridge::Bridge* br = [] {
    auto* b = new bridge::Bridge("fuzz");
    (void)b->create_vlan(10);
    (void)b->create_vlan(20);
    auto attacker = PortConfig::access(10);
    attacker.admit = bridge::AcceptableFrames::kAll;
    (void)b->add_port(1, attacker);
    (void)b->add_port(2, PortConfig::trunk({10, 20}, 10));
    (void)b->add_port(3, PortConfig::access(20));
    (void)b->add_port(4, PortConfig::trunk({10, 20}));
    for (bridge::PortNo p : {1u, 2u, 3u, 4u}) (void)b->set_active(p, true);
    (void)b->set_drop_arp_for(1, {kVip});
    (void)b->set_drop_arp_for(2, {kVip});
    b->set_control_hook([](bridge::PortNo, packet::Frame&& f, TimePoint) {
      if (f.size() < 14) __builtin_trap();
    });
    return b;
  }();
  if (size < 2) return 0;
  bridge::PortNo in = 1 + data[0] % 4;
  // Port 4's state varies with the input: discarding, learning or forwarding (now and then:
  // a state change rebuilds the flood lists, which is slow under the sanitizers).
  if (data[1] < 3) (void)br->set_port_state(4, static_cast<bridge::PortState>(data[1]));
  std::vector<packet::Frame> frames;
  frames.push_back(packet::Frame::copy_of({data + 2, size - 2}));
  // ARP claiming the VIP from a filtering port: nothing may leave.
  bool claims_vip = false;
  if (packet::TagStack tags;
      in <= 2 && packet::parse_tag_stack(frames[0].bytes(), tags) == packet::TagStackError::kNone) {
    const packet::Ipv4Address vip[] = {kVip};
    claims_vip =
        bridge::arp_filter_verdict(frames[0].bytes(), tags, vip) == bridge::ArpVerdict::kDeny;
  }
  br->ingress(in, frames, TimePoint{std::chrono::seconds(1)});
  br->drain([&](bridge::PortNo p, std::vector<packet::Frame>& out) {
    if (claims_vip && !out.empty()) __builtin_trap();
    // VLAN 10 (port 1) and VLAN 20 (port 3) never meet.
    if ((in == 3 && p == 1) || (in == 1 && p == 3)) __builtin_trap();
    if (p == 4 && br->port_state(4) != bridge::PortState::kForwarding) __builtin_trap();
    const PortConfig& cfg = br->port_config(p);
    for (auto& f : out) {
      if (f.size() < 14 || bridge::is_reserved_group_address(f.data())) __builtin_trap();
      // What leaves is either tagged with an outer C-tag of a VLAN this port sends tagged, or
      // untagged and then not starting with any tag.
      uint16_t type = load_be16(f.data() + 12);
      if (type == 0x8100) {
        if (f.size() < 16) __builtin_trap();
        uint16_t vid = load_be16(f.data() + 14) & 0xfff;
        if (!cfg.is_member(vid) || !cfg.egress_tagged(vid)) __builtin_trap();
      } else if (packet::is_vlan_tpid(type)) {
        __builtin_trap();
      }
      std::vector<packet::Frame> segs;
      (void)packet::segment_gso(f, segs);
    }
  });
  if (br->fdb().size() > 10000) br->fdb().flush();
  return 0;
}
