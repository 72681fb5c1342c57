#include "io/udp_socket.hh"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace vnet::io {

using overlay::Endpoint;

sockaddr_storage to_sockaddr(const Endpoint& e, socklen_t& len, bool with_port) {
  sockaddr_storage ss{};
  if (e.v6) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    std::memcpy(&s6->sin6_addr, e.v6addr.bytes.data(), 16);
    if (with_port) s6->sin6_port = htons(e.port);
    len = sizeof(sockaddr_in6);
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_addr.s_addr = htonl(e.v4.value);
    if (with_port) s4->sin_port = htons(e.port);
    len = sizeof(sockaddr_in);
  }
  return ss;
}

Endpoint from_sockaddr(const sockaddr_storage& ss) {
  Endpoint e;
  if (ss.ss_family == AF_INET6) {
    const auto* s6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    e.v6 = true;
    std::memcpy(e.v6addr.bytes.data(), &s6->sin6_addr, 16);
    e.port = ntohs(s6->sin6_port);
  } else {
    const auto* s4 = reinterpret_cast<const sockaddr_in*>(&ss);
    e.v4.value = ntohl(s4->sin_addr.s_addr);
    e.port = ntohs(s4->sin_port);
  }
  return e;
}

Result<UniqueFd> bound_udp_socket(const Endpoint& local, const std::string& what) {
  UniqueFd fd(socket(local.v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return system_error(what + ": socket");
  int buf = 4 << 20;
  setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  socklen_t len = 0;
  sockaddr_storage addr = to_sockaddr(local, len);
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) < 0) {
    int err = errno;
    auto e = system_error(fmt::format("{}: bind UDP {}", what, local.to_string()));
    e.code = err;
    return e;
  }
  return fd;
}

}  // namespace vnet::io
