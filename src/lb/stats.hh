#pragma once
// Traffic counters of virtual and real servers, as `ipvsadm -Ln --stats` lists them, whatever
// datapath counts them (the nftables datapath: lb/nft_stats.hh; IPVS: the STATS64 attributes of
// lb/ipvs_genl.hh). No I/O.
//
// A real server's counters are its share of one virtual service (the same address serving two
// services has two sets); a virtual server's are the sum over every real server counted for it,
// as IPVS's are (ip_vs_stats of a service gather every destination's traffic).
// Units: connections; packets; bytes of the IP packet (header included), as IPVS counts skb->len.
// In: client to real server (the original direction); out: real server to client (replies).

#include <cstdint>
#include <map>

#include "lb/config.hh"
#include "lb/conn_counts.hh"
#include "lb/endpoint.hh"

namespace vnet::lb {

struct Counters {
  uint64_t conns = 0;  // connections scheduled to the real server
  uint64_t inpkts = 0, outpkts = 0, inbytes = 0, outbytes = 0;
  Counters& operator+=(const Counters& o) {
    conns += o.conns;
    inpkts += o.inpkts;
    outpkts += o.outpkts;
    inbytes += o.inbytes;
    outbytes += o.outbytes;
    return *this;
  }
  friend bool operator==(const Counters&, const Counters&) = default;
};

// One counted service. A datapath that does not see a quantity says so (the nftables DR path
// forwards in the netdev family, without connection tracking: no connection count; replies
// bypass the director, so out is 0 as in IPVS DR).
struct ServiceCounters {
  bool conns_counted = true;
  std::map<Endpoint, Counters> dests;  // a real server absent here has counted nothing yet
  // Connections now (ActiveConn / InActConn), from a datapath that holds them itself (IPVS:
  // IPVS_DEST_ATTR_ACTIVE_CONNS / _INACT_CONNS); empty for the others, whose director follows
  // them for the connection-count schedulers only (lb/conn_counts.hh, lb/dr_conns.hh).
  bool live_counted = false;
  std::map<Endpoint, DestCounts> live;
  Counters total() const {
    Counters t;
    for (auto& [e, c] : dests) t += c;
    return t;
  }
  friend bool operator==(const ServiceCounters&, const ServiceCounters&) = default;
};

// The services the datapath counts; a service absent here is not counted (lb/show: null).
using Stats = std::map<ServiceKey, ServiceCounters>;

}  // namespace vnet::lb
