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
//
// Batching in the kernel (UDP GSO and GRO, Linux ≥ 5.0):
//  - send: when the port's datagrams carry UDP checksums (`csum`, or an IPv6 underlay: the kernel
//    refuses UDP GSO with zero checksums), a run of equal-size payloads of one flow to one
//    unicast VTEP (the segments of a TCP train, a stream of small frames; the last may be
//    shorter) goes out in one sendmsg with UDP_SEGMENT, from a UDP socket bound to LOCAL and the
//    flow's source port (opened on first use, never receiving; a port taken on the host falls
//    back to the raw socket). The kernel, or the NIC, cuts it into ordinary datagrams — or hands
//    it whole to a receiver that asked for GRO (over a veth).
//  - send, zero checksums over IPv4: the port takes GSO frames whole (vnet_hdr()), and a TCP
//    train to a unicast VTEP is written whole to the port's tunnel tap (io/tunnel_tap.hh,
//    overlay/tunnel_gso.hh: UDP tunnel GSO, Linux ≥ 6.17), which the kernel or the NIC
//    segments with zero outer checksums; every other payload with offloads is finished or
//    segmented in software (overlay::finish_payload).
//  - receive: UDP_GRO on the socket; a coalesced buffer is split at its segment size and every
//    piece decapsulated as a datagram of its own. Consecutive inner TCP segments of one flow in
//    what one call receives (coalesced or not) become one GSO frame again
//    (packet::coalesce_tcp), which a vnet-header port (afpacket, tap) passes on whole and the
//    dataplane segments for any other. An inner TCP frame whose checksum is still partial (it
//    crossed a veth from a kernel VTEP, or a tunnel GSO train arrived whole) gets its offloads
//    back instead (packet::adopt_partial_tcp).
// Loss is counted (counters()): payloads the sockets refuse (drop_tx_busy: EAGAIN or ENOBUFS;
// drop_tx_error: any other errno), datagrams larger than the receive buffer (drop_rx_truncated).

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include <fmt/format.h>

#include "base/fd.hh"
#include "io/backend.hh"
#include "io/next_hop.hh"
#include "io/send_batch.hh"
#include "io/tunnel_tap.hh"
#include "io/udp_socket.hh"
#include "io/vtep_port.hh"
#include "overlay/spec.hh"
#include "overlay/tunnel_gso.hh"
#include "packet/offload.hh"

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

// Returns the calling thread to the namespace `home` (if set) when it goes out of scope.
struct NetnsReturn {
  UniqueFd home;
  ~NetnsReturn() {
    if (home.get() >= 0 && ::setns(home.get(), CLONE_NEWNET) < 0) {
      // Left in the underlay's namespace, this thread would open every later port there.
      std::perror("vxlan: cannot return to the dataplane's network namespace");
      std::abort();
    }
  }
};

class VxlanBackend final : public Backend, public VtepPort {
 public:
  VxlanBackend(std::string spec, overlay::Vtep vtep, Endpoint local, bool wildcard, UniqueFd udp,
               UniqueFd raw, UniqueFd netns)
      : spec_(std::move(spec)),
        vtep_(std::move(vtep)),
        local_(local),
        wildcard_(wildcard),
        udp_(std::move(udp)),
        raw_(std::move(raw)),
        netns_(std::move(netns)),
        max_inner_(vtep_.config().underlay_mtu - (local_.v6 ? 40 : 20) - 16 + 4) {}
  std::vector<int> fds() const override { return {udp_.get()}; }
  std::string kind() const override { return "vxlan"; }
  // GSO frames and partial checksums come in whole: send() has the kernel segment a TCP train
  // (tunnel GSO) where it can, and finishes the rest itself.
  bool vnet_hdr() const override { return true; }
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
    out.insert(out.end(), {{"drop_tx_busy", tx_busy_},
                           {"drop_tx_error", tx_error_},
                           {"drop_rx_truncated", rx_truncated_},
                           {"tx_gso_sends", gso_sends_},
                           {"tx_gso_datagrams", gso_datagrams_},
                           {"rx_gro_batches", gro_batches_},
                           {"rx_gro_datagrams", gro_datagrams_},
                           {"rx_tcp_coalesced", tcp_coalesced_},
                           {"rx_tcp_super_frames", super_frames_},
                           {"rx_tcp_partial_checksums", partial_},
                           {"tx_tunnel_gso_sends", tunnel_sends_},
                           {"tx_offload_software", offload_software_},
                           {"drop_tx_malformed", tx_malformed_}});
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

