// Listening unix sockets and the Acceptor shared by the console, VDE and QEMU stream listeners.

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "base/log.hh"
#include "io/listener.hh"

namespace vnet::io {

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

Acceptor::Acceptor(EventLoop& loop, UniqueFd listen, std::string what, OnConnection on_connection)
    : loop_(loop),
      listen_(std::move(listen)),
      what_(std::move(what)),
      on_connection_(std::move(on_connection)) {}

Acceptor::~Acceptor() {
  if (resume_timer_ != 0) loop_.cancel_timer(resume_timer_);
  loop_.unwatch(listen_.get());
}

Result<std::unique_ptr<Acceptor>> Acceptor::open(EventLoop& loop, UniqueFd listen, std::string what,
                                                 OnConnection on_connection) {
  std::unique_ptr<Acceptor> a(
      new Acceptor(loop, std::move(listen), std::move(what), std::move(on_connection)));
  auto* raw = a.get();
  if (auto st = loop.watch(a->listen_.get(), [raw] { raw->on_readable(); }); !st) return st.error();
  return a;
}

void Acceptor::on_readable() {
  for (int i = 0; i < kBurst; ++i) {
    int fd = accept4(listen_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      ++stats_.accepted;
      on_connection_(UniqueFd(fd));
      continue;
    }
    switch (errno) {
      case EAGAIN:
        return;
      case EINTR:
        continue;
      case ECONNABORTED:  // the client gave up while queued: next one
      case EPROTO:
      case EPERM:
        ++stats_.failed;
        continue;
      default:  // EMFILE, ENFILE, ENOBUFS, ENOMEM, or anything that may persist: never spin
        ++stats_.failed;
        return back_off(errno);
    }
  }
}

void Acceptor::back_off(int err) {
  ++stats_.backoffs;
  loop_.unwatch(listen_.get());
  resume_timer_ = loop_.add_timer(kBackoff, [this] {
    resume_timer_ = 0;
    if (auto st = loop_.watch(listen_.get(), [this] { on_readable(); }); !st) {
      log::error("{}: cannot watch the listening socket again: {}", what_, st.error().message);
    }
  });
  TimePoint now = loop_.clock().now();
  if (logged_ && now - last_log_ < kLogInterval) {
    ++unlogged_;
    return;
  }
  log::warn("{}: accept: {}; not accepting for {} ms{}", what_, std::strerror(err),
            std::chrono::duration_cast<std::chrono::milliseconds>(kBackoff).count(),
            unlogged_ ? fmt::format(" ({} more such failures since the last message)", unlogged_)
                      : std::string());
  logged_ = true;
  last_log_ = now;
  unlogged_ = 0;
}

}  // namespace vnet::io
