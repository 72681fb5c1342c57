#pragma once
// Helpers that build test frames.

#include <cstring>
#include <initializer_list>
#include <vector>

#include "base/byte_io.hh"
#include "packet/address.hh"
#include "packet/frame.hh"
#include "packet/tag_stack.hh"

namespace vnet::test {

inline packet::MacAddress mac(int n) {
  return packet::MacAddress{{0x02, 0, 0, 0, static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)}};
}

// dst, src, then optional tags (outermost first), then EtherType 0x0800 and a 46-byte payload.
inline packet::Frame frame(const packet::MacAddress& dst, const packet::MacAddress& src,
                           std::initializer_list<uint16_t> vids = {}, uint8_t pcp = 0) {
  std::vector<uint8_t> b;
  ByteWriter w(b);
  w.bytes(dst.bytes);
  w.bytes(src.bytes);
  for (uint16_t v : vids) {
    w.u16(0x8100);
    w.u16(static_cast<uint16_t>(pcp << 13 | v));
  }
  w.u16(0x0800);
  w.zeros(46);
  return packet::Frame::copy_of(b);
}

// dst, src, then `stack` (outermost first, any TPIDs), EtherType 0x0800 and a 46-byte payload.
inline packet::Frame frame_with_tags(const packet::MacAddress& dst, const packet::MacAddress& src,
                                     const std::vector<packet::TagHeader>& stack) {
  std::vector<uint8_t> b;
  ByteWriter w(b);
  w.bytes(dst.bytes);
  w.bytes(src.bytes);
  packet::encode_tags(stack, w);
  w.u16(0x0800);
  w.zeros(46);
  return packet::Frame::copy_of(b);
}

// A frame of `size` zero bytes addressed dst ← src with EtherType `type` (control frames).
inline packet::Frame frame_of_type(const packet::MacAddress& dst, const packet::MacAddress& src,
                                   uint16_t type, size_t size = 60) {
  std::vector<uint8_t> b;
  ByteWriter w(b);
  w.bytes(dst.bytes);
  w.bytes(src.bytes);
  w.u16(type);
  w.zeros(size - 14);
  return packet::Frame::copy_of(b);
}

// VIDs of the tags at the front of a frame (outermost first).
inline std::vector<uint16_t> tags(const packet::Frame& f) {
  std::vector<uint16_t> out;
  size_t off = 12;
  while (off + 4 <= f.size() && load_be16(f.data() + off) == 0x8100) {
    out.push_back(load_be16(f.data() + off + 2) & 0xfff);
    off += 4;
  }
  return out;
}

}  // namespace vnet::test
