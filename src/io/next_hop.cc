#include "io/next_hop.hh"

#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

namespace vnet::io {
namespace {

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

struct Request {
  nlmsghdr h;
  union {
    rtmsg rt;
    ndmsg nd;
  };
  char attrs[64];
};

void put_attr(Request& r, uint16_t type, const void* data, size_t len) {
  auto* a = reinterpret_cast<rtattr*>(reinterpret_cast<char*>(&r) + NLMSG_ALIGN(r.h.nlmsg_len));
  a->rta_type = type;
  a->rta_len = uint16_t(RTA_LENGTH(len));
  std::memcpy(RTA_DATA(a), data, len);
  r.h.nlmsg_len = uint32_t(NLMSG_ALIGN(r.h.nlmsg_len) + RTA_ALIGN(a->rta_len));
}

// Sends one request and returns the single answer (or the kernel's error).
Result<std::string> ask(const Request& req, const std::string& what) {
  Fd s{::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)};
  if (s.fd < 0) return make_error(errno, "{}: netlink socket: {}", what, std::strerror(errno));
  if (::send(s.fd, &req, req.h.nlmsg_len, 0) < 0)
    return make_error(errno, "{}: netlink send: {}", what, std::strerror(errno));
  char buf[8192];
  ssize_t n = ::recv(s.fd, buf, sizeof buf, 0);
  if (n < 0) return make_error(errno, "{}: netlink recv: {}", what, std::strerror(errno));
  auto* h = reinterpret_cast<nlmsghdr*>(buf);
  if (!NLMSG_OK(h, size_t(n))) return make_error(EIO, "{}: short netlink answer", what);
  if (h->nlmsg_type == NLMSG_ERROR) {
    int err = -reinterpret_cast<nlmsgerr*>(NLMSG_DATA(h))->error;
    return make_error(err, "{}: {}", what, std::strerror(err));
  }
  return std::string(reinterpret_cast<char*>(h), h->nlmsg_len);
}

}  // namespace

Result<NextHop> next_hop(const packet::Ipv4Address& dst) {
  uint32_t be = htonl(dst.value);
  std::string what = dst.to_string();
  Request req{};
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof(rtmsg));
  req.h.nlmsg_type = RTM_GETROUTE;
  req.h.nlmsg_flags = NLM_F_REQUEST;
  req.rt.rtm_family = AF_INET;
  req.rt.rtm_dst_len = 32;
  put_attr(req, RTA_DST, &be, 4);
  auto route = ask(req, what + ": route");
  if (!route) return route.error();
  NextHop hop;
  auto* h = reinterpret_cast<nlmsghdr*>(route->data());
  auto* rt = reinterpret_cast<rtmsg*>(NLMSG_DATA(h));
  hop.local = rt->rtm_type == RTN_LOCAL;
  int len = int(RTM_PAYLOAD(h));
  for (auto* a = RTM_RTA(rt); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == RTA_OIF) hop.ifindex = *reinterpret_cast<int*>(RTA_DATA(a));
    if (a->rta_type == RTA_GATEWAY) {
      uint32_t gw;
      std::memcpy(&gw, RTA_DATA(a), 4);
      hop.gateway = packet::Ipv4Address{ntohl(gw)};
    }
  }
  char name[IF_NAMESIZE] = {};
  if (hop.ifindex && ::if_indextoname(unsigned(hop.ifindex), name)) hop.ifname = name;
  if (!hop.ifname.empty()) {
    Fd s{::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, name, IF_NAMESIZE);
    if (s.fd >= 0 && ::ioctl(s.fd, SIOCGIFHWADDR, &ifr) == 0)
      std::memcpy(hop.ifmac.bytes.data(), ifr.ifr_hwaddr.sa_data, 6);
  }
  if (hop.local || hop.gateway || !hop.ifindex) return hop;

  Request nreq{};
  nreq.h.nlmsg_len = NLMSG_LENGTH(sizeof(ndmsg));
  nreq.h.nlmsg_type = RTM_GETNEIGH;
  nreq.h.nlmsg_flags = NLM_F_REQUEST;
  nreq.nd.ndm_family = AF_INET;
  nreq.nd.ndm_ifindex = hop.ifindex;
  put_attr(nreq, NDA_DST, &be, 4);
  auto neigh = ask(nreq, what + ": neighbour");
  if (!neigh) {
    if (neigh.error().code == ENOENT) return hop;  // not resolved yet
    return neigh.error();
  }
  h = reinterpret_cast<nlmsghdr*>(neigh->data());
  auto* nd = reinterpret_cast<ndmsg*>(NLMSG_DATA(h));
  constexpr int kUsable =
      NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;
  if (!(nd->ndm_state & kUsable)) return hop;
  len = int(h->nlmsg_len - NLMSG_LENGTH(sizeof(ndmsg)));
  for (auto* a =
           reinterpret_cast<rtattr*>(reinterpret_cast<char*>(nd) + NLMSG_ALIGN(sizeof(ndmsg)));
       RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6) {
      packet::MacAddress mac;
      std::memcpy(mac.bytes.data(), RTA_DATA(a), 6);
      hop.mac = mac;
    }
  }
  return hop;
}

void solicit_neighbour(const packet::Ipv4Address& dst) {
  Fd s{::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)};
  if (s.fd < 0) return;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(9);  // discard (RFC 863)
  to.sin_addr.s_addr = htonl(dst.value);
  (void)::sendto(s.fd, "", 0, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
}

}  // namespace vnet::io
