#include "vrrp/advert.hh"

#include "base/byte_io.hh"
#include "packet/checksum.hh"

namespace vnet::vrrp {
namespace {

uint32_t pseudo(const IpPair& ip, size_t len) {
  if (ip.v6)
    return packet::pseudo_header_v6(ip.src6, ip.dst6, kProtocol, static_cast<uint32_t>(len));
  return packet::pseudo_header_v4(ip.src4, ip.dst4, kProtocol, static_cast<uint32_t>(len));
}

}  // namespace

Result<Advert> decode_advert(std::span<const uint8_t> msg, const IpPair& ip) {
  ByteReader in(msg);
  if (!in.has(8))
    return make_error(EBADMSG, "VRRP advertisement truncated: need 8 bytes, have {}", msg.size());
  Advert a;
  uint8_t vt = in.u8();
  a.version = vt >> 4;
  uint8_t type = vt & 0xf;
  if (a.version != 2 && a.version != 3)
    return make_error(EBADMSG, "VRRP version {}, expected 2 or 3", a.version);
  if (type != 1) return make_error(EBADMSG, "VRRP type {}, expected 1 (ADVERTISEMENT)", type);
  a.vrid = in.u8();
  a.priority = in.u8();
  uint8_t count = in.u8();
  a.ipv6 = ip.v6;
  if (a.version == 2) {
    if (ip.v6)
      return make_error(EBADMSG, "VRRPv2 over IPv6 does not exist (RFC 3768 is IPv4 only)");
    a.auth_type = static_cast<AuthType>(in.u8());
    a.interval_cs = static_cast<uint16_t>(in.u8() * 100);
  } else {
    a.interval_cs = in.u16() & 0x0fff;
  }
  a.checksum = in.u16();
  size_t addr_len = ip.v6 ? 16 : 4;
  size_t want = 8 + count * addr_len + (a.version == 2 ? 8 : 0);
  if (msg.size() < want) {
    return make_error(EBADMSG,
                      "VRRP advertisement of {} bytes is shorter than its {} addresses need ({})",
                      msg.size(), count, want);
  }
  if (a.interval_cs == 0) return make_error(EBADMSG, "VRRP advertisement interval is 0");
  for (int i = 0; i < count; ++i) {
    if (ip.v6) {
      packet::Ipv6Address x;
      in.copy(x.bytes.data(), 16);
      a.v6.push_back(x);
    } else {
      a.v4.push_back(packet::Ipv4Address{in.u32()});
    }
  }
  if (a.version == 2) in.copy(a.auth_data.data(), 8);
  auto body = msg.first(want);
  if (a.version == 2 || ip.v6) {
    uint32_t start = a.version == 3 ? pseudo(ip, want) : 0;
    if (packet::checksum_finish(packet::checksum_add(start, body)) != 0) {
      return make_error(EPROTO, "VRRP checksum {:#06x} is wrong", a.checksum);
    }
  } else if (packet::checksum_finish(packet::checksum_add(pseudo(ip, want), body)) == 0) {
    a.checksum_pseudo = true;
  } else if (packet::checksum_finish(packet::checksum_add(0, body)) == 0) {
    a.checksum_pseudo = false;
  } else {
    return make_error(
        EPROTO,
        "VRRPv3 checksum {:#06x} matches neither variant (with or without the IPv4 pseudo-header)",
        a.checksum);
  }
  return a;
}

std::vector<uint8_t> encode_advert(const Advert& a, const IpPair& ip, ChecksumMode mode) {
  std::vector<uint8_t> out;
  ByteWriter w(out);
  w.u8(static_cast<uint8_t>(a.version << 4 | 1));
  w.u8(a.vrid);
  w.u8(a.priority);
  w.u8(static_cast<uint8_t>(a.address_count()));
  if (a.version == 2) {
    w.u8(static_cast<uint8_t>(a.auth_type));
    w.u8(static_cast<uint8_t>(a.interval_cs / 100));
  } else {
    w.u16(a.interval_cs & 0x0fff);
  }
  w.u16(0);
  if (a.ipv6) {
    for (auto& x : a.v6) w.bytes(x.bytes);
  } else {
    for (auto& x : a.v4) w.u32(x.value);
  }
  if (a.version == 2) w.bytes(a.auth_data);
  uint32_t start = 0;
  if (a.version == 3 && (ip.v6 || mode == ChecksumMode::kPseudoHeader))
    start = pseudo(ip, out.size());
  w.patch_u16(6, packet::checksum_finish(packet::checksum_add(start, out)));
  return out;
}

}  // namespace vnet::vrrp
