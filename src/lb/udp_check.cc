#include "lb/udp_check.hh"

#include <fmt/format.h>

#include <cstring>

namespace vnet::lb {

Result<HexPattern> parse_hex(std::string_view text, bool allow_wildcards) {
  HexPattern out;
  size_t i = 0;
  // 0..15, 16 = wildcard, -1 = not a hex digit
  auto nibble = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (allow_wildcards && (c == 'x' || c == 'X')) return 16;
    return -1;
  };
  auto bad = [&](size_t at) {
    return Error{EINVAL, fmt::format("invalid hex digit '{}' at offset {}", text[at], at)};
  };
  for (;;) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    if (i == text.size()) break;
    int hi = nibble(text[i]);
    if (hi < 0) return bad(i);
    ++i;
    uint8_t value = hi == 16 ? 0 : uint8_t(hi);
    uint8_t mask = hi == 16 ? 0x0f : 0;
    if (i < text.size() && text[i] != ' ' && text[i] != '\t') {
      int lo = nibble(text[i]);
      if (lo < 0) return bad(i);
      ++i;
      value = uint8_t(value << 4 | (lo == 16 ? 0 : lo));
      mask = uint8_t(mask << 4 | (lo == 16 ? 0x0f : 0));
    }
    out.data.push_back(value);
    out.mask.push_back(mask);
  }
  if (out.data.empty()) return Error{EINVAL, "empty hex string"};
  return out;
}

std::vector<uint8_t> default_udp_payload() {
  static constexpr char kText[] = "keepalived check - ";
  std::vector<uint8_t> out(32);
  size_t n = std::strlen(kText);
  for (size_t i = 0; i < out.size(); ++i) out[i] = uint8_t(kText[i % n]);
  return out;
}

std::optional<std::string> udp_reply_problem(std::span<const uint8_t> reply, const UdpCheck& c) {
  if (reply.size() < c.min_reply)
    return fmt::format("reply of {} bytes, fewer than {}", reply.size(), c.min_reply);
  if (reply.size() > c.max_reply)
    return fmt::format("reply of {} bytes or more, more than {}", reply.size(), c.max_reply);
  size_t n = std::min(reply.size(), c.reply.data.size());
  for (size_t i = 0; i < n; ++i) {
    uint8_t care = uint8_t(~c.reply.mask[i]);
    if ((reply[i] ^ c.reply.data[i]) & care)
      return fmt::format("reply octet {} is 0x{:02x}, expected 0x{:02x}", i, reply[i],
                         c.reply.data[i]);
  }
  return std::nullopt;
}

}  // namespace vnet::lb
