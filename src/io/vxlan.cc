// vxlan:… — a bridge port that is a VXLAN tunnel end point (overlay/vtep.hh, spec in
// overlay/spec.hh). Receives with recvmmsg on a UDP socket bound to LOCAL:PORT (the source of
// each datagram is the remote VTEP); sends with sendmmsg on a raw IPPROTO_UDP socket bound to
// LOCAL, so the UDP header — and its per-flow source port (RFC 7348 §5) — is ours and the kernel
// adds only the IP header (DF clear: the VTEP itself never fragments, §4, it drops what does not
// fit the underlay MTU). The raw socket is given a filter that accepts nothing, so it never
// queues the host's incoming UDP. A multicast flood group is joined on the UDP socket and sent to
// with TTL 1 and no loopback.

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

#include "base/fd.hh"
#include "io/backend.hh"
#include "io/send_batch.hh"
#include "overlay/spec.hh"

namespace vnet::io {
namespace {

using overlay::Endpoint;

sockaddr_storage to_sockaddr(const Endpoint& e, socklen_t& len) {
  sockaddr_storage ss{};
  if (e.v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    std::memcpy(&s6->sin6_addr, e.v6addr.bytes.data(), 16);
    // Raw IPPROTO_UDP sockets take the port field as 0 (the protocol); ours is in the payload.
    len = sizeof(sockaddr_in6);
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_addr.s_addr = htonl(e.v4.value);
    len = sizeof(sockaddr_in);
  }
  return ss;
}

Endpoint from_sockaddr(const sockaddr_storage& ss) {
  Endpoint e;
  if (ss.ss_family == AF_INET6) {
    const auto* s6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    e.v6 = true;
    std::memcpy(e.v6addr.bytes.data(), &s6->sin6_addr, 16);
    e.port = ntohs(s6->sin6_port);
  } else {
    const auto* s4 = reinterpret_cast<const sockaddr_in*>(&ss);
    e.v4.value = ntohl(s4->sin_addr.s_addr);
    e.port = ntohs(s4->sin_port);
  }
  return e;
}

class VxlanBackend final : public Backend {
 public:
  VxlanBackend(std::string spec, overlay::Vtep vtep, UniqueFd udp, UniqueFd raw)
      : spec_(std::move(spec)),
        vtep_(std::move(vtep)),
        udp_(std::move(udp)),
        raw_(std::move(raw)) {}
  std::vector<int> fds() const override { return {udp_.get()}; }
  std::string kind() const override { return "vxlan"; }
  std::string describe() const override { return "vxlan:" + spec_; }

  size_t receive(std::vector<packet::Frame>& out, size_t max) override {
    size_t n = 0;
    std::array<sockaddr_storage, kBatch> from;
    const TimePoint now = now_();
    int r = recv_batched(
        udp_.get(), std::min(max, next_batch(last_)), packet::Frame::kMaxFrame,
        [&](size_t i, msghdr& h) {
          h.msg_name = &from[i];
          h.msg_namelen = sizeof from[i];
        },
        [&](size_t i, packet::Frame&& f, const msghdr& h) {
          if (h.msg_flags & MSG_TRUNC) return;
          if (!vtep_.decapsulate(from_sockaddr(from[i]), f, now)) return;
          out.push_back(std::move(f));
          ++n;
        });
    last_ = r > 0 ? static_cast<size_t>(r) : 0;
    return n;
  }

  size_t send(std::span<packet::Frame> frames) override {
    const TimePoint now = now_();
    out_.clear();
    for (auto& f : frames) vtep_.encapsulate(std::move(f), now, out_);
    size_t accepted = frames.size();
    // One sendmmsg per run of payloads to the same remote (flooding produces one per VTEP).
    size_t i = 0;
    while (i < out_.size()) {
      size_t j = i + 1;
      while (j < out_.size() && out_[j].to == out_[i].to) ++j;
      batch_.clear();
      for (size_t k = i; k < j; ++k) batch_.push_back(std::move(out_[k].payload));
      socklen_t len = 0;
      sockaddr_storage to = to_sockaddr(out_[i].to, len);
      send_batched(
          raw_.get(), batch_, false,
          [](int err) { return err == EAGAIN ? OnSendError::kStop : OnSendError::kSkipFrame; },
          reinterpret_cast<const sockaddr*>(&to), len);
      i = j;
    }
    return accepted;
  }

 private:
  static TimePoint now_() {
    return TimePoint(
        std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now().time_since_epoch()));
  }
  std::string spec_;
  overlay::Vtep vtep_;
  UniqueFd udp_, raw_;
  size_t last_ = 0;
  std::vector<overlay::Datagram> out_;
  std::vector<packet::Frame> batch_;
};

}  // namespace

