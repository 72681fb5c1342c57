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

// Receive coalescing, the inverse of segment_gso (what the kernel's GRO does for TCP): appends
// segment `seg` to `train` when it continues it, so that `train` becomes one GSO super-frame
// (gso_type TCPv4/TCPv6, gso_size = the first segment's payload, NEEDS_CSUM with the
// pseudo-header sum in the TCP checksum field) that segment_gso, or the kernel, cuts back into
// the same segments. Both are Ethernet frames (one optional 802.1Q tag) of TCP over IPv4 without
// options or fragments, or over IPv6 without extension headers. `seg` continues `train` when:
// every header byte is equal except the IP length, ID and checksum and the TCP sequence number,
// flags and checksum; its sequence number follows the train's last byte; the train's flags are
// ACK alone and every segment so far had gso_size bytes of payload; its own flags are ACK or
// ACK|PSH (PSH ends the train); it has 1 to gso_size bytes of payload; and the train stays within
// 65,535 bytes of IP packet; and its TCP checksum is right (so is the train's first segment's,
// checked before the first merge): merged, a segment's own checksum is gone, and a tunnel with a
// zero outer checksum would not have caught a corruption. Returns false (nothing changed)
// otherwise. The train is moved to a buffer of Frame::kMaxFrame on its first append.
bool coalesce_tcp(Frame& train, const Frame& seg);

// A partial checksum that crossed a veth unfinished. A host's TCP hands its frames over with
// NEEDS_CSUM and the pseudo-header sum in the checksum field; a veth carries that state across,
// and a UDP socket at the far end passes the bytes on without it — the kernel's vxlan device
// over a veth, or a UDP tunnel GSO packet (vnet's tunnel tap) that crossed whole, as one
// datagram, without its segment size. When `f` (laid out as coalesce_tcp reads frames) is TCP
// and its checksum field holds the pseudo-header sum over its TCP length, its OffloadInfo comes
// back: NEEDS_CSUM (csum_start at the TCP header, csum_offset 16), and when it is longer than
// `max_frame` (the largest frame the link carries) GSO as well: gso_type TCPv4/TCPv6, gso_size =
// max_frame less its headers. Returns false (nothing changed) for any other frame: one with a
// finished checksum, or oversized without this sum (a reassembled datagram), stays as it is. A
// finished checksum that equals the sum by chance (1 in 65,536) comes out the same when finished
// again.
bool adopt_partial_tcp(Frame& f, size_t max_frame);

}  // namespace vnet::packet
