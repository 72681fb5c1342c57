#include "lb/probe.hh"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/fd.hh"
#include "base/log.hh"
#include "lb/dns_check.hh"
#include "lb/file_check.hh"
#include "lb/ping_check.hh"
#include "lb/smtp_check.hh"
#include "lb/udp_check.hh"

namespace vnet::lb {

std::string md5_hex(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  std::string out;
  for (unsigned i = 0; i < len; ++i) out += fmt::format("{:02x}", md[i]);
  return out;
}

std::optional<std::string> http_verdict(const std::string& response, const UrlCheck& url) {
  // "HTTP/1.x NNN"
  if (response.size() < 12 || response.compare(0, 5, "HTTP/") != 0 || response[8] != ' ' ||
      !std::isdigit(static_cast<unsigned char>(response[9])) ||
      !std::isdigit(static_cast<unsigned char>(response[10])) ||
      !std::isdigit(static_cast<unsigned char>(response[11])))
    return std::string(response.empty() ? "empty response" : "no HTTP status line");
  int status = std::stoi(response.substr(9, 3));
  size_t head_end = response.find("\r\n\r\n");
  size_t body_at = head_end == std::string::npos ? std::string::npos : head_end + 4;
  if (body_at == std::string::npos) {
    head_end = response.find("\n\n");
    if (head_end != std::string::npos) body_at = head_end + 2;
  }
  if (body_at == std::string::npos) return "closed early: headers incomplete";
  bool ok = url.status_codes.empty() ? status >= 200 && status <= 299
                                     : std::find(url.status_codes.begin(), url.status_codes.end(),
                                                 status) != url.status_codes.end();
  if (!ok) return fmt::format("status {}", status);
  std::string body = response.substr(body_at);
  // Content-Length, when given, must be met (a peer that closes early fails).
  std::string head = response.substr(0, head_end);
  std::string lower = head;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if (size_t at = lower.find("\ncontent-length:"); at != std::string::npos) {
    size_t v = at + 16;
    while (v < head.size() && head[v] == ' ') ++v;
    size_t want = 0;
    bool digits = false;
    while (v < head.size() && std::isdigit(static_cast<unsigned char>(head[v]))) {
      want = want * 10 + size_t(head[v++] - '0');
      digits = true;
    }
    if (digits && body.size() < want)
      return fmt::format("closed early: {} of {} body bytes", body.size(), want);
    if (digits) body.resize(want);
  }
  if (!url.digest.empty()) {
    std::string got = md5_hex(body);
    if (got != url.digest) return fmt::format("digest {} differs from {}", got, url.digest);
  }
  return std::nullopt;
}

namespace {
struct SslFree {
  void operator()(SSL* s) const { SSL_free(s); }
};
std::string ssl_error_text() {
  unsigned long e = ERR_get_error();
  if (!e) return std::strerror(errno ? errno : EPROTO);
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}
}  // namespace

struct Prober::Probe {
  CheckerConfig check;
  Endpoint target;
  Done done;
  UniqueFd fd;
  std::unique_ptr<SSL, SslFree> ssl;  // SSL_GET: the TLS session over fd
  bool handshaken = false;
  size_t url = 0;  // HTTP_GET: the url being fetched
  std::string out;
  size_t sent = 0;
  std::string in;
  pid_t pid = -1;
  std::unique_ptr<SmtpDialog> smtp;  // SMTP_CHECK
  uint16_t dns_id = 0;               // DNS_CHECK: the query's ID
  uint16_t ping_seq = 0;             // PING_CHECK: the request's sequence number
  std::optional<uint16_t> ping_id;   // PING_CHECK on a raw socket: its identifier
  bool ping_ip_header = false;       // PING_CHECK on a raw IPv4 socket: replies carry the header
};

Prober::Prober(EventLoop& loop, Children& children) : loop_(loop), children_(children) {}

Prober::~Prober() {
  for (auto& [k, p] : probes_) release(*p);
  if (ssl_ctx_) SSL_CTX_free(ssl_ctx_);
}

void Prober::release(Probe& p) {
  p.ssl.reset();
  if (p.fd.get() >= 0) {
    loop_.unwatch(p.fd.get());
    p.fd.reset();
  }
  if (p.pid > 0) {
    children_.cancel(p.pid);
    p.pid = -1;
  }
}

void Prober::start(uint64_t key, const CheckerConfig& check, const Endpoint& real, Duration timeout,
                   Done done) {
  auto p = std::make_unique<Probe>();
  p->check = check;
  p->target = check.connect ? *check.connect : real;
  if (check.connect && check.connect->port == 0) p->target.port = real.port;
  p->done = std::move(done);
  Probe& probe = *p;
  probes_[key] = std::move(p);
  if (check.type == CheckerType::kMisc) {
    if (auto why = runner_.insecure(check.misc_path)) {
      finish(key, false, "not run: " + *why);
      return;
    }
    bool dynamic = check.misc_dynamic;
    auto pid = children_.start(
        runner_.spec(check.misc_path, timeout), [this, key, dynamic](const ChildExit& e) {
          auto it = probes_.find(key);
          if (it == probes_.end()) return;
          it->second->pid = -1;
          if (e.timed_out || !WIFEXITED(e.status)) {
            finish(key, false, e.describe());
            return;
          }
          auto o = ProbeOutcome::from_exit_status(WEXITSTATUS(e.status), dynamic);
          finish(key, o.success, e.describe(), o.weight);
        });
    if (!pid) {
      finish(key, false, "cannot start: " + pid.error().message);
      return;
    }
    probe.pid = *pid;
    return;
  }
  if (check.type == CheckerType::kFile) {
    // Deferred: the outcome comes from the loop, as every other probe's does.
    loop_.defer([this, key] { read_track_file(key); });
    return;
  }
  if (check.type == CheckerType::kDns || check.type == CheckerType::kUdp ||
      check.type == CheckerType::kPing)
    return datagram(key);
  connect(key);
}

namespace {
socklen_t to_sockaddr(const Endpoint& e, sockaddr_storage& ss) {
  std::memset(&ss, 0, sizeof ss);
  if (e.v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(e.port);
    inet_pton(AF_INET6, e.address_string().c_str(), &a->sin6_addr);
    return sizeof *a;
  }
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  a->sin_family = AF_INET;
  a->sin_port = htons(e.port);
  inet_pton(AF_INET, e.address_string().c_str(), &a->sin_addr);
  return sizeof *a;
}

// Binds `fd` to `from` (when given) and connects it to `to`; the error text, or nullopt (also for
// a non-blocking connect in progress).
std::optional<std::string> bind_connect(int fd, const std::optional<Endpoint>& from,
                                        const Endpoint& to) {
  sockaddr_storage ss;
  if (from) {
    socklen_t len = to_sockaddr(*from, ss);
    if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0)
      return fmt::format("bind {}: {}", from->to_string(), std::strerror(errno));
  }
  socklen_t len = to_sockaddr(to, ss);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0 && errno != EINPROGRESS)
    return fmt::format("connect: {}", std::strerror(errno));
  return std::nullopt;
}
}  // namespace

