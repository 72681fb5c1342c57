// afpacket: raw frames on a Linux interface (typically the switch's end of a veth pair), through
// an AF_PACKET socket with PACKET_VNET_HDR (Linux Documentation/networking/packet_mmap.rst,
// net/packet/af_packet.c): each packet is preceded by a struct virtio_net_hdr, so GSO
// super-frames and CHECKSUM_PARTIAL packets from the host's stack pass through intact.
//
// Receive, two ways:
//  - socket (the default): recvmmsg() straight into pooled frames, the virtio-net header in the
//    headroom. The kernel queues packets on the socket only while they wait, so an idle port
//    holds no packet memory and the kernel runs no timer for it. The 802.1Q tag the kernel took
//    off (PACKET_AUXDATA, TP_STATUS_VLAN_VALID) is put back in front of the payload.
//  - ring (`afpacket:IF,ring`): a TPACKET_V3 ring of kRingBlocks blocks of 128 KiB (one holds a
//    64 KiB GSO frame); each packet is copied from the ring into a Frame. The kernel hands a block
//    over when it is full or after kRingRetireMs, and runs that retire timer for as long as the
//    ring exists, idle or not: a ring costs its blocks (locked) and a timer, for a port that
//    needs to absorb longer bursts than a socket buffer does.
// Send: sendmmsg() of [virtio_net_hdr, frame] per message, non-blocking; frames the socket does
// not take are dropped (the caller counts them). When the interface is deleted the backend
// closes (the port goes inactive); when it is only down, it waits for it to come back.
// PACKET_IGNORE_OUTGOING keeps our own transmissions out of the receive path, PACKET_QDISC_BYPASS
// skips the qdisc.
// `afpacket:IF,netns=PATH`: the interface of another network namespace (a file such as
// /proc/PID/ns/net or /run/netns/NAME). The socket is made there (setns(2) for the time of the
// open, then back), so the switch reaches a host's NIC without moving it out of its namespace;
// such a port does not follow the interface's carrier (the link monitor watches the switch's own
// namespace).

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "base/byte_io.hh"
#include "base/fd.hh"
#include "base/log.hh"
#include "io/backend.hh"
#include "io/send_batch.hh"
#include "io/vnet_hdr.hh"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

