#include "packet/l4.hh"

#include "packet/checksum.hh"

namespace vnet::packet {

Result<UdpHeader> decode_udp(ByteReader& in) {
  if (!in.has(8))
    return make_error(EBADMSG, "UDP header truncated: need 8 bytes, have {}", in.remaining());
  UdpHeader h;
  h.src_port = in.u16();
  h.dst_port = in.u16();
  h.length = in.u16();
  h.checksum = in.u16();
  if (h.length < 8)
    return make_error(EBADMSG, "UDP length {} is below the 8-byte header", h.length);
  return h;
}

void encode_udp(UdpHeader h, std::span<const uint8_t> payload, uint32_t pseudo, ByteWriter& out) {
  size_t at = out.size();
  h.length = static_cast<uint16_t>(8 + payload.size());
  out.u16(h.src_port);
  out.u16(h.dst_port);
  out.u16(h.length);
  out.u16(0);
  out.bytes(payload);
  uint16_t c =
      checksum_finish(checksum_add(pseudo, std::span<const uint8_t>(out.buffer()).subspan(at)));
  if (c == 0) c = 0xffff;  // RFC 768: zero means "no checksum"
  out.patch_u16(at + 6, c);
}

Result<IcmpEcho> decode_icmp_echo(ByteReader& in) {
  if (!in.has(8))
    return make_error(EBADMSG, "ICMP echo truncated: need 8 bytes, have {}", in.remaining());
  IcmpEcho e;
  e.type = in.u8();
  e.code = in.u8();
  e.checksum = in.u16();
  if (e.type != IcmpEcho::kV4Request && e.type != IcmpEcho::kV4Reply &&
      e.type != IcmpEcho::kV6Request && e.type != IcmpEcho::kV6Reply) {
    return make_error(EBADMSG, "ICMP type {} is not an echo request or reply", e.type);
  }
  e.identifier = in.u16();
  e.sequence = in.u16();
  auto rest = in.rest();
  e.data.assign(rest.begin(), rest.end());
  in.skip(rest.size());
  return e;
}

void encode_icmp_echo(const IcmpEcho& e, uint32_t pseudo, ByteWriter& out) {
  size_t at = out.size();
  out.u8(e.type);
  out.u8(e.code);
  out.u16(0);
  out.u16(e.identifier);
  out.u16(e.sequence);
  out.bytes(e.data);
  out.patch_u16(at + 2, checksum_finish(checksum_add(
                            pseudo, std::span<const uint8_t>(out.buffer()).subspan(at))));
}

bool verify_l4_checksum(std::span<const uint8_t> segment, uint32_t pseudo) {
  return checksum_finish(checksum_add(pseudo, segment)) == 0;
}

}  // namespace vnet::packet
