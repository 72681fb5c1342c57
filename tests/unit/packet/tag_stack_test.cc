// The tag-stack view: golden bytes, round trip, bounded depth, truncation at every place a frame
// can end inside a tag.
#include "packet/tag_stack.hh"

#include <gtest/gtest.h>

using namespace vnet;
using namespace vnet::packet;

namespace {

constexpr uint16_t kC = 0x8100, kS = 0x88a8;

std::vector<uint8_t> header_then(std::initializer_list<int> rest) {
  std::vector<uint8_t> v = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1};
  for (int x : rest) v.push_back(static_cast<uint8_t>(x));
  return v;
}

TEST(TagStack, UntaggedFrame) {
  auto f = header_then({0x08, 0x00, 0x45});
  auto s = decode_tag_stack(f);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->depth, 0);
  EXPECT_EQ(s->ether_type, 0x0800);
  EXPECT_EQ(s->ether_type_offset, 12);
  EXPECT_EQ(s->leading_type(0), 0x0800);
}

TEST(TagStack, GoldenSTagThenCTag) {
  // S-tag PCP 3 DEI 1 VID 100, then C-tag PCP 5 VID 20, then IPv4.
  auto f = header_then({0x88, 0xa8, 0x70, 0x64, 0x81, 0x00, 0xa0, 0x14, 0x08, 0x00});
  auto s = decode_tag_stack(f);
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s->depth, 2);
  EXPECT_EQ(s->tags[0], (TagHeader{kS, 3, true, 100}));
  EXPECT_EQ(s->tags[1], (TagHeader{kC, 5, false, 20}));
  EXPECT_FALSE(s->tags[0].is_c_tag());
  EXPECT_TRUE(s->tags[1].is_c_tag());
  EXPECT_EQ(s->ether_type, 0x0800);
  EXPECT_EQ(s->ether_type_offset, 20);
  EXPECT_EQ(s->leading_type(0), kS);
  EXPECT_EQ(s->leading_type(1), kC);
  EXPECT_EQ(s->leading_type(2), 0x0800);
}

TEST(TagStack, RoundTripEveryDepth) {
  std::vector<TagHeader> all = {
      {kC, 0, false, 0}, {kS, 7, true, 4094}, {kC, 1, false, 1}, {kS, 0, false, 4095}};
  for (size_t depth = 0; depth <= TagStack::kMaxDepth; ++depth) {
    std::vector<uint8_t> f = header_then({});
    ByteWriter w(f);
    encode_tags(std::span(all).first(depth), w);
    w.u16(0x86dd);
    auto s = decode_tag_stack(f);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(s->depth, depth);
    EXPECT_TRUE(std::ranges::equal(s->view(), std::span(all).first(depth)));
    EXPECT_EQ(s->ether_type, 0x86dd);
    EXPECT_EQ(s->ether_type_offset, 12 + 4 * depth);
  }
}

TEST(TagStack, MoreThanMaxDepthIsTooDeep) {
  std::vector<uint8_t> f = header_then({});
  ByteWriter w(f);
  std::vector<TagHeader> five(TagStack::kMaxDepth + 1, TagHeader{kC, 0, false, 10});
  encode_tags(five, w);
  w.u16(0x0800);
  TagStack s;
  EXPECT_EQ(parse_tag_stack(f, s), TagStackError::kTooDeep);
  auto d = decode_tag_stack(f);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().message, "tag stack too deep: more than 4 tags");
}

TEST(TagStack, TruncatedAnywhereInsideATag) {
  // A two-tag header is 12 + 4 + 4 + 2 = 22 bytes: every shorter prefix ends inside the MACs, a
  // tag, or before the EtherType after the last tag.
  auto full = header_then({0x81, 0x00, 0x00, 0x0a, 0x88, 0xa8, 0x00, 0x14, 0x08, 0x00});
  for (size_t n = 0; n < full.size(); ++n) {
    TagStack s;
    EXPECT_EQ(parse_tag_stack(std::span(full).first(n), s), TagStackError::kTruncated) << n;
  }
  TagStack s;
  EXPECT_EQ(parse_tag_stack(full, s), TagStackError::kNone);
  EXPECT_EQ(decode_tag_stack(std::span(full).first(13)).error().message,
            "Ethernet header truncated: need 14 bytes, have 13");
  EXPECT_EQ(decode_tag_stack(std::span(full).first(16)).error().message,
            "tag stack truncated: tag 1 at offset 12 needs 18 bytes, frame has 16");
  EXPECT_EQ(decode_tag_stack(std::span(full).first(20)).error().message,
            "tag stack truncated: tag 2 at offset 16 needs 22 bytes, frame has 20");
}

TEST(TagStack, OnlyCAndSTpidsAreTags) {
  EXPECT_TRUE(is_vlan_tpid(0x8100));
  EXPECT_TRUE(is_vlan_tpid(0x88a8));
  EXPECT_FALSE(is_vlan_tpid(0x0800));
  EXPECT_FALSE(is_vlan_tpid(0x9100));  // pre-standard Q-in-Q TPID: payload here
  auto f = header_then({0x91, 0x00, 0x00, 0x14, 0x08, 0x00});
  auto s = decode_tag_stack(f);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->depth, 0);
  EXPECT_EQ(s->ether_type, 0x9100);
}

}  // namespace
