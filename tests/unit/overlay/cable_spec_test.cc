// UDP cable specs, VDE locators (vdeplug4's udp:// and vxlan:// grammar) and the single-VNI
// VTEP they map to.
#include <gtest/gtest.h>

#include "overlay/spec.hh"

using namespace vnet;

namespace {

std::string locator(const char* text) {
  auto r = overlay::from_vde_locator(text);
  if (!r) return "(no locator)";
  return r->ok() ? **r : "error: " + r->error().message;
}

TEST(VdeLocator, UdpFollowsLibvdeplugUdpGrammar) {
  EXPECT_EQ(locator("udp://2000->10.0.0.2:3000"), "udp:0.0.0.0:2000,remote=10.0.0.2:3000");
  EXPECT_EQ(locator("udp://10.0.0.1:2000->10.0.0.2:3000"),
            "udp:10.0.0.1:2000,remote=10.0.0.2:3000");
  // The last ':' of each side splits address and port (libvdeplug_udp.c's rindex).
  EXPECT_EQ(locator("udp://fd00::1:2000->fd00::2:3000"),
            "udp:[fd00::1]:2000,remote=[fd00::2]:3000");
  EXPECT_EQ(locator("udp://2000->fd00::2:3000"), "udp:[::]:2000,remote=[fd00::2]:3000");
  EXPECT_EQ(locator("udp://[fd00::1]:2000->[fd00::2]:3000"),
            "udp:[fd00::1]:2000,remote=[fd00::2]:3000");
  EXPECT_EQ(locator("tap://x"), "(no locator)");
  EXPECT_NE(locator("udp://2000").find("expected udp://[SRCADDR:]SRCPORT->DSTADDR:DSTPORT"),
            std::string::npos);
  EXPECT_NE(locator("udp://2000->host.example:3000").find("not host names"), std::string::npos);
  EXPECT_NE(locator("udp://10.0.0.1:2000->fd00::2:3000").find("different address families"),
            std::string::npos);
  EXPECT_NE(locator("udp://2000->10.0.0.2:70000").find("1 to 65535"), std::string::npos);
}

TEST(VdeLocator, VxlanFollowsLibvdeplugVxlanDefaults) {
  EXPECT_EQ(locator("vxlan://"), "vxlan:0.0.0.0:4789,vni=1,flood=1@239.0.0.1:4789,ttl=1");
  EXPECT_EQ(locator("vxlan://239.0.0.5/vni=5030/port=8472/ttl=4/expiretime=60"),
            "vxlan:0.0.0.0:8472,vni=5030,flood=5030@239.0.0.5:8472,ttl=4,ageing=60");
  EXPECT_EQ(locator("vxlan:///v6"), "vxlan:[::]:4789,vni=1,flood=1@[ff05:56de::1]:4789,ttl=1");
  EXPECT_NE(locator("vxlan://10.0.0.2").find("not a multicast group"), std::string::npos);
  EXPECT_NE(locator("vxlan://239.0.0.1/if=eth0").find("/if is not supported"), std::string::npos);
  EXPECT_NE(locator("vxlan://239.0.0.1/colour=red").find("unknown key 'colour'"),
            std::string::npos);
  EXPECT_NE(locator("vxlan://239.0.0.1/vni=16777216").find("0 to 16777215"), std::string::npos);
  // A value cannot smuggle options into the spec it becomes.
  EXPECT_EQ(locator("vxlan://239.0.0.1/ttl=1,nolearning"),
            "error: vxlan://239.0.0.1/ttl=1,nolearning: /ttl=1,nolearning: expected a number from "
            "1 to 255");
}

TEST(UdpCableSpec, NeedsPortsAndOneFamily) {
  auto s = overlay::parse_udp_cable_spec("192.168.1.1:5000,remote=192.168.1.2:5001");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->local.to_string(), "192.168.1.1:5000");
  EXPECT_EQ(s->remote.to_string(), "192.168.1.2:5001");
  auto err = [](const char* t) {
    auto r = overlay::parse_udp_cable_spec(t);
    return r.ok() ? std::string("ok") : r.error().message;
  };
  EXPECT_NE(err("192.168.1.1,remote=192.168.1.2:5001").find("with a port"), std::string::npos);
  EXPECT_NE(err("192.168.1.1:5000").find("expected remote=ADDR:PORT"), std::string::npos);
  EXPECT_NE(err("192.168.1.1:5000,remote=239.1.1.1:5").find("not a unicast"), std::string::npos);
  EXPECT_NE(err("192.168.1.1:5000,peer=1").find("unknown option 'peer=1'"), std::string::npos);
}

// Single-VNI mode (vni=): frames leave and arrive untagged; other VNIs and tagged frames drop.
TEST(VtepSingleVni, CarriesUntaggedFramesOfOneVni) {
  auto spec = overlay::parse_vtep_spec("10.0.0.1,vni=5030,flood=5030@10.0.0.2");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  auto v = overlay::make_vtep(*spec);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_FALSE(v->map(10, 7).ok()) << "no VLAN map on a single-VNI port";
  std::vector<uint8_t> inner(60, 0);
  for (int i = 0; i < 6; ++i) inner[i] = 0xff;
  inner[6] = 0x02;
  inner[12] = 0x08;
  std::vector<overlay::Datagram> out;
  v->encapsulate(packet::Frame::copy_of(inner), TimePoint{}, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload.size(), 8u + 8u + inner.size()) << "sent as it is, untagged";
  auto payload = packet::Frame::copy_of(out[0].payload.bytes().subspan(8));
  ASSERT_TRUE(v->decapsulate(*overlay::Endpoint::parse("10.0.0.2"), payload, TimePoint{}));
  EXPECT_EQ(payload.size(), inner.size()) << "handed to the bridge untagged";
  // A tagged frame is not carried (inner_tags off), either way.
  std::vector<uint8_t> tagged(inner);
  tagged[12] = 0x81;
  tagged[13] = 0x00;
  out.clear();
  v->encapsulate(packet::Frame::copy_of(tagged), TimePoint{}, out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(v->counters().dropped(overlay::Drop::kInnerTagged), 1u);
  // Another VNI is unknown.
  std::vector<uint8_t> other = {0x08, 0, 0, 0, 0, 0x13, 0x97, 0};
  other.insert(other.end(), inner.begin(), inner.end());
  auto o = packet::Frame::copy_of(other);
  EXPECT_FALSE(v->decapsulate(*overlay::Endpoint::parse("10.0.0.2"), o, TimePoint{}));
  EXPECT_EQ(v->counters().dropped(overlay::Drop::kUnknownVni), 1u);
  EXPECT_FALSE(overlay::parse_vtep_spec("10.0.0.1,vni=1,map=10:2").ok());
  EXPECT_FALSE(overlay::parse_vtep_spec("0.0.0.0,vni=1,csum").ok()) << "csum needs an address";
}

}  // namespace