  // Consecutive inner TCP segments of one flow among what one call receives (in a coalesced
  // buffer or not) are merged back into one GSO frame for the bridge, as the kernel's GRO would
  // (packet::coalesce_tcp, each segment's TCP checksum checked first).
  size_t receive(std::vector<packet::Frame>& out, size_t max) override {
    size_t n = 0;
    std::array<sockaddr_storage, kBatch> from;
    std::array<Control, kBatch> control;
    const TimePoint now = now_();
    size_t train = SIZE_MAX;  // index in `out` of the frame the next segment may join
    auto deliver = [&](packet::Frame&& d) {
      // A partial checksum that a veth carried across (a tunnel GSO train that arrived whole, or
      // the kernel's segments of one): its offloads again, as it left its host.
      if (packet::adopt_partial_tcp(d, max_inner_)) {
        ++(d.offload.gso_type != packet::OffloadInfo::kGsoNone ? super_frames_ : partial_);
        out.push_back(std::move(d));
        ++n;
        train = SIZE_MAX;
        return;
      }
      if (train != SIZE_MAX && packet::coalesce_tcp(out[train], d)) {
        ++tcp_coalesced_;
        return;
      }
      train = out.size();
      out.push_back(std::move(d));
      ++n;
    };
    int r = recv_batched(
        udp_.get(), std::min(max, next_batch(last_)), packet::Frame::kMaxFrame,
        [&](size_t i, msghdr& h) {
          h.msg_name = &from[i];
          h.msg_namelen = sizeof from[i];
          h.msg_control = control[i].buf;
          h.msg_controllen = sizeof control[i].buf;
        },
        [&](size_t i, packet::Frame&& f, const msghdr& h) {
          if (h.msg_flags & MSG_TRUNC) {
            ++rx_truncated_;
            return;
          }
          const Endpoint src = from_sockaddr(from[i]);
          const size_t seg = gro_size(h);
          if (seg == 0 || seg >= f.size()) {
            if (vtep_.decapsulate(src, f, now)) deliver(std::move(f));
            return;
          }
          // UDP_GRO: datagrams of `seg` bytes (the last may be shorter) coalesced by the kernel,
          // each a VXLAN payload of its own.
          ++gro_batches_;
          for (size_t off = 0; off < f.size(); off += seg) {
            const size_t len = std::min(seg, f.size() - off);
            packet::Frame d = packet::Frame::copy_of(f.bytes().subspan(off, len));
            ++gro_datagrams_;
            if (vtep_.decapsulate(src, d, now)) deliver(std::move(d));
          }
        });
    last_ = r > 0 ? static_cast<size_t>(r) : 0;
    return n;
  }

  // Every frame is taken (the return value); payloads the sockets refuse are counted here, per
  // datagram (a flooded frame is several): tx_busy (EAGAIN, ENOBUFS: the socket's buffer or the
  // device's queue is full) and tx_error (any other errno, such as an unreachable VTEP).
  size_t send(std::span<packet::Frame> frames) override {
    const TimePoint now = now_();
    out_.clear();
    bool offloads = false;
    for (auto& f : frames) {
      offloads |= f.offload.any();
      vtep_.encapsulate(std::move(f), now, out_);
    }
    if (offloads) finish_offloads();
    // In order: one sendmmsg per run of payloads to the same remote (flooding produces one per
    // VTEP), except where UDP GSO sends a run of one flow's equal-size payloads in one call, and
    // a TCP train the tunnel tap takes whole.
    size_t i = 0;
    while (i < out_.size()) {
      if (out_[i].payload.offload.any()) {
        send_tunnel(out_[i]);
        ++i;
        continue;
      }
      size_t j = i + 1;
      while (j < out_.size() && out_[j].to == out_[i].to && !out_[j].payload.offload.any()) ++j;
      send_run(i, j);
      i = j;
    }
    return frames.size();
  }

