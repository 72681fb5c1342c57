#include "packet/arp.hh"

namespace vnet::packet {

Result<ArpPacket> decode_arp(ByteReader& in) {
  if (!in.has(ArpPacket::kWireSize)) {
    return make_error(EBADMSG, "ARP packet truncated: need 28 bytes, have {}", in.remaining());
  }
  uint16_t htype = in.u16(), ptype = in.u16();
  uint8_t hlen = in.u8(), plen = in.u8();
  if (htype != 1 || ptype != 0x0800 || hlen != 6 || plen != 4) {
    return make_error(EBADMSG,
                      "ARP not Ethernet/IPv4: htype {} ptype {:#06x} hlen {} plen {}, expected 1 "
                      "0x0800 6 4",
                      htype, ptype, hlen, plen);
  }
  ArpPacket p;
  p.operation = in.u16();
  in.copy(p.sender_mac.bytes.data(), 6);
  p.sender_ip.value = in.u32();
  in.copy(p.target_mac.bytes.data(), 6);
  p.target_ip.value = in.u32();
  return p;
}

void encode(const ArpPacket& p, ByteWriter& out) {
  out.u16(1);
  out.u16(0x0800);
  out.u8(6);
  out.u8(4);
  out.u16(p.operation);
  out.bytes(p.sender_mac.bytes);
  out.u32(p.sender_ip.value);
  out.bytes(p.target_mac.bytes);
  out.u32(p.target_ip.value);
}

}  // namespace vnet::packet
