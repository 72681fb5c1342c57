#include "bridge/arp_filter.hh"

#include <algorithm>

#include "base/byte_io.hh"
#include "packet/ethernet.hh"

namespace vnet::bridge {

ArpVerdict arp_filter_verdict(std::span<const uint8_t> frame, const packet::TagStack& tags,
                              std::span<const packet::Ipv4Address> deny) {
  if (deny.empty() || tags.ether_type != static_cast<uint16_t>(packet::EtherType::kArp))
    return ArpVerdict::kPass;
  const size_t start = size_t{tags.ether_type_offset} + 2;
  if (frame.size() < start + 8) return ArpVerdict::kMalformed;
  std::span<const uint8_t> arp = frame.subspan(start);
  const uint16_t ptype = load_be16(&arp[2]);
  const size_t hlen = arp[4], plen = arp[5];
  if (arp.size() < 8 + 2 * hlen + 2 * plen) return ArpVerdict::kMalformed;
  if (ptype != 0x0800 || plen != 4) return ArpVerdict::kPass;  // RFC 826: ar$pro, ar$pln
  const uint8_t* spa = &arp[8 + hlen];
  const packet::Ipv4Address sender{uint32_t{spa[0]} << 24 | uint32_t{spa[1]} << 16 |
                                   uint32_t{spa[2]} << 8 | spa[3]};
  return std::find(deny.begin(), deny.end(), sender) != deny.end() ? ArpVerdict::kDeny
                                                                   : ArpVerdict::kPass;
}

}  // namespace vnet::bridge
