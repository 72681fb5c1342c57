#include "lab/probe.hh"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "base/byte_io.hh"
#include "base/fd.hh"
#include "base/parse.hh"
#include "lab/netns.hh"
#include "packet/ethernet.hh"
#include "packet/ip.hh"
#include "packet/l4.hh"

namespace vnet::lab {
namespace {

using Clock = std::chrono::steady_clock;

struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  bool v6 = false;
};

Result<SockAddr> resolve(const std::string& address, uint16_t port) {
  SockAddr a;
  if (address.find(':') != std::string::npos) {
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons(port);
    if (inet_pton(AF_INET6, address.c_str(), &s6->sin6_addr) != 1)
      return make_error(EINVAL, "bad IPv6 address '{}'", address);
    a.len = sizeof *s6;
    a.v6 = true;
  } else {
    auto* s4 = reinterpret_cast<sockaddr_in*>(&a.ss);
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    if (inet_pton(AF_INET, address.c_str(), &s4->sin_addr) != 1)
      return make_error(EINVAL, "bad IPv4 address '{}'", address);
    a.len = sizeof *s4;
  }
  return a;
}

Result<UniqueFd> socket_in(const std::string& netns, int domain, int type, int proto) {
  UniqueFd fd;
  Status s = in_netns(netns, [&]() -> Status {
    fd.reset(::socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, proto));
    if (!fd.valid()) return system_error("socket");
    return {};
  });
  if (!s) return s.error();
  return fd;
}

uint16_t next_id() {
  static uint16_t counter = static_cast<uint16_t>(::getpid() * 7919);
  return ++counter;
}

}  // namespace

Result<PingResult> ping(const std::string& netns, const std::string& address,
                        std::chrono::milliseconds deadline, std::chrono::milliseconds interval) {
  auto dst = resolve(address, 0);
  if (!dst) return dst.error();
  auto fd = socket_in(netns, dst->v6 ? AF_INET6 : AF_INET, SOCK_RAW,
                      dst->v6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP});
  if (!fd) return fd.error();
  uint16_t id = next_id();
  PingResult result;
  auto start = Clock::now(), end = start + deadline;
  auto next_send = start;
  std::vector<Clock::time_point> sent_at;
  while (Clock::now() < end) {
    auto now = Clock::now();
    if (now >= next_send) {
      packet::IcmpEcho e;
      e.type = dst->v6 ? packet::IcmpEcho::kV6Request : packet::IcmpEcho::kV4Request;
      e.identifier = id;
      e.sequence = static_cast<uint16_t>(result.sent);
      e.data.assign(32, 0x5a);
      std::vector<uint8_t> buf;
      ByteWriter w(buf);
      encode_icmp_echo(e, 0, w);  // ICMPv6: the kernel fills in the checksum (RFC 3542 §3.1)
      ::sendto(fd->get(), buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&dst->ss),
               dst->len);
      sent_at.push_back(now);
      ++result.sent;
      next_send = now + interval;
    }
    auto wait = std::min(next_send, end) - Clock::now();
    int ms = static_cast<int>(
        std::max<long>(1, std::chrono::duration_cast<std::chrono::milliseconds>(wait).count()));
    pollfd p{fd->get(), POLLIN, 0};
    if (::poll(&p, 1, ms) <= 0) continue;
    uint8_t rx[2048];
    sockaddr_storage from{};
    socklen_t fl = sizeof from;
    ssize_t n;
    while ((n = ::recvfrom(fd->get(), rx, sizeof rx, 0, reinterpret_cast<sockaddr*>(&from), &fl)) >
           0) {
      ByteReader r({rx, static_cast<size_t>(n)});
      if (!dst->v6) {
        auto ip = packet::decode_ipv4(r);
        if (!ip) continue;
        auto* d4 = reinterpret_cast<sockaddr_in*>(&dst->ss);
        if (ip->src.value != ntohl(d4->sin_addr.s_addr)) continue;
      } else {
        auto* f6 = reinterpret_cast<sockaddr_in6*>(&from);
        auto* d6 = reinterpret_cast<sockaddr_in6*>(&dst->ss);
        if (std::memcmp(&f6->sin6_addr, &d6->sin6_addr, 16) != 0) continue;
      }
      auto echo = packet::decode_icmp_echo(r);
      if (!echo) continue;
      uint8_t want = dst->v6 ? packet::IcmpEcho::kV6Reply : packet::IcmpEcho::kV4Reply;
      if (echo->type != want || echo->identifier != id || echo->sequence >= sent_at.size())
        continue;
      result.reply = true;
      result.rtt = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() -
                                                                         sent_at[echo->sequence]);
      return result;
    }
  }
  return result;
}

