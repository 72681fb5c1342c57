#pragma once
// DNS_CHECK's query and reply rule without I/O (keepalived 2.2.7 check/check_dns.c): one UDP
// query with RD set, QDCOUNT 1, the name and type asked, class IN (RFC 1035 §4.1); the probe
// passes on the first datagram that is a reply (QR set) with the query's ID and RCODE 0
// (NOERROR), and fails on such a reply with another RCODE. Datagrams shorter than a header
// (12 octets), with another ID, or without QR are ignored (the probe keeps waiting until its
// timeout), as keepalived does. The answer section is not looked at (keepalived neither).
//
// Defaults (check_dns.h): type SOA, name "" (the root), port the real server's; retry 3 and
// delay_before_retry = delay_loop (resolved in lb/keepalived_conf.cc).

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vnet::lb {

inline constexpr uint16_t kDnsTypeSoa = 6;  // RFC 1035 §3.2.2
inline constexpr size_t kDnsHeaderSize = 12;
inline constexpr size_t kDnsMaxReply = 768;  // check_dns.h DNS_BUFFER_SIZE: what is read

struct DnsCheck {
  uint16_t type = kDnsTypeSoa;
  std::string name;  // "" or "." = the root
  friend bool operator==(const DnsCheck&, const DnsCheck&) = default;
};

// keepalived's type words (A NS CNAME SOA MX TXT AAAA RRSIG DNSKEY), case-insensitive.
std::optional<uint16_t> dns_type_from_name(std::string_view word);
std::string dns_type_name(uint16_t type);  // "SOA", else the number
// Why `name` cannot be asked ("empty label", "label 'xx…' longer than 63 octets", "longer than
// 255 octets"), or nullopt. "" and "." are the root; a trailing dot is allowed.
std::optional<std::string> dns_name_problem(std::string_view name);

// The query datagram (RFC 1035 §4.1.1-§4.1.2). `name` must have passed dns_name_problem().
std::vector<uint8_t> dns_query(uint16_t id, std::string_view name, uint16_t type);

struct DnsVerdict {
  enum Kind { kIgnore, kSuccess, kFailure } kind = kIgnore;
  std::string detail;  // "NOERROR", "rcode 3 (NXDOMAIN)", "too short (5 bytes)", "ID 1234 ≠ 5678"
};
DnsVerdict dns_reply_verdict(std::span<const uint8_t> reply, uint16_t id);

}  // namespace vnet::lb
