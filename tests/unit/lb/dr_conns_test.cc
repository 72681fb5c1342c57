#include "lb/dr_conns.hh"

#include <gtest/gtest.h>

#include <array>

using namespace vnet::lb;
using namespace std::chrono_literals;

namespace {

Endpoint ep(const char* a, uint16_t port) { return *Endpoint::parse(a, port); }

ServiceKey vip() {
  ServiceKey k;
  k.addr = ep("10.0.0.100", 80);
  return k;
}

DrSegment seg(uint8_t flags, uint16_t cport = 40000, const char* real = "10.1.0.1") {
  return DrSegment{vip(), ep("10.9.0.1", cport), ep(real, 80), flags};
}

const vnet::TimePoint t0{};

}  // namespace

// IPVS's input-only rows: SYN → SYN_RECV (inactive), the handshake's ACK → ESTABLISHED (active),
// FIN → FIN_WAIT (inactive), and the connection goes at its state's timeout after its last
// segment.
TEST(DrConnTracker, HandshakeCloseAndTimeouts) {
  DrConnTracker t;
  ConnCounts counts;
  counts.watch({vip()});
  auto feed = [&](const std::optional<ConnEvent>& e) {
    if (e) counts.on_event(*e);
  };
  auto e = t.on_segment(seg(kTcpSyn), t0);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, ConnEvent::kNew);
  EXPECT_FALSE(e->established);
  feed(e);
  EXPECT_EQ(counts.counts(vip(), ep("10.1.0.1", 80)), (DestCounts{0, 1}));
  EXPECT_EQ(t.state(vip(), ep("10.9.0.1", 40000)), DrTcpState::kSynRecv);
  // A retransmitted SYN changes nothing counted.
  EXPECT_FALSE(t.on_segment(seg(kTcpSyn), t0 + 1s));
  e = t.on_segment(seg(kTcpAck), t0 + 2s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind, ConnEvent::kUpdate);
  EXPECT_TRUE(e->established);
  feed(e);
  EXPECT_EQ(counts.counts(vip(), ep("10.1.0.1", 80)), (DestCounts{1, 0}));
  // ESTABLISHED lasts 900 s after the last segment: a refresh at 800 s carries it past 902 s.
  EXPECT_FALSE(t.on_segment(seg(kTcpAck), t0 + 800s));
  EXPECT_TRUE(t.expire(t0 + 902s).empty());
  EXPECT_EQ(t.next_deadline(), t0 + 1700s);
  e = t.on_segment(seg(kTcpFin | kTcpAck), t0 + 900s);
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->established);
  feed(e);
  EXPECT_EQ(t.state(vip(), ep("10.9.0.1", 40000)), DrTcpState::kFinWait);
  EXPECT_EQ(counts.counts(vip(), ep("10.1.0.1", 80)), (DestCounts{0, 1}));
  // FIN_WAIT: 120 s.
  EXPECT_TRUE(t.expire(t0 + 1019s).empty());
  auto gone = t.expire(t0 + 1020s);
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].kind, ConnEvent::kDestroy);
  feed(gone[0]);
  EXPECT_EQ(counts.counts(vip(), ep("10.1.0.1", 80)), (DestCounts{}));
  EXPECT_EQ(t.size(), 0u);
  EXPECT_FALSE(t.next_deadline());
}

TEST(DrConnTracker, ResetAndTimeoutsPerState) {
  DrConnTracker t;
  ASSERT_TRUE(t.on_segment(seg(kTcpSyn), t0));
  // SYN_RECV without the handshake's ACK: gone after 60 s.
  EXPECT_TRUE(t.expire(t0 + 59s).empty());
  EXPECT_EQ(t.expire(t0 + 60s).size(), 1u);
  // RST on ESTABLISHED: CLOSE, 10 s.
  ASSERT_TRUE(t.on_segment(seg(kTcpSyn), t0 + 100s));
  ASSERT_TRUE(t.on_segment(seg(kTcpAck), t0 + 100s));
  auto e = t.on_segment(seg(kTcpRst | kTcpAck), t0 + 101s);
  ASSERT_TRUE(e);
  EXPECT_FALSE(e->established);
  EXPECT_EQ(t.state(vip(), ep("10.9.0.1", 40000)), DrTcpState::kClose);
  EXPECT_TRUE(t.expire(t0 + 110s).empty());
  EXPECT_EQ(t.expire(t0 + 111s).size(), 1u);
  // RST on SYN_RECV leaves it there (IPVS's row); FIN on SYN_RECV: TIME_WAIT.
  ASSERT_TRUE(t.on_segment(seg(kTcpSyn), t0 + 200s));
  EXPECT_FALSE(t.on_segment(seg(kTcpRst), t0 + 201s));
  EXPECT_EQ(t.state(vip(), ep("10.9.0.1", 40000)), DrTcpState::kSynRecv);
  EXPECT_FALSE(t.on_segment(seg(kTcpFin), t0 + 202s));
  EXPECT_EQ(t.state(vip(), ep("10.9.0.1", 40000)), DrTcpState::kTimeWait);
  // A new SYN on the same client port: SYN_RECV again (a new connection reusing the port).
  EXPECT_FALSE(t.on_segment(seg(kTcpSyn), t0 + 203s));
  EXPECT_EQ(t.state(vip(), ep("10.9.0.1", 40000)), DrTcpState::kSynRecv);
}

