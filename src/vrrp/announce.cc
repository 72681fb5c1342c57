#include "vrrp/announce.hh"

#include "packet/arp.hh"
#include "packet/checksum.hh"
#include "packet/ethernet.hh"
#include "packet/ip.hh"

namespace vnet::vrrp {
namespace {

constexpr uint8_t kTargetLinkLayerAddress = 2;  // RFC 4861 §4.6.1
constexpr uint32_t kRouterFlag = 1u << 31, kSolicitedFlag = 1u << 30, kOverrideFlag = 1u << 29;

}  // namespace

void encode(const NeighborAdvert& na, uint32_t pseudo, ByteWriter& out) {
  size_t at = out.size();
  out.u8(NeighborAdvert::kType);
  out.u8(0);
  out.u16(0);
  out.u32((na.router ? kRouterFlag : 0) | (na.solicited ? kSolicitedFlag : 0) |
          (na.override ? kOverrideFlag : 0));
  out.bytes(na.target.bytes);
  if (na.target_mac) {
    out.u8(kTargetLinkLayerAddress);
    out.u8(1);  // in units of 8 bytes
    out.bytes(na.target_mac->bytes);
  }
  out.patch_u16(at + 2, packet::checksum_finish(packet::checksum_add(
                            pseudo, std::span<const uint8_t>(out.buffer()).subspan(at))));
}

Result<NeighborAdvert> decode_neighbor_advert(ByteReader& in) {
  if (!in.has(24))
    return make_error(EBADMSG, "neighbor advertisement truncated: need 24 bytes, have {}",
                      in.remaining());
  uint8_t type = in.u8(), code = in.u8();
  if (type != NeighborAdvert::kType || code != 0)
    return make_error(EBADMSG, "ICMPv6 type {} code {} is not a neighbor advertisement", type,
                      code);
  in.u16();  // checksum
  NeighborAdvert na;
  uint32_t flags = in.u32();
  na.router = flags & kRouterFlag;
  na.solicited = flags & kSolicitedFlag;
  na.override = flags & kOverrideFlag;
  in.copy(na.target.bytes.data(), 16);
  while (in.remaining() > 0) {
    if (!in.has(2)) return make_error(EBADMSG, "neighbor advertisement option truncated");
    uint8_t opt = in.u8(), len = in.u8();
    if (len == 0) return make_error(EBADMSG, "neighbor advertisement option {} of length 0", opt);
    size_t body = size_t{len} * 8 - 2;
    if (!in.has(body))
      return make_error(EBADMSG,
                        "neighbor advertisement option {} truncated: need {} bytes, have {}", opt,
                        body, in.remaining());
    if (opt == kTargetLinkLayerAddress && body >= 6) {
      packet::MacAddress mac;
      in.copy(mac.bytes.data(), 6);
      in.skip(body - 6);
      na.target_mac = mac;
    } else {
      in.skip(body);
    }
  }
  return na;
}

std::vector<uint8_t> gratuitous_arp(const packet::MacAddress& src, packet::Ipv4Address vip) {
  std::vector<uint8_t> f;
  ByteWriter w(f);
  encode(packet::EthernetHeader{packet::MacAddress::broadcast(), src,
                                static_cast<uint16_t>(packet::EtherType::kArp)},
         w);
  encode(packet::ArpPacket{packet::ArpPacket::kRequest, src, vip, packet::MacAddress::broadcast(),
                           vip},
         w);
  return f;
}

std::vector<uint8_t> unsolicited_na(const packet::MacAddress& src, const packet::Ipv6Address& vip) {
  static const auto kAllNodes = *packet::Ipv6Address::parse("ff02::1");
  static const auto kAllNodesMac = *packet::MacAddress::parse("33:33:00:00:00:01");
  NeighborAdvert na;
  na.override = true;
  na.target = vip;
  na.target_mac = src;
  auto length = static_cast<uint16_t>(na.wire_size());
  std::vector<uint8_t> f;
  ByteWriter w(f);
  encode(packet::EthernetHeader{kAllNodesMac, src, static_cast<uint16_t>(packet::EtherType::kIpv6)},
         w);
  packet::Ipv6Header ip;
  ip.payload_length = length;
  ip.next_header = static_cast<uint8_t>(packet::IpProtocol::kIcmpv6);
  ip.hop_limit = 255;  // RFC 4861 §7.1.2: receivers drop NAs with any other hop limit
  ip.src = vip;
  ip.dst = kAllNodes;
  encode(ip, w);
  encode(na, packet::pseudo_header_v6(vip, kAllNodes, ip.next_header, length), w);
  return f;
}

std::vector<std::vector<uint8_t>> announcement_burst(const packet::MacAddress& src,
                                                     const std::vector<packet::IpPrefix>& vips,
                                                     int count) {
  std::vector<std::vector<uint8_t>> out;
  for (auto& vip : vips) {
    auto frame = vip.v6 ? unsolicited_na(src, vip.v6addr) : gratuitous_arp(src, vip.v4addr);
    for (int i = 0; i < count; ++i) out.push_back(frame);
  }
  return out;
}

}  // namespace vnet::vrrp
