// libFuzzer target: BPDU codec (IEEE 802.1D-2004 §9.3), frames and bare BPDUs.
//
// Properties: no input crashes decode_bpdu_frame or decode_bpdu; every BPDU either decoder accepts
// re-encodes (bare and as a frame) to bytes that decode to the same Bpdu; and every Bpdu built
// from the input encodes to bytes that decode to it, less what its type does not carry.
//
// Run: mkdir -p /tmp/bpdu-corpus && ./build/fuzz/tests/fuzz_bpdu -max_total_time=60 \
//        /tmp/bpdu-corpus tests/fuzz/corpus/bpdu
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/byte_io.hh"
#include "stp/bpdu.hh"

namespace {

using vnet::stp::Bpdu;
using vnet::stp::BpduType;

const vnet::packet::MacAddress kSource{{0x02, 0x00, 0x00, 0x00, 0x00, 0x01}};

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// A decoded Bpdu must survive encoding, bare and in a frame.
void round_trip(const Bpdu& bpdu) {
  auto bare = vnet::stp::decode_bpdu(vnet::stp::encode_bpdu(bpdu));
  check(bare.ok() && *bare == bpdu);
  auto framed = vnet::stp::decode_bpdu_frame(vnet::stp::encode_bpdu_frame(kSource, bpdu));
  check(framed.ok() && *framed == bpdu);
}

// What survives encoding: only the fields the type carries, an RST BPDU at version 2 or later.
Bpdu carried(const Bpdu& in) {
  Bpdu out;
  out.version = in.version;
  out.type = in.type;
  if (in.type == BpduType::kTcn) return out;
  out = in;
  if (in.type == BpduType::kConfig) {
    out.flags = {.topology_change = in.flags.topology_change,
                 .topology_change_ack = in.flags.topology_change_ack};
  } else if (out.version < 2) {
    out.version = 2;
  }
  return out;
}

// A Bpdu with every field drawn from the input.
Bpdu make_bpdu(vnet::ByteReader& in) {
  static constexpr BpduType kTypes[] = {BpduType::kConfig, BpduType::kRst, BpduType::kTcn};
  Bpdu b;
  b.type = kTypes[in.u8() % 3];
  b.version = in.u8();
  const uint8_t f = in.u8();
  b.flags = {.topology_change = (f & 0x01) != 0,
             .proposal = (f & 0x02) != 0,
             .role = static_cast<vnet::stp::BpduRole>((f >> 2) & 3),
             .learning = (f & 0x10) != 0,
             .forwarding = (f & 0x20) != 0,
             .agreement = (f & 0x40) != 0,
             .topology_change_ack = (f & 0x80) != 0};
  b.root.value = uint64_t{in.u32()} << 32 | in.u32();
  b.root_path_cost = in.u32();
  b.bridge.value = uint64_t{in.u32()} << 32 | in.u32();
  b.port.value = in.u16();
  b.times = {.message_age = in.u16(),
             .max_age = in.u16(),
             .hello_time = in.u16(),
             .forward_delay = in.u16()};
  return b;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);

  auto frame = vnet::stp::decode_bpdu_frame(input);
  if (frame.ok()) round_trip(*frame);

  auto bare = vnet::stp::decode_bpdu(input);
  if (bare.ok()) round_trip(*bare);
  // The frame decoder reads the BPDU after the 17 octets of Ethernet and LLC header.
  if (frame.ok() && size >= 17) {
    auto inner = vnet::stp::decode_bpdu(input.subspan(17, vnet::load_be16(data + 12) - 3u));
    check(inner.ok() && *inner == *frame);
  }

  vnet::ByteReader in(input);
  const Bpdu built = make_bpdu(in);
  auto decoded = vnet::stp::decode_bpdu(vnet::stp::encode_bpdu(built));
  const bool too_old =
      built.type == BpduType::kConfig && built.times.message_age >= built.times.max_age;
  if (too_old) {
    check(!decoded.ok());
  } else {
    check(decoded.ok() && *decoded == carried(built));
  }
  return 0;
}
