// Console commands of VXLAN ports (vtep/…): what they show, that each change applies whole or not
// at all, and that errors name the port, the field and what was expected. The port's backend is
// a stand-in with a real overlay::Vtep and recorded group memberships (no sockets).
#include <gtest/gtest.h>

#include "bridge/commands.hh"
#include "io/vtep_port.hh"
#include "overlay/spec.hh"

using namespace vnet;
using namespace vnet::bridge;

namespace {

class FakeVtepBackend final : public io::Backend, public io::VtepPort {
 public:
  FakeVtepBackend(overlay::Vtep v, overlay::Endpoint local, std::vector<std::string>& log)
      : vtep_(std::move(v)), local_(local), log_(log) {}
  std::vector<int> fds() const override { return {}; }
  size_t receive(std::vector<packet::Frame>&, size_t) override { return 0; }
  size_t send(std::span<packet::Frame> f) override { return f.size(); }
  std::string kind() const override { return "vxlan"; }
  std::string describe() const override { return "vxlan:fake"; }
  io::VtepPort* vtep_port() override { return this; }
  overlay::Vtep& vtep() override { return vtep_; }
  const overlay::Endpoint& local() const override { return local_; }
  Status set_group(const overlay::Endpoint& g, bool member) override {
    if (refuse_groups) return make_error(EINVAL, "bound to a unicast address");
    log_.push_back((member ? "join " : "leave ") + g.to_string());
    return {};
  }
  bool refuse_groups = false;