Result<TcpResult> tcp_connect(const std::string& netns, const std::string& address, uint16_t port,
                              std::chrono::milliseconds timeout) {
  auto dst = resolve(address, port);
  if (!dst) return dst.error();
  auto fd = socket_in(netns, dst->v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  if (!fd) return fd.error();
  if (::connect(fd->get(), reinterpret_cast<sockaddr*>(&dst->ss), dst->len) == 0)
    return TcpResult::kOpen;
  if (errno == ECONNREFUSED) return TcpResult::kRefused;
  if (errno != EINPROGRESS) return system_error("connect " + address);
  pollfd p{fd->get(), POLLOUT, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return TcpResult::kTimeout;
  int err = 0;
  socklen_t l = sizeof err;
  ::getsockopt(fd->get(), SOL_SOCKET, SO_ERROR, &err, &l);
  if (err == 0) return TcpResult::kOpen;
  if (err == ECONNREFUSED) return TcpResult::kRefused;
  return TcpResult::kTimeout;  // EHOSTUNREACH, ENETUNREACH: nothing answered
}

Result<HttpAnswer> parse_http_response(std::string_view b) {
  auto bad = [](std::string_view why) { return make_error(EBADMSG, "HTTP answer: {}", why); };
  auto eol = b.find("\r\n");
  if (eol == std::string_view::npos || !b.starts_with("HTTP/1.") || eol < 12 || b[8] != ' ')
    return bad("no status line");
  auto code = parse_int(b.substr(9, 3), 100, 599);
  if (!code || (eol > 12 && b[12] != ' ')) return bad("no status code from 100 to 599");
  auto end = b.find("\r\n\r\n", eol);
  if (end == std::string_view::npos) return bad("the headers do not end");
  HttpAnswer a;
  a.status = static_cast<int>(*code);
  std::string_view body = b.substr(end + 4);
  for (size_t pos = eol + 2; pos < end;) {
    size_t next = b.find("\r\n", pos);
    std::string_view line = b.substr(pos, next - pos);
    pos = next + 2;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    if (name != "content-length") continue;
    auto v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    auto len = parse_int(v, 0, 1 << 30);
    if (!len) return bad("Content-Length " + std::string(v));
    if (static_cast<size_t>(*len) > body.size()) return bad("shorter than its Content-Length");
    body = body.substr(0, static_cast<size_t>(*len));
  }
  a.body = std::string(body);
  return a;
}

Result<HttpAnswer> http_get(const std::string& netns, const std::string& address, uint16_t port,
                            const std::string& path, std::chrono::milliseconds timeout) {
  const auto end = Clock::now() + timeout;
  auto left = [&] {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(end - Clock::now()).count();
    return static_cast<int>(std::max<int64_t>(ms, 0));
  };
  auto dst = resolve(address, port);
  if (!dst) return dst.error();
  auto fd = socket_in(netns, dst->v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  if (!fd) return fd.error();
  auto where = fmt::format("{}:{}", address, port);
  if (::connect(fd->get(), reinterpret_cast<sockaddr*>(&dst->ss), dst->len) < 0) {
    if (errno == ECONNREFUSED) return make_error(ECONNREFUSED, "{} refused", where);
    if (errno != EINPROGRESS) return system_error("connect " + where);
    pollfd p{fd->get(), POLLOUT, 0};
    if (::poll(&p, 1, left()) <= 0) return make_error(ETIMEDOUT, "{}: no connection", where);
    int err = 0;
    socklen_t l = sizeof err;
    ::getsockopt(fd->get(), SOL_SOCKET, SO_ERROR, &err, &l);
    if (err == ECONNREFUSED) return make_error(ECONNREFUSED, "{} refused", where);
    if (err != 0) return make_error(ETIMEDOUT, "{}: no connection ({})", where, std::strerror(err));
  }
  std::string req =
      fmt::format("GET {} HTTP/1.0\r\nHost: {}\r\nUser-Agent: vnet-lab\r\n\r\n", path, address);
  for (size_t sent = 0; sent < req.size();) {
    ssize_t n = ::send(fd->get(), req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN) return system_error("send to " + where);
    pollfd p{fd->get(), POLLOUT, 0};
    if (::poll(&p, 1, left()) <= 0) return make_error(ETIMEDOUT, "{}: request not sent", where);
  }
  constexpr size_t kMax = 64 * 1024;
  std::string got;
  char buf[4096];
  while (true) {
    ssize_t n = ::recv(fd->get(), buf, sizeof buf, 0);
    if (n == 0) break;
    if (n > 0) {
      got.append(buf, static_cast<size_t>(n));
      if (got.size() > kMax) return make_error(EMSGSIZE, "{}: answer over 64 KiB", where);
      continue;
    }
    if (errno == ECONNRESET) break;  // what came before the reset is judged as it is
    if (errno != EAGAIN) return system_error("recv from " + where);
    pollfd p{fd->get(), POLLIN, 0};
    if (::poll(&p, 1, left()) <= 0)
      return make_error(ETIMEDOUT, "{}: {}", where,
                        got.empty() ? "no answer" : "the answer did not end (no close)");
  }
  if (got.empty()) return make_error(EBADMSG, "{}: closed without an answer", where);
  auto a = parse_http_response(got);
  if (!a) return make_error(EBADMSG, "{}: {}", where, a.error().message);
  return a;
}

Result<std::unique_ptr<FailoverProbe>> FailoverProbe::start(
    const std::string& netns, const std::string& ifname, const std::string& address,
    std::vector<packet::MacAddress> excluded, std::chrono::milliseconds timeout) {
  std::unique_ptr<FailoverProbe> p(new FailoverProbe());
  p->v6_ = address.find(':') != std::string::npos;
  if (inet_pton(p->v6_ ? AF_INET6 : AF_INET, address.c_str(), p->dst_.data()) != 1) {
    return make_error(EINVAL, "bad address '{}'", address);
  }
  p->excluded_ = std::move(excluded);
  Status s = in_netns(netns, [&]() -> Status {
    p->icmp_.reset(::socket(p->v6_ ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC,
                            p->v6_ ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP}));
    if (!p->icmp_.valid()) return system_error("ICMP socket");
    p->packet_.reset(
        ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(p->v6_ ? ETH_P_IPV6 : ETH_P_IP)));
    if (!p->packet_.valid()) return system_error("AF_PACKET socket");
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(p->v6_ ? ETH_P_IPV6 : ETH_P_IP);
    sll.sll_ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
    if (sll.sll_ifindex == 0) return make_error(ENODEV, "{}: no interface {}", netns, ifname);
    if (::bind(p->packet_.get(), reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0)
      return system_error("bind AF_PACKET");
    return {};
  });
  if (!s) return s.error();
  p->deadline_ = Clock::now() + timeout;
  p->thread_ = std::thread([raw = p.get()] { raw->run(); });
  return p;
}

FailoverProbe::~FailoverProbe() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void FailoverProbe::run() {
  uint16_t id = next_id();
  sockaddr_storage dst{};
  socklen_t dlen;
  if (v6_) {
    auto* d = reinterpret_cast<sockaddr_in6*>(&dst);
    d->sin6_family = AF_INET6;
    std::memcpy(&d->sin6_addr, dst_.data(), 16);
    dlen = sizeof *d;
  } else {
    auto* d = reinterpret_cast<sockaddr_in*>(&dst);
    d->sin_family = AF_INET;
    std::memcpy(&d->sin_addr, dst_.data(), 4);
    dlen = sizeof *d;
  }
  auto next_send = Clock::now();
  while (!stop_ && Clock::now() < deadline_) {
    if (Clock::now() >= next_send) {
      packet::IcmpEcho e;
      e.type = v6_ ? packet::IcmpEcho::kV6Request : packet::IcmpEcho::kV4Request;
      e.identifier = id;
      e.sequence = static_cast<uint16_t>(sent_.load());
      std::vector<uint8_t> buf;
      ByteWriter w(buf);
      encode_icmp_echo(e, 0, w);
      ::sendto(icmp_.get(), buf.data(), buf.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&dst),
               dlen);
      ++sent_;
      next_send += std::chrono::milliseconds(10);
    }
    pollfd pfd{packet_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 2) <= 0) continue;
    uint8_t rx[2048];
    ssize_t n;
    while ((n = ::recv(packet_.get(), rx, sizeof rx, MSG_DONTWAIT)) > 0) {
      if (n < 14) continue;
      packet::MacAddress src;
      std::memcpy(src.bytes.data(), rx + 6, 6);
      ByteReader r({rx + 14, static_cast<size_t>(n) - 14});
      if (v6_) {
        auto h = packet::decode_ipv6(r);
        if (!h || h->next_header != 58 || std::memcmp(h->src.bytes.data(), dst_.data(), 16) != 0)
          continue;
      } else {
        auto h = packet::decode_ipv4(r);
        if (!h || h->protocol != 1 || std::memcmp(h->src.to_bytes().data(), dst_.data(), 4) != 0)
          continue;
      }
      auto echo = packet::decode_icmp_echo(r);
      uint8_t want = v6_ ? packet::IcmpEcho::kV6Reply : packet::IcmpEcho::kV4Reply;
      if (!echo || echo->type != want || echo->identifier != id) continue;
      if (std::find(excluded_.begin(), excluded_.end(), src) != excluded_.end()) continue;
      std::lock_guard lock(mu_);
      reply_ = Clock::now();
      done_ = true;
      cv_.notify_all();
      return;
    }
  }
  std::lock_guard lock(mu_);
  done_ = true;
  cv_.notify_all();
}