Result<std::unique_ptr<Backend>> open_vxlan(const std::string& arg) {
  auto spec = overlay::parse_vtep_spec(arg);
  if (!spec) return spec.error();
  auto vtep = overlay::make_vtep(*spec);
  if (!vtep) return make_error(vtep.error().code, "vxlan:{}: {}", arg, vtep.error().message);
  const Endpoint& local = spec->local;
  const int family = local.v6 ? AF_INET6 : AF_INET;
  // netns=PATH: a socket belongs to the namespace its creating thread is in; this thread enters
  // PATH for the two socket() calls and comes back.
  UniqueFd home, there;
  if (!spec->netns.empty()) {
    home = UniqueFd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    there = UniqueFd(::open(spec->netns.c_str(), O_RDONLY | O_CLOEXEC));
    if (home.get() < 0 || there.get() < 0)
      return system_error(fmt::format("vxlan:{}: open netns {}", arg, spec->netns));
    if (::setns(there.get(), CLONE_NEWNET) < 0)
      return system_error(fmt::format("vxlan:{}: enter netns {}", arg, spec->netns));
  }
  UniqueFd udp(socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  UniqueFd raw(socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP));
  if (home.get() >= 0 && ::setns(home.get(), CLONE_NEWNET) < 0) {
    // Left in the underlay's namespace, this thread would open every later port there.
    std::perror("vxlan: cannot return to the dataplane's network namespace");
    std::abort();
  }
  if (udp.get() < 0 || raw.get() < 0) return system_error("vxlan:" + arg + ": socket");
  int buf = 4 << 20;
  setsockopt(udp.get(), SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(raw.get(), SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  // The raw socket only sends: a filter that accepts nothing keeps the host's UDP out of it.
  sock_filter none[] = {{BPF_RET | BPF_K, 0, 0, 0}};
  sock_fprog prog{1, none};
  if (setsockopt(raw.get(), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
    return system_error("vxlan:" + arg + ": SO_ATTACH_FILTER");
  }
  socklen_t len = 0;
  sockaddr_storage bind_to = to_sockaddr(local, len);
  if (local.v6) {
    reinterpret_cast<sockaddr_in6*>(&bind_to)->sin6_port = htons(local.port);
  } else {
    reinterpret_cast<sockaddr_in*>(&bind_to)->sin_port = htons(local.port);
  }
  // Multicast groups are received on a socket bound to the wildcard address.
  bool any_group = false;
  for (const auto& [vni, e] : spec->floods) any_group |= e.is_multicast();
  sockaddr_storage udp_addr = bind_to;
  if (any_group) {
    if (local.v6) {
      reinterpret_cast<sockaddr_in6*>(&udp_addr)->sin6_addr = in6addr_any;
    } else {
      reinterpret_cast<sockaddr_in*>(&udp_addr)->sin_addr.s_addr = htonl(INADDR_ANY);
    }
  }
  // One socket per address and port: datagrams are told apart by VNI inside one port, so two
  // vxlan ports on the same address and port would take each other's traffic. Refused instead.
  if (bind(udp.get(), reinterpret_cast<sockaddr*>(&udp_addr), len) < 0) {
    if (errno == EADDRINUSE) {
      return make_error(EADDRINUSE,
                        "vxlan:{}: UDP {} is taken (by another vxlan port?): map every VNI of "
                        "one address and port in one vxlan port (map=…,map=…)",
                        arg, local.to_string());
    }
    return system_error(fmt::format("vxlan:{}: bind UDP {}", arg, local.to_string()));
  }
  socklen_t rlen = 0;
  sockaddr_storage raw_addr = to_sockaddr(local, rlen);
  if (bind(raw.get(), reinterpret_cast<sockaddr*>(&raw_addr), rlen) < 0) {
    return system_error(fmt::format("vxlan:{}: bind raw {}", arg, local.to_string()));
  }
  for (const auto& [vni, e] : spec->floods) {
    if (!e.is_multicast()) continue;
    if (e.v6 != local.v6) {
      return make_error(EINVAL, "vxlan:{}: group {} is not of the local address's family", arg,
                        e.to_string());
    }
    int ttl = 1, loop = 0;
    if (local.v6) {
      ipv6_mreq m{};
      std::memcpy(&m.ipv6mr_multiaddr, e.v6addr.bytes.data(), 16);
      if (setsockopt(udp.get(), IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &m, sizeof m) < 0 &&
          errno != EADDRINUSE) {
        return system_error("vxlan:" + arg + ": join " + e.to_string());
      }
      setsockopt(raw.get(), IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof ttl);
      setsockopt(raw.get(), IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop, sizeof loop);
    } else {
      ip_mreqn m{};
      m.imr_multiaddr.s_addr = htonl(e.v4.value);
      m.imr_address.s_addr = htonl(local.v4.value);
      if (setsockopt(udp.get(), IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) < 0 &&
          errno != EADDRINUSE) {
        return system_error("vxlan:" + arg + ": join " + e.to_string());
      }
      in_addr ifaddr{htonl(local.v4.value)};
      setsockopt(raw.get(), IPPROTO_IP, IP_MULTICAST_IF, &ifaddr, sizeof ifaddr);
      setsockopt(raw.get(), IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
      setsockopt(raw.get(), IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop);
    }
  }
  return std::unique_ptr<Backend>(
      std::make_unique<VxlanBackend>(arg, std::move(*vtep), std::move(udp), std::move(raw)));
}

}  // namespace vnet::io
