#pragma once
// Helpers that build test frames.

#include <array>
#include <cstring>
#include <initializer_list>
#include <span>
#include <vector>

#include "base/byte_io.hh"
#include "packet/address.hh"
#include "packet/frame.hh"
#include "packet/tag_stack.hh"

namespace vnet::test {

inline packet::MacAddress mac(int n) {
  return packet::MacAddress{{0x02, 0, 0, 0, static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)}};
}

// dst, src, then C-tags with `vids` (outermost first), then EtherType `type` and `payload`.
inline packet::Frame frame_carrying(const packet::MacAddress& dst, const packet::MacAddress& src,
                                    std::initializer_list<uint16_t> vids, uint16_t type,
                                    std::span<const uint8_t> payload, uint8_t pcp = 0) {
  std::vector<uint8_t> b;
  ByteWriter w(b);
  w.bytes(dst.bytes);
  w.bytes(src.bytes);
  for (uint16_t v : vids) {
    w.u16(0x8100);
    w.u16(static_cast<uint16_t>(pcp << 13 | v));
  }
  w.u16(type);
  w.bytes(payload);
  return packet::Frame::copy_of(b);
}

// dst, src, then optional tags (outermost first), then EtherType 0x0800 and a 46-byte payload.
inline packet::Frame frame(const packet::MacAddress& dst, const packet::MacAddress& src,
                           std::initializer_list<uint16_t> vids = {}, uint8_t pcp = 0) {
  const std::array<uint8_t, 46> zeros{};
  return frame_carrying(dst, src, vids, 0x0800, zeros, pcp);
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

// A TCPv4 GSO super-frame dst ← src (10.0.0.1 → 10.0.0.2, IP ID 100, TCP header of 20 bytes
// with `flags`, sequence number `seq`, checksums zero) carrying `payload` bytes of 0xab, marked
// VIRTIO_NET_HDR_GSO_TCPV4 with gso_size `mss`, as a vnet-header backend hands one over.
inline packet::Frame tcp_gso_frame(const packet::MacAddress& dst, const packet::MacAddress& src,
                                   size_t payload, uint16_t mss, uint32_t seq = 5000,
                                   uint8_t flags = 0x10) {
  std::vector<uint8_t> b;
  ByteWriter w(b);
  w.bytes(dst.bytes);
  w.bytes(src.bytes);
  w.u16(0x0800);
  w.u8(0x45);
  w.u8(0);
  w.u16(static_cast<uint16_t>(20 + 20 + payload));
  w.u16(100);  // IP ID
  w.u16(0);    // flags, fragment offset
  w.u8(64);    // TTL
  w.u8(6);     // TCP
  w.u16(0);    // header checksum
  w.u32(0x0a000001);
  w.u32(0x0a000002);
  w.u16(40000);  // source port
  w.u16(5001);   // destination port
  w.u32(seq);
  w.u32(0);  // ack
  w.u8(0x50);
  w.u8(flags);
  w.u16(0xffff);  // window
  w.u16(0);       // checksum
  w.u16(0);       // urgent pointer
  b.resize(b.size() + payload, 0xab);
  auto f = packet::Frame::copy_of(b);
  f.offload.gso_type = 1;  // VIRTIO_NET_HDR_GSO_TCPV4
  f.offload.gso_size = mss;
  f.offload.hdr_len = 14 + 20 + 20;
  f.offload.csum_start = 14 + 20;
  f.offload.csum_offset = 16;
  return f;
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
