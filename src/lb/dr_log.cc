#include "lb/dr_log.hh"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include <cerrno>
#include <cstring>

#include "base/log.hh"

namespace vnet::lb {
namespace {

constexpr size_t kBufferSize = 16384;
constexpr uint32_t kCopyRange = 96;  // Ethernet + IPv4 with options + TCP up to its flags

// One NFULNL_MSG_CONFIG request, acknowledged.
Status configure(mnl_socket* nl, uint16_t group, uint16_t type, const void* data, size_t len) {
  char buf[8192];
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  uint32_t seq = nlh->nlmsg_seq = type;
  auto* nfg = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
  nfg->nfgen_family = AF_UNSPEC;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = htons(group);
  mnl_attr_put(nlh, type, len, data);
  if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) return make_error(errno, "nflog config");
  // The acknowledgement of this request: packets the group already logs may come first (the
  // socket is blocking until open() returns; a few are read and dropped here).
  for (int reads = 0; reads < 64; ++reads) {
    ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
    if (n < 0) return make_error(errno, "nflog config");
    int len = int(n);
    for (auto* m = reinterpret_cast<const nlmsghdr*>(buf); mnl_nlmsg_ok(m, len);
         m = mnl_nlmsg_next(m, &len)) {
      if (m->nlmsg_type != NLMSG_ERROR || m->nlmsg_seq != seq) continue;
      if (m->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr)))
        return make_error(EBADMSG, "nflog config: short acknowledgement");
      auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(m));
      if (err->error != 0) return make_error(-err->error, "nflog config");
      return {};
    }
  }
  return make_error(ETIMEDOUT, "nflog config: no acknowledgement");
}

struct Batch {
  std::vector<DrLogged> segments;
  uint64_t malformed = 0;
};

int attribute(const nlattr* a, void* data) {
  auto** tb = static_cast<const nlattr**>(data);
  uint16_t type = mnl_attr_get_type(a);
  if (type <= NFULA_MAX) tb[type] = a;
  return MNL_CB_OK;
}

int collect(const nlmsghdr* nlh, void* data) {
  auto* batch = static_cast<Batch*>(data);
  if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFULNL_MSG_PACKET) return MNL_CB_OK;
  const nlattr* tb[NFULA_MAX + 1] = {};
  if (mnl_attr_parse(nlh, sizeof(nfgenmsg), attribute, tb) < 0 || !tb[NFULA_HWHEADER] ||
      !tb[NFULA_PAYLOAD]) {
    ++batch->malformed;
    return MNL_CB_OK;
  }
  auto span = [](const nlattr* a) {
    return std::span<const uint8_t>(static_cast<const uint8_t*>(mnl_attr_get_payload(a)),
                                    mnl_attr_get_payload_len(a));
  };
  if (auto s = parse_dr_logged(span(tb[NFULA_HWHEADER]), span(tb[NFULA_PAYLOAD])))
    batch->segments.push_back(*s);
  else
    ++batch->malformed;
  return MNL_CB_OK;
}

}  // namespace

Result<std::unique_ptr<DrLogFollower>> DrLogFollower::open(EventLoop& loop, uint16_t group,
                                                           OnSegment on_segment) {
  std::unique_ptr<DrLogFollower> f(new DrLogFollower(loop, std::move(on_segment)));
  f->socket_ = mnl_socket_open(NETLINK_NETFILTER);
  if (!f->socket_) return make_error(errno, "nflog socket");
  if (mnl_socket_bind(f->socket_, 0, MNL_SOCKET_AUTOPID) < 0)
    return make_error(errno, "nflog bind");
  nfulnl_msg_config_cmd bind{NFULNL_CFG_CMD_BIND};
  if (auto s = configure(f->socket_, group, NFULA_CFG_CMD, &bind, sizeof bind); !s)
    return make_error(s.error().code, "nflog group {}: bind: {}", group, s.error().message);
  nfulnl_msg_config_mode mode{};
  mode.copy_range = htonl(kCopyRange);
  mode.copy_mode = NFULNL_COPY_PACKET;
  uint32_t one = htonl(1), zero = htonl(0);
  for (auto [type, data, len] :
       {std::tuple<uint16_t, const void*, size_t>{NFULA_CFG_MODE, &mode, sizeof mode},
        {NFULA_CFG_QTHRESH, &one, sizeof one},
        {NFULA_CFG_TIMEOUT, &zero, sizeof zero}}) {
    if (auto s = configure(f->socket_, group, type, data, len); !s)
      return make_error(s.error().code, "nflog group {}: {}", group, s.error().message);
  }
  int fd = mnl_socket_get_fd(f->socket_);
  int size = 4 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  DrLogFollower* self = f.get();
  if (auto s = loop.watch(fd, [self] { self->readable(); }); !s) return s.error();
  return f;
}

DrLogFollower::~DrLogFollower() {
  if (socket_) {
    loop_.unwatch(mnl_socket_get_fd(socket_));
    mnl_socket_close(socket_);
  }
}

void DrLogFollower::readable() {
  char buf[kBufferSize];
  int fd = mnl_socket_get_fd(socket_);
  // Bounded per wakeup, so a flood cannot hold the loop.
  for (int i = 0; i < 64; ++i) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      if (errno == ENOBUFS) {
        if (overruns_++ == 0)
          log::warn(
              "lb: DR segments lost (nflog receive queue full); counts may be off until "
              "those connections' next segments or timeouts");
        continue;
      }
      log::error("lb: DR segments: {}", std::strerror(errno));
      return;
    }
    Batch batch;
    mnl_cb_run(buf, size_t(n), 0, 0, collect, &batch);
    malformed_ += batch.malformed;
    for (auto& s : batch.segments) {
      ++segments_;
      on_segment_(s);
    }
  }
}

}  // namespace vnet::lb
