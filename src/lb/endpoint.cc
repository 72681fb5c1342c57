#include "lb/endpoint.hh"

namespace vnet::lb {

Result<Endpoint> Endpoint::parse(std::string_view address, uint16_t port) {
  Endpoint e;
  e.port = port;
  if (address.find(':') != std::string_view::npos) {
    auto a = packet::Ipv6Address::parse(address);
    if (!a)
      return Error{EINVAL, "'" + std::string(address) + "': expected an IPv4 or IPv6 address"};
    e.v6 = true;
    e.v6addr = *a;
    return e;
  }
  auto a = packet::Ipv4Address::parse(address);
  if (!a) return Error{EINVAL, "'" + std::string(address) + "': expected an IPv4 or IPv6 address"};
  e.v4 = *a;
  return e;
}

uint32_t Endpoint::fold() const {
  if (!v6) return v4.value;
  uint32_t f = 0;
  for (int w = 0; w < 4; ++w) {
    uint32_t word = 0;
    for (int b = 0; b < 4; ++b) word = (word << 8) | v6addr.bytes[size_t(w * 4 + b)];
    f ^= word;
  }
  return f;
}

std::string Endpoint::to_string() const {
  std::string a = address_string();
  if (v6) a = "[" + a + "]";
  return a + ":" + std::to_string(port);
}

}  // namespace vnet::lb
