// vxlan:… — a bridge port that is a VXLAN tunnel end point (overlay/vtep.hh, spec in
// overlay/spec.hh). Receives with recvmmsg on a UDP socket bound to LOCAL:PORT (the source of
// each datagram is the remote VTEP); sends with sendmmsg on a raw IPPROTO_UDP socket bound to
// LOCAL, so the UDP header — and its per-flow source port (RFC 7348 §5) — is ours and the kernel
// adds only the IP header (DF clear: the VTEP itself never fragments, §4, it drops what does not
// fit the underlay MTU). The raw socket is given a filter that accepts nothing, so it never
// queues the host's incoming UDP. A multicast flood group is joined on the UDP socket (bound to
// the wildcard address then) and sent to with the spec's TTL (1 by default) and no loopback; the
// console joins and leaves groups at run time through VtepPort::set_group. LOCAL 0.0.0.0 / ::
// leaves the source address to the kernel (and, over IPv6, the checksum: IPV6_CHECKSUM).

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
#include "io/udp_socket.hh"
#include "io/vtep_port.hh"
#include "overlay/spec.hh"

namespace vnet::io {
namespace {

using overlay::Endpoint;

// Joins or leaves `group` on `udp` (bound to the wildcard address), on the interface of `local`.
Status membership(int udp, const Endpoint& local, const Endpoint& group, bool member) {
  if (group.v6 != local.v6) {
    return make_error(EINVAL, "group {} is not of the local address's family", group.to_string());
  }
  int r = 0;
  if (local.v6) {
    ipv6_mreq m{};
    std::memcpy(&m.ipv6mr_multiaddr, group.v6addr.bytes.data(), 16);
    r = setsockopt(udp, IPPROTO_IPV6, member ? IPV6_ADD_MEMBERSHIP : IPV6_DROP_MEMBERSHIP, &m,
                   sizeof m);
  } else {
    ip_mreqn m{};
    m.imr_multiaddr.s_addr = htonl(group.v4.value);
    m.imr_address.s_addr = htonl(local.v4.value);
    r = setsockopt(udp, IPPROTO_IP, member ? IP_ADD_MEMBERSHIP : IP_DROP_MEMBERSHIP, &m, sizeof m);
  }
  if (r < 0 && !(member && errno == EADDRINUSE)) {
    return system_error(fmt::format("{} {}", member ? "join" : "leave", group.to_string()));
  }
  return {};
}

class VxlanBackend final : public Backend, public VtepPort {
 public:
  VxlanBackend(std::string spec, overlay::Vtep vtep, Endpoint local, bool wildcard, UniqueFd udp,
               UniqueFd raw)
      : spec_(std::move(spec)),
        vtep_(std::move(vtep)),
        local_(local),
        wildcard_(wildcard),
        udp_(std::move(udp)),
        raw_(std::move(raw)) {}
  std::vector<int> fds() const override { return {udp_.get()}; }
  std::string kind() const override { return "vxlan"; }
  std::string describe() const override { return "vxlan:" + spec_; }
  std::vector<std::pair<std::string, uint64_t>> counters() const override {
    const overlay::Counters& c = vtep_.counters();
    std::vector<std::pair<std::string, uint64_t>> out = {{"encapsulated", c.encapsulated},
                                                         {"copies", c.copies},
                                                         {"decapsulated", c.decapsulated},
                                                         {"learned", c.learned},
                                                         {"moved", c.moved}};
    for (size_t i = 0; i < c.drops.size(); ++i) {
      auto d = static_cast<overlay::Drop>(i);
      out.emplace_back(fmt::format("drop_{}", overlay::drop_name(d)), c.dropped(d));
    }
    return out;
  }
  VtepPort* vtep_port() override { return this; }
  overlay::Vtep& vtep() override { return vtep_; }
  const Endpoint& local() const override { return local_; }
  Status set_group(const Endpoint& group, bool member) override {
    if (!wildcard_) {
      return make_error(EINVAL,
                        "the port's socket is bound to {}, where group traffic does not arrive: "
                        "re-attach the port with a group in its spec (flood=VNI@GROUP)",
                        local_.to_string());
    }
    return membership(udp_.get(), local_, group, member);
  }

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
      sockaddr_storage to = to_sockaddr(out_[i].to, len, false);
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
  Endpoint local_;
  bool wildcard_;  // the UDP socket is bound to the wildcard address (groups can be joined)
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
  const std::string what = "vxlan:" + arg;
  // netns=PATH: a socket belongs to the namespace its creating thread is in; this thread enters
  // PATH while the sockets are made and set up, and comes back on every way out.
  struct NetnsReturn {
    UniqueFd home;
    ~NetnsReturn() {
      if (home.get() >= 0 && ::setns(home.get(), CLONE_NEWNET) < 0) {
        // Left in the underlay's namespace, this thread would open every later port there.
        std::perror("vxlan: cannot return to the dataplane's network namespace");
        std::abort();
      }
    }
  } back;
  if (!spec->netns.empty()) {
    UniqueFd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    UniqueFd there(::open(spec->netns.c_str(), O_RDONLY | O_CLOEXEC));
    if (home.get() < 0 || there.get() < 0)
      return system_error(fmt::format("{}: open netns {}", what, spec->netns));
    if (::setns(there.get(), CLONE_NEWNET) < 0)
      return system_error(fmt::format("{}: enter netns {}", what, spec->netns));
    back.home = std::move(home);
  }
  UniqueFd raw(
      socket(local.v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP));
  if (raw.get() < 0) return system_error(what + ": socket");
  int buf = 4 << 20;
  setsockopt(raw.get(), SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  // The raw socket only sends: a filter that accepts nothing keeps the host's UDP out of it.
  sock_filter none[] = {{BPF_RET | BPF_K, 0, 0, 0}};
  sock_fprog prog{1, none};
  if (setsockopt(raw.get(), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
    return system_error(what + ": SO_ATTACH_FILTER");
  }
  // Multicast groups are received on a socket bound to the wildcard address.
  bool any_group = false;
  for (const auto& [vni, e] : spec->floods) any_group |= e.is_multicast();
  Endpoint udp_local = local;
  if (any_group) {
    udp_local.v4 = {};
    udp_local.v6addr = {};
  }
  const bool wildcard =
      udp_local.v6 ? udp_local.v6addr == packet::Ipv6Address{} : udp_local.v4.value == 0;
  // One socket per address and port: datagrams are told apart by VNI inside one port, so two
  // vxlan ports on the same address and port would take each other's traffic. Refused instead.
  auto udp = bound_udp_socket(udp_local, what);
  if (!udp) {
    if (udp.error().code == EADDRINUSE) {
      return make_error(EADDRINUSE,
                        "vxlan:{}: UDP {} is taken (by another vxlan port?): map every VNI of "
                        "one address and port in one vxlan port (map=…,map=…)",
                        arg, local.to_string());
    }
    return udp.error();
  }
  socklen_t rlen = 0;
  sockaddr_storage raw_addr = to_sockaddr(local, rlen, false);
  if (bind(raw.get(), reinterpret_cast<sockaddr*>(&raw_addr), rlen) < 0) {
    return system_error(fmt::format("{}: bind raw {}", what, local.to_string()));
  }
  // Over IPv6 the UDP checksum is mandatory; without a local address to compute it over, the
  // kernel fills it in (offset 6 of the UDP header).
  if (local.v6 && !spec->config.local) {
    int offset = 6;
    if (setsockopt(raw.get(), IPPROTO_IPV6, IPV6_CHECKSUM, &offset, sizeof offset) < 0) {
      return system_error(what + ": IPV6_CHECKSUM");
    }
  }
  // Multicast floods: TTL from the spec (1 by default), no loopback, out of local's interface.
  int ttl = spec->ttl, loop = 0;
  if (local.v6) {
    setsockopt(raw.get(), IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof ttl);
    setsockopt(raw.get(), IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &loop, sizeof loop);
  } else {
    in_addr ifaddr{htonl(local.v4.value)};
    if (local.v4.value != 0) {
      setsockopt(raw.get(), IPPROTO_IP, IP_MULTICAST_IF, &ifaddr, sizeof ifaddr);
    }
    setsockopt(raw.get(), IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
    setsockopt(raw.get(), IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop);
  }
  for (const auto& [vni, e] : spec->floods) {
    if (!e.is_multicast()) continue;
    if (auto st = membership(udp->get(), local, e, true); !st) {
      return make_error(st.error().code, "{}: {}", what, st.error().message);
    }
  }
  return std::unique_ptr<Backend>(std::make_unique<VxlanBackend>(
      arg, std::move(*vtep), local, wildcard, std::move(*udp), std::move(raw)));
}

}  // namespace vnet::io
