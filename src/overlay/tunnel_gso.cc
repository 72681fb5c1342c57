#include "overlay/tunnel_gso.hh"

#include <cstring>

#include "base/byte_io.hh"
#include "packet/checksum.hh"
#include "packet/offload.hh"

namespace vnet::overlay {
namespace {

constexpr size_t kEncap = 16;  // UDP + VXLAN headers in front of the inner frame
constexpr uint8_t kGsoTcpV4 = 1, kGsoTcpV6 = 4, kGsoUdpTunnelV4 = 0x20;

void store_le16(uint8_t* p, size_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}

}  // namespace

bool tunnel_gso_head(const packet::Frame& payload, const OuterV4& outer,
                     std::array<uint8_t, kTunnelHead>& head) {
  const auto& o = payload.offload;
  const uint8_t kind = o.gso_type & 0x7f;
  if ((kind != kGsoTcpV4 && kind != kGsoTcpV6) || !(o.flags & packet::OffloadInfo::kNeedsCsum) ||
      o.gso_size == 0) {
    return false;
  }
  const size_t inner_size = payload.size() - std::min(payload.size(), kEncap);
  const size_t l4 = o.csum_start;
  if (payload.size() < kEncap + 14 || l4 + 20 > inner_size || o.csum_offset != 16) return false;
  const uint8_t* inner = payload.data() + kEncap;
  const size_t l3 = load_be16(inner + 12) == 0x8100 ? 18 : 14;
  const size_t thl = size_t{(inner[l4 + 12] >> 4) * 4u};
  if (l4 < l3 + (kind == kGsoTcpV6 ? 40 : 20) || thl < 20 || l4 + thl > inner_size) return false;
  const size_t ip_len = 20 + payload.size();
  if (ip_len > 65535) return false;

  head.fill(0);
  uint8_t* v = head.data();
  constexpr size_t outer_l4 = 14 + 20;  // offsets below count from the outer Ethernet header
  v[0] = packet::OffloadInfo::kNeedsCsum;
  v[1] = static_cast<uint8_t>(kind | kGsoUdpTunnelV4);
  store_le16(v + 2, outer_l4 + kEncap + l4 + thl);  // hdr_len: every header
  store_le16(v + 4, o.gso_size);
  store_le16(v + 6, outer_l4 + kEncap + l4);  // csum_start: the inner TCP header
  store_le16(v + 8, 16);                      // csum_offset: its checksum
  // v + 10: num_buffers; v + 12: hash_value, hash_report, padding (unused on transmit)
  store_le16(v + 20, outer_l4);                // outer_th_offset: the outer UDP header
  store_le16(v + 22, outer_l4 + kEncap + l3);  // inner_nh_offset: the inner IP header

  uint8_t* eth = v + kTunnelVnetHdr;
  std::memcpy(eth, outer.dst_mac.bytes.data(), 6);
  std::memcpy(eth + 6, outer.src_mac.bytes.data(), 6);
  store_be16(eth + 12, 0x0800);
  uint8_t* ip = eth + 14;
  ip[0] = 0x45;
  store_be16(ip + 2, static_cast<uint16_t>(ip_len));
  store_be16(ip + 4, outer.id);
  ip[8] = outer.ttl;
  ip[9] = 17;
  store_be32(ip + 12, outer.src.value);
  store_be32(ip + 16, outer.dst.value);
  store_be16(ip + 10, packet::internet_checksum({ip, 20}));
  return true;
}

bool finish_payload(packet::Frame&& payload, std::vector<packet::Frame>& out) {
  if (!payload.offload.any()) {
    out.push_back(std::move(payload));
    return true;
  }
  if (payload.size() < kEncap + 14) return false;
  std::array<uint8_t, kEncap> encap;
  std::memcpy(encap.data(), payload.data(), kEncap);
  payload.pull_front(kEncap);
  if (payload.offload.gso_type == packet::OffloadInfo::kGsoNone) {
    if (!packet::complete_checksum(payload)) return false;
    payload.offload = {};
    payload.push_front(kEncap);  // the headers are still there
    out.push_back(std::move(payload));
    return true;
  }
  std::vector<packet::Frame> segs;
  if (!packet::segment_gso(payload, segs)) return false;
  for (auto& s : segs) {
    if (s.headroom() < kEncap) return false;
  }
  for (auto& s : segs) {
    uint8_t* p = s.push_front(kEncap);
    std::memcpy(p, encap.data(), kEncap);
    store_be16(p + 4, static_cast<uint16_t>(s.size()));
    s.offload = {};
    s.meta = payload.meta;
    out.push_back(std::move(s));
  }
  return true;
}

}  // namespace vnet::overlay
