#pragma once
// UDP (RFC 768) and ICMP echo (RFC 792 for IPv4, RFC 4443 §4.1–4.2 for IPv6).
// Checksums cover the pseudo-header (IPv4: RFC 768; IPv6: RFC 8200 §8.1); ICMPv4 has none.

#include <cstdint>
#include <span>
#include <vector>

#include "base/byte_io.hh"
#include "base/result.hh"
#include "packet/address.hh"

namespace vnet::packet {

struct UdpHeader {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint16_t length = 0;    // header + payload
  uint16_t checksum = 0;  // as decoded
  static constexpr size_t kWireSize = 8;
  friend bool operator==(const UdpHeader&, const UdpHeader&) = default;
};
Result<UdpHeader> decode_udp(ByteReader& in);  // errors: truncated, length < 8
// Writes header + payload with the checksum over the given pseudo-header sum.
void encode_udp(UdpHeader h, std::span<const uint8_t> payload, uint32_t pseudo, ByteWriter& out);

// Echo request/reply for ICMPv4 (types 8/0) and ICMPv6 (types 128/129).
struct IcmpEcho {
  uint8_t type = 8;
  uint8_t code = 0;
  uint16_t checksum = 0;  // as decoded
  uint16_t identifier = 0;
  uint16_t sequence = 0;
  std::vector<uint8_t> data;
  static constexpr uint8_t kV4Request = 8, kV4Reply = 0, kV6Request = 128, kV6Reply = 129;
  friend bool operator==(const IcmpEcho&, const IcmpEcho&) = default;
};
// Decodes an echo message (the rest of the reader is the data). Errors: truncated, not an echo
// type. Checksum is not verified here (see verify_l4_checksum).
Result<IcmpEcho> decode_icmp_echo(ByteReader& in);
// pseudo = 0 for ICMPv4, pseudo_header_v6(...) for ICMPv6.
void encode_icmp_echo(const IcmpEcho& e, uint32_t pseudo, ByteWriter& out);

// True when the transport checksum over `segment` (header + payload) with `pseudo` is right.
bool verify_l4_checksum(std::span<const uint8_t> segment, uint32_t pseudo);

}  // namespace vnet::packet
