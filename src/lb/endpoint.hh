#pragma once
// An IP address with a port, as keepalived's virtual_server and real_server write it
// ("10.0.0.1 80", "fd00::1 443"), ordered so it can key maps. Port 0 = any (fwmark services).

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.hh"
#include "packet/address.hh"

namespace vnet::lb {

struct Endpoint {
  bool v6 = false;
  packet::Ipv4Address v4{};
  packet::Ipv6Address v6addr{};
  uint16_t port = 0;

  // `address` as written ("10.0.0.1", "fd00::1"); error: "expected an IPv4 or IPv6 address".
  static Result<Endpoint> parse(std::string_view address, uint16_t port = 0);
  // The 32-bit fold IPVS hashes (ip_vs_sh.c / ip_vs_mh.c: the IPv4 address, or the XOR of the
  // four words of an IPv6 address), in host order.
  uint32_t fold() const;
  std::string address_string() const { return v6 ? v6addr.to_string() : v4.to_string(); }
  // "10.0.0.1:80", "[fd00::1]:80" (keepalived's FMT_RS form).
  std::string to_string() const;
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
};

}  // namespace vnet::lb
