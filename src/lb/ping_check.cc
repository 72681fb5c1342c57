#include "lb/ping_check.hh"

#include <fmt/format.h>

#include "packet/checksum.hh"

namespace vnet::lb {

std::vector<uint8_t> icmp_echo_request(bool v6, uint16_t id, uint16_t seq) {
  static constexpr char kText[] = "keepalived check - ";  // layer4.c set_buf()
  std::vector<uint8_t> out = {
      uint8_t(v6 ? 128 : 8), 0,           0, 0, uint8_t(id >> 8), uint8_t(id),
      uint8_t(seq >> 8),     uint8_t(seq)};
  for (size_t i = 0; i < kPingPayload; ++i) out.push_back(uint8_t(kText[i % (sizeof kText - 1)]));
  if (!v6) {
    uint16_t sum = packet::internet_checksum(out);
    out[2] = uint8_t(sum >> 8);
    out[3] = uint8_t(sum);
  }
  return out;
}

std::optional<std::string> icmp_echo_reply_problem(std::span<const uint8_t> packet, bool v6,
                                                   bool ip_header, std::optional<uint16_t> id,
                                                   uint16_t seq) {
  if (ip_header) {
    if (packet.empty() || (packet[0] >> 4) != 4) return std::string("not an IPv4 packet");
    size_t ihl = size_t(packet[0] & 0x0f) * 4;
    if (ihl < 20 || packet.size() < ihl) return std::string("truncated IPv4 header");
    packet = packet.subspan(ihl);
  }
  if (packet.size() < 8) return fmt::format("truncated ICMP message ({} bytes)", packet.size());
  uint8_t want = v6 ? 129 : 0;
  if (packet[0] != want) return fmt::format("ICMP type {}, not an echo reply", packet[0]);
  uint16_t rid = uint16_t(packet[4] << 8 | packet[5]);
  uint16_t rseq = uint16_t(packet[6] << 8 | packet[7]);
  if (id && rid != *id) return fmt::format("echo reply for identifier {}, not {}", rid, *id);
  if (rseq != seq) return fmt::format("echo reply with sequence {}, not {}", rseq, seq);
  return std::nullopt;
}

}  // namespace vnet::lb
