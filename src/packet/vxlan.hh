#pragma once
// VXLAN header (RFC 7348 §5): the 8 bytes after the outer UDP header.
//
//   0               1               2               3
//   |R|R|R|R|I|R|R|R|            Reserved (24 bits)                 |
//   |        VXLAN Network Identifier (VNI, 24 bits)  | Reserved (8) |
//
// Send: flags 0x08 (the I flag), every reserved bit zero. Receive: the I flag MUST be set; the
// reserved bits are ignored (§5), so a header with them set is still read.
//
// The outer UDP source port (§5): "a hash of fields from the inner packet", in the dynamic range
// 49152–65535, so one flow keeps one port (ordering across ECMP paths) and flows spread over
// ports. vxlan_source_port() hashes the inner Ethernet addresses and EtherType and, for IPv4/IPv6,
// the addresses, the protocol and (TCP/UDP/SCTP, unfragmented) the ports; `salt` lets two VTEPs
// spread differently.

#include <cstdint>
#include <span>

#include "base/byte_io.hh"
#include "base/result.hh"

namespace vnet::packet {

constexpr uint16_t kVxlanPort = 4789;       // IANA (RFC 7348 §5)
constexpr uint16_t kLinuxVxlanPort = 8472;  // Linux's default when no dstport is given
constexpr uint32_t kMaxVni = 0xffffff;      // 24 bits
constexpr uint8_t kVxlanIFlag = 0x08;
constexpr uint16_t kVxlanSourcePortMin = 49152;  // RFC 7348 §5, the dynamic/private range

struct VxlanHeader {
  uint8_t flags = kVxlanIFlag;  // as received (reserved bits included)
  uint32_t vni = 0;             // 0 … 2^24 − 1
  static constexpr size_t kWireSize = 8;
  friend bool operator==(const VxlanHeader&, const VxlanHeader&) = default;
};

// Errors: truncated (fewer than 8 bytes), EPROTO when the I flag is clear. Reserved bits ignored.
Result<VxlanHeader> decode_vxlan(ByteReader& in);
// Writes flags 0x08 and zero reserved bits; `vni` must be ≤ kMaxVni (masked to 24 bits).
void encode_vxlan(uint32_t vni, ByteWriter& out);
// Writes the same 8 bytes at `out` (which must hold them).
void store_vxlan(uint32_t vni, uint8_t* out);

// The outer UDP source port for `inner` (an Ethernet frame): 49152 + hash mod 16384.
uint16_t vxlan_source_port(std::span<const uint8_t> inner, uint64_t salt = 0);

}  // namespace vnet::packet