std::optional<FailoverProbe::Clock::time_point> FailoverProbe::first_reply(
    std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, wait, [this] { return done_; });
  return reply_;
}

Result<StreamProbeFrame> decode_stream_probe(ByteReader& in) {
  if (!in.has(StreamProbeFrame::kWireSize)) {
    return make_error(EINVAL, "probe payload truncated: need {} bytes, have {}",
                      StreamProbeFrame::kWireSize, in.remaining());
  }
  uint32_t magic = in.u32();
  if (magic != StreamProbeFrame::kMagic)
    return make_error(EINVAL, "not a probe: magic {:#010x}, expected {:#010x}", magic,
                      StreamProbeFrame::kMagic);
  StreamProbeFrame f;
  f.stream = in.u32();
  f.seq = uint64_t{in.u32()} << 32;
  f.seq |= in.u32();
  uint64_t t = uint64_t{in.u32()} << 32;
  t |= in.u32();
  f.sent_ns = static_cast<int64_t>(t);
  return f;
}

void encode(const StreamProbeFrame& f, ByteWriter& out) {
  out.u32(StreamProbeFrame::kMagic);
  out.u32(f.stream);
  out.u32(static_cast<uint32_t>(f.seq >> 32));
  out.u32(static_cast<uint32_t>(f.seq));
  auto t = static_cast<uint64_t>(f.sent_ns);
  out.u32(static_cast<uint32_t>(t >> 32));
  out.u32(static_cast<uint32_t>(t));
}

