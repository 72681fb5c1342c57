#pragma once
// Connection-tracking events for the connection-count schedulers (lb/conn_counts.hh): a
// ctnetlink socket (NETLINK_NETFILTER, groups NFNLGRP_CONNTRACK_NEW, _UPDATE and _DESTROY) in the
// daemon's network namespace, read on the event loop, each IPv4 event decoded
// (libnetfilter_conntrack's nfct_nlmsg_parse) into a ConnEvent. Needs CAP_NET_ADMIN and a kernel
// with CONFIG_NF_CT_NETLINK and CONFIG_NF_CONNTRACK_EVENTS.
//
// Lost events (the socket's receive queue overflowed: ENOBUFS) are not guessed at: the follower
// dumps the whole table (IPCTNL_MSG_CT_GET with NLM_F_DUMP) and hands it over to resync, and
// counts the overrun. The first dump is taken at open(), so connections older than the daemon
// are counted too.

#include <functional>
#include <memory>
#include <vector>

#include "base/event_loop.hh"
#include "base/result.hh"
#include "lb/conn_counts.hh"

struct mnl_socket;  // libmnl

namespace vnet::lb {

class ConntrackFollower {
 public:
  using OnEvent = std::function<void(const ConnEvent&)>;
  using OnResync = std::function<void(const std::vector<ConnEvent>&)>;

  // Errors: the socket (EPROTONOSUPPORT without ctnetlink, EPERM without CAP_NET_ADMIN), the
  // first dump.
  static Result<std::unique_ptr<ConntrackFollower>> open(EventLoop& loop, OnEvent on_event,
                                                         OnResync on_resync);
  ~ConntrackFollower();
  ConntrackFollower(const ConntrackFollower&) = delete;
  ConntrackFollower& operator=(const ConntrackFollower&) = delete;

  uint64_t events() const { return events_; }
  uint64_t overruns() const { return overruns_; }  // ENOBUFS, each followed by a dump

 private:
  ConntrackFollower(EventLoop& loop, OnEvent on_event, OnResync on_resync)
      : loop_(loop), on_event_(std::move(on_event)), on_resync_(std::move(on_resync)) {}
  void readable();
  Status resync();

  EventLoop& loop_;
  OnEvent on_event_;
  OnResync on_resync_;
  ::mnl_socket* events_socket_ = nullptr;
  uint64_t events_ = 0, overruns_ = 0;
};

}  // namespace vnet::lb
