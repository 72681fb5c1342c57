#pragma once
// Ethernet II header (IEEE 802.3 §3.1.1 with EtherType) and the IEEE 802.1Q tag (802.1Q-2018 §9.6).
// Host-order value structs; decode from a ByteReader, encode to a ByteWriter.

#include <cstdint>

#include "base/byte_io.hh"
#include "base/result.hh"
#include "packet/address.hh"

namespace vnet::packet {

enum class EtherType : uint16_t {
  kIpv4 = 0x0800,
  kArp = 0x0806,
  kVlan = 0x8100,  // C-VLAN TPID, 802.1Q
  kQinQ = 0x88a8,  // S-VLAN TPID, 802.1ad
  kIpv6 = 0x86dd,
};

struct EthernetHeader {
  MacAddress dst;
  MacAddress src;
  uint16_t ether_type = 0;  // the outer EtherType/TPID as on the wire
  static constexpr size_t kWireSize = 14;
  friend bool operator==(const EthernetHeader&, const EthernetHeader&) = default;
};
// "Ethernet header truncated: need 14 bytes, have N"
Result<EthernetHeader> decode_ethernet(ByteReader& in);
void encode(const EthernetHeader& h, ByteWriter& out);

/// IEEE 802.1Q tag after the TPID (802.1Q-2018 §9.6), host order.
struct VlanTag {
  uint8_t pcp = 0;          // 3 bits, priority code point
  bool dei = false;         // drop eligible indicator
  uint16_t vid = 0;         // 12 bits; 0 = priority-tagged, 0xFFF reserved
  uint16_t inner_type = 0;  // EtherType that follows the tag
  static constexpr size_t kWireSize = 4;
  uint16_t tci() const {
    return static_cast<uint16_t>(pcp << 13 | (dei ? 1 << 12 : 0) | (vid & 0xfff));
  }
  friend bool operator==(const VlanTag&, const VlanTag&) = default;
};
// Reads TCI + inner EtherType (the TPID was already read as EthernetHeader::ether_type).
Result<VlanTag> decode_vlan(ByteReader& in);
void encode(const VlanTag& tag, ByteWriter& out);

constexpr uint16_t kVidMax = 4094;  // 802.1Q-2018 Table 9-2: 0 and 4095 reserved
constexpr uint16_t kVidReserved = 4095;

}  // namespace vnet::packet
