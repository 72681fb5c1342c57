// libFuzzer target: the tag-stack view. Never reads past the frame; what it reports is what the
// bytes say (depth bound, offsets inside the frame, encode → parse gives the same stack).
#include <cstddef>
#include <cstdint>

#include "packet/tag_stack.hh"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace vnet::packet;
  std::span<const uint8_t> frame(data, size);
  TagStack s;
  if (parse_tag_stack(frame, s) != TagStackError::kNone) return 0;
  if (s.depth > TagStack::kMaxDepth) __builtin_trap();
  if (s.ether_type_offset != 12 + 4 * s.depth || s.ether_type_offset + 2u > size) __builtin_trap();
  if (is_vlan_tpid(s.ether_type)) __builtin_trap();
  std::vector<uint8_t> again(data, data + 12);
  vnet::ByteWriter w(again);
  encode_tags(s.view(), w);
  w.u16(s.ether_type);
  auto back = decode_tag_stack(again);
  if (!back.ok() || !(*back == s)) __builtin_trap();
  return 0;
}
