#include "lb/conntrack.hh"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

#include "base/log.hh"

namespace vnet::lb {
namespace {

// TCP_CONNTRACK_ESTABLISHED (linux/netfilter/nf_conntrack_tcp.h).
constexpr uint8_t kTcpEstablished = 3;
// At least MNL_SOCKET_BUFFER_SIZE (a page, at most 8 KiB) so no message is cut.
constexpr size_t kBufferSize = 16384;

std::optional<ConnEvent> decode(const nlmsghdr* nlh) {
  nf_conntrack* ct = nfct_new();
  if (!ct) return std::nullopt;
  std::optional<ConnEvent> out;
  if (nfct_nlmsg_parse(nlh, ct) >= 0 && nfct_attr_is_set(ct, ATTR_ORIG_L3PROTO) &&
      nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO) == AF_INET) {
    ConnEvent e;
    uint8_t type = NFNL_MSG_TYPE(nlh->nlmsg_type);
    if (type == IPCTNL_MSG_CT_DELETE)
      e.kind = ConnEvent::kDestroy;
    else
      e.kind = (nlh->nlmsg_flags & NLM_F_CREATE) ? ConnEvent::kNew : ConnEvent::kUpdate;
    e.id = nfct_get_attr_u32(ct, ATTR_ID);
    uint8_t l4 = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
    bool ports = true;
    if (l4 == IPPROTO_TCP)
      e.protocol = Protocol::kTcp;
    else if (l4 == IPPROTO_UDP)
      e.protocol = Protocol::kUdp;
    else if (l4 == IPPROTO_SCTP)
      e.protocol = Protocol::kSctp;
    else
      ports = false;
    if (ports) {
      auto endpoint = [ct](nf_conntrack_attr ip, nf_conntrack_attr port) {
        Endpoint ep;
        ep.v4.value = ntohl(nfct_get_attr_u32(ct, ip));
        ep.port = ntohs(nfct_get_attr_u16(ct, port));
        return ep;
      };
      e.client = endpoint(ATTR_ORIG_IPV4_SRC, ATTR_ORIG_PORT_SRC);
      e.orig_dst = endpoint(ATTR_ORIG_IPV4_DST, ATTR_ORIG_PORT_DST);
      e.reply_src = endpoint(ATTR_REPL_IPV4_SRC, ATTR_REPL_PORT_SRC);
      e.established = nfct_attr_is_set(ct, ATTR_TCP_STATE) &&
                      nfct_get_attr_u8(ct, ATTR_TCP_STATE) == kTcpEstablished;
      out = e;
    }
  }
  nfct_destroy(ct);
  return out;
}

int collect(const nlmsghdr* nlh, void* data) {
  if (auto e = decode(nlh)) static_cast<std::vector<ConnEvent>*>(data)->push_back(*e);
  return MNL_CB_OK;
}

}  // namespace

Result<std::unique_ptr<ConntrackFollower>> ConntrackFollower::open(EventLoop& loop,
                                                                   OnEvent on_event,
                                                                   OnResync on_resync) {
  std::unique_ptr<ConntrackFollower> f(
      new ConntrackFollower(loop, std::move(on_event), std::move(on_resync)));
  f->events_socket_ = mnl_socket_open(NETLINK_NETFILTER);
  if (!f->events_socket_) return make_error(errno, "ctnetlink socket");
  unsigned groups =
      NF_NETLINK_CONNTRACK_NEW | NF_NETLINK_CONNTRACK_UPDATE | NF_NETLINK_CONNTRACK_DESTROY;
  if (mnl_socket_bind(f->events_socket_, groups, MNL_SOCKET_AUTOPID) < 0)
    return make_error(errno, "ctnetlink: subscribe to connection-tracking events");
  int fd = mnl_socket_get_fd(f->events_socket_);
  int size = 8 << 20;  // bursts of short connections; an overrun costs a dump
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  // Subscribed before the dump, so nothing falls between them (an event for a connection the
  // dump also holds is applied twice, which counting tolerates).
  if (auto s = f->resync(); !s) return s.error();
  ConntrackFollower* self = f.get();
  if (auto s = loop.watch(fd, [self] { self->readable(); }); !s) return s.error();
  return f;
}

ConntrackFollower::~ConntrackFollower() {
  if (events_socket_) {
    loop_.unwatch(mnl_socket_get_fd(events_socket_));
    mnl_socket_close(events_socket_);
  }
}

Status ConntrackFollower::resync() {
  mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
  if (!nl) return make_error(errno, "ctnetlink socket");
  std::vector<ConnEvent> all;
  Status st;
  do {
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
      st = make_error(errno, "ctnetlink bind");
      break;
    }
    char buf[kBufferSize];
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    uint32_t seq = nlh->nlmsg_seq = 1;
    auto* nfh = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    nfh->nfgen_family = AF_INET;
    nfh->version = NFNETLINK_V0;
    nfh->res_id = 0;
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
      st = make_error(errno, "ctnetlink dump request");
      break;
    }
    unsigned portid = mnl_socket_get_portid(nl);
    for (;;) {
      ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
      if (n < 0) {
        st = make_error(errno, "ctnetlink dump");
        break;
      }
      int r = mnl_cb_run(buf, size_t(n), seq, portid, collect, &all);
      if (r == MNL_CB_STOP) break;
      if (r < 0) {
        st = make_error(errno, "ctnetlink dump");
        break;
      }
    }
  } while (false);
  mnl_socket_close(nl);
  if (!st) return st;
  for (auto& e : all) e.kind = ConnEvent::kNew;
  on_resync_(all);
  return {};
}

void ConntrackFollower::readable() {
  char buf[kBufferSize];
  int fd = mnl_socket_get_fd(events_socket_);
  // Bounded per wakeup, so a flood of events cannot hold the loop.
  for (int i = 0; i < 64; ++i) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      if (errno == ENOBUFS) {
        ++overruns_;
        log::warn(
            "lb: connection-tracking events lost (receive queue full); re-reading the "
            "table");
        if (auto s = resync(); !s) log::error("lb: {}", s.error().message);
        continue;
      }
      log::error("lb: connection-tracking events: {}", std::strerror(errno));
      return;
    }
    std::vector<ConnEvent> batch;
    mnl_cb_run(buf, size_t(n), 0, 0, collect, &batch);
    for (auto& e : batch) {
      ++events_;
      on_event_(e);
    }
  }
}

}  // namespace vnet::lb
