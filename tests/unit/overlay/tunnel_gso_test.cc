// overlay/tunnel_gso.hh: the header that hands a VXLAN payload's TCP train to Linux's tun as one
// UDP tunnel GSO packet, the same train finished in software, and packet::adopt_partial_tcp
// taking such a packet back as a GSO frame where it arrives whole.
#include "overlay/tunnel_gso.hh"

#include <gtest/gtest.h>

#include "base/byte_io.hh"
#include "packet/checksum.hh"
#include "packet/l4.hh"
#include "packet/offload.hh"
#include "support/frames.hh"

using namespace vnet;
using namespace vnet::overlay;
using packet::Frame;
using test::mac;

namespace {

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }

uint32_t tcp_pseudo_v4(const uint8_t* ip, size_t tcp_len) {
  return packet::pseudo_header_v4(
      packet::Ipv4Address{uint32_t{load_be16(ip + 12)} << 16 | load_be16(ip + 14)},
      packet::Ipv4Address{uint32_t{load_be16(ip + 16)} << 16 | load_be16(ip + 18)}, 6,
      static_cast<uint32_t>(tcp_len));
}

// A host's TCP train of `bytes` (a pattern), MSS `mss`, with NEEDS_CSUM and the pseudo-header sum
// in its checksum field, as a vnet-header port hands one over.
Frame train(size_t bytes, uint16_t mss) {
  Frame f = test::tcp_gso_frame(mac(2), mac(1), bytes, mss);
  for (size_t i = 54; i < f.size(); ++i) f.data()[i] = static_cast<uint8_t>(i * 7 + 3);
  f.offload.flags = packet::OffloadInfo::kNeedsCsum;
  store_be16(
      f.data() + 34 + 16,
      static_cast<uint16_t>(~packet::checksum_finish(tcp_pseudo_v4(f.data() + 14, f.size() - 34))));
  return f;
}

// UDP (source port 50000, to 4789, length, checksum 0) and VXLAN (VNI 5010) in front of `inner`,
// as Vtep::encapsulate seals it.
Frame sealed(Frame inner) {
  uint8_t* p = inner.push_front(16);
  store_be16(p, 50000);
  store_be16(p + 2, 4789);
  store_be16(p + 4, static_cast<uint16_t>(inner.size()));
  store_be16(p + 6, 0);
  const uint8_t vx[8] = {0x08, 0, 0, 0, 0x00, 0x13, 0x92, 0};
  std::memcpy(p + 8, vx, 8);
  return inner;
}

const OuterV4 kOuter{
    mac(10), mac(11), packet::Ipv4Address{0xc0000201}, packet::Ipv4Address{0xc0000202}, 77, 64};

TEST(TunnelGsoHead, DescribesBothHeaderLayersForTheKernel) {
  Frame p = sealed(train(10000, 1400));
  std::array<uint8_t, kTunnelHead> h;
  ASSERT_TRUE(tunnel_gso_head(p, kOuter, h));
  const uint8_t* v = h.data();
  EXPECT_EQ(v[0], 1) << "NEEDS_CSUM: the kernel finishes each inner segment's checksum";
  EXPECT_EQ(v[1], 0x21) << "GSO_UDP_TUNNEL_IPV4 | GSO_TCPV4";
  EXPECT_EQ(le16(v + 4), 1400) << "gso_size";
  EXPECT_EQ(le16(v + 6), 34 + 16 + 34) << "csum_start: the inner TCP header";
  EXPECT_EQ(le16(v + 8), 16) << "csum_offset";
  EXPECT_EQ(le16(v + 2), 34 + 16 + 34 + 20) << "hdr_len";
  EXPECT_EQ(le16(v + 20), 34) << "outer_th_offset: the outer UDP header";
  EXPECT_EQ(le16(v + 22), 34 + 16 + 14) << "inner_nh_offset: the inner IPv4 header";
  const uint8_t* eth = v + kTunnelVnetHdr;
  EXPECT_EQ(std::memcmp(eth, mac(11).bytes.data(), 6), 0) << "to the next hop";
  EXPECT_EQ(std::memcmp(eth + 6, mac(10).bytes.data(), 6), 0);
  EXPECT_EQ(load_be16(eth + 12), 0x0800);
  const uint8_t* ip = eth + 14;
  EXPECT_EQ(ip[0], 0x45);
  EXPECT_EQ(load_be16(ip + 2), 20 + p.size());
  EXPECT_EQ(load_be16(ip + 4), 77);
  EXPECT_EQ(load_be16(ip + 6), 0) << "DF clear, as the raw socket sends";
  EXPECT_EQ(ip[8], 64);
  EXPECT_EQ(ip[9], 17);
  EXPECT_EQ(load_be16(ip + 12), 0xc000);
  EXPECT_EQ(load_be16(ip + 18), 0x0202);
  EXPECT_EQ(packet::internet_checksum({ip, 20}), 0);
  EXPECT_EQ(load_be16(p.data() + 6), 0) << "the outer UDP checksum stays zero";
}

