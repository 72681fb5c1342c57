#pragma once
// Reachability probes run from inside a node's namespace: ICMP/ICMPv6 echo over raw sockets
// (built with our own codecs) and TCP connects. Sockets are created in the namespace and used
// from the orchestrator's thread; nothing shells out to ping.

#include <chrono>
#include <string>

#include <array>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "base/byte_io.hh"
#include "base/fd.hh"
#include "base/result.hh"
#include "packet/address.hh"

namespace vnet::lab {

struct PingResult {
  bool reply = false;
  int sent = 0;
  std::chrono::microseconds rtt{0};  // of the first reply
};
// Sends echo requests every `interval` until a reply from `address` or `deadline` passes.
Result<PingResult> ping(const std::string& netns, const std::string& address,
                        std::chrono::milliseconds deadline, std::chrono::milliseconds interval);

enum class TcpResult { kOpen, kRefused, kTimeout };
Result<TcpResult> tcp_connect(const std::string& netns, const std::string& address, uint16_t port,
                              std::chrono::milliseconds timeout);

// An HTTP response as an `http` step sees it: the status code of its status line and its body.
struct HttpAnswer {
  int status = 0;    // 100-599
  std::string body;  // cut to Content-Length when the response gives one
};
// Parses a whole HTTP/1.x response (RFC 9112 §4 status line "HTTP/1.x NNN reason", header lines
// to the empty line, then the body). Errors (EBADMSG): no status line, a status outside 100-599,
// headers without their end, a body shorter than its Content-Length.
Result<HttpAnswer> parse_http_response(std::string_view bytes);
// GET `path` from address:port inside `netns` (HTTP/1.0, "Host: address", the server closes):
// the whole exchange within `timeout`; at most 64 KiB of response are read (more: EMSGSIZE).
// Errors: ECONNREFUSED, ETIMEDOUT (no connection or no complete answer in time), EBADMSG.
Result<HttpAnswer> http_get(const std::string& netns, const std::string& address, uint16_t port,
                            const std::string& path, std::chrono::milliseconds timeout);

// Pings `address` from `netns` every 10 ms in a background thread from start() on, and records
// the first echo reply whose Ethernet source is none of `excluded` (the failed router's MACs):
// the first reply through the new master. Replies are seen on an AF_PACKET socket on `ifname`.
class FailoverProbe {
 public:
  using Clock = std::chrono::steady_clock;
  static Result<std::unique_ptr<FailoverProbe>> start(const std::string& netns,
                                                      const std::string& ifname,
                                                      const std::string& address,
                                                      std::vector<packet::MacAddress> excluded,
                                                      std::chrono::milliseconds timeout);
  ~FailoverProbe();
  // Waits up to `wait` for the first qualifying reply.
  std::optional<Clock::time_point> first_reply(std::chrono::milliseconds wait);
  int sent() const { return sent_; }

