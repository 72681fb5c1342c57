#pragma once
// Link- and network-layer addresses as value types: MacAddress (IEEE 802), Ipv4Address (RFC 791),
// Ipv6Address (RFC 4291). Parsing returns Result with a message naming the bad text.

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hh"

namespace vnet::packet {

struct MacAddress {
  std::array<uint8_t, 6> bytes{};

  static Result<MacAddress> parse(std::string_view text);  // "02:00:00:aa:bb:cc"
  static constexpr MacAddress broadcast() { return {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}; }
  bool is_multicast() const { return bytes[0] & 1; }  // includes broadcast
  bool is_broadcast() const { return *this == broadcast(); }
  bool is_zero() const { return *this == MacAddress{}; }
  // The 48 bits as an integer, for hashing.
  uint64_t to_u64() const {
    uint64_t v = 0;
    for (uint8_t b : bytes) v = v << 8 | b;
    return v;
  }
  static MacAddress from_u64(uint64_t v);
  std::string to_string() const;
  friend bool operator==(const MacAddress&, const MacAddress&) = default;
  friend auto operator<=>(const MacAddress&, const MacAddress&) = default;
};

struct Ipv4Address {
  uint32_t value = 0;  // host order
  static Result<Ipv4Address> parse(std::string_view text);
  std::string to_string() const;
  std::array<uint8_t, 4> to_bytes() const {
    return {uint8_t(value >> 24), uint8_t(value >> 16), uint8_t(value >> 8), uint8_t(value)};
  }
  friend bool operator==(const Ipv4Address&, const Ipv4Address&) = default;
  friend auto operator<=>(const Ipv4Address&, const Ipv4Address&) = default;
};

struct Ipv6Address {
  std::array<uint8_t, 16> bytes{};
  static Result<Ipv6Address> parse(std::string_view text);
  std::string to_string() const;
  bool is_link_local() const { return bytes[0] == 0xfe && (bytes[1] & 0xc0) == 0x80; }
  friend bool operator==(const Ipv6Address&, const Ipv6Address&) = default;
  friend auto operator<=>(const Ipv6Address&, const Ipv6Address&) = default;
};

// An interface address with its prefix: "10.0.10.1/24" or "fd00:10::1/64".
struct IpPrefix {
  bool v6 = false;
  Ipv4Address v4addr{};
  Ipv6Address v6addr{};
  uint8_t length = 0;
  static Result<IpPrefix> parse(std::string_view text);
  bool contains(
      const IpPrefix& other) const;  // same family and other's address is inside this network
  std::string address_string() const { return v6 ? v6addr.to_string() : v4addr.to_string(); }
  std::string to_string() const { return address_string() + "/" + std::to_string(length); }
  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

}  // namespace vnet::packet
