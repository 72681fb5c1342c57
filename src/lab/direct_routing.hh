#pragma once
// Direct routing (keepalived `lb_kind DR`) in a lab: the check that a real server which holds the
// VIP cannot answer ARP for it.
//
// In DR the director forwards a client's frame to a real server's MAC unchanged; the real server
// accepts it because it holds the VIP too (on `lo`, the lab's `loopback` key). Linux answers ARP
// for any local address on any interface (arp_ignore=0) and announces with whatever source the
// packet has (arp_announce=0), so a real server left so answers clients' "who has VIP?" and the
// VIP's traffic bypasses the director (LVS-DR "the ARP problem"; keepalived issues #1827, #2450).
// The lab's remedy is the switch's ARP sender filter on the real server's port (link key
// `drop_arp_for`, bridge/arp_filter.hh).
//
// check_direct_routing_arp() warns (Reader::warn) for each lab node that is a real server of a
// DR virtual server some node's keepalived configuration declares, holds that VIP (on `lo` or an
// interface) and whose link carrying the real server's address does not list the VIP in
// `drop_arp_for`; at that link's line, naming node, VIP, the virtual server's file:line and the
// fix. Only the opt-in counts: the lab has no sysctl key, and a command that sets arp_ignore is
// a shell line the check does not read (the opt-in is harmless there too). IPv4 only (IPv6 DR
// has no ARP; its neighbour discovery is not filtered). Virtual servers addressed by fwmark
// have no address to check.

#include "lab/reader.hh"
#include "lab/topology.hh"

namespace vnet::lab {

void check_direct_routing_arp(const Topology& topo, Reader& r);

}  // namespace vnet::lab