// FILE_CHECK: the file's first octets, read without blocking (O_NONBLOCK: a FIFO does not hang
// the loop); a missing file reads as 0, as keepalived's process_track_file().
void Prober::read_track_file(uint64_t key) {
  auto it = probes_.find(key);
  if (it == probes_.end()) return;  // aborted meanwhile
  const FileCheck& f = it->second->check.file;
  std::string content;
  int fd = open(f.path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0) {
    char buf[128];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    if (n > 0) content.assign(buf, size_t(n));
    close(fd);
  }
  std::string note;
  auto value = track_file_value(content);
  if (!value) {
    auto last = file_values_.find(f.path);
    value = last == file_values_.end() ? 0 : last->second;
    note = fmt::format(" (an out-of-range number in {} ignored)", f.path);
  }
  file_values_[f.path] = *value;
  FileCheckState st = file_check_state(*value, f);
  std::string detail = fmt::format("{} reads {}{}", f.path, *value, note);
  if (st.weight) detail += fmt::format(", weight {}", *st.weight);
  finish(key, st.up, detail, st.weight);
}

// DNS_CHECK, UDP_CHECK, PING_CHECK: one datagram on a connected socket, then replies (or ICMP
// errors, which a connected socket reports as a receive error) until the verdict or the abort.
void Prober::datagram(uint64_t key) {
  Probe& p = *probes_.at(key);
  const CheckerConfig& c = p.check;
  int family = p.target.v6 ? AF_INET6 : AF_INET;
  std::vector<uint8_t> msg;
  UniqueFd fd;
  if (c.type == CheckerType::kPing) {
    int proto = p.target.v6 ? int(IPPROTO_ICMPV6) : int(IPPROTO_ICMP);
    // An ICMP datagram socket needs the group in net.ipv4.ping_group_range; else a raw socket
    // (CAP_NET_RAW). keepalived widens ping_group_range to gid 0 instead; vnet does not write
    // sysctls.
    fd = UniqueFd(socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto));
    int dgram_errno = errno;
    if (fd.get() < 0) {
      fd = UniqueFd(socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto));
      if (fd.get() < 0)
        return finish(key, false,
                      fmt::format("ICMP socket: {} (ping_group_range), raw: {}",
                                  std::strerror(dgram_errno), std::strerror(errno)));
      p.ping_id = uint16_t(rng_());
      p.ping_ip_header = !p.target.v6;
    }
    p.ping_seq = ping_seq_++;
    msg = icmp_echo_request(p.target.v6, p.ping_id.value_or(0), p.ping_seq);
  } else {
    fd = UniqueFd(socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP));
    if (fd.get() < 0) return finish(key, false, fmt::format("socket: {}", std::strerror(errno)));
    // Every ICMP error, not only port unreachable, as a receive error (layer4.c
    // udp_bind_connect()).
    int on = 1;
    if (p.target.v6)
      setsockopt(fd.get(), SOL_IPV6, IPV6_RECVERR, &on, sizeof on);
    else
      setsockopt(fd.get(), SOL_IP, IP_RECVERR, &on, sizeof on);
    if (c.type == CheckerType::kDns) {
      p.dns_id = uint16_t(rng_());
      msg = dns_query(p.dns_id, c.dns.name, c.dns.type);
    } else {
      msg = c.udp.payload.empty() ? default_udp_payload() : c.udp.payload;
    }
  }
  Endpoint to = p.target;
  if (c.type == CheckerType::kPing) to.port = 0;
  if (auto why = bind_connect(fd.get(), c.bindto, to)) return finish(key, false, *why);
  ssize_t n = send(fd.get(), msg.data(), msg.size(), 0);
  if (n < 0) return finish(key, false, fmt::format("send: {}", std::strerror(errno)));
  if (size_t(n) != msg.size())
    return finish(key, false, fmt::format("send: {} of {} bytes", n, msg.size()));
  p.fd = std::move(fd);
  if (auto s = loop_.watch(p.fd.get(), [this, key] { on_datagram(key); }); !s)
    return finish(key, false, s.error().message);
}