 private:
  static TimePoint now_() {
    return TimePoint(
        std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now().time_since_epoch()));
  }
  // Room for one UDP_GRO control message per received datagram.
  struct Control {
    alignas(cmsghdr) char buf[CMSG_SPACE(sizeof(int))];
  };
  // The segment size of a UDP_GRO-coalesced datagram, 0 for a datagram of its own.
  static size_t gro_size(const msghdr& h) {
    for (const cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr;
         c = CMSG_NXTHDR(const_cast<msghdr*>(&h), const_cast<cmsghdr*>(c))) {
      if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
        int size = 0;
        std::memcpy(&size, CMSG_DATA(c), sizeof size);
        return size > 0 ? static_cast<size_t>(size) : 0;
      }
    }
    return 0;
  }
  static uint16_t src_port(const packet::Frame& payload) {
    return static_cast<uint16_t>(payload.data()[0] << 8 | payload.data()[1]);
  }

  // Payloads whose inner frame has offloads: a TCP train that the tunnel tap can take stays
  // whole (send_tunnel); every other one is finished in software (overlay::finish_payload),
  // in place in out_, in order.
  void finish_offloads() {
    next_.clear();
    for (auto& d : out_) {
      if (!d.payload.offload.any() || tunnel_hop(d)) {
        next_.push_back(std::move(d));
        continue;
      }
      finished_.clear();
      if (!overlay::finish_payload(std::move(d.payload), finished_)) {
        ++tx_malformed_;
        continue;
      }
      ++offload_software_;
      for (auto& p : finished_) next_.push_back({d.to, std::move(p)});
    }
    out_.swap(next_);
  }

  // The next hop toward `d.to` when the tunnel tap can send `d` whole: a TCP GSO payload to a
  // unicast IPv4 VTEP from a configured IPv4 address, with zero UDP checksums (`csum` has UDP
  // GSO), out of the device the tap redirects to, its neighbour resolved. Looked up once a
  // second per remote; nullptr otherwise.
  struct Hop {
    packet::MacAddress src, dst;
    int ifindex = 0;
    TimePoint checked{};
    bool usable = false;
  };
  const Hop* tunnel_hop(const overlay::Datagram& d) {
    if (!tunnel_ok_ || d.to.v6 || local_.v6 || local_.v4.value == 0 || d.to.is_multicast() ||
        vtep_.config().udp_checksum ||
        d.payload.offload.gso_type == packet::OffloadInfo::kGsoNone) {
      return nullptr;
    }
    const TimePoint now = now_();
    Hop& h = hops_[d.to.v4.value];
    if (h.checked == TimePoint{} || now - h.checked > std::chrono::seconds(1)) {
      h.checked = now;
      h.usable = false;
      if (hops_.size() > kMaxHops) {  // a bound on what remotes may cost
        hops_.clear();
        return nullptr;
      }
      NetnsReturn back;
      if (!enter_underlay(back)) return nullptr;
      auto hop = next_hop(d.to.v4);
      if (hop && hop->gateway && !hop->local) {
        auto gw = next_hop(*hop->gateway);
        if (gw && gw->ifindex == hop->ifindex) hop->mac = gw->mac;
      }
      if (!hop || hop->local || !hop->mac || hop->ifindex <= 0) return nullptr;
      if (!tap_) {
        auto t = TunnelTap::open(hop->ifindex);
        if (!t) {
          tunnel_ok_ = false;  // an older kernel, or no CAP_NET_ADMIN: software from now on
          return nullptr;
        }
        tap_ = std::move(*t);
      }
      if (tap_->out_ifindex() != hop->ifindex) return nullptr;
      h = Hop{hop->ifmac, *hop->mac, hop->ifindex, now, true};
    }
    return h.usable ? &h : nullptr;
  }

  // One TCP train through the tunnel tap (tunnel_hop() said yes in finish_offloads); finished
  // in software and sent the ordinary way when the tap refuses it.
  void send_tunnel(overlay::Datagram& d) {
    const Hop* h = tunnel_hop(d);
    std::array<uint8_t, overlay::kTunnelHead> head;
    overlay::OuterV4 outer{h ? h->src : packet::MacAddress{},
                           h ? h->dst : packet::MacAddress{},
                           local_.v4,
                           d.to.v4,
                           ip_id_,
                           64};
    if (h && overlay::tunnel_gso_head(d.payload, outer, head)) {
      if (tap_->write(head, d.payload.bytes())) {
        ++tunnel_sends_;
        // The kernel numbers the segments from the first ID on.
        ip_id_ = static_cast<uint16_t>(ip_id_ + d.payload.size() / d.payload.offload.gso_size + 1);
        return;
      }
      if (errno != EAGAIN && errno != ENOBUFS) tunnel_ok_ = false;
    }
    finished_.clear();
    if (!overlay::finish_payload(std::move(d.payload), finished_)) {
      ++tx_malformed_;
      return;
    }
    ++offload_software_;
    const Endpoint to = d.to;
    out_tail_.clear();
    for (auto& p : finished_) out_tail_.push_back({to, std::move(p)});
    // Sent as a run of their own (this keeps them in order with what follows).
    std::swap(out_, out_tail_);
    send_run(0, out_.size());
    std::swap(out_, out_tail_);
  }

  // Enters the underlay's namespace (netns=PATH) until `back` goes; false when it cannot.
  bool enter_underlay(NetnsReturn& back) const {
    if (netns_.get() < 0) return true;
    back.home = UniqueFd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (back.home.get() < 0 || ::setns(netns_.get(), CLONE_NEWNET) < 0) {
      back.home = UniqueFd();
      return false;
    }
    return true;
  }

  // out_[i, j): payloads to one remote. Runs of one flow's equal-size payloads (a segmented TCP
  // train, a stream of small frames; the last may be shorter) go out with one UDP_SEGMENT
  // sendmsg when the datagrams carry checksums (the kernel refuses UDP GSO without them) and the
  // remote is unicast; everything else, in order, with sendmmsg on the raw socket.
  void send_run(size_t i, size_t j) {
    const Endpoint& to = out_[i].to;
    const bool gso = gso_ok_ && !to.is_multicast() && (to.v6 || vtep_.config().udp_checksum);
    batch_.clear();
    size_t k = i;
    while (k < j) {
      const size_t g = gso ? gso_run(k, j) : 1;
      if (g >= 2) {
        int fd = gso_socket(src_port(out_[k].payload));
        if (fd >= 0) {
          flush_raw(to);
          if (send_gso(fd, to, k, k + g)) {
            k += g;
            continue;
          }
        }
      }
      for (const size_t end = k + g; k < end; ++k) batch_.push_back(std::move(out_[k].payload));
    }
    flush_raw(to);
  }

  // How many payloads from out_[k] (before `j`) one UDP GSO send can carry: the same source
  // port (flow) and size, the last one possibly shorter, within the kernel's limits.
  size_t gso_run(size_t k, size_t j) const {
    const size_t seg = out_[k].payload.size();
    const uint16_t port = src_port(out_[k].payload);
    size_t total = seg - kUdpHeader, e = k + 1;
    while (e < j && e - k < kGsoMaxSegments) {
      const packet::Frame& p = out_[e].payload;
      if (src_port(p) != port || p.size() > seg || total + p.size() - kUdpHeader > kGsoMaxBytes)
        break;
      total += p.size() - kUdpHeader;
      ++e;
      if (p.size() < seg) break;
    }
    return e - k;
  }

  // Sends out_[k, e) with one sendmsg and UDP_SEGMENT (the kernel writes the UDP headers, ours
  // are left out). False when the kernel cannot (no UDP GSO, or a path MTU below the segments):
  // the caller sends them through the raw socket.
  bool send_gso(int fd, const Endpoint& to, size_t k, size_t e) {
    std::array<iovec, kGsoMaxSegments> iov;
    for (size_t x = k; x < e; ++x) {
      packet::Frame& p = out_[x].payload;
      iov[x - k] = {p.data() + kUdpHeader, p.size() - kUdpHeader};
    }
    socklen_t len = 0;
    sockaddr_storage addr = to_sockaddr(to, len, true);
    struct {
      alignas(cmsghdr) char buf[CMSG_SPACE(sizeof(uint16_t))];
    } control{};
    msghdr h{};
    h.msg_name = &addr;
    h.msg_namelen = len;
    h.msg_iov = iov.data();
    h.msg_iovlen = e - k;
    h.msg_control = control.buf;
    h.msg_controllen = sizeof control.buf;
    cmsghdr* c = CMSG_FIRSTHDR(&h);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    const auto seg = static_cast<uint16_t>(out_[k].payload.size() - kUdpHeader);
    std::memcpy(CMSG_DATA(c), &seg, sizeof seg);
    if (::sendmsg(fd, &h, MSG_DONTWAIT) >= 0) {
      ++gso_sends_;
      gso_datagrams_ += e - k;
      return true;
    }
    switch (errno) {
      case EAGAIN:
      case ENOBUFS:
        tx_busy_ += e - k;
        return true;
      case EMSGSIZE:
        return false;
      case EINVAL:
      case EIO:
      case ENOPROTOOPT:
      case EOPNOTSUPP:
        gso_ok_ = false;  // this kernel or route does not do UDP GSO
        return false;
      default:
        tx_error_ += e - k;
        return true;
    }
  }

  // Sends batch_ (payloads with our UDP headers) to `to` through the raw socket, counting what
  // it refuses.
  void flush_raw(const Endpoint& to) {
    if (batch_.empty()) return;
    for (auto& p : batch_) vtep_.finish_checksum(p, to);
    socklen_t len = 0;
    sockaddr_storage addr = to_sockaddr(to, len, false);
    size_t errors = 0;
    const size_t sent = send_batched(
        raw_.get(), batch_, false,
        [&errors](int err) {
          if (err == EAGAIN || err == ENOBUFS) return OnSendError::kStop;
          ++errors;
          return OnSendError::kSkipFrame;
        },
        reinterpret_cast<const sockaddr*>(&addr), len);
    tx_error_ += errors;
    tx_busy_ += batch_.size() - sent - errors;
    batch_.clear();
  }

  // The UDP socket that sends flow source port `port` with GSO (the kernel's UDP layer takes
  // the source port from the socket): bound to LOCAL:port on first use, in the underlay's
  // namespace; -1 when the port is taken on this host or kGsoMaxSockets are open (the raw
  // socket sends those flows). It never receives: its filter accepts nothing.
  int gso_socket(uint16_t port) {
    if (auto it = gso_fds_.find(port); it != gso_fds_.end()) return it->second.get();
    if (gso_fds_.size() >= kGsoMaxSockets) return -1;
    UniqueFd fd;
    {
      NetnsReturn back;
      if (!enter_underlay(back)) {
        gso_fds_.emplace(port, UniqueFd());
        return -1;
      }
      Endpoint from = local_;
      from.port = port;
      auto s = bound_udp_socket(from, describe());
      if (s) fd = std::move(*s);
    }
    if (fd.get() >= 0) {
      sock_filter none[] = {{BPF_RET | BPF_K, 0, 0, 0}};
      sock_fprog prog{1, none};
      if (setsockopt(fd.get(), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) fd = {};
    }
    const int r = fd.get();
    gso_fds_.emplace(port, std::move(fd));
    return r;
  }

  static constexpr size_t kUdpHeader = 8;
  static constexpr size_t kGsoMaxSegments = kBatch;  // UDP_MAX_SEGMENTS is 64 on older kernels
  static constexpr size_t kGsoMaxBytes = 63 * 1024;  // one IP packet before segmentation
  static constexpr size_t kGsoMaxSockets = 256;

  std::string spec_;
  overlay::Vtep vtep_;
  Endpoint local_;
  bool wildcard_;  // the UDP socket is bound to the wildcard address (groups can be joined)
  UniqueFd udp_, raw_;
  UniqueFd netns_;      // the underlay's namespace (netns=PATH), for sockets opened later
  bool gso_ok_ = true;  // false once the kernel refused UDP GSO
  std::unordered_map<uint16_t, UniqueFd> gso_fds_;
  size_t last_ = 0;
  std::vector<overlay::Datagram> out_, next_, out_tail_;
  std::vector<packet::Frame> batch_, finished_;
  // Tunnel GSO (io/tunnel_tap.hh), opened on the first TCP train it can send.
  static constexpr size_t kMaxHops = 4096;
  bool tunnel_ok_ = true;
  std::unique_ptr<TunnelTap> tap_;
  std::unordered_map<uint32_t, Hop> hops_;
  uint16_t ip_id_ = 0;
  // The largest inner frame (802.1Q-tagged, as decapsulated) the underlay MTU lets through.
  size_t max_inner_ = 0;
  uint64_t super_frames_ = 0, partial_ = 0, tunnel_sends_ = 0, offload_software_ = 0,
           tx_malformed_ = 0;
  uint64_t tx_busy_ = 0, tx_error_ = 0, rx_truncated_ = 0;
  uint64_t gso_sends_ = 0, gso_datagrams_ = 0, gro_batches_ = 0, gro_datagrams_ = 0;
  uint64_t tcp_coalesced_ = 0;
};

}  // namespace

