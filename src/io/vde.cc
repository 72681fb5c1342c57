// vde: the switch side of the libvdeplug protocol (see listener.hh; vde-2
// src/vde_switch/datasock.c and vdeplug4 libvdeplug4/libvdeplug_vde.c).

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <fmt/ranges.h>

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
      : ctl_(std::move(ctl)), data_(std::move(data)), descr_(std::move(descr)) {}
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
    // Nothing is expected on ctl after the handshake: read what a client sends there in chunks
    // (discarded) so it costs one recv per wakeup, and learn EOF.
    char junk[256];
    ssize_t cr = recv(ctl_.get(), junk, sizeof junk, MSG_DONTWAIT);
    if (cr == 0 || (cr < 0 && errno != EAGAIN && errno != EINTR)) {
      closed_ = true;  // ctl EOF = unplug (datasock.c handle_io)
      return 0;
    }
    size_t n = 0;
    int r = recv_batched(
        data_.get(), std::min(max, next_batch(last_)), kMaxDatagram, [](size_t, msghdr&) {},
        [&](size_t, packet::Frame&& f, const msghdr&) {
          if (f.size() < 14)
            return;  // vde_switch ignores datagrams shorter than an Ethernet header
          out.push_back(std::move(f));
          ++n;
        });
    last_ = r > 0 ? static_cast<size_t>(r) : 0;
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
  size_t last_ = 0;  // datagrams the last receive() found
  bool closed_ = false;
};

// Who is at the other end of a ctl connection: SO_PEERCRED and SO_PEERGROUPS (Linux 4.13).
struct Peer {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;  // supplementary groups
  bool in_group(gid_t g) const {
    return g == gid || std::find(groups.begin(), groups.end(), g) != groups.end();
  }
};

Result<Peer> peer_of(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return system_error("SO_PEERCRED");
  Peer peer{cred.pid, cred.uid, cred.gid, std::vector<gid_t>(16)};
  for (int attempt = 0; attempt < 2; ++attempt) {
    len = static_cast<socklen_t>(peer.groups.size() * sizeof(gid_t));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, peer.groups.data(), &len) == 0) {
      peer.groups.resize(len / sizeof(gid_t));
      return peer;
    }
    if (errno != ERANGE) return system_error("SO_PEERGROUPS");
    peer.groups.resize(len / sizeof(gid_t));  // the kernel said how many
  }
  return system_error("SO_PEERGROUPS");
}

// The client's data socket, opened (O_PATH) only if the client could have bound it itself: see
// listener.hh. Errors are the reason for the refusal.
Result<UniqueFd> open_client_socket(const sockaddr_un& sa, const Peer& peer) {
  std::string path(sa.sun_path, strnlen(sa.sun_path, sizeof sa.sun_path));
  if (sa.sun_family != AF_UNIX) return make_error(EAFNOSUPPORT, "address family {}", sa.sun_family);
  if (path.empty()) return make_error(EINVAL, "an abstract or unnamed data socket address");
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty()) return make_error(EINVAL, "{}: names a directory, not a socket", path);
  UniqueFd dirfd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd.valid())
    return make_error(errno, "{}: cannot open its directory: {}", path, std::strerror(errno));
  // O_PATH | O_NOFOLLOW opens a symbolic link itself instead of failing: fstat tells.
  UniqueFd fd(::openat(dirfd.get(), base.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) return make_error(errno, "{}: cannot open: {}", path, std::strerror(errno));
  struct stat st {
  }, dst{};
  if (::fstat(fd.get(), &st) < 0 || ::fstat(dirfd.get(), &dst) < 0)
    return make_error(errno, "{}: fstat: {}", path, std::strerror(errno));
  if (S_ISLNK(st.st_mode)) return make_error(ELOOP, "{}: is a symbolic link", path);
  if (!S_ISSOCK(st.st_mode)) return make_error(ENOTSOCK, "{}: is not a socket", path);
  if (peer.uid == 0) return fd;  // root may name any socket
  if (st.st_uid != peer.uid) {
    return make_error(EPERM, "{}: owned by uid {}, not by the client (uid {})", path, st.st_uid,
                      peer.uid);
  }
  // Could the client have created an entry in the directory? Owner, group or other bits, in
  // that order, as the kernel decides for the client's uid, gid and supplementary groups.
  mode_t need = dst.st_uid == peer.uid      ? (S_IWUSR | S_IXUSR)
                : peer.in_group(dst.st_gid) ? (S_IWGRP | S_IXGRP)
                                            : (S_IWOTH | S_IXOTH);
  if ((dst.st_mode & need) != need) {
    return make_error(EPERM,
                      "{}: its directory {} (uid {} gid {} mode {:04o}) is not writable by the "
                      "client (uid {} gid {}{}{})",
                      path, dir, dst.st_uid, dst.st_gid, dst.st_mode & 07777, peer.uid, peer.gid,
                      peer.groups.empty() ? "" : " groups ", fmt::join(peer.groups, ","));
  }
  return fd;
}

// The request's description, for logs and port/print: up to the first NUL, printable ASCII.
std::string clean_description(const uint8_t* p, size_t n) {
  std::string out;
  for (size_t i = 0; i < n && p[i] != 0; ++i)
    out += (p[i] >= 0x20 && p[i] < 0x7f) ? char(p[i]) : '?';
  return out;
}

}  // namespace