void Prober::on_datagram(uint64_t key) {
  auto it = probes_.find(key);
  if (it == probes_.end()) return;
  Probe& p = *it->second;
  const CheckerConfig& c = p.check;
  // What is read of one datagram: UDP_CHECK max_reply_length + 1 (a longer reply is cut there and
  // fails the bound, as keepalived), DNS_CHECK's 768 octets, an echo reply with an IPv4 header.
  size_t want = c.type == CheckerType::kUdp   ? std::min<size_t>(c.udp.max_reply, 65535) + 1
                : c.type == CheckerType::kDns ? kDnsMaxReply
                                              : 60 + 8 + kPingPayload;
  std::vector<uint8_t> buf(want);
  // A bounded number of datagrams per wake-up: a flood of strangers' packets cannot hold the loop.
  for (int i = 0; i < 16; ++i) {
    ssize_t n = recv(p.fd.get(), buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EINTR) return;
      return finish(key, false, fmt::format("ICMP error: {}", std::strerror(errno)));
    }
    std::span<const uint8_t> got(buf.data(), size_t(n));
    switch (c.type) {
      case CheckerType::kUdp:
        if (!c.udp.require_reply) return finish(key, true, fmt::format("reply of {} bytes", n));
        if (auto why = udp_reply_problem(got, c.udp)) return finish(key, false, *why);
        return finish(key, true, fmt::format("reply of {} bytes matches", n));
      case CheckerType::kDns: {
        DnsVerdict v = dns_reply_verdict(got, p.dns_id);
        if (v.kind == DnsVerdict::kIgnore) continue;
        return finish(key, v.kind == DnsVerdict::kSuccess,
                      fmt::format("{} {}: {}", dns_type_name(c.dns.type),
                                  c.dns.name.empty() ? "." : c.dns.name, v.detail));
      }
      default:
        if (icmp_echo_reply_problem(got, p.target.v6, p.ping_ip_header, p.ping_id, p.ping_seq))
          continue;
        return finish(key, true,
                      fmt::format("echo reply, sequence {} ({} socket)", p.ping_seq,
                                  p.ping_id ? "raw" : "ICMP datagram"));
    }
  }
}