Result<std::unique_ptr<Backend>> open_vxlan(const std::string& arg) {
  auto spec = overlay::parse_vtep_spec(arg);
  if (!spec) return spec.error();
  // Payloads sent with UDP GSO get their checksums from the kernel; the raw socket's are
  // computed just before they are sent (flush_raw).
  spec->config.checksum_later = true;
  auto vtep = overlay::make_vtep(*spec);
  if (!vtep) return make_error(vtep.error().code, "vxlan:{}: {}", arg, vtep.error().message);
  const Endpoint& local = spec->local;
  const std::string what = "vxlan:" + arg;
  // netns=PATH: a socket belongs to the namespace its creating thread is in; this thread enters
  // PATH while the sockets are made and set up, and comes back on every way out. The backend
  // keeps PATH open for the GSO sockets it opens later.
  NetnsReturn back;
  UniqueFd there;
  if (!spec->netns.empty()) {
    UniqueFd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    there = UniqueFd(::open(spec->netns.c_str(), O_RDONLY | O_CLOEXEC));
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
  // UDP GRO: a train of datagrams sent with UDP GSO (over a veth) or coalesced by the NIC's
  // GRO arrives as one buffer with its segment size; without it the kernel segments it first.
  int on = 1;
  setsockopt(udp->get(), SOL_UDP, UDP_GRO, &on, sizeof on);
  for (const auto& [vni, e] : spec->floods) {
    if (!e.is_multicast()) continue;
    if (auto st = membership(udp->get(), local, e, true); !st) {
      return make_error(st.error().code, "{}: {}", what, st.error().message);
    }
  }
  return std::unique_ptr<Backend>(std::make_unique<VxlanBackend>(
      arg, std::move(*vtep), local, wildcard, std::move(*udp), std::move(raw), std::move(there)));
}

}  // namespace vnet::io
