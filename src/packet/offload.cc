#include "packet/offload.hh"

#include <cstring>
#include <optional>

#include "base/byte_io.hh"
#include "packet/checksum.hh"

namespace vnet::packet {
namespace {

uint32_t load_be32(const uint8_t* p) { return uint32_t{load_be16(p)} << 16 | load_be16(p + 2); }

// Writes the length fields of the IP header at `ip` (`ihl` bytes) for a TCP segment of `tcp_len`
// bytes — IPv4: total length and header checksum; IPv6: payload length — and returns the TCP
// pseudo-header sum.
// The TCP pseudo-header sum of the IP header at `ip` for a segment of `tcp_len` bytes.
uint32_t tcp_pseudo(const uint8_t* ip, bool v6, uint32_t tcp_len) {
  if (v6) {
    Ipv6Address src, dst;
    std::memcpy(src.bytes.data(), ip + 8, 16);
    std::memcpy(dst.bytes.data(), ip + 24, 16);
    return pseudo_header_v6(src, dst, 6, tcp_len);
  }
  return pseudo_header_v4(Ipv4Address{load_be32(ip + 12)}, Ipv4Address{load_be32(ip + 16)}, 6,
                          tcp_len);
}

uint32_t finish_ip_header(uint8_t* ip, bool v6, size_t ihl, uint32_t tcp_len) {
  if (v6) {
    store_be16(ip + 4, static_cast<uint16_t>(tcp_len));
  } else {
    store_be16(ip + 2, static_cast<uint16_t>(ihl + tcp_len));
    store_be16(ip + 10, 0);
    store_be16(ip + 10, internet_checksum({ip, ihl}));
  }
  return tcp_pseudo(ip, v6, tcp_len);
}

}  // namespace

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
    if (!v6) store_be16(q + l3 + 4, ip_id++);
    const uint32_t pseudo = finish_ip_header(q + l3, v6, l4 - l3, seg_len);
    store_be16(q + l4 + 16, 0);
    store_be16(q + l4 + 16, checksum_finish(checksum_add(pseudo, {q + l4, seg_len})));
    out.push_back(std::move(seg));
  }
  return true;
}

namespace {

// Where a TCP segment's headers are (offsets from the frame's start), or nullopt for anything
// coalesce_tcp does not take.
struct TcpLayout {
  size_t l3 = 0, l4 = 0, hdrs = 0;
  bool v6 = false;
};
std::optional<TcpLayout> tcp_layout(const Frame& f) {
  const uint8_t* p = f.data();
  const size_t n = f.size();
  TcpLayout t;
  t.l3 = 14;
  if (n < 18) return std::nullopt;
  uint16_t et = load_be16(p + 12);
  if (et == 0x8100) {
    t.l3 = 18;
    et = load_be16(p + 16);
  }
  if (et == 0x0800) {
    if (n < t.l3 + 20 || p[t.l3] != 0x45 || p[t.l3 + 9] != 6) return std::nullopt;
    if ((load_be16(p + t.l3 + 6) & 0x3fff) != 0) return std::nullopt;  // MF or an offset
    t.l4 = t.l3 + 20;
  } else if (et == 0x86dd) {
    if (n < t.l3 + 40 || p[t.l3 + 6] != 6) return std::nullopt;
    t.v6 = true;
    t.l4 = t.l3 + 40;
  } else {
    return std::nullopt;
  }
  if (n < t.l4 + 20) return std::nullopt;
  const size_t thl = (p[t.l4 + 12] >> 4) * 4u;
  t.hdrs = t.l4 + thl;
  if (thl < 20 || t.hdrs > n) return std::nullopt;
  // The IP length must match the frame (no Ethernet padding, nothing cut off).
  const size_t ip_len = t.v6 ? 40u + load_be16(p + t.l3 + 4) : load_be16(p + t.l3 + 2);
  if (t.l3 + ip_len != n) return std::nullopt;
  return t;
}

}  // namespace