void Prober::connect(uint64_t key) {
  Probe& p = *probes_.at(key);
  p.in.clear();
  p.out.clear();
  p.sent = 0;
  int family = p.target.v6 ? AF_INET6 : AF_INET;
  UniqueFd fd(socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return finish(key, false, fmt::format("socket: {}", std::strerror(errno)));
  if (auto why = bind_connect(fd.get(), p.check.bindto, p.target)) return finish(key, false, *why);
  p.fd = std::move(fd);
  if (auto s = loop_.want_writable(p.fd.get(), [this, key] { on_writable(key); }); !s)
    return finish(key, false, s.error().message);
}

void Prober::on_writable(uint64_t key) {
  auto it = probes_.find(key);
  if (it == probes_.end()) return;
  Probe& p = *it->second;
  if (p.out.empty()) {  // the connect completed, or failed
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(p.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) return finish(key, false, fmt::format("connect: {}", std::strerror(err)));
    if (p.check.type == CheckerType::kTcp) return finish(key, true, "connected");
    if (p.check.type == CheckerType::kSsl) return start_tls(key);
    if (p.check.type == CheckerType::kSmtp) {
      p.smtp = std::make_unique<SmtpDialog>(p.check.smtp.helo_name);
      loop_.drop_writable(p.fd.get());
      if (auto s = loop_.watch(p.fd.get(), [this, key] { on_smtp(key); }); !s)
        return finish(key, false, s.error().message);
      return;
    }
    p.out = request(p);
  }
  ssize_t n = send(p.fd.get(), p.out.data() + p.sent, p.out.size() - p.sent, MSG_NOSIGNAL);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    return finish(key, false, fmt::format("send: {}", std::strerror(errno)));
  }
  p.sent += size_t(n);
  if (p.sent < p.out.size()) return;
  loop_.drop_writable(p.fd.get());
  if (auto s = loop_.watch(p.fd.get(), [this, key] { on_readable(key); }); !s)
    return finish(key, false, s.error().message);
}

std::string Prober::host(const Probe& p) {
  const UrlCheck& u = p.check.urls[p.url];
  return !u.virtualhost.empty()         ? u.virtualhost
         : !p.check.virtualhost.empty() ? p.check.virtualhost
                                        : p.target.address_string();
}

std::string Prober::request(const Probe& p) {
  const UrlCheck& u = p.check.urls[p.url];
  return fmt::format(
      "GET {} HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: {}\r\nConnection: close\r\n\r\n",
      u.path.empty() ? "/" : u.path, host(p));
}

void Prober::start_tls(uint64_t key) {
  Probe& p = *probes_.at(key);
  if (!ssl_ctx_) {
    // As keepalived's SSL_GET: no certificate verification (the check is the page, not the
    // certificate), TLS 1.2 or later offered.
    ssl_ctx_ = SSL_CTX_new(TLS_client_method());
    if (!ssl_ctx_) return finish(key, false, "TLS: " + ssl_error_text());
    SSL_CTX_set_verify(ssl_ctx_, SSL_VERIFY_NONE, nullptr);
  }
  p.ssl.reset(SSL_new(ssl_ctx_));
  if (!p.ssl || SSL_set_fd(p.ssl.get(), p.fd.get()) != 1)
    return finish(key, false, "TLS: " + ssl_error_text());
  // SNI: the virtualhost when there is one (keepalived enable_sni), never an address.
  std::string name = host(p);
  if (name != p.target.address_string()) SSL_set_tlsext_host_name(p.ssl.get(), name.c_str());
  p.handshaken = false;
  p.out = request(p);
  p.sent = 0;
  if (auto s = loop_.watch(p.fd.get(), [this, key] { tls_step(key); }); !s)
    return finish(key, false, s.error().message);
  tls_step(key);
}

// Handshake, request, response to the end: each step retried as the socket allows (WANT_READ:
// the readable watch calls again; WANT_WRITE: a writable interest is added until it passes).
void Prober::tls_step(uint64_t key) {
  auto it = probes_.find(key);
  if (it == probes_.end()) return;
  Probe& p = *it->second;
  SSL* ssl = p.ssl.get();
  auto wait_for = [&](int r) -> bool {  // true: wait for the socket; false: failed
    int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ) {
      loop_.drop_writable(p.fd.get());
      return true;
    }
    if (e == SSL_ERROR_WANT_WRITE) {
      (void)loop_.want_writable(p.fd.get(), [this, key] { tls_step(key); });
      return true;
    }
    return false;
  };
  if (!p.handshaken) {
    ERR_clear_error();
    int r = SSL_connect(ssl);
    if (r != 1) {
      if (wait_for(r)) return;
      return finish(key, false, "TLS handshake: " + ssl_error_text());
    }
    p.handshaken = true;
  }
  while (p.sent < p.out.size()) {
    ERR_clear_error();
    int r = SSL_write(ssl, p.out.data() + p.sent, int(p.out.size() - p.sent));
    if (r <= 0) {
      if (wait_for(r)) return;
      return finish(key, false, "TLS send: " + ssl_error_text());
    }
    p.sent += size_t(r);
  }
  loop_.drop_writable(p.fd.get());
  char buf[16384];
  for (;;) {
    ERR_clear_error();
    int r = SSL_read(ssl, buf, sizeof buf);
    if (r > 0) {
      p.in.append(buf, size_t(r));
      if (p.in.size() > kMaxResponse)
        return finish(key, false, fmt::format("response longer than {} bytes", kMaxResponse));
      continue;
    }
    int e = SSL_get_error(ssl, r);
    // The end: close_notify, or (as many servers do) the TCP close without it.
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) break;
    if (e == SSL_ERROR_SSL &&
        ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
      break;
    if (wait_for(r)) return;
    return finish(key, false, "TLS recv: " + ssl_error_text());
  }
  end_of_response(key);
}

