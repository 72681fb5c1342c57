#pragma once
// VXLAN payloads whose inner frame carries offloads (packet::OffloadInfo, from a vnet-header
// port): the TCP train a host handed over whole, or a frame with a partial checksum. Without I/O.
//
//  - tunnel_gso_head(): the header that lets Linux's tun (≥ 6.17, TUN_F_UDP_TUNNEL_GSO) take
//    such a payload as one UDP tunnel GSO packet (virtio spec 1.4 §5.1.6.2: gso_type
//    VIRTIO_NET_HDR_GSO_UDP_TUNNEL_IPV4 | TCPV4/TCPV6, the 24-byte virtio_net_hdr_v1_hash_tunnel
//    with outer_th_offset and inner_nh_offset), outer Ethernet and IPv4 headers included. The
//    kernel cuts it into VXLAN datagrams of one inner segment each, with the outer UDP checksum
//    left zero (SKB_GSO_UDP_TUNNEL without _CSUM: RFC 7348 §5's default), the inner TCP
//    checksums finished and every outer IPv4 length, ID and checksum fixed per segment — or
//    hands the packet whole to a receiver across a veth.
//  - finish_payload(): the same work in software, for every payload the kernel cannot take.

#include <array>
#include <cstdint>
#include <vector>

#include "packet/address.hh"
#include "packet/frame.hh"

namespace vnet::overlay {

struct OuterV4 {
  packet::MacAddress src_mac, dst_mac;  // the underlay device's, the next hop's
  packet::Ipv4Address src, dst;         // the VTEPs
  uint16_t id = 0;                      // IPv4 identification of the first segment
  uint8_t ttl = 64;
};

constexpr size_t kTunnelVnetHdr = 24;  // sizeof(virtio_net_hdr_v1_hash_tunnel)
constexpr size_t kTunnelHead = kTunnelVnetHdr + 14 + 20;

// Writes the virtio-net header, then the outer Ethernet and IPv4 headers (DF clear, as the raw
// socket sends), for `payload`: UDP header + VXLAN header + inner frame, as Vtep::encapsulate
// makes it, whose offload is a TCP GSO frame with NEEDS_CSUM. False (head unspecified) when it
// is not one, its offsets lie outside it, or the outer packet would exceed 65,535 bytes.
bool tunnel_gso_head(const packet::Frame& payload, const OuterV4& outer,
                     std::array<uint8_t, kTunnelHead>& head);

// The payload's inner frame in software: its partial checksum finished (NEEDS_CSUM), or cut
// into segments (GSO, packet::segment_gso) each sealed with the payload's own UDP and VXLAN
// headers, the UDP length fixed. A payload without offloads passes as it is. Appends the
// payloads to `out`; false when the inner frame is malformed (nothing appended).
bool finish_payload(packet::Frame&& payload, std::vector<packet::Frame>& out);

}  // namespace vnet::overlay
