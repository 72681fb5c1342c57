#include "packet/offload.hh"

#include "base/byte_io.hh"
#include "packet/checksum.hh"

namespace vnet::packet {

bool complete_checksum(Frame& frame) {
  auto& o = frame.offload;
  if (!(o.flags & OffloadInfo::kNeedsCsum)) return true;
  size_t start = o.csum_start, field = size_t{o.csum_start} + o.csum_offset;
  if (start >= frame.size() || field + 2 > frame.size()) return false;
  uint8_t* p = frame.data();
  uint32_t sum = checksum_add(0, frame.bytes().subspan(start));
  store_be16(p + field, checksum_finish(sum));
  o.flags &= static_cast<uint8_t>(~OffloadInfo::kNeedsCsum);
  return true;
}

bool segment_gso(const Frame& frame, std::vector<Frame>& out) {
  const auto& o = frame.offload;
  uint8_t kind = o.gso_type & 0x7f;
  if (kind != 1 && kind != 4) return false;  // TCPv4, TCPv6 only
  const uint8_t* p = frame.data();
  size_t n = frame.size();
  size_t l3 = 14;
  if (n < l3 + 2) return false;
  uint16_t et = load_be16(p + 12);
  if (et == 0x8100) {
    l3 = 18;
    if (n < l3) return false;
    et = load_be16(p + 16);
  }
  bool v6 = et == 0x86dd;
  if (!v6 && et != 0x0800) return false;
  size_t l4 = v6 ? l3 + 40 : l3 + (n > l3 ? (p[l3] & 0xf) * 4u : 0);
  if (l4 + 20 > n) return false;
  size_t thl = (p[l4 + 12] >> 4) * 4u;
  size_t hdrs = l4 + thl;
  if (thl < 20 || hdrs > n || o.gso_size == 0) return false;
  size_t mss = o.gso_size;
  uint32_t seq = uint32_t{load_be16(p + l4 + 4)} << 16 | load_be16(p + l4 + 6);
  uint16_t ip_id = v6 ? 0 : load_be16(p + l3 + 4);
  uint8_t flags = p[l4 + 13];
  for (size_t off = hdrs; off < n; off += mss) {
    size_t len = std::min(mss, n - off);
    bool last = off + len >= n;
    Frame seg = Frame::make(hdrs + len);
    uint8_t* q = seg.data();
    std::memcpy(q, p, hdrs);
    std::memcpy(q + hdrs, p + off, len);
    uint32_t s = seq + static_cast<uint32_t>(off - hdrs);
    store_be16(q + l4 + 4, static_cast<uint16_t>(s >> 16));
    store_be16(q + l4 + 6, static_cast<uint16_t>(s));
    // FIN and PSH only on the last segment, CWR only on the first.
    uint8_t f = flags;
    if (!last) f &= static_cast<uint8_t>(~0x09);
    if (off != hdrs) f &= static_cast<uint8_t>(~0x80);
    q[l4 + 13] = f;
    uint32_t seg_len = static_cast<uint32_t>(thl + len);
    uint32_t pseudo;
    if (v6) {
      store_be16(q + l3 + 4, static_cast<uint16_t>(seg_len));
      Ipv6Address src, dst;
      std::memcpy(src.bytes.data(), q + l3 + 8, 16);
      std::memcpy(dst.bytes.data(), q + l3 + 24, 16);
      pseudo = pseudo_header_v6(src, dst, 6, seg_len);
    } else {
      store_be16(q + l3 + 2, static_cast<uint16_t>(l4 - l3 + seg_len));
      store_be16(q + l3 + 4, ip_id++);
      store_be16(q + l3 + 10, 0);
      store_be16(q + l3 + 10, internet_checksum({q + l3, l4 - l3}));
      Ipv4Address src{uint32_t{load_be16(q + l3 + 12)} << 16 | load_be16(q + l3 + 14)};
      Ipv4Address dst{uint32_t{load_be16(q + l3 + 16)} << 16 | load_be16(q + l3 + 18)};
      pseudo = pseudo_header_v4(src, dst, 6, seg_len);
    }
    store_be16(q + l4 + 16, 0);
    store_be16(q + l4 + 16, checksum_finish(checksum_add(pseudo, {q + l4, seg_len})));
    out.push_back(std::move(seg));
  }
  return true;
}

}  // namespace vnet::packet
