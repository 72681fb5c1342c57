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
#include <thread>
#include <vector>

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

// Addresses configured in a namespace (text form, without prefix length).
Result<std::vector<std::string>> netns_addresses(const std::string& netns);

}  // namespace vnet::lab
