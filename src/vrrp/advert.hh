#pragma once
// VRRP advertisement codec: VRRPv2 (RFC 3768 §5.1) and VRRPv3 (RFC 5798 §5.1), IPv4 and IPv6.
// Host-order value struct; the message only (the IP header is the host layer's business).
//
//   v2: ver/type | VRID | priority | count | auth type | adver int (s) | checksum | IPv4 addrs |
//       auth data (8 bytes)                          checksum over the VRRP message only
//   v3: ver/type | VRID | priority | count | rsvd(4) max adver int (12 bits, centiseconds) |
//       checksum | IPv4 or IPv6 addrs               checksum with the IP pseudo-header
//
// The VRRPv3-over-IPv4 checksum is the interop trap: keepalived 2.2.7 (and Wireshark, RFC 5798)
// include the IPv4 pseudo-header, Cisco and FRR's `no checksum-with-ipv4-pseudoheader` (and the
// RFC 9568 reading) do not. Encoding takes the mode; decoding accepts either and reports which.

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.hh"
#include "packet/address.hh"

namespace vnet::vrrp {

constexpr uint8_t kProtocol = 112;             // IANA, RFC 5798 §5.1.1.4
constexpr uint8_t kTtl = 255;                  // §5.1.1.3 / §5.1.2.3
constexpr uint32_t kMulticastV4 = 0xe0000012;  // 224.0.0.18
constexpr const char* kMulticastV6 = "ff02::12";

enum class ChecksumMode {
  kPseudoHeader,  // RFC 5798 / keepalived default: IPv4 pseudo-header included
  kVrrpOnly,      // Cisco, FRR option, RFC 9568 reading: VRRP message only (as v2)
};

enum class AuthType : uint8_t { kNone = 0, kSimpleText = 1, kAh = 2 };  // RFC 2338 / 3768

struct Advert {
  uint8_t version = 3;         // 2 or 3
  uint8_t vrid = 1;            // 1..255
  uint8_t priority = 100;      // 0 = master leaving, 255 = address owner
  uint16_t interval_cs = 100;  // advertisement interval in centiseconds (v2 carries whole seconds)
  bool ipv6 = false;
  std::vector<packet::Ipv4Address> v4;
  std::vector<packet::Ipv6Address> v6;
  AuthType auth_type = AuthType::kNone;  // v2 only
  std::array<uint8_t, 8> auth_data{};    // v2 only (simple text password, zero padded)
  uint16_t checksum = 0;                 // as decoded
  bool checksum_pseudo = true;           // v3/IPv4: which variant matched on decode
  size_t address_count() const { return ipv6 ? v6.size() : v4.size(); }
  friend bool operator==(const Advert&, const Advert&) = default;
};

// The IP addresses of the packet, for the pseudo-header.
struct IpPair {
  bool v6 = false;
  packet::Ipv4Address src4, dst4;
  packet::Ipv6Address src6, dst6;
};

// Errors: EBADMSG for malformed (truncated, bad version/type, count not matching the length,
// v2 over IPv6, interval 0), EPROTO for a checksum that matches no variant.
Result<Advert> decode_advert(std::span<const uint8_t> msg, const IpPair& ip);
std::vector<uint8_t> encode_advert(const Advert& a, const IpPair& ip, ChecksumMode mode);

}  // namespace vnet::vrrp
