#include "packet/ethernet.hh"

namespace vnet::packet {

Result<EthernetHeader> decode_ethernet(ByteReader& in) {
  if (!in.has(EthernetHeader::kWireSize)) {
    return make_error(EBADMSG, "Ethernet header truncated: need 14 bytes, have {}", in.remaining());
  }
  EthernetHeader h;
  in.copy(h.dst.bytes.data(), 6);
  in.copy(h.src.bytes.data(), 6);
  h.ether_type = in.u16();
  return h;
}

void encode(const EthernetHeader& h, ByteWriter& out) {
  out.bytes(h.dst.bytes);
  out.bytes(h.src.bytes);
  out.u16(h.ether_type);
}

Result<VlanTag> decode_vlan(ByteReader& in) {
  if (!in.has(VlanTag::kWireSize)) {
    return make_error(EBADMSG, "802.1Q tag truncated: need 4 bytes, have {}", in.remaining());
  }
  uint16_t tci = in.u16();
  VlanTag t;
  t.pcp = static_cast<uint8_t>(tci >> 13);
  t.dei = (tci >> 12) & 1;
  t.vid = tci & 0xfff;
  t.inner_type = in.u16();
  return t;
}

void encode(const VlanTag& tag, ByteWriter& out) {
  out.u16(tag.tci());
  out.u16(tag.inner_type);
}

}  // namespace vnet::packet
