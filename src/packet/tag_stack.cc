#include "packet/tag_stack.hh"

namespace vnet::packet {

std::string_view tag_stack_error_name(TagStackError e) {
  switch (e) {
    case TagStackError::kNone:
      return "none";
    case TagStackError::kTruncated:
      return "truncated";
    case TagStackError::kTooDeep:
      return "too_deep";
  }
  return "?";
}

Result<TagStack> decode_tag_stack(std::span<const uint8_t> frame) {
  TagStack s;
  switch (parse_tag_stack(frame, s)) {
    case TagStackError::kNone:
      return s;
    case TagStackError::kTooDeep:
      return make_error(EBADMSG, "tag stack too deep: more than {} tags", TagStack::kMaxDepth);
    case TagStackError::kTruncated:
      break;
  }
  if (frame.size() < EthernetHeader::kWireSize) {
    return make_error(EBADMSG, "Ethernet header truncated: need 14 bytes, have {}", frame.size());
  }
  size_t off = EthernetHeader::kWireSize - 2 + s.depth * TagHeader::kWireSize;
  return make_error(EBADMSG,
                    "tag stack truncated: tag {} at offset {} needs {} bytes, frame has {}",
                    s.depth + 1, off, off + TagHeader::kWireSize + 2, frame.size());
}

void encode_tags(std::span<const TagHeader> tags, ByteWriter& out) {
  for (const TagHeader& t : tags) {
    out.u16(t.tpid);
    out.u16(t.tci());
  }
}

}  // namespace vnet::packet
