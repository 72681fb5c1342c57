// Console commands for acceptable frame types, port state and the control counter: text, JSON,
// and errors naming what was wrong.
#include "bridge/commands.hh"

#include <gtest/gtest.h>

#include "support/frames.hh"

using namespace vnet;
using namespace vnet::bridge;

namespace {

class BridgeCommandsTest : public ::testing::Test {
 protected:
  BridgeCommandsTest() : loop(clock), dp(loop) {
    register_commands(reg, dp, clock, info);
    br = *dp.create_bridge("br0");
  }
  Result<console::Reply> run(const std::string& line) { return reg.run(session, line); }
  ManualClock clock;
  EventLoop loop;
  Dataplane dp;
  console::Registry reg;
  SwitchInfo info{"test", "/tmp/x", clock.now()};
  console::Session session;
  Bridge* br = nullptr;
};

TEST_F(BridgeCommandsTest, PortModeCarriesAcceptableFrameTypes) {
  ASSERT_TRUE(run("vlan/create 10").ok());
  ASSERT_TRUE(run("port/create 1").ok());
  ASSERT_TRUE(run("port/mode 1 access 10 admit all").ok());
  EXPECT_EQ(run("port/mode 1")->text, "access 10 admit all\n");
  EXPECT_EQ(br->port_config(1).acceptable_frames(), AcceptableFrames::kAll);
  auto j = run("port/print 1 --json");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->json[0]["admit"], "all");
  EXPECT_EQ(j->json[0]["admit_explicit"], true);
  EXPECT_EQ(j->json[0]["config"], "access 10 admit all");
  session.json = false;
  EXPECT_NE(run("port/print 1")->text.find(" admit: all  state: forwarding\n"), std::string::npos);

  ASSERT_TRUE(run("port/mode 1 access 10").ok());  // back to the default
  EXPECT_NE(run("port/print 1")->text.find(" admit: untagged (default)"), std::string::npos);
  auto bad = run("port/mode 1 access 10 admit maybe");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message,
            "bad acceptable frame types 'maybe': expected all, tagged or untagged");
  // VDE's "no untagged VLAN" makes an empty trunk, which now reads back.
  ASSERT_TRUE(run("port/setvlan 1 4095").ok());
  EXPECT_EQ(run("port/mode 1")->text, "trunk none\n");
  ASSERT_TRUE(run("port/mode 1 trunk none").ok());
}

// port/link with a list of ports: all change in one command (a switch losing power), and a list
// naming a port that does not exist changes none of them.
TEST_F(BridgeCommandsTest, PortLinkTakesSeveralPortsAtOnce) {
  for (int p = 1; p <= 3; ++p) ASSERT_TRUE(run(fmt::format("port/create {}", p)).ok());
  auto admin = [&](int p) {
    return run(fmt::format("port/print {} --json", p))->json[0]["admin_up"];
  };
  auto bad = run("port/link 1,9 down");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ENXIO);
  EXPECT_EQ(admin(1), true);
  ASSERT_TRUE(run("port/link 1,3 down").ok());
  EXPECT_EQ(admin(1), false);
  EXPECT_EQ(admin(2), true);
  EXPECT_EQ(admin(3), false);
  ASSERT_TRUE(run("port/link 3 up").ok());
  EXPECT_EQ(admin(3), true);
  EXPECT_FALSE(run("port/link 1,,2 down").ok());
  EXPECT_FALSE(run("port/link 1,2 sideways").ok());
  EXPECT_EQ(admin(2), true);
}

TEST_F(BridgeCommandsTest, PortStateShowAndSet) {
  ASSERT_TRUE(run("port/create 1").ok());
  ASSERT_TRUE(run("port/create 2").ok());
  EXPECT_EQ(run("port/state")->text, "Port 0001 forwarding\nPort 0002 forwarding\n");
  ASSERT_TRUE(run("port/state 2 discarding").ok());
  EXPECT_EQ(br->port_state(2), PortState::kDiscarding);
  auto j = run("port/state 2 --json");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->json, nlohmann::json::parse(R"([{"port":2,"state":"discarding"}])"));
  EXPECT_EQ(run("port/print 2")->json[0]["state"], "discarding");
  session.json = false;
  ASSERT_TRUE(run("port/state 2 learning").ok());
  EXPECT_EQ(run("port/state 2")->text, "Port 0002 learning\n");
  EXPECT_NE(run("vlan/print 1")->text.find("Port 0002 tagged=0 active=0 status=Learning"),
            std::string::npos);
  auto bad = run("port/state 2 blocking");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message,
            "bad port state 'blocking': expected discarding, learning or forwarding");
  EXPECT_EQ(run("port/state 9 forwarding").error().code, ENXIO);
}

TEST_F(BridgeCommandsTest, ControlCounterInStats) {
  ASSERT_TRUE(run("port/create 1").ok());
  ASSERT_TRUE(br->set_active(1, true).ok());
  std::vector<packet::Frame> in;
  in.push_back(
      test::frame_of_type(*packet::MacAddress::parse("01:80:c2:00:00:0e"), test::mac(1), 0x88cc));
  br->ingress(1, in, clock.now());
  auto j = run("port/stats 1 --json");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->json[0]["control"], 1);
  session.json = false;
  auto t = run("port/stats 1")->text;
  EXPECT_NE(t.find("control"), std::string::npos);
  EXPECT_NE(run("port/print 1")->text.find(" CONTROL: 1\n"), std::string::npos);
}

// A backend's own counters (a VXLAN port's drops by reason) are shown with its port: in JSON all
// of them, in the text those that are not zero.
class CountingBackend final : public io::Backend {
 public:
  std::vector<int> fds() const override { return {}; }
  size_t receive(std::vector<packet::Frame>&, size_t) override { return 0; }
  size_t send(std::span<packet::Frame> frames) override { return frames.size(); }
  std::vector<std::pair<std::string, uint64_t>> counters() const override {
    return {{"decapsulated", 7}, {"drop_unknown_vni", 3}, {"drop_no_i_flag", 0}};
  }
  std::string kind() const override { return "counting"; }
  std::string describe() const override { return "counting"; }
};

TEST_F(BridgeCommandsTest, PortPrintShowsTheBackendsCounters) {
  ASSERT_TRUE(run("port/create 1").ok());
  ASSERT_TRUE(dp.attach(*br, 1, std::make_unique<CountingBackend>(), false).ok());
  auto j = run("port/print 1 --json");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->json[0]["backend_counters"],
            nlohmann::json({{"decapsulated", 7}, {"drop_unknown_vni", 3}, {"drop_no_i_flag", 0}}));
  EXPECT_EQ(run("port/stats 1 --json")->json[0]["backend_counters"]["drop_unknown_vni"], 3);
  session.json = false;
  std::string text = run("port/print 1")->text;
  EXPECT_NE(text.find("  -- drop_unknown_vni: 3\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("drop_no_i_flag"), std::string::npos) << text;
  // A port whose backend has none shows none.
  ASSERT_TRUE(run("port/create 2").ok());
  session.json = true;
  EXPECT_FALSE(run("port/print 2 --json")->json[0].contains("backend_counters"));
}

}  // namespace
