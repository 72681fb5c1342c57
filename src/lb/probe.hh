#pragma once
// The checkers' probes on the event loop: what a StartProbe (lb/checker.hh) does for each checker
// (keepalived 2.2.7 check_tcp.c, check_http.c, check_misc.c, check_smtp.c, check_dns.c,
// check_udp.c, check_ping.c, check_file.c). The protocols' rules live in lb/smtp_check.hh,
// lb/dns_check.hh, lb/udp_check.hh, lb/ping_check.hh and lb/file_check.hh; here is the I/O.
//
//  - TCP_CHECK: a non-blocking connect (from bindto when given) to connect_ip:connect_port, else
//    the real server; success when it completes.
//  - HTTP_GET: for each url in turn, a connection, `GET path HTTP/1.0` with Host (the url's
//    virtualhost, else the checker's, else the address) and the response read to the end; it
//    passes when the status is one of status_code (default 200-299) and, with `digest`, the MD5
//    of the body equals it. Garbage (no `HTTP/x.y NNN` status line), a body shorter than its
//    Content-Length (closed early), a reset, or more than kMaxResponse bytes fail.
//  - SSL_GET: HTTP_GET over TLS (OpenSSL), with SNI set to the virtualhost when there is one; the
//    certificate is not verified (keepalived's SSL_GET checks the page, not the certificate).
//    A response ended by a TCP close without close_notify is accepted, as keepalived does.
//  - MISC_CHECK: misc_path through `/bin/sh -c` (as script_user, via the child supervisor), its
//    exit code read as ProbeOutcome::from_exit_status (misc_dynamic weights).
//  - SMTP_CHECK: a connection as TCP_CHECK's, then the SmtpDialog (220, HELO, 250, QUIT).
//  - DNS_CHECK, UDP_CHECK: a connected UDP socket (from bindto) with IP(V6)_RECVERR, so that an
//    ICMP unreachable comes back as a receive error and fails the probe; one datagram (the query,
//    the payload), then replies judged by dns_reply_verdict() / udp_reply_problem() — at most
//    768 / max_reply_length + 1 octets of each are read. A UDP_CHECK without require_reply that
//    hears nothing passes at its timeout (the engine's timeout_passes).
//  - PING_CHECK: an ICMP datagram socket (net.ipv4.ping_group_range must hold the group), else a
//    raw one (CAP_NET_RAW), connected to the target; one echo request, then the matching reply.
//  - FILE_CHECK: the file read (O_NONBLOCK, 127 octets) on the next loop iteration; the value
//    maps to up/down and a weight by file_check_state().
// Nothing here blocks: every socket is non-blocking and watched by the loop; a target that never
// answers is cut off by the engine's AbortProbe (abort()), at the probe's timeout. The outcome
// callback runs on the loop thread, once, after the probe's resources are released, and may
// start or abort probes.

#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>

#include "base/child_supervisor.hh"
#include "base/event_loop.hh"
#include "lb/checker.hh"
#include "lb/config.hh"
#include "vrrp/scripts.hh"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace vnet::lb {

inline constexpr size_t kMaxResponse = 4 << 20;

// The verdict on one HTTP response (the whole byte stream as read until the peer closed):
// nullopt when the url passes, else why not ("status 500", "digest 0123… differs",
// "no HTTP status line", "closed early: 10 of 20 body bytes").
std::optional<std::string> http_verdict(const std::string& response, const UrlCheck& url);
// Lower-case hex MD5 (genhash's form).
std::string md5_hex(const std::string& data);

class Prober {
 public:
  // `detail`: "connected", "status 200", "exit status 1", "connect: Connection refused".
  using Done = std::function<void(const ProbeOutcome&, const std::string& detail)>;
  Prober(EventLoop& loop, Children& children);
  ~Prober();
  Prober(const Prober&) = delete;
  Prober& operator=(const Prober&) = delete;

  void set_runner(vrrp::ScriptRunner runner) { runner_ = std::move(runner); }
  // Starts the probe `key` (unique among running probes) of `check` against `real`; `timeout`
  // bounds MISC_CHECK's child (the supervisor kills it). `done` runs once unless aborted.
  void start(uint64_t key, const CheckerConfig& check, const Endpoint& real, Duration timeout,
             Done done);
  void abort(uint64_t key);  // no callback; unknown keys are ignored
  size_t running() const { return probes_.size(); }

 private:
  struct Probe;
  void connect(uint64_t key);
  void on_writable(uint64_t key);
  void on_readable(uint64_t key);
  void finish(uint64_t key, bool success, const std::string& detail,
              std::optional<int> weight = std::nullopt);
  void release(Probe& p);
  void start_tls(uint64_t key);
  void tls_step(uint64_t key);
  void end_of_response(uint64_t key);
  void on_smtp(uint64_t key);
  void smtp_flush(uint64_t key);
  void datagram(uint64_t key);
  void on_datagram(uint64_t key);
  void read_track_file(uint64_t key);
  static std::string host(const Probe& p);
  static std::string request(const Probe& p);

  EventLoop& loop_;
  Children& children_;
  vrrp::ScriptRunner runner_;
  std::map<uint64_t, std::unique_ptr<Probe>> probes_;
  ::ssl_ctx_st* ssl_ctx_ = nullptr;           // SSL_GET's client context, made on first use
  std::mt19937 rng_{std::random_device{}()};  // DNS IDs, raw ICMP identifiers
  uint16_t ping_seq_ = 0;
  std::map<std::string, int64_t> file_values_;  // FILE_CHECK: the last valid value per file
};

}  // namespace vnet::lb
