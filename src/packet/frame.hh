#pragma once
// Frame: one Ethernet frame (no FCS) in a pooled buffer with headroom.
//
// Shape: [headroom | data ... | tailroom]. push_front() grows into the headroom, so an 802.1Q tag,
// a stream length prefix or a VXLAN header is added without copying the payload. Frames are
// move-only; copies are explicit (clone(), e.g. when flooding).
//
// Memory: every buffer comes from the calling thread's FramePool, in one of a few size classes
// (2 KiB for ordinary frames, 16 KiB for jumbo datagrams, 72 KiB for a 64 KiB GSO super-frame or a
// QEMU stream frame with its headers), and goes back to the pool of the thread that frees it. A
// backend receives straight into a frame of the largest size it can get (Frame::make, then
// resize() to what arrived); whoever keeps frames for a while (an egress stage that delays, a
// stream backend's queue) calls shrink_to_fit() so a 60-byte frame does not hold 72 KiB.
// In steady state the datapath does not touch the heap.
//
// `offload` carries the virtio-net header (virtio spec v1.1 §5.1.6) of frames from backends that
// speak it (afpacket PACKET_VNET_HDR, tap IFF_VNET_HDR): a TCP segment up to 64 KiB with its
// checksum still to be completed. Offsets in it are relative to the start of the frame, so
// tag push/pop adjusts them.
// `meta` is a few bytes for the dataplane's own use (e.g. the VXLAN network identifier and the
// tunnel endpoint a frame came from or goes to); clone() copies it, the wire never sees it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

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

// Per-frame metadata that travels with a frame inside one dataplane (8 bytes).
struct FrameMeta {
  uint32_t vni = 0;       // VXLAN Network Identifier (RFC 7348 §5, 24 bits); 0 = none
  uint16_t endpoint = 0;  // index of a tunnel endpoint in its owner's table; 0 = none
  uint8_t cables = 0;     // in-process cables crossed (kept while an egress stage holds it)
  uint8_t flags = 0;      // owner-defined
  friend bool operator==(const FrameMeta&, const FrameMeta&) = default;
};

class Frame {
 public:
  static constexpr size_t kHeadroom = 64;
  static constexpr size_t kStandardCapacity = 2048;  // headroom + 1518-byte tagged frame + slack
  static constexpr size_t kMaxFrame = 65535 + 18;    // GSO super-frame incl. Ethernet + tag

