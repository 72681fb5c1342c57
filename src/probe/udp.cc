#include "probe/udp.hh"

#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <cstring>

namespace vnet::probe {
namespace {

int64_t read_ns(clockid_t id) {
  timespec ts{};
  ::clock_gettime(id, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

TimePoint mono_now() { return TimePoint(Duration(read_ns(CLOCK_MONOTONIC))); }

struct Datagram {
  sockaddr_storage from{};
  socklen_t from_len = 0;
  size_t size = 0;
  TimePoint at;
};

// One datagram without blocking into `buf`; false when none is waiting.
bool receive(int fd, std::vector<uint8_t>& buf, Datagram& d) {
  iovec iov{buf.data(), buf.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(timespec))];
  msghdr msg{};
  msg.msg_name = &d.from;
  msg.msg_namelen = sizeof d.from;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  for (int errors = 0;; ++errors) {
    ssize_t n = ::recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n >= 0) {
      d.size = static_cast<size_t>(n);
      d.from_len = msg.msg_namelen;
      break;
    }
    if (errno == EINTR) continue;
    // EAGAIN: nothing waiting; ECONNREFUSED and the like: an ICMP error for an earlier send,
    // consumed by this call (the probe is simply lost): try again, a few times.
    if (errno == EAGAIN || errno == EWOULDBLOCK || errors >= 8) return false;
  }
  const RealtimeToMonotonic to_mono;
  d.at = to_mono.now();
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      timespec ts{};
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      if (auto at = to_mono(ts)) d.at = *at;
    }
  }
  return true;
}

// IPv6, and not IPv4 mapped into it (a dual-stack socket's IPv4 peers).
bool is_v6(const sockaddr_storage& a) {
  if (a.ss_family != AF_INET6) return false;
  return !IN6_IS_ADDR_V4MAPPED(&reinterpret_cast<const sockaddr_in6*>(&a)->sin6_addr);
}

void wait_readable(int fd, Duration timeout) {
  if (timeout < Duration{0}) timeout = Duration{0};
  timespec ts{static_cast<time_t>(timeout.count() / 1'000'000'000),
              static_cast<long>(timeout.count() % 1'000'000'000)};
  pollfd p{fd, POLLIN, 0};
  ::ppoll(&p, 1, &ts, nullptr);
}

}  // namespace

Status enable_timestamps(int fd) {
  int on = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0)
    return system_error("SO_TIMESTAMPNS");
  return {};
}

Status run_sender(int fd, Sender& sender, Collector& replies, Duration wait,
                  const std::atomic<bool>& stop) {
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);  // wake at the deadline, not 50 µs after it
  std::vector<uint8_t> out, in(kMaxPayload + 1);
  Datagram d;
  TimePoint last_send{};
  while (!stop) {
    TimePoint now = mono_now();
    for (auto due = sender.next_due(); due && *due <= now; due = sender.next_due()) {
      sender.build_next(now, out);
      // A failed send is a lost probe (ENOBUFS, ECONNREFUSED from an earlier ICMP error, …).
      ::send(fd, out.data(), out.size(), MSG_DONTWAIT);
      last_send = now;
      now = mono_now();
    }
    while (receive(fd, in, d)) replies.on_datagram({in.data(), d.size}, d.at);
    auto next = sender.next_due();
    if (!next) {
      if (replies.received() >= sender.sent()) break;
      if (mono_now() >= last_send + wait) break;
    }
    TimePoint until = next ? *next : last_send + wait;
    wait_readable(fd, until - mono_now());
  }
  return {};
}

Status run_reflector(int fd, Reflector& reflector, const std::atomic<bool>& stop,
                     const std::function<void(TimePoint)>& tick) {
  std::vector<uint8_t> in(kMaxPayload + 1);
  Datagram d;
  while (!stop) {
    wait_readable(fd, std::chrono::milliseconds(50));
    while (receive(fd, in, d)) {
      auto h = reflector.on_datagram({in.data(), d.size}, d.at, frame_bytes(0, is_v6(d.from)));
      if (!h) continue;
      TimePoint now = mono_now();
      ::sendto(fd, in.data(), d.size, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&d.from),
               d.from_len);
      reflector.echoed(*h, now - d.at);
    }
    if (tick) tick(mono_now());
  }
  return {};
}

}  // namespace vnet::probe
