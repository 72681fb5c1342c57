#pragma once
// The nftables datapath for keepalived's virtual servers, without I/O: which services it can
// serve (nft_refusals()) and the ruleset that serves a Table (nft_ruleset()), for kernels without
// the ip_vs module. The daemon loads the ruleset with libnftables in one transaction.
//
// What it serves: `virtual_server IP PORT` over IPv4, protocol TCP, UDP or SCTP; with NAT and DR
// a group of IP PORT / IP-LAST PORT entries; with NAT also
// `virtual_server fwmark N` (matched by `meta mark N`, any of TCP, UDP, SCTP, as IPVS finds a
// fwmark service by its mark alone) and `virtual_server group NAME` (its IP PORT and IP-LAST PORT
// entries as one set of address ranges . port, its fwmark entries as mark rules, all jumping to
// one chain that makes the service's single choice). Real servers of fwmark and group services
// may keep the packet's port (port 0, DNAT to the address alone), all of them or none.
//
// lb_kind NAT (`table ip vnet_lb`): DNAT rewrites the destination to the real server's address
// and port (a chain hooked at prerouting for forwarded traffic and at output for the director's
// own); conntrack reverses it on replies. Like IPVS NAT there is no source NAT: the real servers
// must route their replies back through the director (their default gateway). Schedulers:
//  - rr:  `numgen inc mod N` over the destinations with weight > 0 (IPVS rr skips weight 0);
//  - wrr: `numgen inc mod P` over one period of IPVS wrr's selection sequence (ip_vs_wrr.c, from
//         lb/scheduler.hh: each destination weight/gcd times in P = Σ weight/gcd entries, in the
//         kernel's interleaved order), so the connection sequence is the kernel's;
//  - sh:  `jhash ip saddr mod 256` over a 256-bucket table filled as ip_vs_sh_reassign() does
//         (each destination takes `weight` consecutive buckets in turn). The bucket a client
//         lands in differs from IPVS's (jhash, not hash_32); the spread and stickiness are the
//         same. Destinations with weight 0 are left out of the buckets.
//  - mh:  `jhash ip saddr mod 4093` (with mh-port: `. th sport`) over the Maglev table ip_vs_mh.c
//         builds (lb/scheduler.hh maglev_table(): IPVS's size and population, its own hash);
//  - dh:  `jhash ip daddr mod 256` over ip_vs_dh.c's buckets (one per destination in turn). For
//         a VIP:PORT service every packet has the same destination, so one real server takes
//         the whole service — IPVS's dh does the same; it spreads only fwmark / group services;
//  - lc, wlc, sed, nq, fo, ovf, twos, lblc, lblcr: a map with one element, the real server the
//         scheduler (lb/scheduler.hh) picks with the connection counts followed from connection
//         tracking (lb/conn_counts.hh, which states the approximation); the daemon rewrites it
//         as the counts change. twos draws anew at each rewrite; lblc and lblcr key their
//         entry on the VIP (the packet's destination address). VIP:PORT services only.
// A service with no destination is not rewritten (IPVS answers "no destination available"); a
// sorry server is an ordinary destination.
//
// lb_kind DR (`table netdev vnet_lb_dr`): a chain hooked at ingress of the devices that reach the
// real servers rewrites `ether daddr` of a frame to VIP:PORT to the chosen real server's MAC (and
// `ether saddr` to the device's own, as IPVS does) and `fwd to` its device; the IP packet is
// unchanged, the real server (holding the VIP on lo with arp_ignore=1, arp_announce=2) replies to
// the client directly. There is no conntrack in the netdev family, so the choice is a function of
// the packet, the same for every packet of a flow:
//  - rr, wrr: `jhash ip saddr . th sport mod N` over the same slots as NAT (one per destination,
//         or one wrr period): each flow lands on a fixed slot, so the spread follows the weights
//         statistically but is not IPVS's exact rotation (an approximation, stated in the docs);
//  - sh, mh, dh: the NAT hash over the same slots: IPVS's semantics (sh, mh: one client, one
//         real server, weight-proportional slots; dh: one destination address, one server).
//  - lc, wlc, sed, nq, fo, ovf, twos, lblc, lblcr (TCP only): a chain per service; a flow in the
//         map flows_… (client . port → MAC, with IPVS's input-only timeouts by TCP flag) keeps
//         its real server, a new one goes to the daemon's pick (map pick_…, VIP → MAC) and is
//         recorded; its SYN, FIN, RST and first other segment (then one a kDrRefresh) are
//         logged to kDrLogGroup for the daemon's connection states (lb/dr_conns.hh). The flows
//         the map held (DrFlows, read by the daemon) are written back when it is rewritten.
// The real server's MAC and device come from the caller (DrHops, resolved by the daemon from the
// route and neighbour tables); a destination without a hop is left out of the slots. Any table
// change re-hashes the hashed schedulers: unlike IPVS, flows in progress may move to another
// real server.
//
// persistence_timeout (NAT and DR): client affinity as IPVS's persistence templates. A map
// `persist_PROTO_VIP_PORT` with timeout keyed on `ip saddr & granularity` holds the real server
// a client was sent to; a new connection (NAT) or any packet (DR) of a known client goes there,
// others are scheduled and recorded. NAT records the DNAT target from a filter chain (forward
// and output hooks, original direction, `ct status dnat`); every packet refreshes the timeout,
// so an entry expires `timeout` after the client's last packet (IPVS: after its last
// connection). Reprogramming the table starts the maps empty (IPVS keeps templates of available
// real servers).
//
// Refused (with the reason, at load — never approximated): lb_kind TUN; with DR, fwmark services
// and groups with fwmark entries (the mark is set after the netdev ingress hook); fwmark and group
// services with persistence or a connection-count scheduler (both are followed per VIP:PORT);
// IPv6; port 0 on IP PORT services; real servers of one fwmark/group service mixing port 0 and a
// port; connection-count schedulers for DR over UDP or SCTP; DR real servers on another port than
// the service's (a group's: than any entry's); sched flags but sh-port/mh-port (flag-2); an invalid
// persistence_granularity; checkers that have no prober yet (BFD_CHECK); a wrr period longer
// than kMaxMapEntries.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hh"
#include "lb/balancer.hh"
#include "lb/config.hh"
#include "packet/address.hh"