StreamStats analyze_stream(std::span<const int64_t> sent_ns, std::span<const StreamSample> arrivals,
                           int64_t since_ns) {
  StreamStats st;
  st.sent = sent_ns.size();
  std::vector<bool> seen(sent_ns.size(), false);
  std::optional<uint64_t> highest;
  for (const StreamSample& a : arrivals) {
    if (a.seq >= sent_ns.size()) continue;
    st.max_latency = std::max(st.max_latency, std::chrono::nanoseconds(a.received_ns - a.sent_ns));
    if (seen[a.seq]) {
      ++st.duplicated;
      continue;
    }
    seen[a.seq] = true;
    ++st.received;
    if (highest && a.seq < *highest) ++st.out_of_order;
    highest = std::max(highest.value_or(0), a.seq);
  }
  st.lost = st.sent - st.received;
  // Runs of lost probes, in sequence order: [first, i) with seen[i] (or i == end).
  size_t i = 0;
  bool arrived_after = false;
  while (i < seen.size()) {
    if (seen[i]) {
      arrived_after |= sent_ns[i] >= since_ns;
      ++i;
      continue;
    }
    size_t first = i;
    while (i < seen.size() && !seen[i]) ++i;
    int64_t end = i < seen.size() ? sent_ns[i] : sent_ns.back();
    if (end < since_ns) continue;  // over before the fault
    auto gap = std::chrono::nanoseconds(end - sent_ns[first]);
    if (gap > st.outage || (gap == st.outage && i - first > st.outage_lost)) {
      st.outage = gap;
      st.outage_lost = i - first;
    }
  }
  st.recovered = arrived_after && !seen.empty() && seen.back();
  return st;
}

