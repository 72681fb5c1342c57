#pragma once
// PING_CHECK's ICMP echo without I/O (keepalived 2.2.7 check/check_ping.c): one echo request
// (RFC 792 type 8; RFC 4443 §4.1 type 128) with keepalived's 128-octet filler, then the probe
// passes on an echo reply with the request's sequence number — and, on a raw socket, its
// identifier (a SOCK_DGRAM ICMP socket sets the identifier itself and delivers only replies to
// it). keepalived takes the first datagram the ping socket delivers and fails unless it is an
// echo reply; here other ICMP messages (another pinger's reply seen on a raw socket, a late
// reply to an earlier probe) are skipped and the probe waits on until its timeout. An ICMP error
// about the request (destination unreachable) reaches the socket as an error and fails the probe.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace vnet::lb {

inline constexpr size_t kPingPayload = 128;  // check_ping.c ICMP_BUFSIZE

// The echo request: type, code 0, checksum (ICMPv4; for ICMPv6 the kernel computes it over its
// pseudo-header, RFC 4443 §2.3, so the field is left 0), identifier, sequence, filler.
std::vector<uint8_t> icmp_echo_request(bool v6, uint16_t id, uint16_t seq);

// Why `packet` is not the reply awaited (nullopt: it is). `ip_header`: the packet starts with an
// IPv4 header (raw IPv4 sockets deliver it), skipped by its IHL. `id`: checked when given.
std::optional<std::string> icmp_echo_reply_problem(std::span<const uint8_t> packet, bool v6,
                                                   bool ip_header, std::optional<uint16_t> id,
                                                   uint16_t seq);

}  // namespace vnet::lb
