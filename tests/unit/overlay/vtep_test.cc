// The VXLAN header (RFC 7348 §5) and the VTEP (overlay/vtep.hh): what goes on the wire, what is
// accepted, the VNI ↔ VLAN map, head-end replication and multicast flooding, learning with
// ageing and static entries, §6.1 inner tags, §4 no fragmentation, and the drops a remote can
// cause (each counted, none delivered).
#include "overlay/vtep.hh"

#include "overlay/spec.hh"

#include <gtest/gtest.h>

#include <set>

#include "packet/checksum.hh"
#include "packet/l4.hh"
#include "support/frames.hh"

using namespace vnet;
using namespace vnet::overlay;
using namespace std::chrono_literals;
using packet::Frame;
using test::mac;

namespace {

Endpoint ep(const char* text) { return *Endpoint::parse(text); }

uint16_t be16(const Frame& f, size_t off) {
  return static_cast<uint16_t>(f.data()[off] << 8 | f.data()[off + 1]);
}

// What a remote VTEP would send: VXLAN header (flags, VNI) + inner frame.
Frame payload(uint32_t vni, const Frame& inner, uint8_t flags = packet::kVxlanIFlag) {
  std::vector<uint8_t> b;
  ByteWriter w(b);
  packet::encode_vxlan(vni, w);
  b[0] = flags;
  b.insert(b.end(), inner.data(), inner.data() + inner.size());
  return Frame::copy_of(b);
}

TEST(Vxlan, HeaderOnTheWireAndBack) {
  std::vector<uint8_t> b;
  ByteWriter w(b);
  packet::encode_vxlan(0x123456, w);
  EXPECT_EQ(b, (std::vector<uint8_t>{0x08, 0, 0, 0, 0x12, 0x34, 0x56, 0}));
  ByteReader r(b);
  auto h = packet::decode_vxlan(r);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->vni, 0x123456u);
  // §5: reserved bits are ignored on receive…
  std::vector<uint8_t> reserved{0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x2a, 0xff};
  ByteReader r2(reserved);
  auto h2 = packet::decode_vxlan(r2);
  ASSERT_TRUE(h2.ok());
  EXPECT_EQ(h2->vni, 42u);
  // …but the I flag must be set, and 8 bytes must be there.
  std::vector<uint8_t> no_i{0x00, 0, 0, 0, 0, 0, 42, 0};
  ByteReader r3(no_i);
  EXPECT_EQ(packet::decode_vxlan(r3).error().code, EPROTO);
  std::vector<uint8_t> short_{0x08, 0, 0};
  ByteReader r4(short_);
  EXPECT_FALSE(packet::decode_vxlan(r4).ok());
}

// §5: the source port is a hash of the inner flow in 49152–65535: one flow one port, and flows
// spread (64 TCP flows between the same hosts take more than 40 different ports).
TEST(Vxlan, SourcePortIsAPerFlowHashInTheDynamicRange) {
  std::set<uint16_t> ports;
  for (uint16_t sport = 1000; sport < 1064; ++sport) {
    Frame f = test::tcp_gso_frame(mac(2), mac(1), 100, 1000);
    f.data()[34] = static_cast<uint8_t>(sport >> 8);
    f.data()[35] = static_cast<uint8_t>(sport);
    const uint16_t p = packet::vxlan_source_port(f.bytes());
    EXPECT_GE(p, 49152);
    EXPECT_EQ(p, packet::vxlan_source_port(f.bytes())) << "stable per flow";
    ports.insert(p);
  }
  EXPECT_GT(ports.size(), 40u);
  Frame f = test::tcp_gso_frame(mac(2), mac(1), 100, 1000);
  Frame g = test::tcp_gso_frame(mac(2), mac(1), 500, 1000);  // same flow, other length
  EXPECT_EQ(packet::vxlan_source_port(f.bytes()), packet::vxlan_source_port(g.bytes()));
}

