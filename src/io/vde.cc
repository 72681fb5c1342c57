// vde: the switch side of the libvdeplug protocol (see listener.hh and
// ../shared/reference/clients.md §1, from vde-2 datasock.c and vdeplug4 libvdeplug_vde.c).

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "base/log.hh"
#include "io/listener.hh"
#include "io/send_batch.hh"

namespace vnet::io {
namespace {

constexpr uint32_t kSwitchMagic = 0xfeedface;
constexpr uint32_t kReqNewControl = 0;
constexpr uint32_t kReqNewPort0 = 1;
constexpr size_t kRequestHeader = 12 + sizeof(sockaddr_un);  // magic, version, type, sock
constexpr size_t kMaxDatagram = 9234;                        // vdeplug4 VDE_ETHBUFSIZE

class VdeEndpoint final : public Backend {
 public:
  VdeEndpoint(UniqueFd ctl, UniqueFd data, std::string descr)
      : ctl_(std::move(ctl)),
        data_(std::move(data)),
        descr_(std::move(descr)),
        scratch_(kBatch * kMaxDatagram) {}
  ~VdeEndpoint() override {
    if (!bound_path_.empty()) ::unlink(bound_path_.c_str());
  }
  void set_bound_path(std::string p) { bound_path_ = std::move(p); }
  int data_fd() const { return data_.get(); }
  std::vector<int> fds() const override { return {data_.get(), ctl_.get()}; }
  bool closed() const override { return closed_; }
  std::string kind() const override { return "vde"; }
  std::string describe() const override { return "vde: " + descr_; }

  size_t receive(std::vector<packet::Frame>& out, size_t max) override {
    char c;
    ssize_t cr = recv(ctl_.get(), &c, 1, MSG_DONTWAIT);
    if (cr == 0 || (cr < 0 && errno != EAGAIN && errno != EINTR)) {
      closed_ = true;  // ctl EOF = unplug (datasock.c handle_io)
      return 0;
    }
    size_t want = std::min(max, kBatch);
    mmsghdr msgs[kBatch];
    iovec iov[kBatch];
    for (size_t i = 0; i < want; ++i) {
      iov[i] = {scratch_.data() + i * kMaxDatagram, kMaxDatagram};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int r = recvmmsg(data_.get(), msgs, static_cast<unsigned>(want), MSG_DONTWAIT, nullptr);
    if (r <= 0) return 0;
    size_t n = 0;
    for (int i = 0; i < r; ++i) {
      size_t len = msgs[i].msg_len;
      if (len < 14) continue;  // vde_switch ignores datagrams shorter than an Ethernet header
      out.push_back(packet::Frame::copy_of({scratch_.data() + i * kMaxDatagram, len}));
      ++n;
    }
    return n;
  }

  size_t send(std::span<packet::Frame> frames) override {
    if (closed_) return 0;
    return send_batched(data_.get(), frames, false, [this](int err) {
      if (err == ECONNREFUSED || err == ENOTCONN) closed_ = true;
      return OnSendError::kStop;  // EAGAIN: the client is slow; drop the rest (as vde_switch)
    });
  }

 private:
  UniqueFd ctl_, data_;
  std::string descr_;
  std::string bound_path_;
  std::vector<uint8_t> scratch_;
  bool closed_ = false;
};

}  // namespace

Result<UniqueFd> listen_unix(const std::string& path, int mode) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path)
    return make_error(ENAMETOOLONG, "socket path too long: {}", path);
  std::strcpy(sa.sun_path, path.c_str());
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return system_error("socket(AF_UNIX)");
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    // A stale socket from a dead process: refuse only if somebody still answers on it.
    UniqueFd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (connect(probe.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0) {
      return make_error(EADDRINUSE, "{} is in use by a running process", path);
    }
    ::unlink(path.c_str());
  }
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
    return system_error("bind " + path);
  chmod(path.c_str(), static_cast<mode_t>(mode));
  if (listen(fd.get(), 64) < 0) return system_error("listen " + path);
  return fd;
}

VdeServer::VdeServer(EventLoop& loop, std::string dir, AttachFn attach)
    : loop_(loop), dir_(std::move(dir)), attach_(std::move(attach)) {}

