#pragma once
// The segments the nftables datapath logs for its DR services with a connection-count scheduler
// (lb/nft_ruleset.hh: `log group kDrLogGroup`), read from an nfnetlink_log socket bound to that
// group in the daemon's network namespace (NETLINK_NETFILTER, NFULNL_MSG_CONFIG: bind, copy 96
// bytes of each packet, no batching), each decoded (lb/dr_conns.hh parse_dr_logged) from the
// message's NFULA_HWHEADER and NFULA_PAYLOAD. Needs CAP_NET_ADMIN.
//
// Lost messages (ENOBUFS) cannot be re-read: they are counted in overruns() and logged; the
// connections they would have changed are corrected by their next logged segment or expire.

#include <cstdint>
#include <functional>
#include <memory>

#include "base/event_loop.hh"
#include "base/result.hh"
#include "lb/dr_conns.hh"

struct mnl_socket;  // libmnl

namespace vnet::lb {

class DrLogFollower {
 public:
  using OnSegment = std::function<void(const DrLogged&)>;

  // Errors: the socket (EPERM without CAP_NET_ADMIN, or the group already bound by another
  // socket: another daemon in this namespace).
  static Result<std::unique_ptr<DrLogFollower>> open(EventLoop& loop, uint16_t group,
                                                     OnSegment on_segment);
  ~DrLogFollower();
  DrLogFollower(const DrLogFollower&) = delete;
  DrLogFollower& operator=(const DrLogFollower&) = delete;

  uint64_t segments() const { return segments_; }
  uint64_t malformed() const { return malformed_; }  // not an Ethernet-framed IPv4 TCP segment
  uint64_t overruns() const { return overruns_; }

 private:
  DrLogFollower(EventLoop& loop, OnSegment on_segment)
      : loop_(loop), on_segment_(std::move(on_segment)) {}
  void readable();

  EventLoop& loop_;
  OnSegment on_segment_;
  ::mnl_socket* socket_ = nullptr;
  uint64_t segments_ = 0, malformed_ = 0, overruns_ = 0;
};

}  // namespace vnet::lb
