#pragma once
// Announcements a new master sends so that hosts and switches learn where the virtual
// addresses now are (RFC 5798 §6.4.1 (2) / §6.4.2 (3)), built with the packet codecs.
//
//   IPv4: gratuitous ARP as keepalived sends it — an ARP request (RFC 826) from the announcing
//         MAC to ff:ff:ff:ff:ff:ff, sender IP = target IP = the VIP, target MAC
//         ff:ff:ff:ff:ff:ff (not zeros).
//   IPv6: unsolicited Neighbor Advertisement (RFC 4861 §4.4, §7.2.6) from the VIP itself (not
//         the link-local address) to all-nodes ff02::1 (33:33:00:00:00:01), hop limit 255,
//         R=0 S=0 O=1, target = the VIP, with the Target Link-Layer Address option (§4.6.1).
// A burst is `count` announcements for each VIP, VIP by VIP; when they are sent is the
// Router's business (garp_master_repeat / garp_master_delay).
//
// The NA codec lives here because only VRRP sends NAs; it is a plain codec (value struct,
// encode/decode) so it can move to packet/ when something else needs one.

#include <cstdint>
#include <optional>
#include <vector>

#include "base/byte_io.hh"
#include "base/result.hh"
#include "packet/address.hh"

namespace vnet::vrrp {

// ICMPv6 Neighbor Advertisement (RFC 4861 §4.4), host order.
struct NeighborAdvert {
  static constexpr uint8_t kType = 136;
  bool router = false, solicited = false, override = false;
  packet::Ipv6Address target;
  std::optional<packet::MacAddress> target_mac;  // Target Link-Layer Address option (type 2)
  size_t wire_size() const { return 24 + (target_mac ? 8 : 0); }
  friend bool operator==(const NeighborAdvert&, const NeighborAdvert&) = default;
};
// Writes the message with its checksum; `pseudo` is pseudo_header_v6(src, dst, 58, wire_size()).
void encode(const NeighborAdvert& na, uint32_t pseudo, ByteWriter& out);
// Errors: truncated, not type 136 code 0, an option of length 0 or past the end. Unknown
// options are skipped; the checksum is not verified here (verify_l4_checksum).
Result<NeighborAdvert> decode_neighbor_advert(ByteReader& in);

// One complete Ethernet frame each.
std::vector<uint8_t> gratuitous_arp(const packet::MacAddress& src, packet::Ipv4Address vip);
std::vector<uint8_t> unsolicited_na(const packet::MacAddress& src, const packet::Ipv6Address& vip);
std::vector<std::vector<uint8_t>> announcement_burst(const packet::MacAddress& src,
                                                     const std::vector<packet::IpPrefix>& vips,
                                                     int count);

}  // namespace vnet::vrrp
