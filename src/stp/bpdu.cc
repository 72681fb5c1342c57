#include "stp/bpdu.hh"

#include <algorithm>
#include <string_view>

#include <fmt/ranges.h>

#include "base/byte_io.hh"

namespace vnet::stp {
namespace {

// §9.3.1 and §9.3.3: the flag bits of octet 5 (bit 1 is the least significant).
constexpr uint8_t kFlagTopologyChange = 0x01;     // bit 1
constexpr uint8_t kFlagProposal = 0x02;           // bit 2
constexpr uint8_t kFlagRoleMask = 0x0c;           // bits 3–4
constexpr int kFlagRoleShift = 2;                 //
constexpr uint8_t kFlagLearning = 0x10;           // bit 5
constexpr uint8_t kFlagForwarding = 0x20;         // bit 6
constexpr uint8_t kFlagAgreement = 0x40;          // bit 7
constexpr uint8_t kFlagTopologyChangeAck = 0x80;  // bit 8

constexpr uint8_t kRstVersion = 2;  // §9.3.3, octet 3 of an RST BPDU

// §7.12.3 / IEEE 802.2: the LLC header in front of every BPDU.
constexpr uint8_t kLlcSapSpanningTree = 0x42;
constexpr uint8_t kLlcControlUi = 0x03;
constexpr size_t kEthernetHeaderSize = 14;  // destination, source, length
constexpr size_t kLlcHeaderSize = 3;        // DSAP, SSAP, control
constexpr uint16_t kMaxLength = 1500;       // IEEE 802.3 §3.2.6: larger values are EtherTypes
constexpr uint16_t kMinEtherType = 0x0600;  // IEEE 802.3 §3.2.6
constexpr size_t kMinFrameSize = 60;        // without the FCS

uint8_t encode_flags(const Bpdu& bpdu) {
  const BpduFlags& f = bpdu.flags;
  uint8_t out = 0;
  if (f.topology_change) out |= kFlagTopologyChange;
  if (f.topology_change_ack) out |= kFlagTopologyChangeAck;
  if (bpdu.type == BpduType::kRst) {
    if (f.proposal) out |= kFlagProposal;
    out |= static_cast<uint8_t>((static_cast<uint8_t>(f.role) << kFlagRoleShift) & kFlagRoleMask);
    if (f.learning) out |= kFlagLearning;
    if (f.forwarding) out |= kFlagForwarding;
    if (f.agreement) out |= kFlagAgreement;
  }
  return out;
}

BpduFlags decode_flags(uint8_t octet, BpduType type) {
  BpduFlags f;
  f.topology_change = octet & kFlagTopologyChange;
  f.topology_change_ack = octet & kFlagTopologyChangeAck;
  if (type == BpduType::kRst) {
    f.proposal = octet & kFlagProposal;
    f.role = static_cast<BpduRole>((octet & kFlagRoleMask) >> kFlagRoleShift);
    f.learning = octet & kFlagLearning;
    f.forwarding = octet & kFlagForwarding;
    f.agreement = octet & kFlagAgreement;
  }
  return f;
}

uint64_t read_u64(ByteReader& in) {
  uint64_t high = in.u32();
  return high << 32 | in.u32();
}

void write_u64(ByteWriter& out, uint64_t v) {
  out.u32(static_cast<uint32_t>(v >> 32));
  out.u32(static_cast<uint32_t>(v));
}

void write_bpdu(const Bpdu& bpdu, ByteWriter& out) {
  const bool rst = bpdu.type == BpduType::kRst;
  out.u16(0x0000);  // Protocol Identifier (§9.3.1)
  out.u8(rst ? std::max(bpdu.version, kRstVersion) : bpdu.version);
  out.u8(static_cast<uint8_t>(bpdu.type));
  if (bpdu.type == BpduType::kTcn) return;  // §9.3.2: four octets only
  out.u8(encode_flags(bpdu));               // octet 5
  write_u64(out, bpdu.root.value);          // octets 6–13
  out.u32(bpdu.root_path_cost);             // octets 14–17
  write_u64(out, bpdu.bridge.value);        // octets 18–25
  out.u16(bpdu.port.value);                 // octets 26–27
  out.u16(bpdu.times.message_age);          // octets 28–29
  out.u16(bpdu.times.max_age);              // octets 30–31
  out.u16(bpdu.times.hello_time);           // octets 32–33
  out.u16(bpdu.times.forward_delay);        // octets 34–35
  if (rst) out.u8(0);                       // octet 36: Version 1 Length (§9.3.3)
}

}  // namespace

BridgeId BridgeId::make(uint16_t priority, uint16_t system_id, const packet::MacAddress& mac) {
  uint64_t high = (priority & 0xf000) | (system_id & 0x0fff);
  return {high << 48 | mac.to_u64()};
}

packet::MacAddress BridgeId::mac() const {
  return packet::MacAddress::from_u64(value & 0xffff'ffff'ffffULL);
}

Result<Bpdu> decode_bpdu(std::span<const uint8_t> bytes) {
  if (bytes.size() < kTcnBpduSize) {
    return make_error(
        EBADMSG, "BPDU truncated: need {} octets (protocol identifier, version, type), have {}",
        kTcnBpduSize, bytes.size());
  }
  ByteReader in(bytes);
  const uint16_t protocol = in.u16();
  if (protocol != 0x0000) {
    return make_error(EBADMSG, "BPDU protocol identifier 0x{:04x}: expected 0x0000", protocol);
  }
  Bpdu bpdu;
  bpdu.version = in.u8();
  const uint8_t type = in.u8();
  size_t need = 0;
  const char* what = "";
  if (type == static_cast<uint8_t>(BpduType::kTcn)) {
    bpdu.type = BpduType::kTcn;
    return bpdu;  // §9.3.4 b: the type is all a TCN carries; octets after it are ignored
  } else if (type == static_cast<uint8_t>(BpduType::kConfig)) {
    bpdu.type = BpduType::kConfig;
    need = kConfigBpduSize;
    what = "a Configuration BPDU";
  } else if (type == static_cast<uint8_t>(BpduType::kRst) && bpdu.version >= kRstVersion) {
    bpdu.type = BpduType::kRst;  // §9.3.4 c: read as version 2 whatever the version
    need = kRstBpduSize;
    what = "an RST BPDU";
  } else if (bpdu.version >= kRstVersion) {
    return make_error(EBADMSG,
                      "BPDU type 0x{:02x} for version {}: expected 0x00 (Configuration), 0x02 "
                      "(RST) or 0x80 (TCN)",
                      type, bpdu.version);
  } else {
    return make_error(EBADMSG,
                      "BPDU type 0x{:02x} for version {}: expected 0x00 (Configuration) or 0x80 "
                      "(TCN); RST BPDUs (0x02) need version 2 or later",
                      type, bpdu.version);
  }
  if (bytes.size() < need) {
    return make_error(EBADMSG, "BPDU truncated: {} needs {} octets, have {}", what, need,
                      bytes.size());
  }
  bpdu.flags = decode_flags(in.u8(), bpdu.type);
  bpdu.root.value = read_u64(in);
  bpdu.root_path_cost = in.u32();
  bpdu.bridge.value = read_u64(in);
  bpdu.port.value = in.u16();
  bpdu.times.message_age = in.u16();
  bpdu.times.max_age = in.u16();
  bpdu.times.hello_time = in.u16();
  bpdu.times.forward_delay = in.u16();
  // The RST BPDU's Version 1 Length (octet 36) is not checked: §9.3.4 does not, and IEEE
  // 802.1Q §14.5 reads a non-zero one from a later version as an RST BPDU too.
  if (bpdu.type == BpduType::kConfig && bpdu.times.message_age >= bpdu.times.max_age) {
    return make_error(EBADMSG, "Configuration BPDU message age {} is not below max age {}",
                      format_time(bpdu.times.message_age), format_time(bpdu.times.max_age));
  }
  return bpdu;
}

std::vector<uint8_t> encode_bpdu(const Bpdu& bpdu) {
  std::vector<uint8_t> out;
  out.reserve(kRstBpduSize);
  ByteWriter w(out);
  write_bpdu(bpdu, w);
  return out;
}

Result<Bpdu> decode_bpdu_frame(std::span<const uint8_t> frame) {
  constexpr size_t kHeaders = kEthernetHeaderSize + kLlcHeaderSize;
  if (frame.size() < kHeaders) {
    return make_error(EBADMSG,
                      "BPDU frame truncated: need {} octets (Ethernet header and LLC), have {}",
                      kHeaders, frame.size());
  }
  ByteReader in(frame);
  packet::MacAddress dst;
  in.copy(dst.bytes.data(), dst.bytes.size());
  if (dst != kBridgeGroupAddress) {
    return make_error(EBADMSG, "BPDU frame destination {}: expected {} (Bridge Group Address)",
                      dst.to_string(), kBridgeGroupAddress.to_string());
  }
  in.skip(6);  // source
  const uint16_t length = in.u16();
  if (length >= kMinEtherType) {
    return make_error(EBADMSG,
                      "BPDU frame length field 0x{:04x} is an EtherType: expected an IEEE 802.3 "
                      "length of at most {}",
                      length, kMaxLength);
  }
  if (length > kMaxLength) {
    return make_error(EBADMSG,
                      "BPDU frame length field {} (0x{:04x}): expected an IEEE 802.3 length of at "
                      "most {}",
                      length, length, kMaxLength);
  }
  if (length < kLlcHeaderSize) {
    return make_error(EBADMSG,
                      "BPDU frame length field {} does not cover the LLC header: expected at least "
                      "{}",
                      length, kLlcHeaderSize);
  }
  if (in.remaining() < length) {
    return make_error(EBADMSG,
                      "BPDU frame truncated: the length field says {} octets follow the header, "
                      "have {}",
                      length, in.remaining());
  }
  const uint8_t dsap = in.u8();
  const uint8_t ssap = in.u8();
  const uint8_t control = in.u8();
  if (dsap != kLlcSapSpanningTree) {
    return make_error(EBADMSG, "BPDU frame LLC DSAP 0x{:02x}: expected 0x42 (Spanning Tree)", dsap);
  }
  if (ssap != kLlcSapSpanningTree) {
    return make_error(EBADMSG, "BPDU frame LLC SSAP 0x{:02x}: expected 0x42 (Spanning Tree)", ssap);
  }
  if (control != kLlcControlUi) {
    return make_error(EBADMSG, "BPDU frame LLC control 0x{:02x}: expected 0x03 (UI)", control);
  }
  return decode_bpdu(in.bytes(length - kLlcHeaderSize));  // padding after it is ignored
}

std::vector<uint8_t> encode_bpdu_frame(const packet::MacAddress& src, const Bpdu& bpdu) {
  std::vector<uint8_t> out;
  out.reserve(kMinFrameSize);
  ByteWriter w(out);
  w.bytes(kBridgeGroupAddress.bytes);
  w.bytes(src.bytes);
  const size_t length_at = w.size();
  w.u16(0);  // patched below
  w.u8(kLlcSapSpanningTree);
  w.u8(kLlcSapSpanningTree);
  w.u8(kLlcControlUi);
  write_bpdu(bpdu, w);
  w.patch_u16(length_at, static_cast<uint16_t>(w.size() - kEthernetHeaderSize));
  if (w.size() < kMinFrameSize) w.zeros(kMinFrameSize - w.size());
  return out;
}

const char* bpdu_role_name(BpduRole role) {
  switch (role) {
    case BpduRole::kUnknown:
      return "Unknown";
    case BpduRole::kAlternateOrBackup:
      return "Alternate/Backup";
    case BpduRole::kRoot:
      return "Root";
    case BpduRole::kDesignated:
      return "Designated";
  }
  return "invalid";
}

std::string format_time(uint16_t wire) {
  // 1/256 s = 0.00390625 s: eight decimals are exact.
  std::string fraction = fmt::format("{:08}", (wire % 256u) * 390625u);
  const size_t keep = std::max<size_t>(fraction.find_last_not_of('0') + 1, 1);
  fraction.resize(keep);
  return fmt::format("{}.{} s", wire / 256u, fraction);
}

std::string to_string(BridgeId id) {
  return fmt::format("{:04x}.{:012x}", id.value >> 48, id.value & 0xffff'ffff'ffffULL);
}

std::string to_string(PortId id) { return fmt::format("{}.{}", id.priority(), id.number()); }

std::string to_string(const Bpdu& bpdu) {
  if (bpdu.type == BpduType::kTcn) return fmt::format("TCN v{}", bpdu.version);
  const BpduFlags& f = bpdu.flags;
  const bool rst = bpdu.type == BpduType::kRst;
  std::vector<std::string_view> flags;
  auto add = [&flags](bool on, std::string_view name) {
    if (on) flags.push_back(name);
  };
  add(f.topology_change, "TC");
  if (rst) {
    add(f.proposal, "proposal");
    add(f.learning, "learning");
    add(f.forwarding, "forwarding");
    add(f.agreement, "agreement");
  }
  add(f.topology_change_ack, "TCA");
  if (flags.empty()) flags.push_back("-");
  return fmt::format(
      "{} v{}{}{} flags {} root {} cost {} bridge {} port {} age {} max-age {} hello {} "
      "forward-delay {}",
      rst ? "RST" : "Config", bpdu.version, rst ? " role " : "", rst ? bpdu_role_name(f.role) : "",
      fmt::join(flags, ","), to_string(bpdu.root), bpdu.root_path_cost, to_string(bpdu.bridge),
      to_string(bpdu.port), format_time(bpdu.times.message_age), format_time(bpdu.times.max_age),
      format_time(bpdu.times.hello_time), format_time(bpdu.times.forward_delay));
}

}  // namespace vnet::stp
