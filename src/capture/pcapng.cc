#include "capture/pcapng.hh"

#include <cstring>

namespace vnet::capture {

namespace {

// Option codes (draft-ietf-opsawg-pcapng §3.5, §4.1–§4.6).
constexpr uint16_t kOptEnd = 0;
constexpr uint16_t kOptComment = 1;
constexpr uint16_t kShbUserAppl = 4;
constexpr uint16_t kIfName = 2;
constexpr uint16_t kIfDescription = 3;
constexpr uint16_t kIfTsresol = 9;
constexpr uint16_t kEpbFlags = 2;
constexpr uint16_t kIsbStartTime = 2;
constexpr uint16_t kIsbEndTime = 3;
constexpr uint16_t kIsbIfRecv = 4;
constexpr uint16_t kIsbIfDrop = 5;
constexpr uint16_t kIsbFilterAccept = 6;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;

size_t pad4(size_t n) { return (n + 3) & ~size_t{3}; }

void le16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}
void le32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
// A 64-bit timestamp: high 32 bits, then low 32 bits (§4.3).
void timestamp(std::string& out, uint64_t v) {
  le32(out, static_cast<uint32_t>(v >> 32));
  le32(out, static_cast<uint32_t>(v));
}
void pad(std::string& out, size_t n) { out.append(pad4(n) - n, '\0'); }

void option(std::string& out, uint16_t code, std::string_view value) {
  le16(out, code);
  le16(out, static_cast<uint16_t>(value.size()));
  out.append(value);
  pad(out, value.size());
}
void option_u64(std::string& out, uint16_t code, uint64_t v) {
  le16(out, code);
  le16(out, 8);
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void option_timestamp(std::string& out, uint16_t code, uint64_t v) {
  le16(out, code);
  le16(out, 8);
  timestamp(out, v);
}
size_t option_size(size_t value) { return 4 + pad4(value); }

// Starts a block; finish() fills in the total length at both ends.
size_t begin(std::string& out, uint32_t type) {
  size_t at = out.size();
  le32(out, type);
  le32(out, 0);
  return at;
}
void finish(std::string& out, size_t at) {
  le16(out, kOptEnd);
  le16(out, 0);
  uint32_t len = static_cast<uint32_t>(out.size() - at + 4);
  le32(out, len);
  for (int i = 0; i < 4; ++i) out[at + 4 + i] = static_cast<char>((len >> (8 * i)) & 0xff);
}

// Truncated comments still fit an option's 16-bit length.
std::string_view clip(std::string_view s) { return s.substr(0, 0xfff0); }

}  // namespace

void append_section_header(std::string& out, std::string_view application) {
  size_t at = begin(out, kSectionHeaderBlock);
  le32(out, kByteOrderMagic);
  le16(out, 1);  // major version
  le16(out, 0);  // minor version
  le32(out, 0xffffffff);
  le32(out, 0xffffffff);  // section length -1: not known
  if (!application.empty()) option(out, kShbUserAppl, clip(application));
  finish(out, at);
}

void append_interface(std::string& out, const Interface& iface) {
  size_t at = begin(out, kInterfaceDescriptionBlock);
  le16(out, kLinkTypeEthernet);
  le16(out, 0);
  le32(out, iface.snaplen);
  option(out, kIfName, clip(iface.name));
  if (!iface.description.empty()) option(out, kIfDescription, clip(iface.description));
  option(out, kIfTsresol, std::string_view("\x09", 1));  // 10^-9 s
  finish(out, at);
}

size_t packet_block_size(const Packet& p) {
  size_t n =
      kPacketDataOffset + pad4(p.data.size()) + 4 /* end of options */ + 4 /* trailing length */;
  if (p.direction != Direction::kUnknown) n += option_size(4);
  if (!p.comment.empty()) n += option_size(clip(p.comment).size());
  return n;
}

// The hot path of a capture: one resize and stores into place (no per-byte appends).
void append_packet(std::string& out, const Packet& p) {
  const size_t len = packet_block_size(p);
  const size_t at = out.size();
  out.resize(at + len);
  auto* w = reinterpret_cast<uint8_t*>(out.data() + at);
  auto put32 = [&w](uint32_t v) {
    w[0] = static_cast<uint8_t>(v);
    w[1] = static_cast<uint8_t>(v >> 8);
    w[2] = static_cast<uint8_t>(v >> 16);
    w[3] = static_cast<uint8_t>(v >> 24);
    w += 4;
  };
  auto put_option = [&](uint16_t code, const void* value, size_t n) {
    put32(uint32_t{code} | uint32_t{static_cast<uint16_t>(n)} << 16);
    std::memcpy(w, value, n);
    std::memset(w + n, 0, pad4(n) - n);
    w += pad4(n);
  };
  put32(kEnhancedPacketBlock);
  put32(static_cast<uint32_t>(len));
  put32(p.interface);
  put32(static_cast<uint32_t>(p.timestamp_ns >> 32));
  put32(static_cast<uint32_t>(p.timestamp_ns));
  put32(static_cast<uint32_t>(p.data.size()));
  put32(p.original_length);
  if (!p.data.empty()) std::memcpy(w, p.data.data(), p.data.size());
  std::memset(w + p.data.size(), 0, pad4(p.data.size()) - p.data.size());
  w += pad4(p.data.size());
  if (!p.comment.empty()) {
    std::string_view c = clip(p.comment);
    put_option(kOptComment, c.data(), c.size());
  }
  if (p.direction != Direction::kUnknown) {
    uint8_t flags[4] = {static_cast<uint8_t>(p.direction), 0, 0, 0};
    put_option(kEpbFlags, flags, 4);
  }
  put32(kOptEnd);
  put32(static_cast<uint32_t>(len));
}

void append_interface_statistics(std::string& out, const InterfaceStatistics& s) {
  size_t at = begin(out, kInterfaceStatisticsBlock);
  le32(out, s.interface);
  timestamp(out, s.timestamp_ns);
  option_timestamp(out, kIsbStartTime, s.start_ns);
  option_timestamp(out, kIsbEndTime, s.end_ns);
  option_u64(out, kIsbIfRecv, s.received);
  option_u64(out, kIsbIfDrop, s.dropped);
  option_u64(out, kIsbFilterAccept, s.accepted);
  finish(out, at);
}

namespace {

uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint32_t get32(const uint8_t* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
uint64_t get64(const uint8_t* p) { return uint64_t{get32(p)} | uint64_t{get32(p + 4)} << 32; }
uint64_t get_ts(const uint8_t* p) { return uint64_t{get32(p)} << 32 | get32(p + 4); }

}  // namespace

Result<std::vector<Block>> parse_blocks(std::span<const uint8_t> bytes) {
  std::vector<Block> out;
  size_t pos = 0;
  while (bytes.size() - pos >= 12) {
    const uint8_t* b = bytes.data() + pos;
    uint32_t len = get32(b + 4);
    if (len < 12 || len % 4 != 0) {
      return make_error(EINVAL,
                        "pcapng block at offset {}: length {} (expected ≥ 12, a multiple of 4)",
                        pos, len);
    }
    if (bytes.size() - pos < len) break;  // cut off
    if (get32(b + len - 4) != len) {
      return make_error(EINVAL, "pcapng block at offset {}: trailing length {} != {}", pos,
                        get32(b + len - 4), len);
    }
    Block blk;
    blk.type = get32(b);
    size_t fixed = 0;
    switch (blk.type) {
      case kSectionHeaderBlock:
        if (len < 28 || get32(b + 8) != kByteOrderMagic) {
          return make_error(EINVAL, "pcapng section header at offset {}: not little-endian v1",
                            pos);
        }
        fixed = 16;
        break;
      case kInterfaceDescriptionBlock:
        if (len < 20) return make_error(EINVAL, "pcapng IDB at offset {}: too short", pos);
        blk.linktype = get16(b + 8);
        blk.snaplen = get32(b + 12);
        fixed = 8;
        break;
      case kEnhancedPacketBlock: {
        if (len < 32) return make_error(EINVAL, "pcapng EPB at offset {}: too short", pos);
        blk.interface = get32(b + 8);
        blk.timestamp_ns = get_ts(b + 12);
        uint32_t caplen = get32(b + 20);
        blk.original_length = get32(b + 24);
        if (28 + pad4(caplen) + 4 > len) {
          return make_error(EINVAL,
                            "pcapng EPB at offset {}: captured length {} overruns the block", pos,
                            caplen);
        }
        blk.data.assign(b + 28, b + 28 + caplen);
        fixed = 20 + pad4(caplen);
        break;
      }
      case kInterfaceStatisticsBlock:
        if (len < 24) return make_error(EINVAL, "pcapng ISB at offset {}: too short", pos);
        blk.interface = get32(b + 8);
        blk.timestamp_ns = get_ts(b + 12);
        fixed = 12;
        break;
      default:
        break;
    }
    if (fixed) {
      size_t o = 8 + fixed, end = len - 4;
      while (o + 4 <= end) {
        uint16_t code = get16(b + o), olen = get16(b + o + 2);
        if (code == kOptEnd) break;
        if (o + 4 + olen > end) {
          return make_error(EINVAL, "pcapng block at offset {}: option {} overruns the block", pos,
                            code);
        }
        const uint8_t* v = b + o + 4;
        std::string_view text(reinterpret_cast<const char*>(v), olen);
        if (code == kOptComment) {
          blk.comment = text;
        } else if (blk.type == kInterfaceDescriptionBlock && code == kIfName) {
          blk.name = text;
        } else if (blk.type == kInterfaceDescriptionBlock && code == kIfTsresol && olen == 1) {
          blk.tsresol = v[0];
        } else if (blk.type == kEnhancedPacketBlock && code == kEpbFlags && olen == 4) {
          blk.flags = get32(v);
        } else if (blk.type == kInterfaceStatisticsBlock && code == kIsbIfRecv && olen == 8) {
          blk.ifrecv = get64(v);
        } else if (blk.type == kInterfaceStatisticsBlock && code == kIsbIfDrop && olen == 8) {
          blk.ifdrop = get64(v);
        }
        o += 4 + pad4(olen);
      }
    }
    out.push_back(std::move(blk));
    pos += len;
  }
  return out;
}

}  // namespace vnet::capture
