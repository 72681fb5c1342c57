#include "lb/dns_check.hh"

#include <fmt/format.h>
#include <strings.h>

namespace vnet::lb {

namespace {
struct TypeName {
  uint16_t type;
  const char* name;
};
constexpr TypeName kTypes[] = {{1, "A"},    {2, "NS"},    {5, "CNAME"},  {6, "SOA"},    {15, "MX"},
                               {16, "TXT"}, {28, "AAAA"}, {46, "RRSIG"}, {48, "DNSKEY"}};
}  // namespace

std::optional<uint16_t> dns_type_from_name(std::string_view word) {
  for (auto& t : kTypes) {
    if (word.size() == std::string_view(t.name).size() &&
        strncasecmp(word.data(), t.name, word.size()) == 0)
      return t.type;
  }
  return std::nullopt;
}

std::string dns_type_name(uint16_t type) {
  for (auto& t : kTypes) {
    if (t.type == type) return t.name;
  }
  return std::to_string(type);
}

std::optional<std::string> dns_name_problem(std::string_view name) {
  if (name.empty() || name == ".") return std::nullopt;
  std::string_view rest = name;
  if (rest.back() == '.') rest.remove_suffix(1);
  // Wire size: one length octet per label, the labels, the root's zero octet (RFC 1035 §2.3.4).
  if (rest.size() + 2 > 255) return fmt::format("name longer than 255 octets");
  for (;;) {
    size_t dot = rest.find('.');
    std::string_view label = rest.substr(0, dot);
    if (label.empty()) return std::string("empty label");
    if (label.size() > 63)
      return fmt::format("label '{}...' longer than 63 octets", label.substr(0, 16));
    if (dot == std::string_view::npos) break;
    rest.remove_prefix(dot + 1);
  }
  return std::nullopt;
}

std::vector<uint8_t> dns_query(uint16_t id, std::string_view name, uint16_t type) {
  std::vector<uint8_t> q;
  auto u16 = [&](uint16_t v) {
    q.push_back(uint8_t(v >> 8));
    q.push_back(uint8_t(v));
  };
  u16(id);
  u16(0x0100);  // RD (RFC 1035 §4.1.1)
  u16(1);       // QDCOUNT
  u16(0);
  u16(0);
  u16(0);
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  while (!name.empty()) {
    size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    q.push_back(uint8_t(label.size()));
    q.insert(q.end(), label.begin(), label.end());
    name.remove_prefix(dot == std::string_view::npos ? name.size() : dot + 1);
  }
  q.push_back(0);
  u16(type);
  u16(1);  // class IN
  return q;
}

DnsVerdict dns_reply_verdict(std::span<const uint8_t> reply, uint16_t id) {
  if (reply.size() < kDnsHeaderSize)
    return {DnsVerdict::kIgnore, fmt::format("too short ({} bytes)", reply.size())};
  uint16_t rid = uint16_t(reply[0] << 8 | reply[1]);
  if (rid != id) return {DnsVerdict::kIgnore, fmt::format("ID {:04x}, expected {:04x}", rid, id)};
  uint16_t flags = uint16_t(reply[2] << 8 | reply[3]);
  if (!(flags & 0x8000)) return {DnsVerdict::kIgnore, "a query, not a reply"};
  unsigned rcode = flags & 0xf;
  static const char* kRcodes[] = {"NOERROR",  "FORMERR", "SERVFAIL",
                                  "NXDOMAIN", "NOTIMP",  "REFUSED"};
  if (rcode != 0)
    return {DnsVerdict::kFailure, rcode < 6 ? fmt::format("rcode {} ({})", rcode, kRcodes[rcode])
                                            : fmt::format("rcode {}", rcode)};
  return {DnsVerdict::kSuccess, "NOERROR"};
}

}  // namespace vnet::lb
