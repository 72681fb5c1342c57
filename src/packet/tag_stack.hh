#pragma once
// TagStack: a read-only view of the VLAN tags at the front of an Ethernet frame.
//
// Shape on the wire (IEEE 802.1Q-2018 §9.5, §9.6):
//   dst(6) src(6) { TPID(2) TCI(2) }* EtherType(2) payload
// where a TPID is 0x8100 (C-tag, 802.1Q) or 0x88a8 (S-tag, 802.1ad) and the TCI holds
// PCP(3) DEI(1) VID(12). The view records every tag, outermost first, up to kMaxDepth of them,
// and the offset of the EtherType that follows the last tag (12 for an untagged frame).
//
// It is what the bridge classifies on: the outer tag decides the VLAN, and what follows it
// decides whether the frame may ever leave a port untagged (it may not while it still starts
// with a tag, or the next switch would read that tag as the VLAN: "VLAN hopping").
//
// Errors: a frame shorter than its header, or one that ends inside a tag or before the EtherType
// after a tag, is kTruncated; a frame with more than kMaxDepth tags is kTooDeep (nothing
// legitimate stacks that many; a bridge drops both as malformed).
// parse_tag_stack() is the datapath form (no allocation, a status code); decode_tag_stack() is
// the codec form with a message naming the offset.

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/byte_io.hh"
#include "base/result.hh"
#include "packet/ethernet.hh"

namespace vnet::packet {

// 802.1Q-2018 Table 9-1: the TPIDs of a C-VLAN tag and an S-VLAN tag.
constexpr bool is_vlan_tpid(uint16_t type) {
  return type == static_cast<uint16_t>(EtherType::kVlan) ||
         type == static_cast<uint16_t>(EtherType::kQinQ);
}

// One tag as on the wire, host order.
struct TagHeader {
  uint16_t tpid = static_cast<uint16_t>(EtherType::kVlan);
  uint8_t pcp = 0;   // 3 bits
  bool dei = false;  // drop eligible indicator
  uint16_t vid = 0;  // 12 bits; 0 = priority tag (§9.6), 0xfff reserved
  static constexpr size_t kWireSize = 4;
  bool is_c_tag() const { return tpid == static_cast<uint16_t>(EtherType::kVlan); }
  uint16_t tci() const {
    return static_cast<uint16_t>(pcp << 13 | (dei ? 1 << 12 : 0) | (vid & 0xfff));
  }
  friend bool operator==(const TagHeader&, const TagHeader&) = default;
};

enum class TagStackError : uint8_t { kNone, kTruncated, kTooDeep };
std::string_view tag_stack_error_name(TagStackError e);

struct TagStack {
  static constexpr size_t kMaxDepth = 4;
  std::array<TagHeader, kMaxDepth> tags{};  // [0] is the outermost; [depth..] unused
  uint8_t depth = 0;
  uint16_t ether_type = 0;                                     // after the last tag
  uint16_t ether_type_offset = EthernetHeader::kWireSize - 2;  // where that EtherType starts

  std::span<const TagHeader> view() const { return {tags.data(), depth}; }
  // The TPID or EtherType at offset 12 once the first `popped` tags are removed: what a receiver
  // reads first.
  uint16_t leading_type(size_t popped) const {
    return popped < depth ? tags[popped].tpid : ether_type;
  }
  // Equal when the tags in use and the EtherType after them are (unused slots do not count).
  friend bool operator==(const TagStack& a, const TagStack& b) {
    return a.depth == b.depth &&
           std::equal(a.tags.begin(), a.tags.begin() + a.depth, b.tags.begin()) &&
           a.ether_type == b.ether_type && a.ether_type_offset == b.ether_type_offset;
  }
};

// Parses the tags of `frame` (starting at its destination MAC) into `out`. On an error `out`
// holds the tags read before it. Inline: the bridge runs it for every frame.
inline TagStackError parse_tag_stack(std::span<const uint8_t> frame, TagStack& out) {
  out.depth = 0;
  if (frame.size() < EthernetHeader::kWireSize) return TagStackError::kTruncated;
  size_t off = EthernetHeader::kWireSize - 2;
  uint16_t type = load_be16(&frame[off]);
  while (is_vlan_tpid(type)) {
    if (out.depth == TagStack::kMaxDepth) return TagStackError::kTooDeep;
    // TPID at off, TCI at off + 2, the next TPID/EtherType at off + 4.
    if (frame.size() < off + TagHeader::kWireSize + 2) return TagStackError::kTruncated;
    uint16_t tci = load_be16(&frame[off + 2]);
    out.tags[out.depth++] = TagHeader{type, static_cast<uint8_t>(tci >> 13), ((tci >> 12) & 1) != 0,
                                      static_cast<uint16_t>(tci & 0xfff)};
    off += TagHeader::kWireSize;
    type = load_be16(&frame[off]);
  }
  out.ether_type = type;
  out.ether_type_offset = static_cast<uint16_t>(off);
  return TagStackError::kNone;
}
// Same, with a message: "tag stack truncated: tag 2 at offset 16 needs 6 bytes, frame has 18".
Result<TagStack> decode_tag_stack(std::span<const uint8_t> frame);
// Writes TPID + TCI for each tag, outermost first (the MACs before and the EtherType after are
// the caller's).
void encode_tags(std::span<const TagHeader> tags, ByteWriter& out);

}  // namespace vnet::packet
