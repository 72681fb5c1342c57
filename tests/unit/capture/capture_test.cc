// capture::Capture on its own: frames of a batch marked dropped after they were recorded get the
// comment on their own block, bytes as recorded, whatever the order of the marks and whatever was
// recorded after them; a frame of an earlier batch, or one that merely shares an address, is not
// marked.
#include "capture/capture.hh"

#include <gtest/gtest.h>

#include "support/frames.hh"

using namespace vnet;
using namespace vnet::capture;
using packet::Frame;
using vnet::test::mac;

namespace {

Filter no_filter() {
  auto f = Filter::compile("", 0);
  return std::move(*f);
}

struct Fixture {
  Fixture() : c(1, Options{}, {{"br0:1", "", 0}}, no_filter(), 0, now) {}
  std::vector<Block> packets() {
    std::string out;
    c.take(out, SIZE_MAX);
    auto blocks = parse_blocks(std::vector<uint8_t>(out.begin(), out.end()));
    EXPECT_TRUE(blocks.ok());
    std::vector<Block> epbs;
    for (auto& b : *blocks) {
      if (b.type == kEnhancedPacketBlock) epbs.push_back(b);
    }
    return epbs;
  }
  TimePoint now{};
  Capture c;
};

TEST(CaptureMarks, MarksLandOnTheirOwnBlocksInAnyOrder) {
  Fixture f;
  std::vector<Frame> batch;
  for (int i = 0; i < 4; ++i) batch.push_back(test::frame(mac(i), mac(9)));
  f.c.record(0, Direction::kInbound, batch, f.now);
  f.c.record_dropped(0, Direction::kOutbound, test::frame(mac(7), mac(8)), "exposed_tag", f.now);
  f.c.mark_dropped(batch[2], "vlan_not_member");
  f.c.mark_dropped(batch[0], "same_port");
  f.c.mark_dropped(batch[2], "port_learning");  // already marked: the first reason stays
  batch[3].data()[0] ^= 0xff;                   // changed after it was recorded (corruption)
  f.c.mark_dropped(batch[3], "impair_loss");
  auto p = f.packets();
  ASSERT_EQ(p.size(), 5u);
  EXPECT_EQ(p[0].comment, "dropped: same_port");
  EXPECT_EQ(p[1].comment, "");
  EXPECT_EQ(p[2].comment, "dropped: vlan_not_member");
  EXPECT_EQ(p[3].comment, "dropped: impair_loss");
  EXPECT_EQ(p[3].data[0], 0x02) << "the bytes as recorded";
  EXPECT_EQ(p[4].comment, "dropped: exposed_tag") << "recorded after the batch: kept, after it";
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(p[i].data[5], i) << i;
    EXPECT_EQ(p[i].flags & 3, 1u) << i;
  }
  EXPECT_EQ(p[4].flags & 3, 2u);
}

TEST(CaptureMarks, OnlyTheLatestBatchIsMarked) {
  Fixture f;
  std::vector<Frame> first, second;
  first.push_back(test::frame(mac(1), mac(9)));
  f.c.record(0, Direction::kInbound, first, f.now);
  second.push_back(test::frame(mac(2), mac(9)));
  f.c.record(0, Direction::kInbound, second, f.now);
  f.c.mark_dropped(first[0], "vlan_not_member");
  Frame other = test::frame(mac(2), mac(9), {10});  // another frame: another address
  f.c.mark_dropped(other, "vlan_not_member");
  auto p = f.packets();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].comment, "");
  EXPECT_EQ(p[1].comment, "");
  std::vector<Frame> third;
  third.push_back(test::frame(mac(3), mac(9)));
  f.c.record(0, Direction::kInbound, third, f.now);
  f.c.mark_dropped(third[0], "port_discarding");
  EXPECT_EQ(f.packets().at(0).comment, "dropped: port_discarding") << "positive control";
}

}  // namespace
