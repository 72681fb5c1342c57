#pragma once
// ARP for IPv4 over Ethernet (RFC 826): the 28-byte payload after the Ethernet header.

#include "base/byte_io.hh"
#include "base/result.hh"
#include "packet/address.hh"

namespace vnet::packet {

struct ArpPacket {
  uint16_t operation = 1;  // 1 request, 2 reply
  MacAddress sender_mac;
  Ipv4Address sender_ip;
  MacAddress target_mac;
  Ipv4Address target_ip;
  static constexpr size_t kWireSize = 28;
  static constexpr uint16_t kRequest = 1, kReply = 2;
  friend bool operator==(const ArpPacket&, const ArpPacket&) = default;
};
// Errors: truncated, or not Ethernet/IPv4 (htype 1, ptype 0x0800, hlen 6, plen 4).
Result<ArpPacket> decode_arp(ByteReader& in);
void encode(const ArpPacket& p, ByteWriter& out);

}  // namespace vnet::packet
