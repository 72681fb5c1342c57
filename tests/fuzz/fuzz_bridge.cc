// libFuzzer target: 802.1Q bridge ingress: arbitrary frames on access and trunk ports never crash
// or leak VLANs
#include <cstddef>
#include <cstdint>

#include "bridge/bridge.hh"
#include "packet/offload.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vnet;
  static bridge::Bridge* br = [] {
    auto* b = new bridge::Bridge("fuzz");
    (void)b->create_vlan(10);
    (void)b->create_vlan(20);
    (void)b->add_port(1, bridge::PortConfig::access(10));
    (void)b->add_port(2, bridge::PortConfig::trunk({10, 20}, 10));
    (void)b->add_port(3, bridge::PortConfig::access(20));
    for (bridge::PortNo p : {1u, 2u, 3u}) (void)b->set_active(p, true);
    return b;
  }();
  if (size < 1) return 0;
  bridge::PortNo in = 1 + data[0] % 3;
  std::vector<packet::Frame> frames;
  frames.push_back(packet::Frame::copy_of({data + 1, size - 1}));
  br->ingress(in, frames, TimePoint{std::chrono::seconds(1)});
  br->drain([&](bridge::PortNo p, std::vector<packet::Frame>& out) {
    // VLAN 10 (port 1) and VLAN 20 (port 3) never meet; VLAN 20 leaves the trunk tagged 20.
    if ((in == 3 && p == 1) || (in == 1 && p == 3)) __builtin_trap();
    for (auto& f : out) {
      if (in == 3 && p == 2) {
        if (f.size() < 16 || f.data()[12] != 0x81 || f.data()[13] != 0) __builtin_trap();
        if (((f.data()[14] & 0xf) << 8 | f.data()[15]) != 20) __builtin_trap();
      }
      std::vector<packet::Frame> segs;
      (void)packet::segment_gso(f, segs);
    }
  });
  if (br->fdb().size() > 10000) br->fdb().flush();
  return 0;
}