TEST(VtepEndpoint, ParsesAddressesAndPorts) {
  EXPECT_EQ(ep("10.0.0.2").to_string(), "10.0.0.2:4789");
  EXPECT_EQ(ep("10.0.0.2:8472").port, 8472);
  EXPECT_EQ(ep("fd00::2").to_string(), "[fd00::2]:4789");
  EXPECT_EQ(ep("[fd00::2]:8472").to_string(), "[fd00::2]:8472");
  EXPECT_TRUE(ep("239.1.1.1").is_multicast());
  EXPECT_TRUE(ep("ff05::1").is_multicast());
  EXPECT_FALSE(ep("10.0.0.2").is_multicast());
  auto bad = Endpoint::parse("10.0.0.2:0");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("from 1 to 65535"), std::string::npos);
  EXPECT_FALSE(Endpoint::parse("host.example").ok());
  EXPECT_FALSE(Endpoint::parse("[fd00::2").ok());
}

class VtepTest : public ::testing::Test {
 protected:
  VtepTest() : vtep(config()) {
    EXPECT_TRUE(vtep.map(10, 5010).ok());
    EXPECT_TRUE(vtep.map(20, 5020).ok());
  }
  static Config config() {
    Config c;
    c.local = ep("192.0.2.1");
    return c;
  }
  std::vector<Datagram> encap(Frame f) {
    std::vector<Datagram> out;
    vtep.encapsulate(std::move(f), now, out);
    return out;
  }
  Vtep vtep;
  TimePoint now{std::chrono::seconds(1000)};
};

TEST_F(VtepTest, TheMapRefusesBadAndTakenValues) {
  EXPECT_EQ(vtep.map(0, 1).error().code, EINVAL);
  EXPECT_EQ(vtep.map(4095, 1).error().code, EINVAL);
  EXPECT_NE(vtep.map(30, 1u << 24).error().message.find("0 to 16777215"), std::string::npos);
  EXPECT_EQ(vtep.map(10, 7).error().code, EEXIST);
  EXPECT_EQ(vtep.map(30, 5010).error().code, EEXIST);
  EXPECT_EQ(vtep.vni_of(20), 5020u);
  EXPECT_EQ(vtep.vid_of(5010), 10);
  EXPECT_FALSE(vtep.vid_of(5030));
  EXPECT_EQ(vtep.add_flood(999, ep("10.0.0.2")).error().code, EINVAL);
}

// Head-end replication: an unknown destination goes to every VTEP of the VNI's list, each copy
// with the §5 header, the tag stripped (§6.1), UDP to port 4789 from the flow's port, checksum 0.
TEST_F(VtepTest, FloodsUnknownDestinationsToEveryVtepOfTheVni) {
  ASSERT_TRUE(vtep.add_flood(5010, ep("10.0.0.2")).ok());
  ASSERT_TRUE(vtep.add_flood(5010, ep("10.0.0.3:8472")).ok());
  ASSERT_TRUE(vtep.add_flood(5020, ep("10.0.0.9")).ok());
  Frame inner = test::frame(mac(2), mac(1));
  auto out = encap(test::frame(mac(2), mac(1), {10}));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].to.to_string(), "10.0.0.2:4789");
  EXPECT_EQ(out[1].to.to_string(), "10.0.0.3:8472");
  for (auto& d : out) {
    const Frame& p = d.payload;
    ASSERT_EQ(p.size(), 16 + inner.size());
    EXPECT_GE(be16(p, 0), 49152);
    EXPECT_EQ(be16(p, 2), d.to.port);
    EXPECT_EQ(be16(p, 4), p.size());
    EXPECT_EQ(be16(p, 6), 0) << "§5: checksum zero by default";
    EXPECT_EQ(std::vector<uint8_t>(p.data() + 8, p.data() + 16),
              (std::vector<uint8_t>{0x08, 0, 0, 0, 0x00, 0x13, 0x92, 0}));  // VNI 5010
    EXPECT_TRUE(std::equal(inner.bytes().begin(), inner.bytes().end(), p.data() + 16))
        << "the inner frame untagged";
  }
  EXPECT_EQ(be16(out[0].payload, 0), be16(out[1].payload, 0)) << "one flow, one source port";
  EXPECT_EQ(vtep.counters().encapsulated, 1u);
  EXPECT_EQ(vtep.counters().copies, 2u);
  // Broadcast goes the same way; VLAN 20 floods only to its own list.
  EXPECT_EQ(encap(test::frame(packet::MacAddress::broadcast(), mac(1), {20})).size(), 1u);
}

