#include "lb/probe.hh"

#include <arpa/inet.h>
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
  connect(key);
}

void Prober::connect(uint64_t key) {
  Probe& p = *probes_.at(key);
  p.in.clear();
  p.out.clear();
  p.sent = 0;
  int family = p.target.v6 ? AF_INET6 : AF_INET;
  UniqueFd fd(socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return finish(key, false, fmt::format("socket: {}", std::strerror(errno)));
  auto to_sockaddr = [](const Endpoint& e, sockaddr_storage& ss) -> socklen_t {
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
  };
  sockaddr_storage ss;
  if (p.check.bindto) {
    socklen_t len = to_sockaddr(*p.check.bindto, ss);
    if (bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0)
      return finish(key, false,
                    fmt::format("bind {}: {}", p.check.bindto->to_string(), std::strerror(errno)));
  }
  socklen_t len = to_sockaddr(p.target, ss);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0 && errno != EINPROGRESS)
    return finish(key, false, fmt::format("connect: {}", std::strerror(errno)));
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
