#pragma once
// Raw unix-socket clients for the console and listener tests: non-blocking, so a test drives the
// server's EventLoop one iteration at a time between its own reads and writes.
#include <sys/socket.h>
#include <sys/un.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "base/fd.hh"

namespace vnet::test {

inline UniqueFd connect_to(const std::string& path) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0)
      << path << ": " << std::strerror(errno);
  return fd;
}

struct Read {
  std::string data;
  bool eof = false;  // end of file or connection reset: the server closed the session
};

// Everything the socket holds now, without waiting.
inline Read read_available(int fd) {
  Read r;
  char buf[65536];
  while (true) {
    ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) {
      r.data.append(buf, static_cast<size_t>(n));
      continue;
    }
    r.eof = n == 0 || errno != EAGAIN;
    return r;
  }
}

inline void send_text(int fd, const std::string& s) {
  ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()))
      << std::strerror(errno);
}

}  // namespace vnet::test
