#pragma once
// The nftables datapath for keepalived's virtual servers, without I/O: which services it can
// serve (nft_refusals()) and the ruleset that serves a Table (nft_ruleset()), for kernels without
// the ip_vs module. The daemon loads the ruleset with libnftables in one transaction.
//
// What it serves: `virtual_server IP PORT` over IPv4 with lb_kind NAT, protocol TCP, UDP or SCTP,
// and the schedulers that are a function of the packet alone:
//  - rr:  `numgen inc mod N` over the destinations with weight > 0 (IPVS rr skips weight 0);
//  - wrr: `numgen inc mod P` over one period of IPVS wrr's selection sequence (ip_vs_wrr.c, from
//         lb/scheduler.hh: each destination weight/gcd times in P = Σ weight/gcd entries, in the
//         kernel's interleaved order), so the connection sequence is the kernel's;
//  - sh:  `jhash ip saddr mod 256` over a 256-bucket table filled as ip_vs_sh_reassign() does
//         (each destination takes `weight` consecutive buckets in turn). The bucket a client
//         lands in differs from IPVS's (jhash, not hash_32); the spread and stickiness are the
//         same. Destinations with weight 0 are left out of the buckets.
//  - lc, wlc: a map with one element, the real server the scheduler (lb/scheduler.hh) picks with
//         the connection counts followed from connection tracking (lb/conn_counts.hh, which
//         states the approximation); the daemon rewrites it as the counts change.
// DNAT rewrites the destination to the real server's address and port (a chain hooked at
// prerouting for forwarded traffic and at output for the director's own); conntrack reverses it
// on replies. Like IPVS NAT there is no source NAT: the real servers must route their replies
// back through the director (their default gateway). A service with no destination is not
// rewritten (IPVS answers "no destination available"); a sorry server is an ordinary
// destination.
//
// Refused (with the reason, at load — never approximated): lb_kind DR and TUN, fwmark and group
// services, IPv6, port 0, persistence_timeout, lvs_sched other than rr/wrr/sh/lc/wlc, sched flags,
// and checkers that have no prober yet (anything but TCP_CHECK, HTTP_GET and MISC_CHECK); also a
// wrr period longer than kMaxMapEntries.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hh"
#include "lb/balancer.hh"
#include "lb/config.hh"

namespace vnet::lb {

inline constexpr const char* kNftTable = "vnet_lb";  // table ip vnet_lb
inline constexpr size_t kMaxMapEntries = 4096;
inline constexpr size_t kShBuckets = 256;  // ip_vs_sh.c IP_VS_SH_TAB_SIZE

// One message per refused item: "FILE:LINE: virtual_server [10.0.0.1]:tcp:80: lb_kind DR: ...".
std::vector<std::string> nft_refusals(const LbConfig& config);

// The map entries of one service, in map order (key i → entries[i]); empty when nothing can be
// scheduled. Error (E2BIG) for a wrr period longer than kMaxMapEntries.
Result<std::vector<Endpoint>> nft_slots(const TableService& service);

// lc and wlc: the datapath's choice for a new connection is kept by the daemon (a Picks entry
// per service with a destination).
bool follows_connections(std::string_view scheduler);
using Picks = std::map<ServiceKey, Endpoint>;
// The name of a connection-count service's map: "pick_tcp_10_0_0_1_80".
std::string nft_pick_map(const ServiceKey& key);
// The transaction that sets (or, with nullopt, empties) a connection-count service's choice.
std::string nft_set_pick(const ServiceKey& key, const std::optional<Endpoint>& dest);

// The whole transaction: create-or-keep, delete, recreate `table ip vnet_lb` with every service
// (the connection-count services' maps holding `picks`).
Result<std::string> nft_ruleset(const Table& table, const Picks& picks = {});
// The transaction that removes the table (also when it is absent).
std::string nft_delete_ruleset();

}  // namespace vnet::lb
