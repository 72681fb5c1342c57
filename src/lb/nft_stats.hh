#pragma once
// Traffic counters of the nftables datapath (lb/nft_ruleset.hh), without I/O: the rules that
// count, and the reading of nft's JSON counter listing into lb/stats.hh's Stats.
//
// What is counted: every VIP:PORT service (NAT and DR) with each real server it has had in the
// table since it entered the table — a real server that leaves the table (its checker failed)
// keeps its counters, and the replies of its connections still in progress are still counted;
// they are dropped when the service itself leaves. fwmark and group services are not counted
// (the filter hooks after DNAT see the mark of the original direction only, and a group's
// address ranges would need interval maps): lb/show gives null for them.
//
// NAT (`table ip vnet_lb_stats`, named counter objects in_* / out_* / conn_*, one each per
// service and real server): a chain at the filter hooks forward, input and output (priority 0,
// after DNAT at -100, before the reply's reverse NAT at postrouting/input +100) takes the
// packets of connections with `ct status dnat` whose original destination is the service's
// VIP, protocol and port: original direction to in_* keyed by the packet's new destination
// (the real server), reply direction to out_* keyed by its source (the real server). conn_*
// counts connections exactly: a nat-type chain at postrouting (priority srcnat - 1) sees only
// the first packet of each connection (nf_nat_inet_fn runs nat chains while the connection's
// source binding is unset), after DNAT. Bytes are the IP packet's length, as IPVS counts.
// The table is kept across reprogramming: `flush table` rewrites its rules in the same
// transaction as the datapath's tables, `add counter` keeps a counter that exists (with its
// values), and only counters of services gone are deleted — so counters are exact across
// reloads and health changes. The daemon's first program deletes what a previous run left.
//
// DR (`table netdev vnet_lb_dr`, counters in_*): the ingress rule that rewrites the
// destination MAC counts, after choosing, into the counter its new destination MAC selects.
// There is no connection tracking in the netdev family, so no conns (null) and, as in IPVS DR,
// no out traffic (replies bypass the director: 0). Two real servers of one service with one MAC
// count into the first one's counter. The DR table is recreated at every reprogram; its counters
// are read just before (NftDatapath carries them over): packets between that read and the
// commit — a netlink round trip — are not counted, the one approximation.
//
// Cost of reading: one `list counters table ...` dump per table, linear in the counters (three
// per NAT real server, one per DR real server).

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hh"
#include "lb/balancer.hh"
#include "lb/nft_ruleset.hh"
#include "lb/stats.hh"

namespace vnet::lb {

inline constexpr const char* kNftStatsTable = "vnet_lb_stats";  // table ip vnet_lb_stats

// The real servers counted per service (sorted, without repeats), and the service's method.
struct CountedService {
  Forwarding forwarding = Forwarding::kNat;
  std::vector<Endpoint> dests;
  friend bool operator==(const CountedService&, const CountedService&) = default;
};
using Counted = std::map<ServiceKey, CountedService>;

// The counted real servers for `table`: per VIP:PORT NAT or DR service in the table, its
// destinations now and those of `previous` (the last programmed Counted) for a service still
// in the table with the same forwarding method.
Counted nft_counted(const Table& table, const Counted& previous);

// "in_tcp_10_0_0_100_80_10_1_0_1_8000": prefix "in", "out" or "conn", the service, the real
// server. At most 64 characters.
std::string nft_counter_name(std::string_view prefix, const ServiceKey& service,
                             const Endpoint& dest);

// The transaction part for `table ip vnet_lb_stats`: the NAT services `counted` lists. `fresh`: the
// table is deleted first (a new daemon); otherwise it is kept, its rules rewritten, the counters of
// `previous` not in `counted` deleted. With no NAT service counted the table is removed.
std::string nft_stats_ruleset(const Counted& counted, const Counted& previous, bool fresh);
// Removes `table ip vnet_lb_stats` (also when absent).
std::string nft_delete_stats();

// The DR rule's counting statement for one service (" counter name ether daddr map { MAC :
// "in_..." }", empty when none of `counted` has a MAC in `hops`), and the counter objects the
// DR table declares for it.
std::string nft_dr_count(const ServiceKey& service, const std::vector<Endpoint>& counted,
                         const DrHops& hops);
std::string nft_dr_counter_objects(const ServiceKey& service, const std::vector<Endpoint>& counted);

struct NftCounter {
  uint64_t packets = 0, bytes = 0;
  friend bool operator==(const NftCounter&, const NftCounter&) = default;
};
using NftCounters = std::map<std::string, NftCounter>;  // by counter name

// nft's JSON output of `list counters table FAMILY NAME` ({"nftables": [{"metainfo": ...},
// {"counter": {"family", "name", "table", "handle", "packets", "bytes"}}, ...]}): every counter
// of table `table` by name. EBADMSG naming what is malformed (not JSON, no "nftables" array, a
// counter without a name or with packets/bytes not unsigned numbers).
Result<NftCounters> parse_nft_counters(std::string_view json, std::string_view table);

// lb/stats.hh's Stats of the counted services: each real server's counters from `live` plus
// `carried` (what earlier DR tables had counted), by name; a counter absent from both is 0.
Stats nft_stats(const Counted& counted, const NftCounters& live, const NftCounters& carried);

}  // namespace vnet::lb
