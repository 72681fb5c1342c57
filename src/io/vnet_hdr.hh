#pragma once
// struct virtio_net_hdr (virtio spec v1.1 §5.1.6, legacy layout, 10 bytes, little-endian on the
// hosts we run on) ↔ packet::OffloadInfo. Shared by the afpacket and tap backends.

#include <cstdint>

#include "packet/frame.hh"

namespace vnet::io {

// The legacy 10-byte header, as the kernel reads and writes it (linux/virtio_net.h). Declared here
// because the UAPI header does not compile cleanly as C++ with glibc's net headers.
struct virtio_net_hdr {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
};
static_assert(sizeof(virtio_net_hdr) == 10);

inline packet::OffloadInfo from_vnet_hdr(const virtio_net_hdr& h) {
  return packet::OffloadInfo{h.flags,    h.gso_type,   h.hdr_len,
                             h.gso_size, h.csum_start, h.csum_offset};
}

inline virtio_net_hdr to_vnet_hdr(const packet::OffloadInfo& o) {
  virtio_net_hdr h{};
  h.flags = o.flags;
  h.gso_type = o.gso_type;
  h.hdr_len = o.hdr_len;
  h.gso_size = o.gso_size;
  h.csum_start = o.csum_start;
  h.csum_offset = o.csum_offset;
  return h;
}

}  // namespace vnet::io
