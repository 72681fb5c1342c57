#include "packet/ip.hh"

#include "packet/checksum.hh"

namespace vnet::packet {

Result<Ipv4Header> decode_ipv4(ByteReader& in) {
  auto start = in.rest();
  if (!in.has(20))
    return make_error(EBADMSG, "IPv4 header truncated: need 20 bytes, have {}", in.remaining());
  uint8_t vihl = in.u8();
  if (vihl >> 4 != 4) return make_error(EBADMSG, "IPv4 version is {}, expected 4", vihl >> 4);
  size_t ihl = (vihl & 0xf) * 4u;
  if (ihl < 20) return make_error(EBADMSG, "IPv4 IHL is {} bytes, expected at least 20", ihl);
  if (start.size() < ihl) {
    return make_error(EBADMSG, "IPv4 header truncated: IHL says {} bytes, have {}", ihl,
                      start.size());
  }
  Ipv4Header h;
  h.dscp_ecn = in.u8();
  h.total_length = in.u16();
  h.identification = in.u16();
  h.flags_fragment = in.u16();
  h.ttl = in.u8();
  h.protocol = in.u8();
  h.checksum = in.u16();
  h.src.value = in.u32();
  h.dst.value = in.u32();
  auto opts = in.bytes(ihl - 20);
  h.options.assign(opts.begin(), opts.end());
  if (h.total_length < ihl) {
    return make_error(EBADMSG, "IPv4 total length {} is shorter than its header ({})",
                      h.total_length, ihl);
  }
  if (internet_checksum(start.first(ihl)) != 0) {
    return make_error(EBADMSG, "IPv4 header checksum {:#06x} is wrong", h.checksum);
  }
  return h;
}

void encode(const Ipv4Header& h, ByteWriter& out) {
  size_t at = out.size();
  out.u8(static_cast<uint8_t>(0x40 | (h.header_length() / 4)));
  out.u8(h.dscp_ecn);
  out.u16(h.total_length);
  out.u16(h.identification);
  out.u16(h.flags_fragment);
  out.u8(h.ttl);
  out.u8(h.protocol);
  out.u16(0);
  out.u32(h.src.value);
  out.u32(h.dst.value);
  out.bytes(h.options);
  auto& buf = out.buffer();
  uint16_t c = internet_checksum(std::span<const uint8_t>(buf).subspan(at, h.header_length()));
  out.patch_u16(at + 10, c);
}

Result<Ipv6Header> decode_ipv6(ByteReader& in) {
  if (!in.has(40))
    return make_error(EBADMSG, "IPv6 header truncated: need 40 bytes, have {}", in.remaining());
  uint32_t first = in.u32();
  if (first >> 28 != 6) return make_error(EBADMSG, "IPv6 version is {}, expected 6", first >> 28);
  Ipv6Header h;
  h.traffic_class = static_cast<uint8_t>(first >> 20);
  h.flow_label = first & 0xfffff;
  h.payload_length = in.u16();
  h.next_header = in.u8();
  h.hop_limit = in.u8();
  in.copy(h.src.bytes.data(), 16);
  in.copy(h.dst.bytes.data(), 16);
  return h;
}

void encode(const Ipv6Header& h, ByteWriter& out) {
  out.u32(6u << 28 | uint32_t{h.traffic_class} << 20 | (h.flow_label & 0xfffff));
  out.u16(h.payload_length);
  out.u8(h.next_header);
  out.u8(h.hop_limit);
  out.bytes(h.src.bytes);
  out.bytes(h.dst.bytes);
}

}  // namespace vnet::packet
