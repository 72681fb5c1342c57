#pragma once
// UDP_CHECK without I/O (keepalived 2.2.7 check/check_udp.c, core/layer4.c udp_socket_state()):
// a datagram (`payload`, else keepalived's 32-octet filler) sent on a connected UDP socket, then:
//  - without `require_reply`: success when the timeout passes quietly or anything comes back;
//    failure when an ICMP destination unreachable comes back (the connected socket reports it as
//    an error: ECONNREFUSED for port unreachable, EHOSTUNREACH, ENETUNREACH);
//  - with `require_reply`: the timeout fails; a reply passes when its length is within
//    [min_reply_length, max_reply_length] (default 0-255) and its first min(length, pattern
//    length) octets match the pattern, nibbles written `x` matching anything.
// keepalived applies the length bounds only when a pattern is given (check_udp_reply() is called
// only then); here they apply whenever require_reply is set — a reply shorter or longer than
// asked fails even without a pattern.
//
// Hex as keepalived's read_hex_str(): pairs of hex digits, spaces between bytes optional, a lone
// digit before a space is one byte; in require_reply an `x`/`X` nibble is a wildcard.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hh"

namespace vnet::lb {

inline constexpr unsigned kUdpDefaultMaxReply = 255;  // check_udp.c: UINT8_MAX

struct HexPattern {
  std::vector<uint8_t> data;
  std::vector<uint8_t> mask;  // per octet: bits set = ignored (the `x` nibbles)
  friend bool operator==(const HexPattern&, const HexPattern&) = default;
};
// Error: "invalid hex digit 'g' at offset 3", "empty hex string".
Result<HexPattern> parse_hex(std::string_view text, bool allow_wildcards);

struct UdpCheck {
  std::vector<uint8_t> payload;  // empty = default_udp_payload()
  bool require_reply = false;
  HexPattern reply;
  unsigned min_reply = 0, max_reply = kUdpDefaultMaxReply;
  friend bool operator==(const UdpCheck&, const UdpCheck&) = default;
};

// layer4.c set_buf(): "keepalived check - " repeated over 32 octets.
std::vector<uint8_t> default_udp_payload();

// Why `reply` does not pass (nullopt: it passes): "reply of 3 bytes, fewer than 4",
// "reply octet 2 is 0x41, expected 0x42".
std::optional<std::string> udp_reply_problem(std::span<const uint8_t> reply, const UdpCheck& c);

}  // namespace vnet::lb
