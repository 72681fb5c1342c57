// packet::coalesce_tcp: the segments segment_gso cuts from a TCP train, coalesced again, give the
// train back (and segmenting that gives the same segments); anything that is not the next
// segment of the same flow is refused and leaves the train as it was.
#include <gtest/gtest.h>

#include "base/byte_io.hh"
#include "packet/checksum.hh"
#include "packet/l4.hh"
#include "packet/offload.hh"
#include "support/frames.hh"

using namespace vnet;

namespace {

// The segments of a TCPv4 train of `payload` bytes (a byte pattern, not a constant), MSS 1000,
// the train's flags `flags`; with an 802.1Q tag (VLAN 10) in front when `tagged`.
std::vector<packet::Frame> segments(size_t payload, uint8_t flags, bool tagged = false) {
  auto f = test::tcp_gso_frame(test::mac(2), test::mac(1), payload, 1000, 5000, flags);
  for (size_t i = 54; i < f.size(); ++i) f.data()[i] = static_cast<uint8_t>(i * 13 + 7);
  std::vector<packet::Frame> segs;
  EXPECT_TRUE(packet::segment_gso(f, segs));
  if (tagged) {
    for (auto& s : segs) {
      uint8_t* p = s.push_front(4);
      if (p == nullptr) {
        ADD_FAILURE() << "no headroom for a tag";
        continue;
      }
      std::memmove(p, p + 4, 12);
      store_be16(p + 12, 0x8100);
      store_be16(p + 14, 10);
    }
  }
  return segs;
}

std::vector<uint8_t> bytes(const packet::Frame& f) { return {f.data(), f.data() + f.size()}; }

TEST(CoalesceTcp, SegmentsOfATrainBecomeTheTrainAgain) {
  for (bool tagged : {false, true}) {
    SCOPED_TRACE(tagged ? "802.1Q-tagged" : "untagged");
    const size_t l3 = tagged ? 18 : 14, l4 = l3 + 20;
    auto segs = segments(3500, 0x18, tagged);  // ACK|PSH: PSH on the last segment only
    ASSERT_EQ(segs.size(), 4u);
    packet::Frame train = segs[0].clone();
    for (size_t i = 1; i < segs.size(); ++i) {
      ASSERT_TRUE(packet::coalesce_tcp(train, segs[i])) << "segment " << i;
    }
    ASSERT_EQ(train.size(), l4 + 20 + 3500);
    EXPECT_EQ(load_be16(train.data() + l3 + 2), 20 + 20 + 3500);  // IP total length
    EXPECT_EQ(packet::internet_checksum(train.bytes().subspan(l3, 20)), 0);
    EXPECT_EQ(train.data()[l4 + 13], 0x18);  // the last segment's PSH
    const auto& o = train.offload;
    EXPECT_EQ(o.gso_type, 1);  // TCPv4
    EXPECT_EQ(o.gso_size, 1000);
    EXPECT_EQ(o.hdr_len, l4 + 20);
    EXPECT_EQ(o.csum_start, l4);
    EXPECT_EQ(o.csum_offset, 16);
    EXPECT_EQ(o.flags, packet::OffloadInfo::kNeedsCsum);
    // The payload in order.
    for (size_t i = 0; i < segs.size(); ++i) {
      const size_t len = segs[i].size() - (l4 + 20);
      ASSERT_EQ(std::memcmp(train.data() + l4 + 20 + i * 1000, segs[i].data() + l4 + 20, len), 0);
    }
    // Its checksum completes to a valid one over the whole train.
    packet::Frame whole = train.clone();
    ASSERT_TRUE(packet::complete_checksum(whole));
    EXPECT_TRUE(packet::verify_l4_checksum(
        whole.bytes().subspan(l4),
        packet::pseudo_header_v4({0x0a000001}, {0x0a000002}, 6, 20 + 3500)));
    // Segmenting the train gives the very segments it was made of.
    std::vector<packet::Frame> again;
    ASSERT_TRUE(packet::segment_gso(train, again));
    ASSERT_EQ(again.size(), segs.size());
    for (size_t i = 0; i < segs.size(); ++i) EXPECT_EQ(bytes(again[i]), bytes(segs[i])) << i;
  }
}

TEST(CoalesceTcp, RefusesWhatDoesNotContinueTheTrain) {
  auto segs = segments(3000, 0x10);
  ASSERT_EQ(segs.size(), 3u);
  auto refused = [](packet::Frame& train, const packet::Frame& seg) {
    const auto before = bytes(train);
    const auto offload = train.offload;
    const bool r = packet::coalesce_tcp(train, seg);
    EXPECT_EQ(bytes(train), before);
    EXPECT_EQ(train.offload, offload);
    return !r;
  };
  packet::Frame train = segs[0].clone();
  EXPECT_TRUE(refused(train, segs[2])) << "a gap in the sequence";
  EXPECT_TRUE(refused(train, segs[0])) << "a retransmission";
  packet::Frame other_port = segs[1].clone();
  store_be16(other_port.data() + 34, 40001);
  EXPECT_TRUE(refused(train, other_port)) << "another flow";
  packet::Frame other_ack = segs[1].clone();
  store_be16(other_ack.data() + 34 + 8, 1);
  EXPECT_TRUE(refused(train, other_ack)) << "another acknowledgment number";
  packet::Frame fin = segs[1].clone();
  fin.data()[34 + 13] = 0x11;
  EXPECT_TRUE(refused(train, fin)) << "FIN";
  packet::Frame fragment = segs[1].clone();
  store_be16(fragment.data() + 14 + 6, 0x2000);  // MF
  EXPECT_TRUE(refused(train, fragment)) << "an IP fragment";
  packet::Frame corrupt = segs[1].clone();
  corrupt.data()[corrupt.size() - 1] ^= 0x40;  // a payload bit flipped on the way
  EXPECT_TRUE(refused(train, corrupt)) << "a wrong TCP checksum";
  packet::Frame bad_first = segs[0].clone();
  bad_first.data()[bad_first.size() - 1] ^= 0x40;
  EXPECT_TRUE(refused(bad_first, segs[1])) << "a train whose first segment's checksum is wrong";
  packet::Frame udp = segs[1].clone();
  udp.data()[14 + 9] = 17;
  EXPECT_TRUE(refused(train, udp)) << "not TCP";

  // A shorter segment ends the train, and so does PSH.
  auto small = segments(1500, 0x10);  // 1000 + 500
  packet::Frame t2 = small[0].clone();
  ASSERT_TRUE(packet::coalesce_tcp(t2, small[1]));
  packet::Frame next = small[1].clone();
  store_be16(next.data() + 34 + 4, 0);
  store_be16(next.data() + 34 + 6, 5000 + 1500);
  EXPECT_TRUE(refused(t2, next)) << "after a segment shorter than the MSS";
  auto pushed = segments(2000, 0x18);
  packet::Frame t3 = pushed[0].clone();
  t3.data()[34 + 13] = 0x18;
  EXPECT_TRUE(refused(t3, pushed[1])) << "after PSH";

  // A train stays within one IP packet's 65,535 bytes.
  auto many = segments(66000, 0x10);
  packet::Frame big = many[0].clone();
  size_t taken = 1;
  while (taken < many.size() && packet::coalesce_tcp(big, many[taken])) ++taken;
  EXPECT_EQ(taken, 65u);
  EXPECT_LE(big.size() - 14, 65535u);
}

}  // namespace