// SMTP_CHECK: replies in, lines out. A line the socket does not take at once waits for
// writability (smtp_flush).
void Prober::on_smtp(uint64_t key) {
  auto it = probes_.find(key);
  if (it == probes_.end()) return;
  Probe& p = *it->second;
  char buf[1024];
  ssize_t n = recv(p.fd.get(), buf, sizeof buf, 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    return finish(key, false, fmt::format("recv: {}", std::strerror(errno)));
  }
  if (n == 0)
    return finish(key, false, fmt::format("closed while waiting for {}", p.smtp->waiting_for()));
  SmtpDialog::Step step = p.smtp->feed(std::string_view(buf, size_t(n)));
  if (step.done) {
    if (step.failure) return finish(key, false, *step.failure);
    return finish(key, true, "220, HELO 250, QUIT answered");
  }
  if (step.send.empty()) return;
  p.out.erase(0, p.sent);
  p.sent = 0;
  p.out += step.send;
  smtp_flush(key);
}

void Prober::smtp_flush(uint64_t key) {
  auto it = probes_.find(key);
  if (it == probes_.end()) return;
  Probe& p = *it->second;
  while (p.sent < p.out.size()) {
    ssize_t n = send(p.fd.get(), p.out.data() + p.sent, p.out.size() - p.sent, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        if (!loop_.wants_writable(p.fd.get())) {
          if (auto s = loop_.want_writable(p.fd.get(), [this, key] { smtp_flush(key); }); !s)
            return finish(key, false, s.error().message);
        }
        return;
      }
      return finish(key, false, fmt::format("send: {}", std::strerror(errno)));
    }
    p.sent += size_t(n);
  }
  loop_.drop_writable(p.fd.get());
}

void Prober::on_readable(uint64_t key) {
  auto it = probes_.find(key);
  if (it == probes_.end()) return;
  Probe& p = *it->second;
  char buf[16384];
  ssize_t n = recv(p.fd.get(), buf, sizeof buf, 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    return finish(key, false, fmt::format("recv: {}", std::strerror(errno)));
  }
  if (n > 0) {
    p.in.append(buf, size_t(n));
    if (p.in.size() > kMaxResponse)
      return finish(key, false, fmt::format("response longer than {} bytes", kMaxResponse));
    return;
  }
  end_of_response(key);
}

// The peer closed: the response is judged; the next url, or the verdict.
void Prober::end_of_response(uint64_t key) {
  Probe& p = *probes_.at(key);
  const UrlCheck& u = p.check.urls[p.url];
  if (auto why = http_verdict(p.in, u)) return finish(key, false, u.path + ": " + *why);
  p.ssl.reset();
  loop_.unwatch(p.fd.get());
  p.fd.reset();
  if (++p.url < p.check.urls.size()) return connect(key);
  finish(key, true,
         fmt::format("{} url(s) ok, status {}", p.check.urls.size(),
                     p.in.size() >= 12 ? p.in.substr(9, 3) : "?"));
}

void Prober::finish(uint64_t key, bool success, const std::string& detail,
                    std::optional<int> weight) {
  auto it = probes_.find(key);
  if (it == probes_.end()) return;
  std::unique_ptr<Probe> p = std::move(it->second);
  probes_.erase(it);
  release(*p);
  ProbeOutcome o;
  o.success = success;
  o.weight = weight;
  if (p->done) p->done(o, detail);
}

void Prober::abort(uint64_t key) {
  auto it = probes_.find(key);
  if (it == probes_.end()) return;
  release(*it->second);
  probes_.erase(it);
}

}  // namespace vnet::lb
