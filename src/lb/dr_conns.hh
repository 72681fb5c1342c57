#pragma once
// The TCP connections of DR services on the nftables datapath, followed from the client's side
// alone — without I/O — for the connection-count schedulers (lc, wlc, sed, nq, fo, ovf, twos,
// lblc, lblcr) that DR services use there.
//
// DR forwards frames in the netdev family, where there is no connection tracking, and the real
// servers answer the clients directly: the director sees one direction only, as IPVS does in DR
// (IP_VS_CONN_F_NOOUTPUT). IPVS then steps a connection through the "INPUT-ONLY" rows of its TCP
// state table (ip_vs_proto_tcp.c, tcp_states[]; the flag that decides is the first of RST, SYN,
// FIN, ACK the segment has) and counts it active while ESTABLISHED, inactive otherwise; each state
// has a timeout after the connection's last segment (IPVS's defaults: ESTABLISHED 900 s,
// SYN_RECV 60 s, FIN_WAIT 120 s, TIME_WAIT 120 s, CLOSE 10 s). The tracker does the same with the
// segments the datapath logs (lb/nft_ruleset.hh: every SYN, FIN and RST, and a flow's first other
// segment and then at most one each kDrRefresh), so it sees the handshake's last ACK, every state
// change and a sign of life at least every kDrRefresh.
//
// The approximation, against IPVS: a connection's timeout runs from its last logged segment, not
// its last segment — at most kDrRefresh (60 s) earlier — so an ESTABLISHED connection idle for
// between 840 s and 900 s is dropped here while IPVS still counts it. A segment of an unknown
// connection that is not a SYN starts it ESTABLISHED (as IPVS's sloppy_tcp does: a director
// restarted mid-connection counts the connections it finds), unless it is a FIN or RST.
//
// Bounded: at most `max_entries` connections; segments that would start more are counted in
// overflow() and ignored.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include <span>

#include "base/clock.hh"
#include "lb/conn_counts.hh"
#include "packet/address.hh"

namespace vnet::lb {

// TCP header flag bits (RFC 9293 3.1), as the datapath logs them.
inline constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;

// One logged segment from a client to a DR service: the service (VIP:PORT, TCP), the client, the
// real server the datapath sent it to, and its TCP flags.
struct DrSegment {
  ServiceKey service;
  Endpoint client;
  Endpoint dest;
  uint8_t flags = 0;
};

// What the datapath logs of a segment (nfnetlink_log, lb/dr_log.hh): the frame's Ethernet header
// after the rewrite (its destination: the real server's MAC) and the IPv4 packet from its header.
struct DrLogged {
  packet::MacAddress dst;
  Endpoint client;  // IPv4 source address and TCP source port
  Endpoint vip;     // IPv4 destination address and TCP destination port
  uint8_t flags = 0;
};
// nullopt for anything else than a 14-byte Ethernet header and an IPv4 TCP segment whose header
// is whole up to its flags (a truncated or non-TCP packet, IP options past the payload, a
// fragment that is not the first).
std::optional<DrLogged> parse_dr_logged(std::span<const uint8_t> ether_header,
                                        std::span<const uint8_t> ipv4_packet);

// IPVS's TCP states (IP_VS_TCP_S_*) the input-only rows reach from a new connection.
enum class DrTcpState { kSynRecv, kEstablished, kFinWait, kTimeWait, kClose };
const char* to_string(DrTcpState s);

struct DrTimeouts {  // ip_vs_proto_tcp.c tcp_timeouts[]
  Duration syn_recv = std::chrono::seconds(60);
  Duration established = std::chrono::seconds(900);
  Duration fin_wait = std::chrono::seconds(120);
  Duration time_wait = std::chrono::seconds(120);
  Duration close = std::chrono::seconds(10);
};

class DrConnTracker {
 public:
  explicit DrConnTracker(size_t max_entries = size_t(1) << 20, DrTimeouts timeouts = {})
      : max_(max_entries), timeouts_(timeouts) {}

  // Applies a segment seen at `now`. Returns the event for ConnCounts when the connection is new,
  // or its state's activity (ESTABLISHED or not) or its real server changed.
  std::optional<ConnEvent> on_segment(const DrSegment& s, TimePoint now);
  // Removes the connections whose timeout passed at `now`; their kDestroy events.
  std::vector<ConnEvent> expire(TimePoint now);
  // When the next connection times out (nullopt: none followed).
  std::optional<TimePoint> next_deadline() const;
  // Every connection followed, as kNew events (to rebuild ConnCounts).
  std::vector<ConnEvent> snapshot() const;

  std::optional<DrTcpState> state(const ServiceKey& service, const Endpoint& client) const;
  size_t size() const { return conns_.size(); }
  uint64_t overflow() const { return overflow_; }

 private:
  using Key = std::pair<ServiceKey, Endpoint>;  // the service, the client's address and port
  struct Conn {
    uint32_t id = 0;  // ConnCounts' key, with the client
    Endpoint dest;
    DrTcpState state = DrTcpState::kSynRecv;
    TimePoint deadline{};
  };
  Duration timeout(DrTcpState s) const;
  ConnEvent event(ConnEvent::Kind kind, const Key& key, const Conn& c) const;

  size_t max_;
  DrTimeouts timeouts_;
  std::map<Key, Conn> conns_;
  std::set<std::pair<TimePoint, Key>> deadlines_;
  uint32_t next_id_ = 1;
  uint64_t overflow_ = 0;
};

}  // namespace vnet::lb
