// tap: a Linux TAP device (Documentation/networking/tuntap.rst) opened with IFF_TAP|IFF_NO_PI and
// IFF_VNET_HDR, offloads enabled with TUNSETOFFLOAD so the kernel hands us (and takes from us)
// TCP segments up to 64 KiB with partial checksums. Non-blocking reads and writes; a write that
// would block drops the frame. Reads go straight into pooled frames big enough for a GSO
// super-frame: the virtio-net header lands in the headroom and is pulled off, no copy.
// set_carrier() is TUNSETCARRIER: `port/link N down` makes the device NO-CARRIER on the node's
// side, as pulling a cable would.

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <liburing.h>
#include <linux/fs.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "base/fd.hh"
#include "base/log.hh"
#include "io/backend.hh"
#include "io/vnet_hdr.hh"

namespace vnet::io {
namespace {

// Reads and writes go through an io_uring when the kernel allows one: a batch of reads (as many
// as the last batch found, doubled, 4..kMaxReads) and all of a batch's writes are issued with
// one io_uring_enter instead of one syscall per frame. Reads carry RWF_NOWAIT, so one with
// nothing waiting completes at once with -EAGAIN; SQEs of one submission are issued in order,
// which keeps frames in order. Without io_uring: read(2)/write(2), one frame per call.
class TapBackend final : public Backend {
 public:
  static constexpr unsigned kMaxReads = 32;
  static constexpr size_t kBuf = sizeof(virtio_net_hdr) + packet::Frame::kMaxFrame;

  TapBackend(std::string name, UniqueFd fd) : name_(std::move(name)), fd_(std::move(fd)) {}
  ~TapBackend() override {
    if (uring_) io_uring_queue_exit(&ring_);
  }
  std::vector<int> fds() const override { return {fd_.get()}; }
  bool vnet_hdr() const override { return true; }
  bool closed() const override { return dead_; }
  std::string kind() const override { return "tap"; }
  std::string describe() const override { return "tap:" + name_; }
  bool set_carrier(bool up) override {
    int on = up ? 1 : 0;
    if (ioctl(fd_.get(), TUNSETCARRIER, &on) < 0) {
      log::warn("tap:{}: TUNSETCARRIER: {}", name_, std::strerror(errno));
      return false;
    }
    return true;
  }

  size_t receive(std::vector<packet::Frame>& out, size_t max) override {
    if (!ring_ready()) return receive_plain(out, max);
    unsigned want = std::clamp<unsigned>(2 * last_batch_, 4, kMaxReads);
    want = std::min<unsigned>(want, static_cast<unsigned>(max));
    std::array<packet::Frame, kMaxReads> frames;
    for (unsigned i = 0; i < want; ++i) {
      frames[i] = packet::Frame::make(kBuf);
      io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
      io_uring_prep_read(sqe, 0, frames[i].data(), kBuf, 0);
      sqe->rw_flags = RWF_NOWAIT;  // io_uring would otherwise wait for data despite O_NONBLOCK
      sqe->flags |= IOSQE_FIXED_FILE;
      io_uring_sqe_set_data64(sqe, i);
    }
    std::array<int, kMaxReads> res{};
    if (!complete(want, res.data())) return receive_plain(out, max);
    size_t n = 0;
    for (unsigned i = 0; i < want; ++i) {
      if (res[i] < 0) {
        if (res[i] == -EBADFD) dead_ = true;  // EIO: down (e.g. moving namespace); EAGAIN: empty
        continue;
      }
      if (add_frame(out, std::move(frames[i]), static_cast<size_t>(res[i]))) ++n;
    }
    last_batch_ = static_cast<unsigned>(n);
    return n;  // the frames not filled go back to the pool
  }

  size_t send(std::span<packet::Frame> frames) override {
    if (!ring_ready()) return send_plain(frames);
    size_t n = 0;
    while (!frames.empty()) {
      unsigned k = static_cast<unsigned>(std::min<size_t>(frames.size(), kMaxReads));
      std::array<virtio_net_hdr, kMaxReads> hdrs;
      std::array<iovec, 2 * kMaxReads> iov;
      std::array<bool, kMaxReads> pushed{};
      for (unsigned i = 0; i < k; ++i) {
        packet::Frame& f = frames[i];
        hdrs[i] = to_vnet_hdr(f.offload);
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        if (uint8_t* p = f.push_front(sizeof(virtio_net_hdr))) {
          // The header in the frame's headroom: one contiguous write.
          pushed[i] = true;
          std::memcpy(p, &hdrs[i], sizeof hdrs[i]);
          io_uring_prep_write(sqe, 0, p, static_cast<unsigned>(f.size()), 0);
        } else {
          iov[2 * i] = {&hdrs[i], sizeof hdrs[i]};
          iov[2 * i + 1] = {f.data(), f.size()};
          io_uring_prep_writev(sqe, 0, &iov[2 * i], 2, 0);
        }
        sqe->flags |= IOSQE_FIXED_FILE;
        io_uring_sqe_set_data64(sqe, i);
      }
      std::array<int, kMaxReads> res{};
      bool ok = complete(k, res.data());
      for (unsigned i = 0; i < k; ++i) {
        if (pushed[i]) frames[i].pull_front(sizeof(virtio_net_hdr));
      }
      if (!ok) return n + send_plain(frames);
      bool full = false;
      for (unsigned i = 0; i < k; ++i) {
        if (res[i] >= 0) {
          ++n;
        } else if (res[i] == -EAGAIN) {
          full = true;  // the device queue is full: the rest is dropped by the caller
        } else if (res[i] == -EBADFD) {
          dead_ = true;
        }
      }
      if (full) return n;
      frames = frames.subspan(k);
    }
    return n;
  }

