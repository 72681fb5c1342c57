#pragma once
// Where the kernel would send a packet to an IPv4 address from this network namespace, and the
// link-layer address it holds for that neighbour: RTM_GETROUTE and RTM_GETNEIGH over a plain
// rtnetlink socket (rtnetlink(7)). Used by the load balancer's DR datapath, which writes frames to
// a real server's MAC itself and so needs it on-link and resolved.

#include <optional>
#include <string>

#include "base/result.hh"
#include "packet/address.hh"

namespace vnet::io {

struct NextHop {
  std::string ifname;  // the output device
  int ifindex = 0;
  packet::MacAddress ifmac;                    // the output device's own MAC
  std::optional<packet::Ipv4Address> gateway;  // set: not on-link (reached through a router)
  bool local = false;                          // the address is this host's own
  // The neighbour's MAC when the entry is usable (REACHABLE, STALE, DELAY, PROBE, PERMANENT,
  // NOARP); nullopt when there is none yet or it FAILED.
  std::optional<packet::MacAddress> mac;
};

// Errors: no route ("10.9.9.9: no route: Network is unreachable"), netlink failures.
Result<NextHop> next_hop(const packet::Ipv4Address& dst);

// Makes the kernel resolve `dst`'s MAC (one UDP datagram to its discard port, 9): the next
// next_hop() after the neighbour answers has it. Best effort.
void solicit_neighbour(const packet::Ipv4Address& dst);

}  // namespace vnet::io