namespace vnet::io {
namespace {

constexpr unsigned kBlockSize = 1u << 17;  // holds a 64 KiB GSO frame
constexpr unsigned kRingBlocks = 32;
constexpr unsigned kRingFrameSize = 2048;
constexpr unsigned kRingRetireMs = 1;
constexpr int kSocketRcvBuf = 4 << 20;  // bytes the kernel may queue while we are busy
// A received packet may use all of the largest pooled buffer after the headroom.
constexpr size_t kRoom = packet::FramePool::kClasses.back() - packet::Frame::kHeadroom;

// Puts an 802.1Q tag the kernel stripped back at offset 12 (and moves the checksum offset).
void insert_tag(packet::Frame& f, uint16_t tpid, uint16_t tci) {
  if (f.size() < 12) return;
  uint8_t* d = f.push_front(4);
  if (!d) return;  // pooled frames always have the headroom
  std::memmove(d, d + 4, 12);
  store_be16(d + 12, tpid);
  store_be16(d + 14, tci);
  if (f.offload.flags & packet::OffloadInfo::kNeedsCsum) f.offload.csum_start += 4;
}

class AfPacketBackend final : public Backend {
 public:
  AfPacketBackend(std::string ifname, unsigned ifindex, UniqueFd fd, uint8_t* ring,
                  std::string netns)
      : ifname_(std::move(ifname)),
        ifindex_(ifindex),
        fd_(std::move(fd)),
        ring_(ring),
        netns_(std::move(netns)) {}
  ~AfPacketBackend() override {
    if (ring_) munmap(ring_, size_t{kBlockSize} * kRingBlocks);
  }
  std::vector<int> fds() const override { return {fd_.get()}; }
  bool vnet_hdr() const override { return true; }
  int link_ifindex() const override { return netns_.empty() ? static_cast<int>(ifindex_) : 0; }
  bool closed() const override { return dead_; }
  std::string kind() const override { return "afpacket"; }
  std::string describe() const override {
    return "afpacket:" + ifname_ + (ring_ ? ",ring" : "") +
           (netns_.empty() ? "" : ",netns=" + netns_);
  }
  // drop_queue_full: frames the kernel dropped because this socket's receive queue (its buffer,
  // or the ring) was full while the switch was busy (PACKET_STATISTICS tp_drops, which the
  // kernel resets on each read, so they are added up here); drop_truncated: frames longer than
  // the largest pooled buffer.
  std::vector<std::pair<std::string, uint64_t>> counters() const override {
    tpacket_stats_v3 st{};
    socklen_t len = ring_ ? sizeof st : sizeof(tpacket_stats);
    if (getsockopt(fd_.get(), SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
      queue_full_ += st.tp_drops;
    }
    return {{"drop_queue_full", queue_full_}, {"drop_truncated", truncated_}};
  }

  size_t receive(std::vector<packet::Frame>& out, size_t max) override {
    arrival_.reset();
    to_mono_.reset();  // the clocks are read once per call, at its first timestamp
    return ring_ ? receive_ring(out, max) : receive_socket(out, max);
  }
  // Socket mode asks for SO_TIMESTAMPNS; a ring's frames carry their timestamps anyway.
  void set_timestamps(bool on) override {
    if (on == timestamps_) return;
    int v = on ? 1 : 0;
    if (ring_ || setsockopt(fd_.get(), SOL_SOCKET, SO_TIMESTAMPNS, &v, sizeof v) == 0) {
      timestamps_ = on;
    }
  }
  std::optional<TimePoint> arrival() const override { return arrival_; }

  size_t send(std::span<packet::Frame> frames) override {
    return send_batched(fd_.get(), frames, true, [this](int err) {
      if (err == EAGAIN || err == ENOBUFS) return OnSendError::kStop;
      if (err == ENXIO || err == ENODEV) {
        dead_ = true;
        return OnSendError::kStop;
      }
      return OnSendError::kSkipFrame;  // this frame was refused (ENETDOWN, EMSGSIZE, EINVAL)
    });
  }

 private:
  size_t receive_socket(std::vector<packet::Frame>& out, size_t max) {
    struct Control {
      alignas(
          cmsghdr) uint8_t buf[CMSG_SPACE(sizeof(tpacket_auxdata)) + CMSG_SPACE(sizeof(timespec))];
    };
    std::array<Control, kBatch> ctl;
    size_t n = 0;
    int r = recv_batched(
        fd_.get(), std::min(max, next_batch(last_)), kRoom,
        [&](size_t i, msghdr& h) {
          h.msg_control = ctl[i].buf;
          h.msg_controllen = sizeof ctl[i].buf;
        },
        [&](size_t, packet::Frame&& f, const msghdr& h) {
          if ((h.msg_flags & MSG_TRUNC) || f.size() < sizeof(virtio_net_hdr)) {
            ++truncated_;
            return;
          }
          virtio_net_hdr vh;
          std::memcpy(&vh, f.data(), sizeof vh);
          f.pull_front(sizeof vh);
          f.offload = from_vnet_hdr(vh);
          auto* m = const_cast<msghdr*>(&h);
          for (cmsghdr* c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
              timespec ts{};
              std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
              arrived(ts);
              continue;
            }
            if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA) continue;
            tpacket_auxdata aux;
            std::memcpy(&aux, CMSG_DATA(c), sizeof aux);
            if (aux.tp_status & TP_STATUS_VLAN_VALID) {
              uint16_t tpid =
                  (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ? aux.tp_vlan_tpid : 0x8100;
              insert_tag(f, tpid, aux.tp_vlan_tci);
            }
          }
          out.push_back(std::move(f));
          ++n;
        });
    if (r < 0) on_socket_error(errno);
    last_ = r > 0 ? static_cast<size_t>(r) : 0;
    return n;
  }

