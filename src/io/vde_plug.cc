// vde_plug: the client side of the libvdeplug protocol (see vde_plug.hh).

#include "io/vde_plug.hh"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include <fmt/format.h>

namespace vnet::io {
namespace {

constexpr uint32_t kSwitchMagic = 0xfeedface;
constexpr uint32_t kVersion = 3;
constexpr uint32_t kReqNewPort0 = 1;
constexpr size_t kMaxDescription = 128;  // MAXDESCR

std::atomic<uint32_t> plug_counter{0};

Result<sockaddr_un> unix_address(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) {
    return make_error(ENAMETOOLONG, "{}: longer than {} bytes", path, sizeof sa.sun_path - 1);
  }
  std::memcpy(sa.sun_path, path.data(), path.size());
  return sa;
}

// Waits until `fd` has `events`, up to the deadline.
Status wait_for(int fd, short events, TimePoint deadline) {
  while (true) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SystemClock().now());
    if (left.count() <= 0) return make_error(ETIMEDOUT, "no answer in time");
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, static_cast<int>(left.count()));
    if (r > 0) return {};
    if (r < 0 && errno != EINTR) return system_error("poll");
  }
}

}  // namespace

Result<VdePlug> vde_plug_connect(const std::string& dir_in, const std::string& description,
                                 uint32_t port, Duration timeout) {
  std::string dir = dir_in;
  if (dir.rfind("vde://", 0) == 0) dir = dir.substr(6);
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  auto fail = [&](int code, const std::string& what) -> Error {
    return Error{code, fmt::format("vde plug {}: {}", dir, what)};
  };
  auto fail_errno = [&](const std::string& what) {
    return fail(errno, fmt::format("{}: {}", what, std::strerror(errno)));
  };
  const TimePoint deadline = SystemClock().now() + timeout;

  VdePlug plug;
  plug.switch_dir = dir;
  plug.ctl = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!plug.ctl.valid()) return fail_errno("socket");
  auto ctl_addr = unix_address(dir + "/ctl");
  if (!ctl_addr) return fail(ctl_addr.error().code, ctl_addr.error().message);
  if (::connect(plug.ctl.get(), reinterpret_cast<sockaddr*>(&*ctl_addr), sizeof *ctl_addr) < 0) {
    return fail_errno("connect " + dir + "/ctl");
  }

  plug.data = UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!plug.data.valid()) return fail_errno("socket");
  int bufsize = 1 << 20;
  ::setsockopt(plug.data.get(), SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
  ::setsockopt(plug.data.get(), SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
  const uint32_t n = plug_counter.fetch_add(1);
  std::string ours;
  sockaddr_un our_addr{};
  for (const std::string& candidate : {fmt::format("{}/.{:05}-{:05}", dir, ::getpid(), n),
                                       fmt::format("/tmp/vde.{:05}-{:05}", ::getpid(), n)}) {
    auto a = unix_address(candidate);
    if (!a) continue;
    ::unlink(candidate.c_str());
    if (::bind(plug.data.get(), reinterpret_cast<sockaddr*>(&*a), sizeof *a) == 0) {
      ours = candidate;
      our_addr = *a;
      break;
    }
  }
  if (ours.empty()) return fail_errno("bind a data socket in " + dir + " or /tmp");
  struct Unlink {
    std::string path;
    ~Unlink() { ::unlink(path.c_str()); }
  } unlink_ours{ours};
  ::chmod(ours.c_str(), 0700);

  // struct request_v3 (packed, native byte order).
  uint8_t req[12 + sizeof(sockaddr_un) + kMaxDescription] = {};
  const uint32_t type = port == 0 ? kReqNewPort0 : (port << 8);
  std::memcpy(req, &kSwitchMagic, 4);
  std::memcpy(req + 4, &kVersion, 4);
  std::memcpy(req + 8, &type, 4);
  std::memcpy(req + 12, &our_addr, sizeof our_addr);
  const size_t dlen = std::min(description.size(), kMaxDescription);
  std::memcpy(req + 12 + sizeof our_addr, description.data(), dlen);
  const size_t len = 12 + sizeof our_addr + dlen;
  if (::send(plug.ctl.get(), req, len, MSG_NOSIGNAL) != static_cast<ssize_t>(len)) {
    return fail_errno("send the request");
  }

  sockaddr_un theirs{};
  size_t got = 0;
  while (got < sizeof theirs) {
    if (auto st = wait_for(plug.ctl.get(), POLLIN, deadline); !st) {
      return fail(st.error().code, "waiting for the switch's answer: " + st.error().message);
    }
    ssize_t r = ::recv(plug.ctl.get(), reinterpret_cast<char*>(&theirs) + got, sizeof theirs - got,
                       MSG_DONTWAIT);
    if (r < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (r < 0) return fail_errno("read the answer");
    if (r == 0) {
      return fail(ECONNREFUSED, fmt::format("the switch closed the connection after {} of {} "
                                            "answer bytes (refused the request?)",
                                            got, sizeof theirs));
    }
    got += static_cast<size_t>(r);
  }
  if (theirs.sun_family != AF_UNIX) {
    return fail(EPROTO, fmt::format("the answer has address family {}, expected AF_UNIX ({})",
                                    theirs.sun_family, AF_UNIX));
  }
  theirs.sun_path[sizeof theirs.sun_path - 1] = 0;
  plug.switch_data_path = theirs.sun_path;
  if (::connect(plug.data.get(), reinterpret_cast<sockaddr*>(&theirs), sizeof theirs) < 0) {
    return fail_errno("connect to the switch's data socket " + plug.switch_data_path);
  }
  return plug;
}

}  // namespace vnet::io