bool coalesce_tcp(Frame& train, const Frame& seg) {
  constexpr uint8_t kAck = 0x10, kPsh = 0x08;
  auto a = tcp_layout(train);
  auto b = tcp_layout(seg);
  if (!a || !b || a->hdrs != b->hdrs || a->l3 != b->l3 || a->v6 != b->v6) return false;
  const uint8_t* p = train.data();
  const uint8_t* q = seg.data();
  const size_t l3 = a->l3, l4 = a->l4, hdrs = a->hdrs;
  if (p[l4 + 13] != kAck || (q[l4 + 13] != kAck && q[l4 + 13] != (kAck | kPsh))) return false;
  // Equal headers but for the fields that differ between segments of one train.
  auto same = [&](size_t from, size_t to) {
    return from >= to || std::memcmp(p + from, q + from, to - from) == 0;
  };
  const bool headers = a->v6 ? same(0, l3 + 4) && same(l3 + 6, l4 + 4)
                             : same(0, l3 + 2) && same(l3 + 6, l3 + 10) && same(l3 + 12, l4 + 4);
  if (!headers || !same(l4 + 8, l4 + 13) || !same(l4 + 14, l4 + 16) || !same(l4 + 18, hdrs))
    return false;
  const size_t have = train.size() - hdrs, more = seg.size() - hdrs;
  const bool gso = train.offload.gso_type != OffloadInfo::kGsoNone;
  const size_t mss = gso ? train.offload.gso_size : have;
  if (have == 0 || more == 0 || more > mss || have % mss != 0) return false;
  if (load_be32(q + l4 + 4) != load_be32(p + l4 + 4) + static_cast<uint32_t>(have)) return false;
  if (train.size() - l3 + more > 65535 || train.size() + more > Frame::kMaxFrame) return false;
  if (gso ? train.offload.hdr_len != hdrs : train.offload.any()) return false;
  // Merged, a segment's own checksum is gone: check it (and the train's first) now.
  auto sum_ok = [](const Frame& f, const TcpLayout& t) {
    const uint32_t pseudo =
        tcp_pseudo(f.data() + t.l3, t.v6, static_cast<uint32_t>(f.size() - t.l4));
    return checksum_finish(checksum_add(pseudo, f.bytes().subspan(t.l4))) == 0;
  };
  if (!sum_ok(seg, *b) || (!gso && !sum_ok(train, *a))) return false;
  if (train.tailroom() < more) {
    Frame big = Frame::make(Frame::kMaxFrame);
    std::memcpy(big.data(), train.data(), train.size());
    big.resize(train.size());
    big.meta = train.meta;
    train = std::move(big);
  }
  const size_t old = train.size();
  train.resize(old + more);
  uint8_t* w = train.data();
  std::memcpy(w + old, q + hdrs, more);
  w[l4 + 13] = q[l4 + 13];
  const uint32_t tcp_len = static_cast<uint32_t>(train.size() - l4);
  const uint32_t pseudo = finish_ip_header(w + l3, a->v6, l4 - l3, tcp_len);
  // NEEDS_CSUM: the field holds the pseudo-header sum, folded, not complemented.
  store_be16(w + l4 + 16, static_cast<uint16_t>(~checksum_finish(pseudo)));
  train.offload = OffloadInfo{OffloadInfo::kNeedsCsum,     static_cast<uint8_t>(a->v6 ? 4 : 1),
                              static_cast<uint16_t>(hdrs), static_cast<uint16_t>(mss),
                              static_cast<uint16_t>(l4),   16};
  return true;
}

bool adopt_partial_tcp(Frame& f, size_t max_frame) {
  if (f.offload.any()) return false;
  auto t = tcp_layout(f);
  if (!t || f.size() - t->l3 > 65535) return false;
  const uint8_t* p = f.data();
  const uint32_t pseudo = tcp_pseudo(p + t->l3, t->v6, static_cast<uint32_t>(f.size() - t->l4));
  if (load_be16(p + t->l4 + 16) != static_cast<uint16_t>(~checksum_finish(pseudo))) return false;
  const bool gso = f.size() > max_frame;
  if (gso && t->hdrs >= max_frame) return false;
  f.offload = OffloadInfo{OffloadInfo::kNeedsCsum,
                          static_cast<uint8_t>(gso ? (t->v6 ? 4 : 1) : OffloadInfo::kGsoNone),
                          static_cast<uint16_t>(gso ? t->hdrs : 0),
                          static_cast<uint16_t>(gso ? max_frame - t->hdrs : 0),
                          static_cast<uint16_t>(t->l4),
                          16};
  return true;
}

}  // namespace vnet::packet
