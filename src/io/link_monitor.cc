#include "io/link_monitor.hh"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vnet::io {

Result<LinkMonitor> LinkMonitor::open() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd.valid())
    return make_error(errno, "link monitor: netlink socket: {}", std::strerror(errno));
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_LINK;
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
    return make_error(errno, "link monitor: bind to RTNLGRP_LINK: {}", std::strerror(errno));
  return LinkMonitor(std::move(fd));
}

void LinkMonitor::read(const std::function<void(int, bool)>& cb) {
  alignas(nlmsghdr) char buf[16384];
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) {
      if (errno == ENOBUFS) {  // notifications were dropped: the caller re-reads every state
        cb(0, false);
        continue;
      }
      return;  // EAGAIN: drained (other errors: nothing more to read now)
    }
    if (n == 0) return;
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) continue;
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) continue;  // malformed: skipped
      const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
      if (ifi->ifi_index <= 0) continue;
      bool running = h->nlmsg_type == RTM_NEWLINK && (ifi->ifi_flags & IFF_RUNNING);
      cb(ifi->ifi_index, running);
    }
  }
}

Result<bool> LinkMonitor::running(int ifindex) {
  ifreq ifr{};
  if (!::if_indextoname(static_cast<unsigned>(ifindex), ifr.ifr_name))
    return make_error(ENODEV, "interface index {}: no such interface", ifindex);
  UniqueFd s(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) return make_error(errno, "link monitor: socket: {}", std::strerror(errno));
  if (::ioctl(s.get(), SIOCGIFFLAGS, &ifr) < 0)
    return make_error(errno, "{}: SIOCGIFFLAGS: {}", ifr.ifr_name, std::strerror(errno));
  return (ifr.ifr_flags & IFF_RUNNING) != 0;
}

}  // namespace vnet::io
