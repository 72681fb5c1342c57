#pragma once
// IPv4 header (RFC 791 §3.1) and IPv6 fixed header (RFC 8200 §3). Host-order value structs.
// IPv4 options are kept as raw bytes; the header checksum is verified on decode and computed on
// encode. IPv6 extension headers are not parsed here (next_header is reported as is).

#include <cstdint>
#include <vector>

#include "base/byte_io.hh"
#include "base/result.hh"
#include "packet/address.hh"

namespace vnet::packet {

enum class IpProtocol : uint8_t { kIcmp = 1, kTcp = 6, kUdp = 17, kIcmpv6 = 58, kVrrp = 112 };

struct Ipv4Header {
  uint8_t dscp_ecn = 0;
  uint16_t total_length = 0;  // header + payload, bytes
  uint16_t identification = 0;
  uint16_t flags_fragment = 0;  // 3 flag bits + 13-bit offset
  uint8_t ttl = 64;
  uint8_t protocol = 0;
  uint16_t checksum = 0;  // as decoded; encode computes it
  Ipv4Address src;
  Ipv4Address dst;
  std::vector<uint8_t> options;  // multiple of 4 bytes, ≤ 40
  size_t header_length() const { return 20 + options.size(); }
  friend bool operator==(const Ipv4Header&, const Ipv4Header&) = default;
};
// Errors: truncated, version ≠ 4, IHL < 5, total length < IHL, bad header checksum.
Result<Ipv4Header> decode_ipv4(ByteReader& in);
// Writes the header with a correct checksum (total_length as given).
void encode(const Ipv4Header& h, ByteWriter& out);

struct Ipv6Header {
  uint8_t traffic_class = 0;
  uint32_t flow_label = 0;      // 20 bits
  uint16_t payload_length = 0;  // bytes after the fixed header
  uint8_t next_header = 0;
  uint8_t hop_limit = 64;
  Ipv6Address src;
  Ipv6Address dst;
  static constexpr size_t kWireSize = 40;
  friend bool operator==(const Ipv6Header&, const Ipv6Header&) = default;
};
Result<Ipv6Header> decode_ipv6(ByteReader& in);  // errors: truncated, version ≠ 6
void encode(const Ipv6Header& h, ByteWriter& out);

}  // namespace vnet::packet
