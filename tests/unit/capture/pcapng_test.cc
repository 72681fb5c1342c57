// pcapng writer (capture/pcapng.hh): golden bytes of the blocks (draft-ietf-opsawg-pcapng §4.1,
// §4.2, §4.3, §4.6), and every block read back with what was written; the capture buffer: BPF
// filter, bound ("could not keep"), drop comments and statistics.
#include "capture/pcapng.hh"

#include <gtest/gtest.h>

#include "capture/capture.hh"
#include "support/frames.hh"

using namespace vnet;
using namespace vnet::capture;

namespace {

std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

TEST(Pcapng, SectionHeaderGoldenBytes) {
  std::string out;
  append_section_header(out, "vnet");
  std::vector<uint8_t> want = {0x0a, 0x0d, 0x0d, 0x0a, 0x28, 0, 0,    0,    0x4d, 0x3c,
                               0x2b, 0x1a, 1,    0,    0,    0, 0xff, 0xff, 0xff, 0xff,
                               0xff, 0xff, 0xff, 0xff, 4,    0, 4,    0,    'v',  'n',
                               'e',  't',  0,    0,    0,    0, 0x28, 0,    0,    0};
  EXPECT_EQ(bytes(out), want);
}

TEST(Pcapng, InterfaceGoldenBytes) {
  std::string out;
  append_interface(out, {"b:1", "", 128});
  // 8 header + 8 fixed + if_name (4+4) + if_tsresol (4+4) + end (4) + length (4) = 40
  std::vector<uint8_t> want = {1, 0, 0, 0, 40, 0, 0,   0,   1,   0, 0, 0, 128, 0,
                               0, 0, 2, 0, 3,  0, 'b', ':', '1', 0, 9, 0, 1,   0,
                               9, 0, 0, 0, 0,  0, 0,   0,   40,  0, 0, 0};
  EXPECT_EQ(bytes(out), want);
}

TEST(Pcapng, EnhancedPacketGoldenBytes) {
  std::string out;
  const uint8_t data[] = {1, 2, 3};
  append_packet(out, {0, 0x0000000100000002ull, data, 60, Direction::kOutbound, {}});
  std::vector<uint8_t> want = {6, 0, 0, 0, 48, 0, 0, 0, 0,  0, 0, 0, 1,  0, 0, 0,
                               2, 0, 0, 0, 3,  0, 0, 0, 60, 0, 0, 0, 1,  2, 3, 0,
                               2, 0, 4, 0, 2,  0, 0, 0, 0,  0, 0, 0, 48, 0, 0, 0};
  EXPECT_EQ(bytes(out), want);
  Packet p{0, 0x0000000100000002ull, data, 60, Direction::kOutbound, {}};
  EXPECT_EQ(packet_block_size(p), out.size());
}

TEST(Pcapng, EveryBlockReadsBack) {
  std::string out;
  append_section_header(out, "vnet switch");
  append_interface(out, {"br0:2", "afpacket:veth1", 96});
  const uint8_t data[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 8, 6, 0};
  Packet p{0, 1234567890123456789ull, data, 64, Direction::kInbound, "dropped: impair_loss"};
  append_packet(out, p);
  EXPECT_EQ(out.size() % 4, 0u);
  append_interface_statistics(out, {0, 5, 1, 5, 10, 3, 7});
  auto blocks = parse_blocks(bytes(out));
  ASSERT_TRUE(blocks.ok()) << blocks.error().message;
  ASSERT_EQ(blocks->size(), 4u);
  EXPECT_EQ((*blocks)[0].type, kSectionHeaderBlock);
  EXPECT_EQ((*blocks)[1].name, "br0:2");
  EXPECT_EQ((*blocks)[1].snaplen, 96u);
  EXPECT_EQ((*blocks)[1].tsresol, 9);
  EXPECT_EQ((*blocks)[1].linktype, kLinkTypeEthernet);
  const Block& e = (*blocks)[2];
  EXPECT_EQ(e.type, kEnhancedPacketBlock);
  EXPECT_EQ(e.timestamp_ns, 1234567890123456789ull);
  EXPECT_EQ(e.data, std::vector<uint8_t>(std::begin(data), std::end(data)));
  EXPECT_EQ(e.original_length, 64u);
  EXPECT_EQ(e.flags & 3, 1u);
  EXPECT_EQ(e.comment, "dropped: impair_loss");
  EXPECT_EQ((*blocks)[3].ifrecv, 10u);
  EXPECT_EQ((*blocks)[3].ifdrop, 3u);
  // A stream cut in the middle of a block yields the complete blocks only.
  auto all = bytes(out);
  auto cut = parse_blocks(std::span<const uint8_t>(all).first(out.size() - 10));
  ASSERT_TRUE(cut.ok());
  EXPECT_EQ(cut->size(), 3u);
  // A corrupted trailing length is an error naming the offset.
  std::string bad = out;
  bad[bad.size() - 1] = 9;
  auto broken = parse_blocks(bytes(bad));
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.error().message.find("offset"), std::string::npos);
}

