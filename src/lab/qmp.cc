#include "lab/qmp.hh"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "base/fd.hh"

namespace vnet::lab {
namespace {

using Clock = std::chrono::steady_clock;

class QmpLine {
 public:
  QmpLine(int fd, Clock::time_point end) : fd_(fd), end_(end) {}

  // The next JSON object QEMU sends (one per line).
  Result<nlohmann::json> next() {
    while (true) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        auto j = nlohmann::json::parse(line, nullptr, false);
        if (j.is_discarded()) return make_error(EPROTO, "QMP sent '{}', not JSON", line);
        return j;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end_ - Clock::now());
      if (left.count() <= 0) return make_error(ETIMEDOUT, "QMP did not answer in time");
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(left.count()));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return system_error("QMP poll");
      if (r == 0) continue;
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return system_error("QMP recv");
      if (n == 0) return make_error(EPIPE, "QEMU closed the QMP connection");
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }

  // Sends a command and returns its "return" value, skipping events.
  Result<nlohmann::json> run(const std::string& command,
                             const nlohmann::json& arguments = nullptr) {
    nlohmann::json request = {{"execute", command}};
    if (!arguments.is_null()) request["arguments"] = arguments;
    std::string line = request.dump() + "\n";
    if (::send(fd_, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()))
      return system_error("QMP send");
    while (true) {
      auto j = next();
      if (!j) return j.error();
      if (j->contains("return")) return (*j)["return"];
      if (j->contains("error")) {
        return make_error(EIO, "QMP {}: {}", command,
                          (*j)["error"].value("desc", std::string("failed")));
      }
    }
  }

 private:
  int fd_;
  Clock::time_point end_;
  std::string buf_;
};

}  // namespace

Result<UniqueFd> connect_unix(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path)
    return make_error(ENAMETOOLONG, "socket path {} is too long", path);
  std::strcpy(sa.sun_path, path.c_str());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return system_error("socket");
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
    return make_error(errno, "connect {}: {}", path, std::strerror(errno));
  return fd;
}

Result<nlohmann::json> qmp_command(const std::string& path, const std::string& command,
                                   std::chrono::milliseconds deadline,
                                   const nlohmann::json& arguments) {
  auto fd = connect_unix(path);
  if (!fd) return fd.error();
  QmpLine q(fd->get(), Clock::now() + deadline);
  auto greeting = q.next();
  if (!greeting) return greeting.error();
  if (!greeting->contains("QMP")) return make_error(EPROTO, "{}: no QMP greeting", path);
  if (auto r = q.run("qmp_capabilities"); !r) return r.error();
  auto r = q.run(command, arguments);
  if (!r && command == "quit" && r.error().code == EPIPE) return nlohmann::json::object();
  return r;
}

}  // namespace vnet::lab
