// QEMU -netdev stream (4-byte big-endian length framing, qemu net/stream_data.c) and
// -netdev dgram (one frame per datagram, reply to the sender, qemu net/dgram.c).

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "base/byte_io.hh"
#include "base/log.hh"
#include "io/listener.hh"

namespace vnet::io {
namespace {

constexpr size_t kQemuNetBufSize = 4096 + 65536;  // NET_BUFSIZE: larger frames end the connection
constexpr size_t kMaxPendingOut = 4u << 20;       // bytes buffered toward a slow guest

class QemuStreamBackend final : public Backend {
 public:
  QemuStreamBackend(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}
  std::vector<int> fds() const override { return {fd_.get()}; }
  bool closed() const override { return closed_; }
  std::string kind() const override { return "qemu-stream"; }
  std::string describe() const override { return "qemu-stream:" + name_; }

  size_t receive(std::vector<packet::Frame>& out, size_t max) override {
    uint8_t buf[65536];
    size_t n = 0;
    while (n < max && !closed_) {
      ssize_t r = ::recv(fd_.get(), buf, sizeof buf, MSG_DONTWAIT);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        closed_ = true;
        break;
      }
      if (r < 0) break;
      in_.insert(in_.end(), buf, buf + r);
      n += parse(out);
    }
    return n;
  }

  size_t send(std::span<packet::Frame> frames) override {
    if (closed_) return 0;
    size_t accepted = 0;
    for (auto& f : frames) {
      if (f.empty()) continue;  // QEMU would deliver a zero-length frame: never send one
      if (out_.size() - out_pos_ + f.size() + 4 > kMaxPendingOut) break;
      uint8_t len[4] = {uint8_t(f.size() >> 24), uint8_t(f.size() >> 16), uint8_t(f.size() >> 8),
                        uint8_t(f.size())};
      out_.insert(out_.end(), len, len + 4);
      out_.insert(out_.end(), f.data(), f.data() + f.size());
      ++accepted;
    }
    flush();
    return accepted;
  }

  void flush() override {
    while (out_pos_ < out_.size() && !closed_) {
      ssize_t w = ::send(fd_.get(), out_.data() + out_pos_, out_.size() - out_pos_,
                         MSG_DONTWAIT | MSG_NOSIGNAL);
      if (w < 0) {
        if (errno != EAGAIN && errno != EINTR) closed_ = true;
        break;
      }
      out_pos_ += static_cast<size_t>(w);
    }
    if (out_pos_ == out_.size()) {
      out_.clear();
      out_pos_ = 0;
    }
  }

 private:
  size_t parse(std::vector<packet::Frame>& out) {
    size_t pos = 0, n = 0;
    while (in_.size() - pos >= 4) {
      uint32_t len = uint32_t{load_be16(&in_[pos])} << 16 | load_be16(&in_[pos + 2]);
      if (len > kQemuNetBufSize) {
        log::warn("qemu-stream:{}: oversized frame of {} bytes, closing", name_, len);
        closed_ = true;
        break;
      }
      if (in_.size() - pos - 4 < len) break;
      if (len >= 14) {
        out.push_back(packet::Frame::copy_of({&in_[pos + 4], len}));
        ++n;
      }
      pos += 4 + len;
    }
    in_.erase(in_.begin(), in_.begin() + static_cast<long>(pos));
    return n;
  }

  UniqueFd fd_;
  std::string name_;
  std::vector<uint8_t> in_, out_;
  size_t out_pos_ = 0;
  bool closed_ = false;
};

class QemuDgramBackend final : public Backend {
 public:
  QemuDgramBackend(UniqueFd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  ~QemuDgramBackend() override { ::unlink(path_.c_str()); }
  std::vector<int> fds() const override { return {fd_.get()}; }
  std::string kind() const override { return "qemu-dgram"; }
  std::string describe() const override { return "qemu-dgram:" + path_; }

  size_t receive(std::vector<packet::Frame>& out, size_t max) override {
    size_t n = 0;
    while (n < max) {
      sockaddr_un from{};
      socklen_t fl = sizeof from;
      ssize_t r = recvfrom(fd_.get(), buf_.data(), buf_.size(), MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&from), &fl);
      if (r < 0) break;
      if (fl > sizeof(sa_family_t)) {
        peer_ = from;
        peer_len_ = fl;
      }
      if (r < 14) continue;
      out.push_back(packet::Frame::copy_of({buf_.data(), static_cast<size_t>(r)}));
      ++n;
    }
    return n;
  }

  size_t send(std::span<packet::Frame> frames) override {
    if (peer_len_ == 0) return 0;  // nobody has spoken yet: nowhere to send
    size_t n = 0;
    for (auto& f : frames) {
      if (sendto(fd_.get(), f.data(), f.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&peer_),
                 peer_len_) < 0) {
        if (errno == EAGAIN) break;
        continue;
      }
      ++n;
    }
    return n;
  }

 private:
  UniqueFd fd_;
  std::string path_;
  sockaddr_un peer_{};
  socklen_t peer_len_ = 0;
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(kQemuNetBufSize);
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