 private:
  overlay::Vtep vtep_;
  overlay::Endpoint local_;
  std::vector<std::string>& log_;
};

class VtepCommandsTest : public ::testing::Test {
 protected:
  VtepCommandsTest() : loop(clock), dp(loop) {
    register_commands(reg, dp, clock, info);
    br = *dp.create_bridge("br0");
    auto spec = overlay::parse_vtep_spec("10.0.0.1,map=10:5010,flood=5010@10.0.0.2");
    auto v = overlay::make_vtep(*spec);
    auto be = std::make_unique<FakeVtepBackend>(std::move(*v), spec->local, groups);
    fake = be.get();
    EXPECT_TRUE(dp.attach(*br, 3, std::move(be), false).ok());
    EXPECT_TRUE(dp.attach(*br, 4, std::make_unique<FakeOther>(), false).ok());
  }
  struct FakeOther final : io::Backend {
    std::vector<int> fds() const override { return {}; }
    size_t receive(std::vector<packet::Frame>&, size_t) override { return 0; }
    size_t send(std::span<packet::Frame> f) override { return f.size(); }
    std::string kind() const override { return "memory"; }
    std::string describe() const override { return "memory:x"; }
  };
  Result<console::Reply> run(const std::string& line) { return reg.run(session, line); }
  std::string err(const std::string& line) {
    auto r = run(line);
    EXPECT_FALSE(r.ok()) << line;
    return r.ok() ? "" : r.error().message;
  }
  nlohmann::json show() { return run("vtep/show 3 --json")->json; }
  ManualClock clock;
  EventLoop loop;
  Dataplane dp;
  console::Registry reg;
  SwitchInfo info{"test", "/tmp/x", clock.now()};
  console::Session session;
  Bridge* br = nullptr;
  FakeVtepBackend* fake = nullptr;
  std::vector<std::string> groups;
};

// A frame from a remote VTEP, as a UDP payload: VXLAN header + an inner frame from `src`.
packet::Frame payload(uint32_t vni, uint8_t src_last) {
  std::vector<uint8_t> b(8 + 60, 0);
  b[0] = 0x08;
  b[4] = static_cast<uint8_t>(vni >> 16);
  b[5] = static_cast<uint8_t>(vni >> 8);
  b[6] = static_cast<uint8_t>(vni);
  for (int i = 0; i < 6; ++i) b[8 + i] = 0xff;
  b[8 + 6] = 0x02;
  b[8 + 11] = src_last;
  b[8 + 12] = 0x08;
  return packet::Frame::copy_of(b);
}

TEST_F(VtepCommandsTest, ShowListsMapFloodEntriesAndEveryDropReason) {
  auto from = *overlay::Endpoint::parse("10.0.0.2:50000");
  auto p = payload(5010, 7);
  ASSERT_TRUE(fake->vtep().decapsulate(from, p, clock.now()));
  auto bad = payload(999, 8);
  EXPECT_FALSE(fake->vtep().decapsulate(from, bad, clock.now()));
  clock.advance(std::chrono::seconds(5));
  ASSERT_TRUE(run("vtep/static/add 3 5010 02:00:00:00:00:09 10.0.0.9").ok());
  auto j = show();
  EXPECT_EQ(j["local"], "10.0.0.1:4789");
  ASSERT_EQ(j["maps"].size(), 1u);
  EXPECT_EQ(j["maps"][0]["vid"], 10);
  EXPECT_EQ(j["maps"][0]["vni"], 5010);
  EXPECT_EQ(j["flood"][0]["remotes"][0], "10.0.0.2:4789");
  ASSERT_EQ(j["learned"].size(), 1u);
  EXPECT_EQ(j["learned"][0]["mac"], "02:00:00:00:00:07");
  EXPECT_EQ(j["learned"][0]["remote"], "10.0.0.2:4789") << "replies go to the VXLAN port";
  EXPECT_EQ(j["learned"][0]["age"], 5);
  EXPECT_EQ(j["static"][0]["remote"], "10.0.0.9:4789");
  EXPECT_EQ(j["counters"]["decapsulated"], 1);
  EXPECT_EQ(j["counters"]["drops"]["unknown_vni"], 1);
  EXPECT_EQ(j["counters"]["drops"].size(), static_cast<size_t>(overlay::Drop::kCount))
      << "every drop reason, zero or not";
  session.json = false;
  auto text = run("vtep/show 3")->text;
  EXPECT_NE(text.find(" map: VLAN 10 = VNI 5010\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" learned: VNI 5010 02:00:00:00:00:07 -> 10.0.0.2:4789 age 5s\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("no_flood_list 0"), std::string::npos) << text;
}

TEST_F(VtepCommandsTest, ErrorsNameThePortTheFieldAndTheExpectedForm) {
  EXPECT_EQ(err("vtep/show 4"), "port 4: expected a VXLAN port (vxlan:…), it has memory:x");
  EXPECT_EQ(err("vtep/show 9"), "bridge br0 has no port 9");
  EXPECT_EQ(err("vtep/map/add 3 0 7"), "port 3: VLAN '0': expected 1 to 4094");
  EXPECT_EQ(err("vtep/map/add 3 20 16777216"), "port 3: VNI '16777216': expected 0 to 16777215");
  EXPECT_EQ(err("vtep/map/add 3 20 5010"), "port 3: VNI 5010 carries VLAN 10 already");
  EXPECT_EQ(err("vtep/flood/add 3 6000 10.0.0.3"),
            "port 3: VNI 6000: expected a VNI the port carries (vtep/show 3)");
  EXPECT_NE(err("vtep/flood/add 3 5010 nowhere").find("port 3: remote: VTEP 'nowhere'"),
            std::string::npos);
  EXPECT_EQ(err("vtep/flood/add 3 5010 fd00::2"),
            "port 3: remote fd00::2: expected an IPv4 address like the local 10.0.0.1:4789");
  EXPECT_EQ(err("vtep/flood/del 3 5010 10.0.0.3"),
            "port 3: VNI 5010 does not flood to 10.0.0.3:4789");
  EXPECT_EQ(err("vtep/static/add 3 5010 zz 10.0.0.9").substr(0, 12), "port 3: MAC:");
  EXPECT_EQ(err("vtep/static/add 3 5010 02:00:00:00:00:09 239.1.1.1"),
            "port 3: remote 239.1.1.1: expected a unicast VTEP");
  EXPECT_EQ(err("vtep/map/del 3 10 5011"),
            "port 3: VLAN 10 is not carried as VNI 5011 (vtep/show 3)");
  EXPECT_EQ(err("vtep/fdb/flush"), "usage: vtep/fdb/flush PORT [VNI]");
  // Nothing changed by any of them.
  auto j = show();
  EXPECT_EQ(j["maps"].size(), 1u);
  EXPECT_EQ(j["flood"][0]["remotes"].size(), 1u);
  EXPECT_TRUE(j["static"].empty());
}

TEST_F(VtepCommandsTest, MapFloodStaticAndFlushChangeTheVtep) {
  auto r = run("vtep/map/add 3 20 5020");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->text.find("not a tagged member of VLAN 20"), std::string::npos) << r->text;
  EXPECT_EQ(fake->vtep().vni_of(20), 5020u);
  ASSERT_TRUE(run("vtep/flood/add 3 5020 10.0.0.3:8472").ok());
  ASSERT_TRUE(run("vtep/flood/add 3 5020 239.1.1.1").ok());
  ASSERT_TRUE(run("vtep/flood/add 3 5010 239.1.1.1").ok());
  EXPECT_EQ(groups, std::vector<std::string>{"join 239.1.1.1:4789"}) << "joined once";
  ASSERT_TRUE(run("vtep/static/add 3 5020 02:00:00:00:00:09 10.0.0.9").ok());
  auto from = *overlay::Endpoint::parse("10.0.0.3:40000");
  for (uint8_t m = 1; m <= 3; ++m) {
    auto p = payload(m == 3 ? 5010 : 5020, m);
    ASSERT_TRUE(fake->vtep().decapsulate(from, p, clock.now()));
  }
  auto f = run("vtep/fdb/flush 3 5020 --json");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->json["flushed"], 2);
  EXPECT_EQ(show()["learned"].size(), 1u) << "VNI 5010's entry stays";
  EXPECT_EQ(show()["static"].size(), 1u) << "static entries are not flushed";
  EXPECT_EQ(err("vtep/static/del 3 5020 02:00:00:00:00:09 10.0.0.8"),
            "port 3: VNI 5020 02:00:00:00:00:09 is behind 10.0.0.9:4789, not 10.0.0.8:4789");
  // Unmapping takes the VNI's flood list and entries; the group stays joined for VNI 5010.
  auto d = run("vtep/map/del 3 20 5020 --json");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->json["flood"], 2);
  EXPECT_EQ(d->json["static"], 1);
  EXPECT_FALSE(fake->vtep().vni_of(20));
  EXPECT_EQ(groups.size(), 1u);
  ASSERT_TRUE(run("vtep/flood/del 3 5010 239.1.1.1").ok());
  EXPECT_EQ(groups.back(), "leave 239.1.1.1:4789");
  ASSERT_TRUE(run("vtep/fdb/flush 3").ok());
  EXPECT_TRUE(show()["learned"].empty());
}

TEST_F(VtepCommandsTest, AGroupTheSocketCannotJoinChangesNothing) {
  fake->refuse_groups = true;
  EXPECT_EQ(err("vtep/flood/add 3 5010 239.1.1.1"), "port 3: bound to a unicast address");
  EXPECT_EQ(show()["flood"][0]["remotes"].size(), 1u);
}

}  // namespace
