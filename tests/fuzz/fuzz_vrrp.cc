// libFuzzer target: VRRP advertisement decoder (v2/v3, IPv4/IPv6) with re-encode round trip.
#include <cstddef>
#include <cstdint>

#include "vrrp/advert.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  vnet::vrrp::IpPair ip;
  ip.v6 = data[0] & 1;
  ip.src4 = vnet::packet::Ipv4Address{0x0a000001};
  ip.dst4 = vnet::packet::Ipv4Address{vnet::vrrp::kMulticastV4};
  auto a = vnet::vrrp::decode_advert({data + 1, size - 1}, ip);
  if (!a.ok()) return 0;
  auto mode = a->checksum_pseudo ? vnet::vrrp::ChecksumMode::kPseudoHeader
                                 : vnet::vrrp::ChecksumMode::kVrrpOnly;
  auto again = vnet::vrrp::decode_advert(vnet::vrrp::encode_advert(*a, ip, mode), ip);
  if (!again.ok() || again->vrid != a->vrid || again->priority != a->priority) __builtin_trap();
  return 0;
}