TEST(TunnelGsoHead, RefusesWhatIsNotATcpTrainOrDoesNotFit) {
  std::array<uint8_t, kTunnelHead> h;
  Frame plain = sealed(test::frame(mac(2), mac(1)));
  EXPECT_FALSE(tunnel_gso_head(plain, kOuter, h));
  Frame odd = sealed(train(3000, 1000));
  odd.offload.csum_offset = 6;
  EXPECT_FALSE(tunnel_gso_head(odd, kOuter, h));
  Frame huge = sealed(train(65535 - 40 - 20, 1000));  // fine inside, too long outside
  EXPECT_FALSE(tunnel_gso_head(huge, kOuter, h));
}

TEST(FinishPayload, CutsATrainIntoSealedSegmentsWithTheirChecksums) {
  Frame p = sealed(train(3500, 1000));
  std::vector<Frame> out;
  ASSERT_TRUE(finish_payload(std::move(p), out));
  ASSERT_EQ(out.size(), 4u);
  for (size_t i = 0; i < out.size(); ++i) {
    const Frame& s = out[i];
    EXPECT_FALSE(s.offload.any());
    EXPECT_EQ(load_be16(s.data()), 50000) << "the flow's source port on every segment";
    EXPECT_EQ(load_be16(s.data() + 4), s.size()) << "UDP length";
    EXPECT_EQ(s.data()[8], 0x08);
    const uint8_t* ip = s.data() + 16 + 14;
    const size_t tcp_len = s.size() - 16 - 34;
    EXPECT_EQ(tcp_len, i < 3 ? 1020u : 520u);
    EXPECT_EQ(packet::checksum_finish(
                  packet::checksum_add(tcp_pseudo_v4(ip, tcp_len), s.bytes().subspan(16 + 34))),
              0)
        << "segment " << i << "'s TCP checksum";
  }
}

TEST(FinishPayload, FinishesAPartialChecksumAndPassesPlainPayloads) {
  Frame seg = train(500, 1000);
  seg.offload.gso_type = packet::OffloadInfo::kGsoNone;  // one segment, checksum partial
  std::vector<Frame> out;
  ASSERT_TRUE(finish_payload(sealed(std::move(seg)), out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].offload.any());
  EXPECT_EQ(load_be16(out[0].data()), 50000) << "the UDP and VXLAN headers are kept";
  const uint8_t* ip = out[0].data() + 30;
  EXPECT_EQ(packet::checksum_finish(
                packet::checksum_add(tcp_pseudo_v4(ip, 520), out[0].bytes().subspan(50))),
            0);
  ASSERT_TRUE(finish_payload(sealed(test::frame(mac(2), mac(1))), out));
  EXPECT_EQ(out.size(), 2u);
}

// What a UDP socket receives of a tunnel GSO packet that crossed a veth whole: one datagram whose
// inner frame (802.1Q-tagged once decapsulated) is the train, its checksum field still partial.
TEST(AdoptPartialTcp, TakesBackATrainThatArrivedWhole) {
  Frame f = train(10000, 1400);
  f.offload = {};  // a socket hands over bytes only
  constexpr size_t kMax = 1514;
  ASSERT_TRUE(packet::adopt_partial_tcp(f, kMax));
  EXPECT_EQ(f.offload.gso_type, 1);
  EXPECT_EQ(f.offload.gso_size, kMax - 54);
  EXPECT_EQ(f.offload.csum_start, 34);
  EXPECT_EQ(f.offload.csum_offset, 16);
  EXPECT_EQ(f.offload.flags, packet::OffloadInfo::kNeedsCsum);
  std::vector<Frame> segs;
  EXPECT_TRUE(packet::segment_gso(f, segs));
  for (const auto& s : segs) EXPECT_LE(s.size(), kMax);
}

TEST(AdoptPartialTcp, ASegmentWithAPartialChecksumNeedsItFinished) {
  Frame small = train(1000, 1400);
  small.offload = {};
  ASSERT_TRUE(packet::adopt_partial_tcp(small, 1514));
  EXPECT_EQ(small.offload.flags, packet::OffloadInfo::kNeedsCsum);
  EXPECT_EQ(small.offload.gso_type, packet::OffloadInfo::kGsoNone) << "it fits: no GSO";
  EXPECT_EQ(small.offload.csum_start, 34);
  ASSERT_TRUE(packet::complete_checksum(small));
  EXPECT_EQ(packet::checksum_finish(packet::checksum_add(
                tcp_pseudo_v4(small.data() + 14, small.size() - 34), small.bytes().subspan(34))),
            0);
}

TEST(AdoptPartialTcp, LeavesFramesWithAFinishedChecksum) {
  Frame done = train(10000, 1400);
  done.offload = {};
  store_be16(done.data() + 50, 0);
  store_be16(done.data() + 50,
             packet::checksum_finish(packet::checksum_add(
                 tcp_pseudo_v4(done.data() + 14, done.size() - 34), done.bytes().subspan(34))));
  EXPECT_FALSE(packet::adopt_partial_tcp(done, 1514))
      << "a finished checksum: a reassembled datagram, not a GSO packet";
  EXPECT_FALSE(done.offload.any());
}

}  // namespace
