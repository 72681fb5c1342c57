#pragma once
// LinkMonitor: carrier changes of the interfaces of the calling thread's network namespace, read
// from rtnetlink (RTNLGRP_LINK notifications, rtnetlink(7)). The dataplane uses it for ports that
// sit on a kernel interface (afpacket on a veth or NIC): when the far end of a veth goes down or
// a NIC loses its cable, the interface stops RUNNING (IFF_RUNNING, operstate not UP) and the port
// goes inactive, as a switch port does when its cable is pulled — spanning tree sees a link down
// at once instead of waiting for BPDUs to age out.
//
// Non-blocking: read() drains what is queued and returns. When the kernel dropped notifications
// (ENOBUFS: the socket's buffer overflowed), read() reports a resync (ifindex 0) and the caller
// asks running() of every interface it cares about.

#include <functional>

#include "base/fd.hh"
#include "base/result.hh"

namespace vnet::io {

class LinkMonitor {
 public:
  static Result<LinkMonitor> open();
  int fd() const { return fd_.get(); }
  // Calls cb(ifindex, running) for every link notification queued (RTM_NEWLINK: the RUNNING flag;
  // RTM_DELLINK: not running), and cb(0, false) when notifications were lost.
  void read(const std::function<void(int ifindex, bool running)>& cb);
  // The interface's RUNNING flag now (SIOCGIFFLAGS). ENODEV if it does not exist.
  static Result<bool> running(int ifindex);

 private:
  explicit LinkMonitor(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace vnet::io