namespace {

// An AF_PACKET socket for the probe EtherType bound to `ifname`, created inside `netns`.
Result<UniqueFd> probe_socket(const std::string& netns, const std::string& ifname, int& ifindex) {
  UniqueFd fd;
  Status s = in_netns(netns, [&]() -> Status {
    fd.reset(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(kProbeEtherType)));
    if (!fd.valid()) return system_error("AF_PACKET socket");
    sockaddr_ll sll{};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(kProbeEtherType);
    sll.sll_ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
    if (sll.sll_ifindex == 0) return make_error(ENODEV, "{}: no interface {}", netns, ifname);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0)
      return system_error("bind AF_PACKET on " + ifname);
    ifindex = sll.sll_ifindex;
    return {};
  });
  if (!s) return s.error();
  return fd;
}

}  // namespace

Result<std::unique_ptr<ProbeStream>> ProbeStream::start(const End& from, const End& to,
                                                        std::chrono::microseconds interval,
                                                        std::chrono::seconds limit) {
  std::unique_ptr<ProbeStream> p(new ProbeStream());
  int rx_ifindex = 0;
  auto tx = probe_socket(from.netns, from.ifname, p->tx_ifindex_);
  if (!tx) return tx.error();
  auto rx = probe_socket(to.netns, to.ifname, rx_ifindex);
  if (!rx) return rx.error();
  p->tx_ = std::move(*tx);
  p->rx_ = std::move(*rx);
  p->src_ = from.mac;
  p->dst_ = to.mac;
  p->id_ = uint32_t{next_id()} << 16 | static_cast<uint16_t>(::getpid());
  p->interval_ = interval;
  p->end_ = Clock::now() + limit;
  p->sent_ns_.reserve(static_cast<size_t>(limit / interval) + 1);
  // The receiver listens before the first probe leaves.
  p->receiver_ = std::thread([raw = p.get()] { raw->receive_loop(); });
  p->sender_ = std::thread([raw = p.get()] { raw->send_loop(); });
  return p;
}

