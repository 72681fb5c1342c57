// afpacket: raw frames on a Linux interface (typically the switch's end of a veth pair).
//
// Receive: a TPACKET_V3 ring (Linux Documentation/networking/packet_mmap.rst): blocks of 128 KiB
// handed over by the kernel when full or after 1 ms; each packet is copied into a Frame. With
// PACKET_VNET_HDR each packet is preceded by a struct virtio_net_hdr, so GSO super-frames and
// CHECKSUM_PARTIAL packets from the host's stack pass through intact. The kernel strips the
// 802.1Q tag into tp_vlan_tci (TP_STATUS_VLAN_VALID); we put it back in front of the payload.
// Send: sendmmsg() of [virtio_net_hdr, frame] per message, non-blocking; frames the socket does
// not take are dropped (the caller counts them). PACKET_IGNORE_OUTGOING keeps our own
// transmissions out of the ring, PACKET_QDISC_BYPASS skips the qdisc.

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <cstring>

#include "base/byte_io.hh"
#include "base/fd.hh"
#include "io/backend.hh"
#include "io/send_batch.hh"
#include "io/vnet_hdr.hh"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

namespace vnet::io {
namespace {

constexpr unsigned kBlockSize = 1u << 17;  // holds a 64 KiB GSO frame
constexpr unsigned kBlockCount = 32;
constexpr unsigned kFrameSize = 2048;

class AfPacketBackend final : public Backend {
 public:
  AfPacketBackend(std::string ifname, UniqueFd fd, uint8_t* ring)
      : ifname_(std::move(ifname)), fd_(std::move(fd)), ring_(ring) {}
  ~AfPacketBackend() override {
    if (ring_) munmap(ring_, size_t{kBlockSize} * kBlockCount);
  }
  std::vector<int> fds() const override { return {fd_.get()}; }
  bool vnet_hdr() const override { return true; }
  bool closed() const override { return dead_; }
  std::string kind() const override { return "afpacket"; }
  std::string describe() const override { return "afpacket:" + ifname_; }

  size_t receive(std::vector<packet::Frame>& out, size_t max) override {
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
      block_ = (block_ + 1) % kBlockCount;
    }
    return n;
  }

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
  void take(const tpacket3_hdr* h, const uint8_t* data, std::vector<packet::Frame>& out) {
    const auto* vh = reinterpret_cast<const virtio_net_hdr*>(data - sizeof(virtio_net_hdr));
    size_t len = h->tp_snaplen;
    bool tagged = (h->tp_status & TP_STATUS_VLAN_VALID) && len >= 12;
    packet::Frame f = packet::Frame::make(len + (tagged ? 4 : 0));
    f.offload = from_vnet_hdr(*vh);
    if (tagged) {
      uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ? h->hv1.tp_vlan_tpid : 0x8100;
      std::memcpy(f.data(), data, 12);
      store_be16(f.data() + 12, tpid);
      store_be16(f.data() + 14, static_cast<uint16_t>(h->hv1.tp_vlan_tci));
      std::memcpy(f.data() + 16, data + 12, len - 12);
      if (f.offload.flags & packet::OffloadInfo::kNeedsCsum) f.offload.csum_start += 4;
    } else {
      std::memcpy(f.data(), data, len);
    }
    out.push_back(std::move(f));
  }

  std::string ifname_;
  UniqueFd fd_;
  uint8_t* ring_;
  unsigned block_ = 0;
  bool dead_ = false;
};

}  // namespace

Result<std::unique_ptr<Backend>> open_afpacket(const std::string& ifname) {
  unsigned ifindex = if_nametoindex(ifname.c_str());
  if (ifindex == 0)
    return make_error(ENODEV, "afpacket:{}: no such interface in this namespace", ifname);
  UniqueFd fd(socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return system_error("afpacket:" + ifname + ": socket(AF_PACKET)");
  int one = 1, v3 = TPACKET_V3;
  if (setsockopt(fd.get(), SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) < 0) {
    return system_error("afpacket:" + ifname + ": PACKET_VNET_HDR");
  }
  if (setsockopt(fd.get(), SOL_PACKET, PACKET_VERSION, &v3, sizeof v3) < 0) {
    return system_error("afpacket:" + ifname + ": PACKET_VERSION");
  }
  setsockopt(fd.get(), SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  setsockopt(fd.get(), SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
  int sndbuf = 4 << 20;
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  tpacket_req3 req{};
  req.tp_block_size = kBlockSize;
  req.tp_block_nr = kBlockCount;
  req.tp_frame_size = kFrameSize;
  req.tp_frame_nr = kBlockSize / kFrameSize * kBlockCount;
  req.tp_retire_blk_tov = 1;  // ms
  if (setsockopt(fd.get(), SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) {
    return system_error("afpacket:" + ifname + ": PACKET_RX_RING");
  }
  void* ring = mmap(nullptr, size_t{kBlockSize} * kBlockCount, PROT_READ | PROT_WRITE,
                    MAP_SHARED | MAP_LOCKED, fd.get(), 0);
  if (ring == MAP_FAILED) {
    ring = mmap(nullptr, size_t{kBlockSize} * kBlockCount, PROT_READ | PROT_WRITE, MAP_SHARED,
                fd.get(), 0);
  }
  if (ring == MAP_FAILED) return system_error("afpacket:" + ifname + ": mmap ring");
  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = static_cast<int>(ifindex);
  auto backend =
      std::make_unique<AfPacketBackend>(ifname, std::move(fd), static_cast<uint8_t*>(ring));
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

}  // namespace vnet::io
