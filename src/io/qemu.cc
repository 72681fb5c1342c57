// QEMU -netdev stream (4-byte big-endian length framing, qemu net/stream_data.c) and
// -netdev dgram (one frame per datagram, reply to the sender, qemu net/dgram.c).

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "base/byte_io.hh"
#include "base/log.hh"
#include "io/listener.hh"
#include "io/send_batch.hh"

namespace vnet::io {
namespace {

constexpr size_t kQemuNetBufSize = 4096 + 65536;  // NET_BUFSIZE: larger frames end the connection

// A connected QEMU stream socket.
// Receive: bytes are read into a pooled staging buffer and small frames are copied out of it (one
// copy, where the kernel already made the frames one byte stream); a frame of kDirectMin bytes or
// more whose body has not all arrived is read straight into its own pooled frame, so a 64 KiB
// frame is not copied twice. The staging buffer goes back to the pool whenever it is empty: an
// idle connection holds no buffer.
// Send: the 4-byte length goes into the frame's headroom and the frame joins a queue, written
// with sendmsg (up to kBatch frames per call, a partial write trims the head frame). What the
// socket does not take stays queued, shrunk to fit, until the socket is writable again (the
// owner watches output_fd()); past kMaxPendingOut bytes or kMaxQueued frames, send() accepts no
// more (the caller counts the drops).
class QemuStreamBackend final : public Backend {
 public:
  static constexpr size_t kStaging = 65536;
  static constexpr size_t kDirectMin = 2048;
  static constexpr size_t kMaxPendingOut = 4u << 20;  // bytes queued toward a slow guest
  static constexpr size_t kMaxQueued = 8192;          // frames queued toward a slow guest

  QemuStreamBackend(UniqueFd fd, std::string name)
      : fd_(std::move(fd)), name_(std::move(name)), queue_(kMaxQueued) {}
  std::vector<int> fds() const override { return {fd_.get()}; }
  bool closed() const override { return closed_; }
  std::string kind() const override { return "qemu-stream"; }
  std::string describe() const override { return "qemu-stream:" + name_; }
  bool pending_output() const override { return !queue_.empty() && !closed_; }
  int output_fd() const override { return fd_.get(); }

  size_t receive(std::vector<packet::Frame>& out, size_t max) override {
    size_t n = 0;
    while (n < max && !closed_) {
      if (direct_) {
        ssize_t r = ::recv(fd_.get(), direct_frame_.data() + have_, direct_frame_.size() - have_,
                           MSG_DONTWAIT);
        if (!read_ok(r)) break;
        have_ += static_cast<size_t>(r);
        if (have_ == direct_frame_.size()) {
          out.push_back(std::move(direct_frame_));
          direct_ = false;
          ++n;
        }
        continue;
      }
      if (staging_.empty()) staging_ = packet::Frame::make(kStaging);
      ssize_t r = ::recv(fd_.get(), staging_.data() + wpos_, kStaging - wpos_, MSG_DONTWAIT);
      if (!read_ok(r)) break;
      wpos_ += static_cast<size_t>(r);
      n += parse(out);
    }
    if (rpos_ == wpos_ && !staging_.empty()) {
      staging_ = packet::Frame();  // back to the pool while idle
      rpos_ = wpos_ = 0;
    }
    return n;
  }

  size_t send(std::span<packet::Frame> frames) override {
    if (closed_) return 0;
    size_t accepted = 0;
    for (auto& f : frames) {
      if (f.empty()) continue;  // QEMU would deliver a zero-length frame: never send one
      if (queue_.full() || queued_bytes_ + f.size() + 4 > kMaxPendingOut) break;
      uint32_t len = static_cast<uint32_t>(f.size());
      uint8_t* p = f.push_front(4);
      if (!p) {  // no headroom (not for our frames): copy into one that has
        packet::Frame copy = packet::Frame::make(f.size() + 4);
        std::memcpy(copy.data() + 4, f.data(), f.size());
        f = std::move(copy);
        p = f.data();
      }
      store_be16(p, static_cast<uint16_t>(len >> 16));
      store_be16(p + 2, static_cast<uint16_t>(len));
      queued_bytes_ += f.size();
      queue_.push(std::move(f));
      ++accepted;
    }
    flush();
    // What is still queued of this batch waits for the guest: do not let it pin large buffers.
    for (size_t i = queue_.size() - std::min(queue_.size(), accepted); i < queue_.size(); ++i) {
      queue_[i].shrink_to_fit();
    }
    return accepted;
  }