ProbeStream::~ProbeStream() { stop(std::chrono::milliseconds(0)); }

void ProbeStream::send_loop() {
  std::vector<uint8_t> buf;
  auto next = Clock::now();
  for (uint64_t seq = 0; !stop_send_ && Clock::now() < end_; ++seq) {
    buf.clear();
    ByteWriter w(buf);
    encode(packet::EthernetHeader{dst_, src_, kProbeEtherType}, w);
    auto now = Clock::now();
    encode(StreamProbeFrame{id_, seq, ns(now)}, w);
    if (buf.size() < 60) w.zeros(60 - buf.size());  // the Ethernet minimum, without FCS
    {
      std::lock_guard lock(mu_);
      sent_ns_.push_back(ns(now));
    }
    // A failed send (queue full, carrier down) is a lost probe, as on a real wire.
    ::send(tx_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    next += interval_;
    if (next < now) next = now + interval_;  // fell behind: no burst to catch up
    std::this_thread::sleep_until(next);
  }
}

void ProbeStream::receive_loop() {
  uint8_t rx[2048];
  while (!stop_receive_) {
    pollfd pfd{rx_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, 5) <= 0) continue;
    sockaddr_ll from{};
    socklen_t fl = sizeof from;
    ssize_t n;
    while ((n = ::recvfrom(rx_.get(), rx, sizeof rx, MSG_DONTWAIT,
                           reinterpret_cast<sockaddr*>(&from), &fl)) > 0) {
      auto now = Clock::now();
      if (from.sll_pkttype == PACKET_OUTGOING) continue;
      ByteReader r({rx, static_cast<size_t>(n)});
      auto eth = packet::decode_ethernet(r);
      if (!eth || eth->src != src_ || eth->ether_type != kProbeEtherType) continue;
      auto f = decode_stream_probe(r);
      if (!f || f->stream != id_) continue;
      std::lock_guard lock(mu_);
      arrivals_.push_back({f->seq, f->sent_ns, ns(now)});
      cv_.notify_all();
    }
  }
}

std::optional<ProbeStream::Clock::time_point> ProbeStream::flowing_after(
    Clock::time_point since, std::chrono::milliseconds wait) {
  int64_t since_ns = ns(since);
  std::optional<Clock::time_point> at;
  size_t checked = 0;
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, wait, [&] {
    for (; checked < arrivals_.size(); ++checked) {
      if (arrivals_[checked].sent_ns >= since_ns) {
        at = Clock::time_point(std::chrono::nanoseconds(arrivals_[checked].received_ns));
        return true;
      }
    }
    return false;
  });
  return at;
}

ProbeStream::Recording ProbeStream::stop(std::chrono::milliseconds drain) {
  if (!sender_.joinable() && !receiver_.joinable()) return {};
  stop_send_ = true;
  if (sender_.joinable()) sender_.join();
  std::this_thread::sleep_for(drain);  // probes in flight still arrive
  stop_receive_ = true;
  if (receiver_.joinable()) receiver_.join();
  std::lock_guard lock(mu_);
  Recording r{std::move(sent_ns_), std::move(arrivals_)};
  sent_ns_.clear();
  arrivals_.clear();
  return r;
}

Result<std::vector<std::string>> netns_addresses(const std::string& netns) {
  std::vector<std::string> out;
  Status s = in_netns(netns, [&]() -> Status {
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return system_error("getifaddrs");
    for (ifaddrs* a = list; a; a = a->ifa_next) {
      if (!a->ifa_addr) continue;
      char buf[INET6_ADDRSTRLEN] = {};
      if (a->ifa_addr->sa_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, buf, sizeof buf);
      } else if (a->ifa_addr->sa_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr, buf,
                  sizeof buf);
      } else {
        continue;
      }
      out.push_back(buf);
    }
    freeifaddrs(list);
    return {};
  });
  if (!s) return s.error();
  return out;
}

}  // namespace vnet::lab