TEST(DrConnTracker, UnknownConnectionsAndBounds) {
  DrConnTracker t(2);
  // A FIN or RST of a connection not followed starts nothing.
  EXPECT_FALSE(t.on_segment(seg(kTcpFin | kTcpAck, 1), t0));
  EXPECT_FALSE(t.on_segment(seg(kTcpRst, 1), t0));
  EXPECT_EQ(t.size(), 0u);
  // An ACK does, ESTABLISHED (a restarted director counts the connections it finds).
  auto e = t.on_segment(seg(kTcpAck, 2), t0);
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->established);
  ASSERT_TRUE(t.on_segment(seg(kTcpSyn, 3), t0));
  // Full: the third is counted, not followed.
  EXPECT_FALSE(t.on_segment(seg(kTcpSyn, 4), t0));
  EXPECT_EQ(t.overflow(), 1u);
  EXPECT_EQ(t.size(), 2u);
  // A known connection moved to another real server (the table was reprogrammed): an update.
  e = t.on_segment(seg(kTcpAck, 2, "10.1.0.2"), t0 + 1s);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->reply_src, ep("10.1.0.2", 80));
  // The snapshot holds both, as new connections.
  auto all = t.snapshot();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].kind, ConnEvent::kNew);
}

TEST(DrConnTracker, WlcSpreadsHeldConnectionsByCount) {
  // What the datapath does with the counts: three connections held open on a, each new one sent
  // to the real server with the fewest (ConnCounts feeds the scheduler; here by hand).
  DrConnTracker t;
  ConnCounts counts;
  counts.watch({vip()});
  const char* reals[] = {"10.1.0.1", "10.1.0.2", "10.1.0.3"};
  for (uint16_t i = 0; i < 6; ++i) {
    const char* least = reals[0];
    for (auto* r : reals) {
      auto c = counts.counts(vip(), ep(r, 80));
      auto l = counts.counts(vip(), ep(least, 80));
      if (c.active * 256 + c.inactive < l.active * 256 + l.inactive) least = r;
    }
    for (uint8_t f : {kTcpSyn, kTcpAck}) {
      if (auto e = t.on_segment(seg(f, uint16_t(41000 + i), least), t0)) counts.on_event(*e);
    }
  }
  for (auto* r : reals) EXPECT_EQ(counts.counts(vip(), ep(r, 80)), (DestCounts{2, 0})) << r;
}

TEST(DrLogged, ParsesTheRewrittenFrameAndItsTcpHeader) {
  std::array<uint8_t, 14> eth{0x02, 0, 0, 0, 0x83, 0x02, 0x02, 0, 0, 0, 0x84, 0x01, 0x08, 0x00};
  std::array<uint8_t, 40> ip{0x45, 0, 0,  40, 0,    0,    0x40, 0,    64,   6,    0, 0, 10, 9,
                             0,    1, 10, 0,  0,    100,  0x9c, 0x40, 0x00, 0x50, 0, 0, 0,  1,
                             0,    0, 0,  0,  0x50, 0x12, 0xff, 0xff, 0,    0,    0, 0};
  auto d = parse_dr_logged(eth, ip);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->dst.to_string(), "02:00:00:00:83:02");
  EXPECT_EQ(d->client, ep("10.9.0.1", 40000));
  EXPECT_EQ(d->vip, ep("10.0.0.100", 80));
  EXPECT_EQ(d->flags, kTcpSyn | kTcpAck);
  // Malformed: dropped, never read past the end.
  EXPECT_FALSE(parse_dr_logged(std::span(eth).first(13), ip));
  EXPECT_FALSE(parse_dr_logged(eth, std::span(ip).first(33)));  // cut before the flags
  auto udp = ip;
  udp[9] = 17;
  EXPECT_FALSE(parse_dr_logged(eth, udp));
  auto frag = ip;
  frag[7] = 1;  // offset 8 bytes: no TCP header here
  EXPECT_FALSE(parse_dr_logged(eth, frag));
  auto opts = ip;
  opts[0] = 0x4f;  // 60-byte header: the TCP header would be past the 40 bytes
  EXPECT_FALSE(parse_dr_logged(eth, opts));
  auto v6 = ip;
  v6[0] = 0x60;
  EXPECT_FALSE(parse_dr_logged(eth, v6));
}