 private:
  FailoverProbe() = default;
  void run();
  UniqueFd icmp_, packet_;
  bool v6_ = false;
  std::array<uint8_t, 16> dst_{};
  std::vector<packet::MacAddress> excluded_;
  Clock::time_point deadline_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Clock::time_point> reply_;
  bool done_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<int> sent_{0};
};

// Layer-2 probe streams, for measuring how long a switched path is down after a fault and
// whether frames were delivered twice on the way (a transient forwarding loop) — the measurement
// behind the `stream` and `converge` steps, reusable by benchmarks.
//
// The sender, in one namespace, sends a raw Ethernet frame with the local experimental EtherType
// 0x88B5 (IEEE Std 802-2014 §9.2.4) every `interval` from an AF_PACKET socket on its interface,
// unicast to the receiver's interface MAC. Each frame carries a 64-bit sequence number and the
// sender's steady-clock send time; the sender also keeps every send time in memory, so lost
// probes have a known send time too. The receiver, in the other namespace, records every probe
// of the stream from an AF_PACKET socket on its interface, in arrival order (duplicates too).
// Both sockets are created inside their namespaces on the caller's thread and used from one
// background thread each; the destructor (and stop()) joins them.
constexpr uint16_t kProbeEtherType = 0x88b5;  // IEEE Std 802-2014 §9.2.4, local experimental 1

// The probe payload after the Ethernet header, host order (network order on the wire):
// magic "vnSP" (4), stream id (4), sequence (8), send time in steady-clock ns (8); padded with
// zeros to the 60-byte Ethernet minimum.
struct StreamProbeFrame {
  static constexpr uint32_t kMagic = 0x766e5350;  // "vnSP"
  static constexpr size_t kWireSize = 24;
  uint32_t stream = 0;
  uint64_t seq = 0;
  int64_t sent_ns = 0;
  friend bool operator==(const StreamProbeFrame&, const StreamProbeFrame&) = default;
};
// "probe payload truncated: need 24 bytes, have N", "not a probe: magic …"
Result<StreamProbeFrame> decode_stream_probe(ByteReader& in);
void encode(const StreamProbeFrame& f, ByteWriter& out);

// One probe as received: its sequence number, its send time (from the frame) and arrival time,
// both steady-clock nanoseconds.
struct StreamSample {
  uint64_t seq = 0;
  int64_t sent_ns = 0;
  int64_t received_ns = 0;
};

struct StreamStats {
  uint64_t sent = 0;
  uint64_t received = 0;      // distinct sequence numbers that arrived
  uint64_t lost = 0;          // sent - received
  uint64_t duplicated = 0;    // arrivals of a sequence number already seen (delivered twice)
  uint64_t out_of_order = 0;  // first arrivals of a number below one that had already arrived
  // The longest run of consecutive lost probes that ended at or after `since` (or had not ended
  // when the stream stopped): from the send time of its first lost probe to the send time of
  // the first probe that arrived after it (or of the last probe sent). 0 when none was lost.
  std::chrono::nanoseconds outage{0};
  uint64_t outage_lost = 0;  // probes lost in that run
  // A probe sent at or after `since` arrived, and no probe after the last arrival was lost.
  bool recovered = false;
  std::chrono::nanoseconds max_latency{0};  // receive - send time, over all arrivals
};
// `sent_ns[i]` is the send time of probe i; `arrivals` in arrival order. Sequence numbers at or
// past sent_ns.size() are ignored (not ours).
StreamStats analyze_stream(std::span<const int64_t> sent_ns, std::span<const StreamSample> arrivals,
                           int64_t since_ns);

class ProbeStream {
 public:
  using Clock = std::chrono::steady_clock;
  struct End {
    std::string netns, ifname;
    packet::MacAddress mac;  // the interface's MAC
  };
  // Starts sending from `from` to `to` every `interval`, for at most `limit` (then it stops
  // sending by itself; the receiver keeps listening until stop()).
  static Result<std::unique_ptr<ProbeStream>> start(const End& from, const End& to,
                                                    std::chrono::microseconds interval,
                                                    std::chrono::seconds limit);
  ~ProbeStream();
  // Waits up to `wait` for a probe sent at or after `since` to arrive; its arrival time.
  std::optional<Clock::time_point> flowing_after(Clock::time_point since,
                                                 std::chrono::milliseconds wait);
  struct Recording {
    std::vector<int64_t> sent_ns;
    std::vector<StreamSample> arrivals;
  };
  // Stops sending, gives probes in flight `drain` to arrive, stops receiving, joins both threads.
  // Idempotent: a second call returns an empty recording.
  Recording stop(std::chrono::milliseconds drain);
  static int64_t ns(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }

 private:
  ProbeStream() = default;
  void send_loop();
  void receive_loop();
  UniqueFd tx_, rx_;
  int tx_ifindex_ = 0;
  packet::MacAddress src_, dst_;
  uint32_t id_ = 0;
  std::chrono::microseconds interval_{1000};
  Clock::time_point end_;
  std::thread sender_, receiver_;
  std::atomic<bool> stop_send_{false}, stop_receive_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int64_t> sent_ns_;        // guarded by mu_
  std::vector<StreamSample> arrivals_;  // guarded by mu_
};

// Addresses configured in a namespace (text form, without prefix length).
Result<std::vector<std::string>> netns_addresses(const std::string& netns);

}  // namespace vnet::lab