  Frame() = default;
  // A frame of `size` bytes (uninitialised) with the standard headroom, from this thread's pool.
  // Sizes above the largest class come from the heap (and go back to it).
  static Frame make(size_t size);
  static Frame copy_of(std::span<const uint8_t> bytes);
  Frame(Frame&& o) noexcept
      : offload(o.offload), meta(o.meta), buf_(o.buf_), cap_(o.cap_), off_(o.off_), len_(o.len_) {
    o.buf_ = nullptr;
    o.cap_ = o.off_ = o.len_ = 0;
  }
  Frame& operator=(Frame&& o) noexcept {
    if (this != &o) {
      if (buf_) release(buf_, cap_);
      offload = o.offload;
      meta = o.meta;
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
  ~Frame() {
    if (buf_) release(buf_, cap_);
  }

  Frame clone() const;  // data, offload and meta; the copy's buffer fits its size
  bool empty() const { return len_ == 0; }
  size_t size() const { return len_; }
  uint8_t* data() { return buf_ + off_; }
  const uint8_t* data() const { return buf_ + off_; }
  std::span<uint8_t> bytes() { return {data(), len_}; }
  std::span<const uint8_t> bytes() const { return {data(), len_}; }
  size_t headroom() const { return off_; }
  size_t tailroom() const { return cap_ - off_ - len_; }
  size_t capacity() const { return cap_; }

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
  // Moves the data into the smallest pooled buffer that holds it with the standard headroom, if
  // that is smaller than the current one (one copy of size() bytes). Returns true if it moved.
  bool shrink_to_fit();

  OffloadInfo offload;
  FrameMeta meta;

 private:
  friend class FramePool;
  static void release(uint8_t* buf, uint32_t cap);
  uint8_t* buf_ = nullptr;
  uint32_t cap_ = 0;
  uint32_t off_ = 0;
  uint32_t len_ = 0;
};

// FrameQueue: a FIFO of frames in a ring that grows (doubling) up to `limit` frames and never
// shrinks, so a warm queue moves frames without touching the heap (std::deque allocates and
// frees a block every few frames).
class FrameQueue {
 public:
  explicit FrameQueue(size_t limit) : limit_(limit) {}
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  bool full() const { return count_ >= limit_; }
  size_t limit() const { return limit_; }
  // Appends f; false (f untouched) when the queue holds `limit` frames.
  bool push(Frame&& f);
  Frame& front() { return ring_[head_]; }
  Frame& operator[](size_t i) { return ring_[(head_ + i) & (ring_.size() - 1)]; }
  Frame pop() {
    Frame f = std::move(ring_[head_]);
    head_ = (head_ + 1) & (ring_.size() - 1);
    --count_;
    return f;
  }
  void clear() {
    while (count_ > 0) pop();
  }

 private:
  size_t limit_;
  std::vector<Frame> ring_;  // size 0 or a power of two
  size_t head_ = 0, count_ = 0;
};

// FramePool: the buffers of one thread's frames, by size class. A buffer freed on a thread goes
// to that thread's free list for its class (LIFO, so the next frame reuses warm memory), up to
// the class's limit; past it, and for sizes above the largest class, to the heap. An empty free
// list is refilled with a few buffers at a time. trim() returns to the heap the buffers that sat
// unused since the previous trim() (each class's low-water mark of free buffers), so a pool that
// served a burst shrinks back within two trims of going idle; the dataplane calls it from a timer
// that is armed only while the pool retains buffers.
// Not thread-safe: one pool per thread (local()).
class FramePool {
 public:
  static constexpr std::array<uint32_t, 3> kClasses = {2048, 16384, 73728};
  static constexpr size_t kRefill = 8;  // buffers allocated at once when a free list is empty

  struct ClassStats {
    uint32_t capacity = 0;     // bytes per buffer
    size_t free = 0;           // buffers in the free list
    size_t outstanding = 0;    // buffers held by live frames
    size_t limit = 0;          // most buffers the free list keeps
    uint64_t heap_allocs = 0;  // buffers allocated from the heap (refills)
    uint64_t heap_frees = 0;   // buffers returned to the heap (over the limit, trim)
    uint64_t reused = 0;       // frames served from the free list
  };

  static FramePool& local();

  ClassStats stats(size_t cls) const;
  size_t retained_bytes() const { return retained_bytes_; }  // free-list memory, all classes
  uint64_t oversize_allocs() const { return oversize_allocs_; }
  // Index of the class a buffer of `capacity` bytes is served from, or kClasses.size() if none.
  static size_t class_for(size_t capacity);
  void set_limit(size_t cls, size_t limit);
  // Frees the buffers no frame needed since the previous trim(); returns how many.
  size_t trim();
  // Frees every free buffer (tests, idle threads).
  void clear();
  ~FramePool();

 private:
  friend class Frame;
  FramePool();
  struct Class {
    std::vector<uint8_t*> free;
    size_t limit = 0;
    size_t low_water = 0;  // fewest free buffers since the last trim
    size_t outstanding = 0;
    uint64_t heap_allocs = 0, heap_frees = 0, reused = 0;
  };
  uint8_t* acquire(size_t cls);
  void put(uint8_t* buf, size_t cls);
  void free_buffers(Class& c, size_t cls, size_t n);
  std::array<Class, kClasses.size()> classes_;
  size_t retained_bytes_ = 0;
  uint64_t oversize_allocs_ = 0;
};

}  // namespace vnet::packet
