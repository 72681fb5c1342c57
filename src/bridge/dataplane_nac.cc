// Dataplane's half of port access control (dataplane.hh, port_access.hh): the control hook's
// dispatch, the RADIUS sockets and the timer.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <random>

#include "base/log.hh"
#include "bridge/dataplane.hh"
#include "nac/eapol.hh"

namespace vnet::bridge {

PortAccess& Dataplane::port_access(Bridge& br) {
  auto& a = access_[&br];
  if (!a) {
    Bridge* b = &br;
    std::random_device rd;  // RFC 2865 §3: Request Authenticators must be unpredictable
    uint64_t seed = (uint64_t{rd()} << 32) ^ rd();
    a = std::make_unique<PortAccess>(
        br, [this, b](PortNo p, std::span<const uint8_t> d) { radius_send(*b, p, d); }, seed);
  }
  return *a;
}

const PortAccess* Dataplane::find_port_access(const Bridge& br) const {
  auto it = access_.find(const_cast<Bridge*>(&br));
  return it == access_.end() ? nullptr : it->second.get();
}

void Dataplane::set_radius_server(Bridge& br, RadiusServer server, TimePoint now) {
  for (PortNo p : br.port_numbers()) radius_close(br, p);
  port_access(br).set_server(std::move(server), now);
  nac_changed();
}

void Dataplane::on_control(Bridge& br, PortNo port, packet::Frame&& frame, TimePoint now) {
  const uint8_t* d = frame.data();
  if (std::equal(nac::kPaeGroupAddress.begin(), nac::kPaeGroupAddress.end(), d)) {
    auto it = access_.find(&br);
    if (it == access_.end() || !it->second->controls(port)) return;  // consumed, counted
    it->second->on_eapol(port, frame, now);
    nac_changed();
    return;
  }
  if (auto it = trees_.find(&br); it != trees_.end())
    it->second->on_control(port, std::move(frame), now);
}

void Dataplane::on_unauthorized(Bridge& br, PortNo port, const packet::MacAddress& src,
                                TimePoint now) {
  auto it = access_.find(&br);
  if (it == access_.end()) return;
  it->second->on_unauthorized(port, src, now);
  nac_changed();
}

void Dataplane::radius_send(Bridge& br, PortNo port, std::span<const uint8_t> datagram) {
  PortAccess* access = access_.count(&br) ? access_[&br].get() : nullptr;
  if (!access || !access->server()) return;
  auto& fd = radius_fds_[{&br, port}];
  if (!fd.valid()) {
    const RadiusServer& s = *access->server();
    sockaddr_storage ss{};
    socklen_t len = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, s.host.c_str(), &v4->sin_addr) == 1) {
      v4->sin_family = AF_INET;
      v4->sin_port = htons(s.port);
      len = sizeof(*v4);
    } else if (inet_pton(AF_INET6, s.host.c_str(), &v6->sin6_addr) == 1) {
      v6->sin6_family = AF_INET6;
      v6->sin6_port = htons(s.port);
      len = sizeof(*v6);
    }
    UniqueFd sock(::socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (len == 0 || !sock.valid() ||
        ::connect(sock.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      ++radius_io_errors_;
      log::warn("{} port {}: RADIUS socket to {}:{}: {}", br.name(), port, s.host, s.port,
                std::strerror(errno));
      radius_fds_.erase({&br, port});
      return;
    }
    Bridge* b = &br;
    if (auto st = loop_.watch(sock.get(), [this, b, port] { radius_readable(*b, port); }); !st) {
      ++radius_io_errors_;
      radius_fds_.erase({&br, port});
      return;
    }
    fd = std::move(sock);
  }
  // Non-blocking: a full buffer or an unreachable server loses this one; the authenticator
  // retransmits on its timer (RFC 2865 §2.5).
  if (::send(fd.get(), datagram.data(), datagram.size(), 0) < 0) ++radius_io_errors_;
}

void Dataplane::radius_readable(Bridge& br, PortNo port) {
  auto fit = radius_fds_.find({&br, port});
  auto ait = access_.find(&br);
  if (fit == radius_fds_.end() || ait == access_.end()) return;
  std::array<uint8_t, 4096> buf;  // RFC 2865 §3: a RADIUS packet is at most 4096 bytes
  TimePoint now = loop_.clock().now();
  for (size_t i = 0; i < kRadiusBurst; ++i) {
    ssize_t n = ::recv(fit->second.get(), buf.data(), buf.size(), MSG_TRUNC);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      ++radius_io_errors_;  // ECONNREFUSED: the server's port is closed (ICMP)
      continue;
    }
    size_t got = std::min<size_t>(static_cast<size_t>(n), buf.size());
    ait->second->on_radius(port, std::span<const uint8_t>(buf.data(), got), now);
  }
  nac_changed();
}

void Dataplane::radius_close(Bridge& br, PortNo port) {
  auto it = radius_fds_.find({&br, port});
  if (it == radius_fds_.end()) return;
  loop_.unwatch(it->second.get());
  radius_fds_.erase(it);
}

void Dataplane::nac_changed() {
  if (nac_kicked_) return;
  nac_kicked_ = true;
  loop_.cancel_timer(nac_timer_);
  nac_timer_ = loop_.add_timer(Duration{0}, [this] {
    nac_timer_ = 0;
    nac_kicked_ = false;
    nac_run();
  });
}

// Tells each authenticator its port's link, ticks those that are due, sends what they queued
// and arms the timer at the earliest deadline.
void Dataplane::nac_run() {
  TimePoint now = loop_.clock().now();
  std::optional<TimePoint> next;
  // Sockets of ports that stopped asking RADIUS (off, forced) go.
  for (auto it = radius_fds_.begin(); it != radius_fds_.end();) {
    auto a = access_.find(const_cast<Bridge*>(it->first.first));
    bool asks = false;
    if (a != access_.end()) {
      for (auto& v : a->second->ports()) {
        asks =
            asks || (v.port == it->first.second && v.settings.control == nac::PortControl::kAuto);
      }
    }
    if (asks) {
      ++it;
      continue;
    }
    loop_.unwatch(it->second.get());
    it = radius_fds_.erase(it);
  }
  for (auto& entry : access_) {
    Bridge* br = entry.first;  // not a structured binding: clang 14 cannot capture one
    PortAccess* access = entry.second.get();
    for (auto& v : access->ports()) access->on_link(v.port, br->active(v.port), now);
    access->tick(now);
    cables_crossed_ = 0;
    br->drain([&](PortNo p, std::vector<packet::Frame>& out) { deliver(*br, p, out, now); });
    run_cables(now);
    auto due = access->next_deadline();
    if (due && (!next || *due < *next)) next = due;
  }
  if (next) {
    loop_.cancel_timer(nac_timer_);
    nac_timer_ = loop_.add_timer_at(*next, [this] {
      nac_timer_ = 0;
      nac_run();
    });
  }
}

}  // namespace vnet::bridge
