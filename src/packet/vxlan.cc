#include "packet/vxlan.hh"

#include <cerrno>

namespace vnet::packet {

Result<VxlanHeader> decode_vxlan(ByteReader& in) {
  if (!in.has(VxlanHeader::kWireSize)) {
    return make_error(EINVAL, "VXLAN header truncated: need 8 bytes, have {}", in.remaining());
  }
  VxlanHeader h;
  h.flags = in.u8();
  in.skip(3);
  h.vni = in.u32() >> 8;  // the low byte is reserved
  if (!(h.flags & kVxlanIFlag)) {
    return make_error(EPROTO, "VXLAN flags {:#04x}: the I flag (0x08) is clear", h.flags);
  }
  return h;
}

void store_vxlan(uint32_t vni, uint8_t* out) {
  out[0] = kVxlanIFlag;
  out[1] = out[2] = out[3] = 0;
  out[4] = static_cast<uint8_t>(vni >> 16);
  out[5] = static_cast<uint8_t>(vni >> 8);
  out[6] = static_cast<uint8_t>(vni);
  out[7] = 0;
}

void encode_vxlan(uint32_t vni, ByteWriter& out) {
  uint8_t b[VxlanHeader::kWireSize];
  store_vxlan(vni & kMaxVni, b);
  out.bytes(b);
}

namespace {

// 64-bit mixing (splitmix64's finaliser): every input bit reaches every output bit.
constexpr uint64_t mix(uint64_t h) {
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

uint64_t absorb(uint64_t h, std::span<const uint8_t> bytes) {
  for (uint8_t b : bytes) h = (h ^ b) * 1099511628211ull;
  return h;
}

}  // namespace

uint16_t vxlan_source_port(std::span<const uint8_t> inner, uint64_t salt) {
  uint64_t h = 14695981039346656037ull ^ salt;
  if (inner.size() < 14) return static_cast<uint16_t>(kVxlanSourcePortMin + (mix(h) & 0x3fff));
  h = absorb(h, inner.first(12));  // destination and source MAC
  size_t off = 12;
  uint16_t type = static_cast<uint16_t>(inner[off] << 8 | inner[off + 1]);
  while ((type == 0x8100 || type == 0x88a8) && off + 6 <= inner.size()) {
    off += 4;
    type = static_cast<uint16_t>(inner[off] << 8 | inner[off + 1]);
  }
  h = absorb(h, inner.subspan(off, 2));
  off += 2;
  std::span<const uint8_t> rest = inner.subspan(off);
  uint8_t proto = 0;
  size_t l4 = 0;
  bool ports = false;
  if (type == 0x0800 && rest.size() >= 20) {
    const size_t ihl = static_cast<size_t>(rest[0] & 0x0f) * 4;
    proto = rest[9];
    h = absorb(h, rest.subspan(12, 8));                           // source, destination
    const bool fragment = (rest[6] & 0x3f) != 0 || rest[7] != 0;  // MF or an offset
    l4 = ihl;
    ports = !fragment;
  } else if (type == 0x86dd && rest.size() >= 40) {
    proto = rest[6];
    h = absorb(h, rest.subspan(8, 32));
    l4 = 40;
    ports = true;
  }
  if (proto != 0) {
    h = absorb(h, std::span<const uint8_t>(&proto, 1));
    if (ports && (proto == 6 || proto == 17 || proto == 132) && rest.size() >= l4 + 4) {
      h = absorb(h, rest.subspan(l4, 4));
    }
  }
  return static_cast<uint16_t>(kVxlanSourcePortMin + (mix(h) & 0x3fff));
}

}  // namespace vnet::packet