  size_t receive_ring(std::vector<packet::Frame>& out, size_t max) {
    size_t n = 0;
    while (n < max) {
      auto* desc = reinterpret_cast<tpacket_block_desc*>(ring_ + size_t{block_} * kBlockSize);
      if (!(desc->hdr.bh1.block_status & TP_STATUS_USER)) break;
      uint32_t count = desc->hdr.bh1.num_pkts;
      uint8_t* p = reinterpret_cast<uint8_t*>(desc) + desc->hdr.bh1.offset_to_first_pkt;
      for (uint32_t i = 0; i < count; ++i) {
        auto* h = reinterpret_cast<tpacket3_hdr*>(p);
        take(h, reinterpret_cast<uint8_t*>(h) + h->tp_mac, out);
        ++n;
        p += h->tp_next_offset;
      }
      __atomic_store_n(&desc->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
      block_ = (block_ + 1) % kRingBlocks;
    }
    if (n == 0) {
      // Woken with no block ready: a socket error (the interface went down or away) keeps the
      // descriptor readable until it is read, and only this clears it.
      int err = 0;
      socklen_t len = sizeof err;
      if (getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err) on_socket_error(err);
    }
    return n;
  }

  // The kernel reports ENETDOWN both when the interface goes down (not fatal: it may come up
  // again) and when it is deleted (net/packet/af_packet.c packet_notifier); only the index
  // tells them apart.
  void on_socket_error(int err) {
    char name[IF_NAMESIZE];
    if (err == ENODEV || err == ENXIO || (err == ENETDOWN && !if_indextoname(ifindex_, name))) {
      dead_ = true;
    }
  }

  // A frame's kernel receive timestamp: arrival_ keeps the earliest of the call.
  void arrived(const timespec& ts) {
    if (!timestamps_) return;
    if (!to_mono_) to_mono_.emplace();
    auto at = (*to_mono_)(ts);
    if (at && (!arrival_ || *at < *arrival_)) arrival_ = at;
  }

  // One packet from the ring into a pooled frame (the one copy the ring forces).
  void take(const tpacket3_hdr* h, const uint8_t* data, std::vector<packet::Frame>& out) {
    arrived(timespec{static_cast<time_t>(h->tp_sec), static_cast<long>(h->tp_nsec)});
    const auto* vh = reinterpret_cast<const virtio_net_hdr*>(data - sizeof(virtio_net_hdr));
    packet::Frame f = packet::Frame::copy_of({data, h->tp_snaplen});
    f.offload = from_vnet_hdr(*vh);
    if (h->tp_status & TP_STATUS_VLAN_VALID) {
      uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ? h->hv1.tp_vlan_tpid : 0x8100;
      insert_tag(f, tpid, static_cast<uint16_t>(h->hv1.tp_vlan_tci));
    }
    out.push_back(std::move(f));
  }

  std::string ifname_;
  unsigned ifindex_;
  UniqueFd fd_;
  uint8_t* ring_;      // nullptr: socket mode
  std::string netns_;  // a namespace other than the switch's (netns=PATH), or empty
  unsigned block_ = 0;
  size_t last_ = 0;  // datagrams the last recvmmsg found
  bool dead_ = false;
  mutable uint64_t queue_full_ = 0;  // see counters()
  uint64_t truncated_ = 0;
  bool timestamps_ = false;  // set_timestamps(); a ring has them regardless
  std::optional<RealtimeToMonotonic> to_mono_;
  std::optional<TimePoint> arrival_;
};

// Sets up the TPACKET_V3 receive ring and maps it.
Result<uint8_t*> map_ring(int fd, const std::string& ifname) {
  tpacket_req3 req{};
  req.tp_block_size = kBlockSize;
  req.tp_block_nr = kRingBlocks;
  req.tp_frame_size = kRingFrameSize;
  req.tp_frame_nr = kBlockSize / kRingFrameSize * kRingBlocks;
  req.tp_retire_blk_tov = kRingRetireMs;
  if (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) {
    return system_error("afpacket:" + ifname + ": PACKET_RX_RING");
  }
  size_t size = size_t{kBlockSize} * kRingBlocks;
  void* ring = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, fd, 0);
  if (ring == MAP_FAILED) ring = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (ring == MAP_FAILED) return system_error("afpacket:" + ifname + ": mmap ring");
  return static_cast<uint8_t*>(ring);
}

// The socket on ifname, in the calling thread's network namespace. `foreign`: that is not the
// switch's own namespace, so the port does not follow the interface's carrier (the link monitor
// watches the switch's namespace, where the index names another interface or none).
Result<std::unique_ptr<Backend>> open_socket(const std::string& ifname, bool with_ring,
                                             const std::string& foreign) {
  unsigned ifindex = if_nametoindex(ifname.c_str());
  if (ifindex == 0)
    return make_error(ENODEV, "afpacket:{}: no such interface in {}", ifname,
                      foreign.empty() ? "this namespace" : "network namespace " + foreign);
  UniqueFd fd(socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return system_error("afpacket:" + ifname + ": socket(AF_PACKET)");
  int one = 1, v3 = TPACKET_V3;
  if (setsockopt(fd.get(), SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) < 0) {
    return system_error("afpacket:" + ifname + ": PACKET_VNET_HDR");
  }
  setsockopt(fd.get(), SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  setsockopt(fd.get(), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
  int sndbuf = 4 << 20;
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  uint8_t* ring = nullptr;
  if (with_ring) {
    if (setsockopt(fd.get(), SOL_PACKET, PACKET_VERSION, &v3, sizeof v3) < 0) {
      return system_error("afpacket:" + ifname + ": PACKET_VERSION");
    }
    auto r = map_ring(fd.get(), ifname);
    if (!r) return r.error();
    ring = *r;
  } else {
    if (setsockopt(fd.get(), SOL_PACKET, PACKET_AUXDATA, &one, sizeof one) < 0) {
      return system_error("afpacket:" + ifname + ": PACKET_AUXDATA");
    }
    int rcvbuf = kSocketRcvBuf;  // FORCE: past rmem_max (we are root, or the call just fails)
    if (setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0) {
      setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    }
  }
  auto backend = std::make_unique<AfPacketBackend>(ifname, ifindex, std::move(fd), ring, foreign);
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = static_cast<int>(ifindex);
  int sfd = backend->fds()[0];
  if (bind(sfd, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) {
    return system_error("afpacket:" + ifname + ": bind");
  }
  packet_mreq mr{};
  mr.mr_ifindex = static_cast<int>(ifindex);
  mr.mr_type = PACKET_MR_PROMISC;
  setsockopt(sfd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr);
  return std::unique_ptr<Backend>(std::move(backend));
}

// Runs fn in the network namespace at path (setns(2) on this thread), then returns to the
// thread's own. The socket fn opens stays in the namespace it was made in.
template <typename Fn>
auto in_netns(const std::string& path, const std::string& what, Fn fn) -> decltype(fn()) {
  UniqueFd target(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!target.valid()) return system_error(what + ": open network namespace " + path);
  UniqueFd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!home.valid()) return system_error(what + ": open /proc/thread-self/ns/net");
  if (::setns(target.get(), CLONE_NEWNET) < 0)
    return system_error(what + ": enter network namespace " + path);
  auto r = fn();
  if (::setns(home.get(), CLONE_NEWNET) < 0) {
    // Staying in the other namespace would move every later socket of this process there.
    log::error("{}: cannot return to the switch's network namespace: {}", what,
               std::strerror(errno));
    std::abort();
  }
  return r;
}

}  // namespace

Result<std::unique_ptr<Backend>> open_afpacket(const std::string& arg) {
  std::string ifname = arg.substr(0, arg.find(','));
  bool with_ring = false;
  std::string netns;
  for (size_t at = arg.find(','); at != std::string::npos;) {
    size_t next = arg.find(',', at + 1);
    std::string opt = arg.substr(at + 1, next == std::string::npos ? next : next - at - 1);
    at = next;
    if (opt == "ring") {
      with_ring = true;
    } else if (opt.rfind("netns=", 0) == 0 && opt.size() > 6 && opt[6] == '/') {
      netns = opt.substr(6);
    } else {
      return make_error(
          EINVAL, "afpacket:{}: unknown option '{}' (expected 'ring' or 'netns=/PATH')", arg, opt);
    }
  }
  if (!netns.empty()) {
    return in_netns(netns, "afpacket:" + arg,
                    [&] { return open_socket(ifname, with_ring, netns); });
  }
  return open_socket(ifname, with_ring, "");
}

}  // namespace vnet::io
