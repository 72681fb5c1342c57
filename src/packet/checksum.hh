#pragma once
// Internet checksum (RFC 1071) and the pseudo-headers of RFC 768/793 (IPv4) and RFC 8200 §8.1
// (IPv6).

#include <cstdint>
#include <span>

#include "packet/address.hh"

namespace vnet::packet {

// Ones'-complement sum of 16-bit big-endian words, not yet folded or inverted.
uint32_t checksum_add(uint32_t sum, std::span<const uint8_t> data);
// Fold and invert: the value that goes on the wire.
uint16_t checksum_finish(uint32_t sum);
inline uint16_t internet_checksum(std::span<const uint8_t> data) {
  return checksum_finish(checksum_add(0, data));
}
uint32_t pseudo_header_v4(Ipv4Address src, Ipv4Address dst, uint8_t protocol, uint32_t length);
uint32_t pseudo_header_v6(const Ipv6Address& src, const Ipv6Address& dst, uint8_t next_header,
                          uint32_t length);

}  // namespace vnet::packet