TEST_F(VtepTest, FloodsToAMulticastGroup) {
  ASSERT_TRUE(vtep.add_flood(5010, ep("239.1.1.10")).ok());
  auto out = encap(test::frame(packet::MacAddress::broadcast(), mac(1), {10}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_TRUE(out[0].to.is_multicast());
}

// Learning: a frame from a remote teaches inner source MAC → that VTEP (at the VXLAN port, not
// the flow's source port); the reply is then unicast. A MAC that moves is relearned with the
// first frame from its new VTEP; entries age out after `ageing`.
TEST_F(VtepTest, LearnsRemoteMacsMovesThemAndAgesThemOut) {
  ASSERT_TRUE(vtep.add_flood(5010, ep("10.0.0.2")).ok());
  ASSERT_TRUE(vtep.add_flood(5010, ep("10.0.0.3")).ok());
  Endpoint from = ep("10.0.0.3:51234");
  Frame p = payload(5010, test::frame(mac(1), mac(7)));
  ASSERT_TRUE(vtep.decapsulate(from, p, now));
  EXPECT_EQ(test::tags(p), (std::vector<uint16_t>{10})) << "handed to the bridge in VLAN 10";
  auto out = encap(test::frame(mac(7), mac(1), {10}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to.to_string(), "10.0.0.3:4789");
  // The MAC moves to 10.0.0.2: the next frame from there relearns it.
  Frame q = payload(5010, test::frame(mac(1), mac(7)));
  ASSERT_TRUE(vtep.decapsulate(ep("10.0.0.2:60000"), q, now + 1s));
  out = encap(test::frame(mac(7), mac(1), {10}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to.to_string(), "10.0.0.2:4789");
  EXPECT_EQ(vtep.counters().moved, 1u);
  // Learned per VNI: VLAN 20 does not know mac(7) (and floods nowhere: no list).
  EXPECT_TRUE(encap(test::frame(mac(7), mac(1), {20})).empty());
  EXPECT_EQ(vtep.counters().dropped(Drop::kNoFloodList), 1u);
  // Ageing: 300 s after the last frame it floods again.
  now += 1s + 299s;
  EXPECT_EQ(encap(test::frame(mac(7), mac(1), {10})).size(), 1u);
  now += 1s;
  EXPECT_EQ(encap(test::frame(mac(7), mac(1), {10})).size(), 2u);
  vtep.age(now);
  EXPECT_TRUE(vtep.entries(now).empty());
}

TEST_F(VtepTest, StaticEntriesNeitherAgeNorMove) {
  ASSERT_TRUE(vtep.add_static(5010, mac(7), ep("10.0.0.5")).ok());
  EXPECT_EQ(vtep.add_static(5010, packet::MacAddress::broadcast(), ep("10.0.0.5")).error().code,
            EINVAL);
  Frame p = payload(5010, test::frame(mac(1), mac(7)));
  ASSERT_TRUE(vtep.decapsulate(ep("10.0.0.6"), p, now));
  now += 1h;
  auto out = encap(test::frame(mac(7), mac(1), {10}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].to.to_string(), "10.0.0.5:4789");
  auto e = vtep.entries(now);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_TRUE(e[0].is_static);
}

// What a remote can send that must not reach the bridge: each dropped and counted.
TEST_F(VtepTest, MalformedPayloadsAreDroppedAndCounted) {
  Endpoint from = ep("10.0.0.2");
  Frame inner = test::frame(mac(1), mac(7));
  struct Case {
    Frame p;
    Drop why;
  };
  std::vector<Case> cases;
  cases.push_back({Frame::copy_of(std::vector<uint8_t>{0x08, 0, 0}), Drop::kTruncated});
  cases.push_back({payload(5010, inner, 0x00), Drop::kNoIFlag});
  cases.push_back({payload(777, inner), Drop::kUnknownVni});
  cases.push_back(
      {payload(5010, Frame::copy_of(std::vector<uint8_t>(10, 0))), Drop::kInnerTruncated});
  cases.push_back({payload(5010, test::frame(mac(1), mac(7), {20})), Drop::kInnerTagged});
  for (auto& c : cases) {
    const uint64_t before = vtep.counters().dropped(c.why);
    EXPECT_FALSE(vtep.decapsulate(from, c.p, now)) << drop_name(c.why);
    EXPECT_EQ(vtep.counters().dropped(c.why), before + 1) << drop_name(c.why);
  }
  EXPECT_EQ(vtep.counters().decapsulated, 0u);
  EXPECT_TRUE(vtep.entries(now).empty()) << "nothing learned from a dropped payload";
  // Reserved bits set are ignored (§5): delivered.
  Frame ok = payload(5010, inner, 0xff);
  EXPECT_TRUE(vtep.decapsulate(from, ok, now));
}

TEST(Vtep, InnerTagsPassWhenConfigured) {
  Config c;
  c.inner_tags = true;
  Vtep v(c);
  ASSERT_TRUE(v.map(10, 1).ok());
  Frame p = payload(1, test::frame(mac(1), mac(7), {99}));
  ASSERT_TRUE(v.decapsulate(ep("10.0.0.2"), p, TimePoint{}));
  EXPECT_EQ(test::tags(p), (std::vector<uint16_t>{10, 99}));
}

TEST(Vtep, KnownPeersOnlyRefusesStrangersBeforeLearning) {
  Config c;
  c.known_peers_only = true;
  Vtep v(c);
  ASSERT_TRUE(v.map(10, 1).ok());
  ASSERT_TRUE(v.add_flood(1, ep("10.0.0.2")).ok());
  Frame p = payload(1, test::frame(mac(1), mac(7)));
  EXPECT_FALSE(v.decapsulate(ep("10.0.0.66"), p, TimePoint{}));
  EXPECT_EQ(v.counters().dropped(Drop::kUnknownPeer), 1u);
  EXPECT_TRUE(v.entries(TimePoint{}).empty());
  Frame q = payload(1, test::frame(mac(1), mac(7)));
  EXPECT_TRUE(v.decapsulate(ep("10.0.0.2:50000"), q, TimePoint{}));
}

// The learned table is bounded: a flood of new source MACs past max_learned is not learned.
TEST(Vtep, LearningIsBounded) {
  Config c;
  c.max_learned = 100;
  Vtep v(c);
  ASSERT_TRUE(v.map(10, 1).ok());
  for (int i = 0; i < 1000; ++i) {
    Frame p = payload(1, test::frame(mac(1), mac(1000 + i)));
    EXPECT_TRUE(v.decapsulate(ep("10.0.0.2"), p, TimePoint{})) << "the frame is still delivered";
  }
  EXPECT_EQ(v.entries(TimePoint{}).size(), 100u);
  EXPECT_EQ(v.counters().dropped(Drop::kLearnLimit), 900u);
}

// §4: the VTEP never fragments. With the default 1500-byte underlay an inner frame of 1464 bytes
// (IPv4 underlay) fits and 1465 does not; over IPv6 the limit is 1444.
TEST_F(VtepTest, OversizedFramesAreDroppedNotFragmented) {
  ASSERT_TRUE(vtep.add_flood(5010, ep("10.0.0.2")).ok());
  ASSERT_TRUE(vtep.add_flood(5020, ep("fd00::2")).ok());
  auto sized = [](size_t inner, uint16_t vid) {
    Frame f = test::frame_of_type(mac(2), mac(1), 0x0800, inner + 4);
    Frame t = test::frame(mac(2), mac(1), {vid});
    std::memcpy(f.data() + 12, t.data() + 12, 4);  // a tag in front of the EtherType
    f.data()[16] = 0x08;
    f.data()[17] = 0x00;
    return f;
  };
  EXPECT_EQ(encap(sized(1464, 10)).size(), 1u);
  EXPECT_TRUE(encap(sized(1465, 10)).empty());
  EXPECT_EQ(encap(sized(1444, 20)).size(), 1u);
  EXPECT_TRUE(encap(sized(1445, 20)).empty());
  EXPECT_EQ(vtep.counters().dropped(Drop::kTooBig), 2u);
}

// A TCP train from a vnet-header port is held to the MTU by its segments, not its own size, and
// every copy keeps its offloads, their offsets moved with the stripped tag.
TEST_F(VtepTest, AGsoTrainFitsByItsSegmentsAndKeepsItsOffloads) {
  ASSERT_TRUE(vtep.add_flood(5010, ep("10.0.0.2")).ok());
  ASSERT_TRUE(vtep.add_flood(5010, ep("10.0.0.3")).ok());
  auto train = [](uint16_t mss) {
    Frame f = test::tcp_gso_frame(mac(2), mac(1), 10000, mss);
    uint8_t* p = f.push_front(4);
    std::memmove(p, p + 4, 12);
    p[12] = 0x81;
    p[13] = 0x00;
    p[14] = 0;
    p[15] = 10;
    f.offload.flags = packet::OffloadInfo::kNeedsCsum;
    f.offload.csum_start += 4;
    return f;
  };
  // Segments of 14 + 20 + 20 + 1410 = 1464 bytes fit a 1500-byte IPv4 underlay; 1411 do not.
  auto out = encap(train(1410));
  ASSERT_EQ(out.size(), 2u) << "flooded to both VTEPs";
  for (const auto& d : out) {
    EXPECT_EQ(d.payload.size(), 16u + 14 + 40 + 10000);
    EXPECT_EQ(d.payload.offload.gso_type, 1);
    EXPECT_EQ(d.payload.offload.gso_size, 1410);
    EXPECT_EQ(d.payload.offload.csum_start, 14 + 20) << "counted from the untagged inner frame";
    EXPECT_EQ(d.payload.offload.flags, packet::OffloadInfo::kNeedsCsum);
  }
  EXPECT_TRUE(encap(train(1411)).empty());
  EXPECT_EQ(vtep.counters().dropped(Drop::kTooBig), 2u) << "one per VTEP it was flooded to";
}

TEST_F(VtepTest, UntaggedOrUnmappedFramesAreNotSent) {
  ASSERT_TRUE(vtep.add_flood(5010, ep("10.0.0.2")).ok());
  EXPECT_TRUE(encap(test::frame(mac(2), mac(1))).empty());
  EXPECT_TRUE(encap(test::frame(mac(2), mac(1), {30})).empty());
  EXPECT_EQ(vtep.counters().dropped(Drop::kUntagged), 1u);
  EXPECT_EQ(vtep.counters().dropped(Drop::kNoVni), 1u);
}

// A computed checksum is right (verified over the pseudo-header), never sent as 0; IPv6 always
// carries one.
TEST(Vtep, ChecksumsWhenAskedAndAlwaysOverIpv6) {
  for (const char* remote : {"10.0.0.2", "fd00::2"}) {
    Config c;
    const bool v6 = remote[0] == 'f';
    c.local = ep(v6 ? "fd00::1" : "10.0.0.1");
    c.udp_checksum = !v6;
    Vtep v(c);
    ASSERT_TRUE(v.map(10, 1).ok());
    ASSERT_TRUE(v.add_flood(1, ep(remote)).ok());
    std::vector<Datagram> out;
    v.encapsulate(test::frame(mac(2), mac(1), {10}), TimePoint{}, out);
    ASSERT_EQ(out.size(), 1u);
    const Frame& p = out[0].payload;
    EXPECT_NE(be16(p, 6), 0) << remote;
    const uint32_t len = static_cast<uint32_t>(p.size());
    const uint32_t pseudo =
        v6 ? packet::pseudo_header_v6(c.local->v6addr, out[0].to.v6addr, 17, len)
           : packet::pseudo_header_v4(c.local->v4, out[0].to.v4, 17, len);
    EXPECT_TRUE(packet::verify_l4_checksum(p.bytes(), pseudo)) << remote;
  }
}

}  // namespace

namespace {

TEST(VtepSpec, ParsesThePortText) {
  auto s = overlay::parse_vtep_spec(
      "192.168.77.1:8472,map=10:5010,map=20:5020,flood=5010@192.168.77.2,"
      "flood=5020@239.1.1.1,static=5010@02:00:00:00:00:07@[fd00::9]:4789,csum,nolearning,"
      "known-peers,inner-tags,mtu=9000,ageing=60");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->local.to_string(), "192.168.77.1:8472");
  EXPECT_EQ(s->config.port, 8472);
  ASSERT_EQ(s->maps.size(), 2u);
  EXPECT_EQ(s->maps[1].vid, 20);
  EXPECT_EQ(s->maps[1].vni, 5020u);
  ASSERT_EQ(s->floods.size(), 2u);
  EXPECT_EQ(s->floods[0].second.to_string(), "192.168.77.2:8472") << "the local port by default";
  EXPECT_TRUE(s->floods[1].second.is_multicast());
  ASSERT_EQ(s->statics.size(), 1u);
  EXPECT_EQ(s->statics[0].remote.to_string(), "[fd00::9]:4789");
  EXPECT_TRUE(s->config.udp_checksum);
  EXPECT_FALSE(s->config.learning);
  EXPECT_TRUE(s->config.known_peers_only);
  EXPECT_TRUE(s->config.inner_tags);
  EXPECT_EQ(s->config.underlay_mtu, 9000u);
  EXPECT_EQ(s->config.ageing, 60s);
  auto v = overlay::make_vtep(*s);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->vid_of(5020), 20);
}

TEST(VtepSpec, MistakesNameTheOptionAndTheForm) {
  auto err = [](const char* text) {
    auto s = overlay::parse_vtep_spec(text);
    EXPECT_FALSE(s.ok()) << text;
    return s.ok() ? std::string() : s.error().message;
  };
  EXPECT_NE(err("10.0.0.1").find("at least one map=VID:VNI"), std::string::npos);
  EXPECT_NE(err("10.0.0.1,map=0:5").find("VID 1 to 4094"), std::string::npos);
  EXPECT_NE(err("10.0.0.1,map=10:16777216").find("0 to 16777215"), std::string::npos);
  EXPECT_NE(err("10.0.0.1,map=10").find("VID:VNI"), std::string::npos);
  EXPECT_NE(err("10.0.0.1,map=10:1,flood=1").find("VNI@REMOTE"), std::string::npos);
  EXPECT_NE(err("10.0.0.1,map=10:1,flood=1@nowhere").find("flood=1@nowhere"), std::string::npos);
  EXPECT_NE(err("10.0.0.1,map=10:1,static=1@zz@10.0.0.2").find("static=1@zz@10.0.0.2"),
            std::string::npos);
  EXPECT_NE(err("10.0.0.1,map=10:1,mtu=100").find("1280 to 65535"), std::string::npos);
  EXPECT_NE(err("10.0.0.1,map=10:1,csum=yes").find("takes no value"), std::string::npos);
  EXPECT_NE(err("10.0.0.1,map=10:1,bogus").find("unknown option 'bogus'"), std::string::npos);
  EXPECT_NE(err("nowhere,map=10:1").find("local address"), std::string::npos);
  // Consistent on its own but not as a VTEP: a VNI mapped twice, a flood list of an unmapped VNI.
  auto s = overlay::parse_vtep_spec("10.0.0.1,map=10:1,map=20:1");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(overlay::make_vtep(*s).ok());
  s = overlay::parse_vtep_spec("10.0.0.1,map=10:1,flood=2@10.0.0.2");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(overlay::make_vtep(*s).ok());
}

}  // namespace