 private:
  // The ring is made on first use, by the thread that runs the dataplane (after `-d` forks):
  // with IORING_SETUP_SINGLE_ISSUER only the creating task may submit.
  bool ring_ready() {
    if (uring_ || ring_tried_) return uring_;
    ring_tried_ = true;
    io_uring_params p{};
    p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    if (io_uring_queue_init_params(2 * io::kBatch, &ring_, &p) < 0) {
      p.flags = 0;  // kernels before 6.1
      if (io_uring_queue_init_params(2 * io::kBatch, &ring_, &p) < 0) return false;
    }
    int fds[1] = {fd_.get()};
    if (io_uring_register_files(&ring_, fds, 1) < 0) {
      io_uring_queue_exit(&ring_);
      return false;
    }
    uring_ = true;
    return true;
  }

  // Submits the prepared SQEs, waits for `count` completions and stores each result at its
  // user_data index. False if io_uring itself failed: the ring is dropped and the caller goes
  // on with plain syscalls.
  bool complete(unsigned count, int* res) {
    int r = io_uring_submit_and_wait(&ring_, count);
    if (r < 0) {
      // Not expected; rather than guess what was issued, drop the ring for plain syscalls.
      log::warn("tap:{}: io_uring: {}; using read/write", name_, std::strerror(-r));
      io_uring_queue_exit(&ring_);
      uring_ = false;
      for (unsigned i = 0; i < count; ++i) res[i] = -EAGAIN;
      return false;
    }
    unsigned seen = 0, head;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      uint64_t i = io_uring_cqe_get_data64(cqe);
      if (i < count) res[i] = cqe->res;
      ++seen;
    }
    io_uring_cq_advance(&ring_, seen);
    return true;
  }

  // `f` holds [virtio_net_hdr | frame] as read: the header becomes f.offload and is pulled off.
  bool add_frame(std::vector<packet::Frame>& out, packet::Frame&& f, size_t len) {
    if (len < sizeof(virtio_net_hdr)) return false;
    f.resize(len);
    virtio_net_hdr h;
    std::memcpy(&h, f.data(), sizeof h);
    f.pull_front(sizeof h);
    f.offload = from_vnet_hdr(h);
    out.push_back(std::move(f));
    return true;
  }

  size_t receive_plain(std::vector<packet::Frame>& out, size_t max) {
    size_t n = 0;
    while (n < max) {
      packet::Frame f = packet::Frame::make(kBuf);
      ssize_t r = read(fd_.get(), f.data(), kBuf);
      if (r < 0) {
        // EIO: the device is down (e.g. while it moves to another namespace): not fatal.
        if (errno == EBADFD) dead_ = true;
        break;
      }
      if (add_frame(out, std::move(f), static_cast<size_t>(r))) ++n;
    }
    return n;
  }

  size_t send_plain(std::span<packet::Frame> frames) {
    size_t n = 0;
    for (auto& f : frames) {
      virtio_net_hdr h = to_vnet_hdr(f.offload);
      iovec iov[2] = {{&h, sizeof h}, {f.data(), f.size()}};
      ssize_t r = writev(fd_.get(), iov, 2);
      if (r < 0) {
        if (errno == EAGAIN) break;
        if (errno == EBADFD) dead_ = true;
        continue;
      }
      ++n;
    }
    return n;
  }

  std::string name_;
  UniqueFd fd_;
  bool dead_ = false;
  bool uring_ = false, ring_tried_ = false;
  io_uring ring_{};
  unsigned last_batch_ = 0;
};

}  // namespace

Result<std::unique_ptr<Backend>> open_tap(const std::string& ifname) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ) {
    return make_error(EINVAL, "tap:{}: interface names are 1..15 characters", ifname);
  }
  UniqueFd fd(open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) return system_error("tap:" + ifname + ": open /dev/net/tun");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  std::strncpy(ifr.ifr_name, ifname.c_str(), IFNAMSIZ - 1);
  if (ioctl(fd.get(), TUNSETIFF, &ifr) < 0) return system_error("tap:" + ifname + ": TUNSETIFF");
  int hdr = sizeof(virtio_net_hdr);
  if (ioctl(fd.get(), TUNSETVNETHDRSZ, &hdr) < 0)
    return system_error("tap:" + ifname + ": TUNSETVNETHDRSZ");
  unsigned offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
  if (ioctl(fd.get(), TUNSETOFFLOAD, offloads) < 0)
    return system_error("tap:" + ifname + ": TUNSETOFFLOAD");
  return std::unique_ptr<Backend>(std::make_unique<TapBackend>(ifr.ifr_name, std::move(fd)));
}

}  // namespace vnet::io
