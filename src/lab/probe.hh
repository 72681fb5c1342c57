#pragma once
// Reachability probes run from inside a node's namespace: ICMP/ICMPv6 echo over raw sockets
// (built with our own codecs) and TCP connects. Sockets are created in the namespace and used
// from the orchestrator's thread; nothing shells out to ping.

#include <chrono>
#include <string>

#include "base/result.hh"

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

}  // namespace vnet::lab
