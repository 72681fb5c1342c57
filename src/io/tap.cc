// tap: a Linux TAP device (Documentation/networking/tuntap.rst) opened with IFF_TAP|IFF_NO_PI and
// IFF_VNET_HDR, offloads enabled with TUNSETOFFLOAD so the kernel hands us (and takes from us)
// TCP segments up to 64 KiB with partial checksums. Non-blocking reads and writes; a write that
// would block drops the frame.

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>

#include "base/fd.hh"
#include "io/backend.hh"
#include "io/vnet_hdr.hh"

namespace vnet::io {
namespace {

class TapBackend final : public Backend {
 public:
  TapBackend(std::string name, UniqueFd fd) : name_(std::move(name)), fd_(std::move(fd)) {}
  std::vector<int> fds() const override { return {fd_.get()}; }
  bool vnet_hdr() const override { return true; }
  bool closed() const override { return dead_; }
  std::string kind() const override { return "tap"; }
  std::string describe() const override { return "tap:" + name_; }

  size_t receive(std::vector<packet::Frame>& out, size_t max) override {
    size_t n = 0;
    while (n < max) {
      // One contiguous buffer [virtio_net_hdr | frame]: read(2) instead of readv(2) spares the
      // kernel an iovec import per frame (measurable at 64-byte rates).
      ssize_t r = read(fd_.get(), scratch_.data(), scratch_.size());
      if (r < 0) {
        // EIO: the device is down (e.g. while it moves to another namespace): not fatal.
        if (errno == EBADFD) dead_ = true;
        break;
      }
      if (r < static_cast<ssize_t>(sizeof(virtio_net_hdr))) continue;
      virtio_net_hdr h;
      std::memcpy(&h, scratch_.data(), sizeof h);
      packet::Frame f =
          packet::Frame::copy_of({scratch_.data() + sizeof h, static_cast<size_t>(r) - sizeof h});
      f.offload = from_vnet_hdr(h);
      out.push_back(std::move(f));
      ++n;
    }
    return n;
  }

  size_t send(std::span<packet::Frame> frames) override {
    size_t n = 0;
    for (auto& f : frames) {
      virtio_net_hdr h = to_vnet_hdr(f.offload);
      ssize_t r;
      if (uint8_t* p = f.push_front(sizeof h)) {
        // The header goes into the frame's headroom: one write(2), no iovec import.
        std::memcpy(p, &h, sizeof h);
        r = write(fd_.get(), p, f.size());
        f.pull_front(sizeof h);
      } else {
        iovec iov[2] = {{&h, sizeof h}, {f.data(), f.size()}};
        r = writev(fd_.get(), iov, 2);
      }
      if (r < 0) {
        if (errno == EAGAIN) break;
        if (errno == EBADFD) dead_ = true;
        continue;
      }
      ++n;
    }
    return n;
  }

 private:
  std::string name_;
  UniqueFd fd_;
  bool dead_ = false;
  std::vector<uint8_t> scratch_ =
      std::vector<uint8_t>(sizeof(virtio_net_hdr) + packet::Frame::kMaxFrame);
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