Filter no_filter() {
  auto f = Filter::compile("", 0);
  return std::move(*f);
}

std::vector<Block> drain(Capture& c) {
  std::string out;
  c.take(out, SIZE_MAX);
  auto b = parse_blocks(bytes(out));
  EXPECT_TRUE(b.ok());
  return b.ok() ? *b : std::vector<Block>{};
}

std::vector<packet::Frame> batch(packet::Frame f) {
  std::vector<packet::Frame> v;
  v.push_back(std::move(f));
  return v;
}

TEST(Capture, FilterSelectsAndTimestampsAreWallClock) {
  auto filter = Filter::compile("arp", 65535);
  ASSERT_TRUE(filter.ok()) << filter.error().message;
  TimePoint t0{std::chrono::seconds(10)};
  Capture c(1, {}, {{"br0:1", "", 65535}}, std::move(*filter), 1'000'000'000'000, t0);
  auto ip = test::frame(packet::MacAddress::broadcast(), test::mac(1));
  auto arp = ip.clone();
  arp.data()[13] = 0x06;  // EtherType 0x0806
  c.record(0, Direction::kInbound, batch(arp.clone()), t0);
  c.record(0, Direction::kOutbound, batch(ip.clone()), t0);
  auto blocks = drain(c);
  ASSERT_EQ(blocks.size(), 3u);  // SHB, IDB, the ARP frame only
  EXPECT_EQ(blocks[2].timestamp_ns, 1'000'000'000'000 + 10'000'000'000ull);
  EXPECT_EQ(blocks[2].flags & 3, 1u);
  EXPECT_EQ(c.counters(0).seen, 2u);
  EXPECT_EQ(c.counters(0).accepted, 1u);
  EXPECT_FALSE(Filter::compile("no such words", 100).ok());
}

TEST(Capture, AFullBufferCountsWhatItCouldNotKeepAndStatisticsReportIt) {
  Options o;
  o.buffer_bytes = 512;
  Capture c(1, o, {{"br0:1", "", 65535}}, no_filter(), 0, TimePoint{});
  for (int i = 0; i < 20; ++i) {
    c.record(0, Direction::kOutbound, batch(test::frame(test::mac(2), test::mac(1))), TimePoint{});
  }
  EXPECT_LE(c.pending(), 512u);
  EXPECT_GT(c.counters(0).kept, 0u);
  EXPECT_GT(c.counters(0).lost, 0u);
  EXPECT_EQ(c.counters(0).kept + c.counters(0).lost, 20u);
  c.finish(TimePoint{});
  auto blocks = drain(c);
  ASSERT_FALSE(blocks.empty());
  EXPECT_EQ(blocks.back().type, kInterfaceStatisticsBlock);
  EXPECT_EQ(blocks.back().ifdrop, c.counters(0).lost);
  EXPECT_EQ(blocks.back().ifrecv, 20u);
  // Frames after finish() are ignored.
  c.record(0, Direction::kOutbound, batch(test::frame(test::mac(2), test::mac(1))), TimePoint{});
  EXPECT_EQ(c.pending(), 0u);
}

TEST(Capture, AFrameDroppedAfterItWasRecordedCarriesTheReason) {
  Capture c(1, {}, {{"br0:1", "", 65535}}, no_filter(), 0, TimePoint{});
  std::vector<packet::Frame> v;
  for (int i = 0; i < 3; ++i) v.push_back(test::frame(test::mac(2), test::mac(1)));
  c.record(0, Direction::kOutbound, v, TimePoint{});
  c.mark_dropped(v[1], "impair_loss");
  auto blocks = drain(c);
  ASSERT_EQ(blocks.size(), 5u);
  EXPECT_EQ(blocks[2].comment, "");
  EXPECT_EQ(blocks[3].comment, "dropped: impair_loss");
  EXPECT_EQ(blocks[3].flags & 3, 2u);
  EXPECT_EQ(blocks[3].data.size(), v[1].size());
  EXPECT_EQ(blocks[4].comment, "");
}

}  // namespace
