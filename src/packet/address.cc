#include "packet/address.hh"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace vnet::packet {

Result<MacAddress> MacAddress::parse(std::string_view text) {
  MacAddress m;
  size_t pos = 0;
  for (int i = 0; i < 6; ++i) {
    if (i > 0) {
      if (pos >= text.size() || (text[pos] != ':' && text[pos] != '-')) break;
      ++pos;
    }
    unsigned v = 0;
    auto [p, ec] =
        std::from_chars(text.data() + pos, text.data() + std::min(text.size(), pos + 2), v, 16);
    if (ec != std::errc{} || p != text.data() + pos + 2) {
      return make_error(
          EINVAL, "bad MAC address '{}': expected six hex pairs like 02:00:00:00:00:01", text);
    }
    m.bytes[i] = static_cast<uint8_t>(v);
    pos += 2;
    if (i == 5 && pos == text.size()) return m;
  }
  return make_error(EINVAL, "bad MAC address '{}': expected six hex pairs like 02:00:00:00:00:01",
                    text);
}

MacAddress MacAddress::from_u64(uint64_t v) {
  MacAddress m;
  for (int i = 5; i >= 0; --i) {
    m.bytes[i] = static_cast<uint8_t>(v);
    v >>= 8;
  }
  return m;
}

std::string MacAddress::to_string() const {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", bytes[0], bytes[1], bytes[2],
                     bytes[3], bytes[4], bytes[5]);
}

Result<Ipv4Address> Ipv4Address::parse(std::string_view text) {
  std::string s(text);
  in_addr a{};
  if (inet_pton(AF_INET, s.c_str(), &a) != 1) {
    return make_error(EINVAL, "bad IPv4 address '{}': expected dotted quad like 10.0.0.1", text);
  }
  return Ipv4Address{ntohl(a.s_addr)};
}

std::string Ipv4Address::to_string() const {
  return fmt::format("{}.{}.{}.{}", value >> 24, (value >> 16) & 0xff, (value >> 8) & 0xff,
                     value & 0xff);
}

Result<Ipv6Address> Ipv6Address::parse(std::string_view text) {
  std::string s(text);
  Ipv6Address a;
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) {
    return make_error(EINVAL, "bad IPv6 address '{}': expected RFC 4291 text like fd00::1", text);
  }
  return a;
}

std::string Ipv6Address::to_string() const {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
  return buf;
}

Result<IpPrefix> IpPrefix::parse(std::string_view text) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return make_error(EINVAL, "bad address '{}': expected ADDRESS/PREFIXLEN like 10.0.0.1/24",
                      text);
  }
  std::string_view addr = text.substr(0, slash), len = text.substr(slash + 1);
  unsigned l = 0;
  auto [p, ec] = std::from_chars(len.data(), len.data() + len.size(), l);
  IpPrefix out;
  out.v6 = addr.find(':') != std::string_view::npos;
  unsigned max = out.v6 ? 128 : 32;
  if (ec != std::errc{} || p != len.data() + len.size() || l > max) {
    return make_error(EINVAL, "bad prefix length in '{}': expected 0..{}", text, max);
  }
  out.length = static_cast<uint8_t>(l);
  if (out.v6) {
    auto a = Ipv6Address::parse(addr);
    if (!a) return a.error();
    out.v6addr = *a;
  } else {
    auto a = Ipv4Address::parse(addr);
    if (!a) return a.error();
    out.v4addr = *a;
  }
  return out;
}

bool IpPrefix::contains(const IpPrefix& o) const {
  if (v6 != o.v6) return false;
  if (!v6) {
    uint32_t mask = length == 0 ? 0 : ~uint32_t{0} << (32 - length);
    return (v4addr.value & mask) == (o.v4addr.value & mask);
  }
  for (int bit = 0; bit < length; ++bit) {
    uint8_t m = static_cast<uint8_t>(0x80 >> (bit % 8));
    if ((v6addr.bytes[bit / 8] & m) != (o.v6addr.bytes[bit / 8] & m)) return false;
  }
  return true;
}

}  // namespace vnet::packet
