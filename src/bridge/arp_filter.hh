#pragma once
// ARP sender filter of a bridge port: the switch-side half of a direct-routing (DR) load
// balancer's "ARP problem" (LVS-DR; keepalived issues #1827, #2450). In DR every real server
// holds the virtual address (VIP) too, usually on `lo`; when one of them answers ARP for it, or
// announces it, clients and routers send the VIP's traffic to that real server instead of the
// director. Hosts fix it with arp_ignore=1 / arp_announce=2; a switch fixes it by dropping, on
// the real servers' ports, every ARP packet whose sender protocol address is a VIP: replies,
// gratuitous ARP / announcements and requests alike (RFC 826 "Packet Reception": a receiver
// updates its cache from the sender pair of any ARP packet, so a request with the VIP as sender
// moves the VIP as surely as a reply does). ARP that merely asks for the VIP (target = VIP,
// sender = the host's own address) passes: a real server must still be able to resolve.
//
// The frame is read as received, after its VLAN tags (packet/tag_stack.hh: C-tags, S-tags,
// stacked), so a tagged ARP on a trunk is judged like an untagged one. RFC 826 layout after the
// EtherType 0x0806:
//   htype(2) ptype(2) hlen(1) plen(1) oper(2) sha(hlen) spa(plen) tha(hlen) tpa(plen)
// An ARP whose ptype is not IPv4 (0x0800) or whose plen is not 4 cannot claim an IPv4 VIP and
// passes; one shorter than its own header and addresses is malformed (the bridge drops it and
// counts `malformed`). Pure, total over any bytes, no allocation.

#include <cstdint>
#include <span>

#include "packet/address.hh"
#include "packet/tag_stack.hh"

namespace vnet::bridge {

enum class ArpVerdict : uint8_t {
  kPass,       // not ARP, not IPv4 ARP, or its sender address is none of the listed
  kDeny,       // ARP (any operation) whose sender protocol address is listed
  kMalformed,  // EtherType ARP, but shorter than 8 + 2 × hlen + 2 × plen bytes
};

// `frame`: the whole frame from its destination MAC; `tags`: its parsed tag stack
// (parse_tag_stack succeeded); `deny`: the sender addresses refused (empty: everything passes).
ArpVerdict arp_filter_verdict(std::span<const uint8_t> frame, const packet::TagStack& tags,
                              std::span<const packet::Ipv4Address> deny);

}  // namespace vnet::bridge
