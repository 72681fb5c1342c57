#include "packet/checksum.hh"

namespace vnet::packet {

uint32_t checksum_add(uint32_t sum, std::span<const uint8_t> data) {
  uint64_t s = sum;
  size_t i = 0;
  for (; i + 1 < data.size(); i += 2) s += uint32_t{data[i]} << 8 | data[i + 1];
  if (i < data.size()) s += uint32_t{data[i]} << 8;
  while (s >> 32) s = (s & 0xffffffff) + (s >> 32);
  return static_cast<uint32_t>(s);
}

uint16_t checksum_finish(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

uint32_t pseudo_header_v4(Ipv4Address src, Ipv4Address dst, uint8_t protocol, uint32_t length) {
  uint64_t s = (src.value >> 16) + (src.value & 0xffff) + (dst.value >> 16) + (dst.value & 0xffff) +
               protocol + length;
  while (s >> 32) s = (s & 0xffffffff) + (s >> 32);
  return static_cast<uint32_t>(s);
}

uint32_t pseudo_header_v6(const Ipv6Address& src, const Ipv6Address& dst, uint8_t next_header,
                          uint32_t length) {
  uint32_t s = checksum_add(0, src.bytes);
  s = checksum_add(s, dst.bytes);
  uint64_t t = uint64_t{s} + (length >> 16) + (length & 0xffff) + next_header;
  while (t >> 32) t = (t & 0xffffffff) + (t >> 32);
  return static_cast<uint32_t>(t);
}

}  // namespace vnet::packet
