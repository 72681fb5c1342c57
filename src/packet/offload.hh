#pragma once
// Software fallbacks for virtio-net offloads (virtio spec v1.1 §5.1.6.2), used when a frame that a
// vnet-header backend handed us goes out through a backend that cannot carry the header.

#include <vector>

#include "packet/frame.hh"

namespace vnet::packet {

// VIRTIO_NET_HDR_F_NEEDS_CSUM: sums [csum_start, end), folds it into the partial (pseudo-header)
// sum already stored at csum_start + csum_offset, writes it there and clears the flag.
// Returns false when the offsets lie outside the frame (the frame is then malformed).
bool complete_checksum(Frame& frame);

// GSO: splits a TCPv4/TCPv6 super-frame into MSS-sized frames with correct IP lengths, IDs, TCP
// sequence numbers, flags and checksums. Returns false when the frame is not a GSO frame that
// this function understands (then nothing is appended).
bool segment_gso(const Frame& frame, std::vector<Frame>& out);

}  // namespace vnet::packet