VdeServer::VdeServer(EventLoop& loop, std::string dir, AttachFn attach)
    : loop_(loop), dir_(std::move(dir)), attach_(std::move(attach)) {}

VdeServer::~VdeServer() {
  if (acceptor_) {
    acceptor_.reset();
    ::unlink((dir_ + "/ctl").c_str());
  }
  for (auto& [fd, p] : pending_) {
    loop_.unwatch(fd);
    loop_.cancel_timer(p.timeout);
  }
}

Result<std::unique_ptr<VdeServer>> VdeServer::open(EventLoop& loop, const std::string& dir,
                                                   AttachFn attach) {
  if (::mkdir(dir.c_str(), 02700) < 0 && errno != EEXIST) return system_error("mkdir " + dir);
  std::unique_ptr<VdeServer> s(new VdeServer(loop, dir, std::move(attach)));
  auto fd = listen_unix(dir + "/ctl", 0600);
  if (!fd) return fd.error();
  auto* raw = s.get();
  auto a = Acceptor::open(loop, std::move(*fd), "vde " + dir + "/ctl",
                          [raw](UniqueFd ctl) { raw->on_connection(std::move(ctl)); });
  if (!a) {
    ::unlink((dir + "/ctl").c_str());
    return a.error();
  }
  s->acceptor_ = std::move(*a);
  return s;
}

void VdeServer::refuse(const std::string& why) {
  ++refused_;
  log::warn("vde {}: refused a client: {}", dir_, why);
}

void VdeServer::on_connection(UniqueFd ctl) {
  if (pending_.size() >= kVdeMaxPendingHandshakes) {
    return refuse(
        fmt::format("{} connections are already waiting to send their request", pending_.size()));
  }
  int fd = ctl.get();
  Pending& p = pending_[fd];
  p.ctl = std::move(ctl);
  p.timeout = loop_.add_timer(kVdeHandshakeTimeout, [this, fd] {
    auto it = pending_.find(fd);
    if (it == pending_.end()) return;
    loop_.unwatch(fd);
    pending_.erase(it);
    refuse(fmt::format(
        "no request within {} s",
        std::chrono::duration_cast<std::chrono::seconds>(kVdeHandshakeTimeout).count()));
  });
  if (auto st = loop_.watch(fd, [this, fd] { on_request(fd); }); !st) {
    loop_.cancel_timer(p.timeout);
    pending_.erase(fd);
    refuse(st.error().message);
  }
}

void VdeServer::on_request(int fd) {
  auto it = pending_.find(fd);
  if (it == pending_.end()) return;
  uint8_t buf[256] = {};  // vde_switch REQBUFLEN
  ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;  // still waiting
  int err = errno;
  loop_.unwatch(fd);
  loop_.cancel_timer(it->second.timeout);
  UniqueFd ctl = std::move(it->second.ctl);
  pending_.erase(it);
  if (n < 0) return refuse(fmt::format("reading the request: {}", std::strerror(err)));
  if (n == 0) return refuse("closed the connection without sending a request");
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
  std::string descr =
      clean_description(buf + kRequestHeader, static_cast<size_t>(n) - kRequestHeader);

  auto got_peer = peer_of(ctl.get());
  if (!got_peer) return refuse(got_peer.error().message);
  const Peer& peer = *got_peer;
  std::string who = fmt::format("pid {} uid {}", peer.pid, peer.uid);
  auto target = open_client_socket(client, peer);
  if (!target) return refuse(fmt::format("{} ({}): {}", descr, who, target.error().message));

  UniqueFd data(socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!data.valid()) return refuse(fmt::format("socket: {}", std::strerror(errno)));
  int bufsize = 1 << 20;
  setsockopt(data.get(), SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
  setsockopt(data.get(), SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
  // Connect to the very inode checked above, not to the path again.
  sockaddr_un via{};
  via.sun_family = AF_UNIX;
  std::snprintf(via.sun_path, sizeof via.sun_path, "/proc/self/fd/%d", target->get());
  if (connect(data.get(), reinterpret_cast<sockaddr*>(&via), sizeof via) < 0) {
    return refuse(
        fmt::format("{} ({}): connect to {}: {}", descr, who,
                    std::string(client.sun_path, strnlen(client.sun_path, sizeof client.sun_path)),
                    std::strerror(errno)));
  }
  target->reset();
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
    // Only the client may connect to it (vde-2 datasock.c new_port_v1_v3: chown to the user).
    chmod(ours.sun_path, 0600);
    if (geteuid() == 0 && peer.uid != 0) {
      if (chown(ours.sun_path, peer.uid, static_cast<gid_t>(-1)) < 0)
        log::warn("vde {}: chown {} to uid {}: {}", dir_, path, peer.uid, std::strerror(errno));
    }
    raw->set_bound_path(ours.sun_path);
  }
  [[maybe_unused]] auto w = ::send(ctl_fd, &ours, sizeof ours, MSG_NOSIGNAL);
  log::info("vde {}: client on port {} ({}; {})", dir_, *got, descr, who);
}

}  // namespace vnet::io