namespace vnet::lb {

struct CountedService;
using Counted = std::map<ServiceKey, CountedService>;

inline constexpr const char* kNftTable = "vnet_lb";       // table ip vnet_lb
inline constexpr const char* kNftDrTable = "vnet_lb_dr";  // table netdev vnet_lb_dr
inline constexpr size_t kMaxMapEntries = 4096;
inline constexpr size_t kShBuckets = 256;   // ip_vs_sh.c IP_VS_SH_TAB_SIZE
inline constexpr uint32_t kMhSlots = 4093;  // ip_vs_mh.c: primes[CONFIG_IP_VS_MH_TAB_INDEX - 8]
// DR services with a connection-count scheduler (lb/dr_conns.hh): the nfnetlink_log group their
// segments are logged to, how often at most a flow's segments without SYN, FIN or RST are, and
// how long a flow keeps its real server after its last segment (IPVS's ESTABLISHED timeout).
inline constexpr uint16_t kDrLogGroup = 5798;
inline constexpr std::chrono::seconds kDrRefresh{60};
inline constexpr std::chrono::seconds kDrFlowTimeout{900};
// Each DR service's flows map holds at most this many flows; beyond it a new flow is forwarded
// but not recorded (its next segment goes to the pick of that moment).
inline constexpr size_t kDrMaxFlows = size_t(1) << 20;

// nft's word for a transport protocol: "tcp", "udp", "sctp".
std::string_view nft_protocol(Protocol p);

// One message per refused item: "FILE:LINE: virtual_server [10.0.0.1]:tcp:80: lb_kind DR: ...".
// Includes checker_refusals().
std::vector<std::string> nft_refusals(const LbConfig& config);
// What no datapath can serve yet, whichever it is: checkers without a prober (BFD_CHECK).
std::vector<std::string> checker_refusals(const LbConfig& config);

// The map entries of one service, in map order (key i → entries[i]); empty when nothing can be
// scheduled. Error (E2BIG) for a wrr period longer than kMaxMapEntries.
Result<std::vector<Endpoint>> nft_slots(const TableService& service);

// A DR real server's next hop: its MAC on the director's device `ifname` (on-link), and that
// device's own MAC, the frame's new source (a switch must not learn the client's MAC on the
// director's port, or the real server's replies would go to the director).
struct DrHop {
  packet::MacAddress mac;
  std::string ifname;
  packet::MacAddress ifmac;
  friend bool operator==(const DrHop&, const DrHop&) = default;
};
using DrHops = std::map<Endpoint, DrHop>;  // keyed by the destination

// persistence_granularity as an IPv4 netmask in host order: "" → 255.255.255.255; a contiguous
// dotted mask ("255.255.255.0") or a prefix length ("24"). nullopt for anything else.
std::optional<uint32_t> persistence_mask(std::string_view granularity);

// lc, wlc, sed, nq, fo, ovf, twos, lblc and lblcr: the datapath's choice for a new connection is
// kept by the daemon (a Picks entry per service with a destination).
bool follows_connections(std::string_view scheduler);
// rr, wrr, sh, mh and dh: the choice is a map the ruleset holds (nft_slots()).
bool hashed_scheduler(std::string_view scheduler);
using Picks = std::map<ServiceKey, Endpoint>;
// A DR service's flow in progress, as its flows map holds it: the client's address and port, the
// real server's MAC, the element's timeout (0: the map's own, which nft does not list) and what is
// left of it (seconds). A DR service with
// a connection-count scheduler starts a rewritten map with the flows the old one held (those
// whose MAC is still one of its real servers'), so reprogramming the table does not move a
// connection to another real server.
struct DrFlow {
  Endpoint client;
  packet::MacAddress mac;
  long timeout_s = 0, expires_s = 0;
  friend bool operator==(const DrFlow&, const DrFlow&) = default;
};
using DrFlows = std::map<ServiceKey, std::vector<DrFlow>>;
// The name of a DR service's flows map: "flows_tcp_10_0_0_1_80".
std::string nft_flows_map(const ServiceKey& key);
// `nft -j list map netdev vnet_lb_dr flows_…`'s elements. Errors (EBADMSG): not that JSON.
Result<std::vector<DrFlow>> parse_nft_flows(std::string_view json);
// The name of a connection-count service's map: "pick_tcp_10_0_0_1_80".
std::string nft_pick_map(const ServiceKey& key);
// The transaction that sets (or, with nullopt, empties) a connection-count service's choice.
std::string nft_set_pick(const ServiceKey& key, const std::optional<Endpoint>& dest);
// The same for a DR service: its choice is the real server's MAC (DrHop::mac).
std::string nft_set_dr_pick(const ServiceKey& key, const std::optional<packet::MacAddress>& mac);

// The whole transaction: create-or-keep, delete, recreate `table ip vnet_lb` with every NAT
// service (the connection-count services' maps holding `picks`) and `table netdev vnet_lb_dr`
// with every DR service (destinations reached through `hops`; the table is left out when no DR
// destination has a hop). With `counted` (lb/nft_stats.hh), the DR rules count per real server
// into counters the DR table declares; the NAT counters are nft_stats_ruleset()'s own table.
Result<std::string> nft_ruleset(const Table& table, const Picks& picks = {},
                                const DrHops& hops = {}, const Counted* counted = nullptr,
                                const DrFlows* flows = nullptr);
// The transaction that removes both tables (also when they are absent).
std::string nft_delete_ruleset();

}  // namespace vnet::lb