VdeServer::~VdeServer() {
  if (listen_.valid()) {
    loop_.unwatch(listen_.get());
    ::unlink((dir_ + "/ctl").c_str());
  }
  for (auto& [fd, _] : pending_) loop_.unwatch(fd);
}

Result<std::unique_ptr<VdeServer>> VdeServer::open(EventLoop& loop, const std::string& dir,
                                                   AttachFn attach) {
  if (::mkdir(dir.c_str(), 02700) < 0 && errno != EEXIST) return system_error("mkdir " + dir);
  std::unique_ptr<VdeServer> s(new VdeServer(loop, dir, std::move(attach)));
  auto fd = listen_unix(dir + "/ctl", 0600);
  if (!fd) return fd.error();
  s->listen_ = std::move(*fd);
  auto* raw = s.get();
  if (auto st = loop.watch(s->listen_.get(), [raw] { raw->on_accept(); }); !st) return st.error();
  return s;
}

void VdeServer::on_accept() {
  while (true) {
    int fd = accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    pending_.emplace(fd, UniqueFd(fd));
    (void)loop_.watch(fd, [this, fd] { on_request(fd); });
  }
}

void VdeServer::on_request(int fd) {
  loop_.unwatch(fd);
  auto node = pending_.extract(fd);
  if (node.empty()) return;
  UniqueFd ctl = std::move(node.mapped());
  uint8_t buf[256] = {};
  ssize_t n = recv(ctl.get(), buf, sizeof buf - 1, 0);
  auto refuse = [&](const std::string& why) {
    ++refused_;
    log::warn("vde: refused a client: {}", why);
  };
  if (n < static_cast<ssize_t>(kRequestHeader)) {
    return refuse(fmt::format("request of {} bytes, expected at least {}", n, kRequestHeader));
  }
  uint32_t magic, version, type;
  std::memcpy(&magic, buf, 4);
  std::memcpy(&version, buf + 4, 4);
  std::memcpy(&type, buf + 8, 4);
  if (magic != kSwitchMagic) return refuse("V0 request not supported (bad magic)");
  if (version != 3) return refuse(fmt::format("request version {}, expected 3", version));
  uint32_t req = type & 0xff, port = type >> 8;
  if (req != kReqNewControl && req != kReqNewPort0)
    return refuse(fmt::format("request type {}", req));
  sockaddr_un client{};
  std::memcpy(&client, buf + 12, sizeof client);
  client.sun_path[sizeof client.sun_path - 1] = 0;
  std::string descr(reinterpret_cast<char*>(buf) + kRequestHeader,
                    static_cast<size_t>(n) - kRequestHeader);
  if (access(client.sun_path, R_OK | W_OK) != 0)
    return refuse(fmt::format("cannot access {}", client.sun_path));

  UniqueFd data(socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  int bufsize = 1 << 20;
  setsockopt(data.get(), SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
  setsockopt(data.get(), SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
  if (connect(data.get(), reinterpret_cast<sockaddr*>(&client), sizeof client) < 0) {
    return refuse(fmt::format("connect to {}: {}", client.sun_path, std::strerror(errno)));
  }
  int ctl_fd = ctl.get();
  auto ep = std::make_unique<VdeEndpoint>(std::move(ctl), std::move(data), descr);
  VdeEndpoint* raw = ep.get();
  auto got = attach_(req == kReqNewPort0 ? 0 : port, std::move(ep));
  if (!got) return refuse(got.error().message);  // the endpoint (and ctl) died with the refusal
  sockaddr_un ours{};
  ours.sun_family = AF_UNIX;
  std::string path = fmt::format("{}/{:03}.{}", dir_, *got, raw->data_fd());
  std::snprintf(ours.sun_path, sizeof ours.sun_path, "%s", path.c_str());
  ::unlink(ours.sun_path);
  if (bind(raw->data_fd(), reinterpret_cast<sockaddr*>(&ours), sizeof ours) == 0) {
    chmod(ours.sun_path, 0600);
    raw->set_bound_path(ours.sun_path);
  }
  [[maybe_unused]] auto w = ::send(ctl_fd, &ours, sizeof ours, MSG_NOSIGNAL);
  log::info("vde: client on port {} ({})", *got, descr);
}

}  // namespace vnet::io
