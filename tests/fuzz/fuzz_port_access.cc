// libFuzzer target: what clients send to a switch port that authenticates (bridge/port_access.hh),
// with the RADIUS server never answering. The input is a sequence of frames (a length byte,
// then that many bytes, put after a PAE-group or unicast header by the first byte's low bit) and
// time steps. Properties: no crash; without a RADIUS accept nothing a client sends opens the
// port; what the port sends and asks RADIUS stays bounded (one outstanding request: at most
// one datagram per step plus retransmits on the timer).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "bridge/port_access.hh"
#include "nac/eapol.hh"

using namespace vnet;
using namespace vnet::bridge;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Bridge br("fz");
  (void)br.create_vlan(10);
  (void)br.add_port(1, PortConfig::access(10));
  (void)br.set_active(1, true);
  size_t requests = 0;
  PortAccess access(
      br, [&](PortNo, std::span<const uint8_t>) { ++requests; }, 7);
  TimePoint now{};
  access.set_server(*parse_radius_server("192.0.2.1", "fuzz-secret"), now);
  (void)access.set_port(1, *parse_port_auth(size && data[0] & 2 ? "mac,dot1x" : "dot1x,mac"), now);
  size_t steps = 0;
  for (size_t i = 0; i < size;) {
    uint8_t len = data[i++];
    std::span<const uint8_t> body(data + i, std::min<size_t>(len, size - i));
    i += body.size();
    ++steps;
    if (len & 0x80) {  // a time step of up to 127 s
      now += std::chrono::seconds(len & 0x7f);
      access.tick(now);
    } else {
      std::vector<uint8_t> f(12);
      if (len & 1) {
        std::copy(nac::kPaeGroupAddress.begin(), nac::kPaeGroupAddress.end(), f.begin());
      } else {
        f[0] = 0x02;
      }
      f[6] = 0x02;
      f[11] = static_cast<uint8_t>(len >> 1);
      f.insert(f.end(), body.begin(), body.end());
      if (f.size() < 14) f.resize(14);
      if (len & 1) {
        access.on_eapol(1, packet::Frame::copy_of(f), now);
      } else {
        packet::MacAddress src;
        std::copy_n(f.begin() + 6, 6, src.bytes.begin());
        access.on_unauthorized(1, src, now);
      }
    }
    if (br.authorized(1)) __builtin_trap();  // opened without a RADIUS accept
    br.drain([](PortNo, std::vector<packet::Frame>&) {});
  }
  if (requests > 4 * (steps + 1)) __builtin_trap();
  return 0;
}