  void flush() override {
    while (!queue_.empty() && !closed_) {
      iovec iov[kBatch];
      size_t k = std::min(queue_.size(), kBatch), total = 0;
      for (size_t i = 0; i < k; ++i) {
        iov[i] = {queue_[i].data(), queue_[i].size()};
        total += queue_[i].size();
      }
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = k;
      ssize_t w = ::sendmsg(fd_.get(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (w < 0) {
        if (errno != EAGAIN && errno != EINTR) {
          closed_ = true;
          queue_.clear();
          queued_bytes_ = 0;
        }
        break;
      }
      size_t left = static_cast<size_t>(w);
      queued_bytes_ -= left;
      while (left > 0) {
        packet::Frame& f = queue_.front();
        if (left >= f.size()) {
          left -= f.size();
          queue_.pop();
        } else {
          f.pull_front(left);  // the rest of this frame goes next time
          left = 0;
        }
      }
      if (static_cast<size_t>(w) < total) break;  // the socket is full
    }
  }

 private:
  // False when the read ended this round: nothing more now (EAGAIN), or EOF / an error (closed).
  bool read_ok(ssize_t r) {
    if (r > 0) return true;
    if (r == 0 || (errno != EAGAIN && errno != EINTR)) closed_ = true;
    return false;
  }

  // Emits the complete frames in the staging buffer; starts a direct read for a large frame
  // that has not fully arrived; keeps an incomplete small one for the next read.
  size_t parse(std::vector<packet::Frame>& out) {
    size_t n = 0;
    const uint8_t* b = staging_.data();
    while (wpos_ - rpos_ >= 4) {
      uint32_t len = uint32_t{load_be16(b + rpos_)} << 16 | load_be16(b + rpos_ + 2);
      if (len > kQemuNetBufSize) {
        log::warn("qemu-stream:{}: oversized frame of {} bytes, closing", name_, len);
        closed_ = true;
        return n;
      }
      size_t avail = wpos_ - rpos_ - 4;
      if (avail >= len) {
        if (len >= 14) {  // shorter than an Ethernet header: skipped, as QEMU's peer would
          out.push_back(packet::Frame::copy_of({b + rpos_ + 4, len}));
          ++n;
        }
        rpos_ += 4 + len;
        continue;
      }
      if (len >= kDirectMin) {
        direct_frame_ = packet::Frame::make(len);
        std::memcpy(direct_frame_.data(), b + rpos_ + 4, avail);
        have_ = avail;
        direct_ = true;
        rpos_ = wpos_;
      }
      break;
    }
    if (rpos_ == wpos_) {
      rpos_ = wpos_ = 0;
    } else if (rpos_ > 0) {  // an incomplete small frame (< kDirectMin + 4 bytes): to the front
      std::memmove(staging_.data(), staging_.data() + rpos_, wpos_ - rpos_);
      wpos_ -= rpos_;
      rpos_ = 0;
    }
    return n;
  }

  UniqueFd fd_;
  std::string name_;
  packet::Frame staging_;  // raw receive buffer: [rpos_, wpos_) unparsed
  size_t rpos_ = 0, wpos_ = 0;
  packet::Frame direct_frame_;  // a large frame being read straight into place
  size_t have_ = 0;
  bool direct_ = false;
  packet::FrameQueue queue_;
  size_t queued_bytes_ = 0;
  bool closed_ = false;
};

// An unconnected datagram socket: each datagram is a frame; replies go to the last sender.
// Receive with recvmmsg straight into pooled frames; send with sendmmsg to the peer's address.
class QemuDgramBackend final : public Backend {
 public:
  QemuDgramBackend(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  ~QemuDgramBackend() override { ::unlink(path_.c_str()); }
  std::vector<int> fds() const override { return {fd_.get()}; }
  std::string kind() const override { return "qemu-dgram"; }
  std::string describe() const override { return "qemu-dgram:" + path_; }

  size_t receive(std::vector<packet::Frame>& out, size_t max) override {
    size_t n = 0;
    std::array<sockaddr_un, kBatch> from;
    int r = recv_batched(
        fd_.get(), std::min(max, next_batch(last_)), kQemuNetBufSize,
        [&](size_t i, msghdr& h) {
          h.msg_name = &from[i];
          h.msg_namelen = sizeof from[i];
        },
        [&](size_t, packet::Frame&& f, const msghdr& h) {
          if (h.msg_namelen > sizeof(sa_family_t)) {
            peer_ = *static_cast<const sockaddr_un*>(h.msg_name);
            peer_len_ = h.msg_namelen;
          }
          if (f.size() < 14 || (h.msg_flags & MSG_TRUNC)) return;
          out.push_back(std::move(f));
          ++n;
        });
    last_ = r > 0 ? static_cast<size_t>(r) : 0;
    return n;
  }

  size_t send(std::span<packet::Frame> frames) override {
    if (peer_len_ == 0) return 0;  // nobody has spoken yet: nowhere to send
    return send_batched(
        fd_.get(), frames, false,
        [](int err) { return err == EAGAIN ? OnSendError::kStop : OnSendError::kSkipFrame; },
        reinterpret_cast<const sockaddr*>(&peer_), peer_len_);
  }

 private:
  UniqueFd fd_;
  std::string path_;
  sockaddr_un peer_{};
  socklen_t peer_len_ = 0;
  size_t last_ = 0;
};

}  // namespace

std::unique_ptr<Backend> make_qemu_stream_backend(UniqueFd fd, std::string name) {
  return std::make_unique<QemuStreamBackend>(std::move(fd), std::move(name));
}

Result<std::unique_ptr<Backend>> open_qemu_dgram(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path)
    return make_error(ENAMETOOLONG, "qemu-dgram:{}: path too long", path);
  std::strcpy(sa.sun_path, path.c_str());
  UniqueFd fd(socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  ::unlink(path.c_str());
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
    return system_error("qemu-dgram: bind " + path);
  int bufsize = 1 << 20;
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
  return std::unique_ptr<Backend>(std::make_unique<QemuDgramBackend>(std::move(fd), path));
}

QemuStreamListener::QemuStreamListener(std::string path, uint32_t port, AttachFn attach)
    : path_(std::move(path)), port_(port), attach_(std::move(attach)) {}

QemuStreamListener::~QemuStreamListener() {
  if (acceptor_) {
    acceptor_.reset();
    ::unlink(path_.c_str());
  }
}

Result<std::unique_ptr<QemuStreamListener>> QemuStreamListener::open(EventLoop& loop,
                                                                     const std::string& path,
                                                                     uint32_t port,
                                                                     AttachFn attach) {
  std::unique_ptr<QemuStreamListener> l(new QemuStreamListener(path, port, std::move(attach)));
  auto fd = listen_unix(path, 0600);
  if (!fd) return fd.error();
  auto* raw = l.get();
  auto a = Acceptor::open(loop, std::move(*fd), "qemu-stream:" + path, [raw](UniqueFd conn) {
    int bufsize = 1 << 20;
    setsockopt(conn.get(), SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
    auto got = raw->attach_(raw->port_, make_qemu_stream_backend(std::move(conn), raw->path_));
    if (!got)
      log::warn("qemu-stream:{}: refused a connection: {}", raw->path_, got.error().message);
  });
  if (!a) {
    ::unlink(path.c_str());
    return a.error();
  }
  l->acceptor_ = std::move(*a);
  return l;
}

}  // namespace vnet::io
