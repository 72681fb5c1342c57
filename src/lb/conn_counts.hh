#pragma once
// Connection counts per real server, followed from connection-tracking events, for the
// connection-count schedulers (lc, wlc, sed, nq, fo, ovf) of the nftables datapath — without I/O.
//
// IPVS counts its own connections (struct ip_vs_conn); the nftables datapath has none, so the
// counts come from the kernel's connection tracking (ctnetlink events, lb/conntrack.hh): a
// connection belongs to a service when its original destination is the service's virtual
// address, port and protocol, and to the real server its reply comes from (the DNAT target).
// As in IPVS (ip_vs_proto_tcp.c set_tcp_state), a TCP connection is active while ESTABLISHED and
// inactive otherwise (SYN_SENT, TIME_WAIT, ...); UDP and SCTP connections count as inactive.
//
// The approximation, against IPVS: IPVS schedules each new connection with the counts as they
// are at that instant; here the datapath holds one precomputed choice per service (the real
// server the scheduler would pick now) and it is recomputed after each event. Connections that
// arrive closer together than an event's round trip (about a millisecond) go to the same real
// server.
//
// Bounded: at most `max_entries` connections are followed; events for more are counted in
// overflow() and ignored (the kernel's nf_conntrack_max is the real bound; the default here is
// above any default of it).

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

#include "lb/config.hh"
#include "lb/endpoint.hh"

namespace vnet::lb {

// One ctnetlink event (or one entry of a dump, as kNew), reduced to what counting needs.
struct ConnEvent {
  enum Kind { kNew, kUpdate, kDestroy } kind = kNew;
  uint32_t id = 0;  // CTA_ID
  Protocol protocol = Protocol::kTcp;
  Endpoint client;           // original source
  Endpoint orig_dst;         // original destination: the virtual server
  Endpoint reply_src;        // reply source: the real server (after DNAT)
  bool established = false;  // TCP state ESTABLISHED (active); anything else is inactive
};

struct DestCounts {
  int active = 0;
  int inactive = 0;
  friend bool operator==(const DestCounts&, const DestCounts&) = default;
};

class ConnCounts {
 public:
  explicit ConnCounts(size_t max_entries = size_t(1) << 20) : max_(max_entries) {}

  // The services whose connections are followed (others' events are ignored). Connections of
  // services no longer watched are forgotten.
  void watch(const std::vector<ServiceKey>& services);
  // Applies an event. Returns the service whose counts changed, if one did.
  std::optional<ServiceKey> on_event(const ConnEvent& e);
  // Forgets every connection (before a resynchronising dump).
  void clear() {
    conns_.clear();
    totals_.clear();
  }

  DestCounts counts(const ServiceKey& service, const Endpoint& dest) const;
  size_t size() const { return conns_.size(); }
  uint64_t overflow() const { return overflow_; }

 private:
  struct Conn {
    ServiceKey service;
    Endpoint dest;
    bool active = false;
  };
  // CTA_ID alone is unique among live connections; the client is kept in the key so that a
  // reused id of a different connection is not mistaken for the old one.
  using Key = std::tuple<uint32_t, uint32_t, uint16_t>;  // id, client IPv4 / fold, client port
  size_t max_;
  std::set<ServiceKey> watched_;
  std::map<Key, Conn> conns_;
  std::map<std::pair<ServiceKey, Endpoint>, DestCounts> totals_;
  uint64_t overflow_ = 0;

  void add(const Conn& c, int sign);
};

}  // namespace vnet::lb
