#pragma once
// Frame: one Ethernet frame (no FCS) in a pooled buffer with headroom.
//
// Shape: [headroom | data ... | tailroom]. push_front() grows into the headroom, so an 802.1Q tag
// or a VXLAN header is added without copying the payload. Frames are move-only; copies are explicit
// (clone(), e.g. when flooding). Buffers of the standard capacity return to a per-thread pool when
// a frame dies, so the steady-state datapath does not allocate.
//
// `offload` carries the virtio-net header (virtio spec v1.1 §5.1.6) of frames from backends that
// speak it (afpacket PACKET_VNET_HDR, tap IFF_VNET_HDR): a TCP segment up to 64 KiB with its
// checksum still to be completed. Offsets in it are relative to the start of the frame, so
// tag push/pop adjusts them.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace vnet::packet {

struct OffloadInfo {
  // virtio_net_hdr, host order. flags: 1 = NEEDS_CSUM, 2 = DATA_VALID. gso_type: 0 none,
  // 1 TCPv4, 3 UDP, 4 TCPv6, 0x80 ECN.
  uint8_t flags = 0;
  uint8_t gso_type = 0;
  uint16_t hdr_len = 0;
  uint16_t gso_size = 0;
  uint16_t csum_start = 0;
  uint16_t csum_offset = 0;
  static constexpr uint8_t kNeedsCsum = 1;
  static constexpr uint8_t kGsoNone = 0;
  bool any() const { return flags != 0 || gso_type != 0; }
  friend bool operator==(const OffloadInfo&, const OffloadInfo&) = default;
};

class Frame {
 public:
  static constexpr size_t kHeadroom = 64;
  static constexpr size_t kStandardCapacity = 2048;  // headroom + 1518-byte tagged frame + slack
  static constexpr size_t kMaxFrame = 65535 + 18;    // GSO super-frame incl. Ethernet + tag

  Frame() = default;
  // A frame of `size` bytes (uninitialised) with the standard headroom.
  static Frame make(size_t size);
  static Frame copy_of(std::span<const uint8_t> bytes);
  Frame(Frame&& o) noexcept
      : offload(o.offload), buf_(o.buf_), cap_(o.cap_), off_(o.off_), len_(o.len_) {
    o.buf_ = nullptr;
    o.cap_ = o.off_ = o.len_ = 0;
  }
  Frame& operator=(Frame&& o) noexcept {
    if (this != &o) {
      release(buf_, cap_);
      offload = o.offload;
      buf_ = o.buf_;
      cap_ = o.cap_;
      off_ = o.off_;
      len_ = o.len_;
      o.buf_ = nullptr;
      o.cap_ = o.off_ = o.len_ = 0;
    }
    return *this;
  }
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;
  ~Frame() { release(buf_, cap_); }

  Frame clone() const;
  bool empty() const { return len_ == 0; }
  size_t size() const { return len_; }
  uint8_t* data() { return buf_ + off_; }
  const uint8_t* data() const { return buf_ + off_; }
  std::span<uint8_t> bytes() { return {data(), len_}; }
  std::span<const uint8_t> bytes() const { return {data(), len_}; }
  size_t headroom() const { return off_; }
  size_t tailroom() const { return cap_ - off_ - len_; }

  // Prepend n bytes (must fit in headroom; returns nullptr otherwise).
  uint8_t* push_front(size_t n) {
    if (n > off_) return nullptr;
    off_ -= static_cast<uint32_t>(n);
    len_ += static_cast<uint32_t>(n);
    return data();
  }
  void pull_front(size_t n) {
    if (n > len_) n = len_;
    off_ += static_cast<uint32_t>(n);
    len_ -= static_cast<uint32_t>(n);
  }
  // Change the length within capacity (returns false if it does not fit).
  bool resize(size_t n) {
    if (off_ + n > cap_) return false;
    len_ = static_cast<uint32_t>(n);
    return true;
  }

  OffloadInfo offload;

 private:
  // Returns a buffer to the per-thread pool (standard capacity) or frees it.
  static void release(uint8_t* buf, uint32_t cap) {
    if (buf) recycle(buf, cap);
  }
  static void recycle(uint8_t* buf, uint32_t cap);
  uint8_t* buf_ = nullptr;
  uint32_t cap_ = 0;
  uint32_t off_ = 0;
  uint32_t len_ = 0;
};

}  // namespace vnet::packet
