// PortAccess (bridge/port_access.hh) on a Bridge with a manual clock and an in-memory RADIUS
// server (tests/unit/nac/radius_server.hh). What a user relies on: an authenticating port is
// closed until RADIUS accepts; the VLAN RADIUS assigns is the port's VLAN while it is open and
// the configured one comes back when it closes; an assignment the bridge cannot honour keeps
// the port closed; what is not EAPOL to the PAE address is counted, never relayed.
#include "bridge/port_access.hh"

#include <gtest/gtest.h>

#include "base/log.hh"
#include "nac/eapol.hh"
#include "unit/nac/radius_server.hh"

using namespace vnet;
using namespace vnet::bridge;

namespace {

constexpr const char* kSecret = "s3cret";
const packet::MacAddress kClient{{0x02, 0, 0, 0, 0x0d, 0x03}};

class PortAccessTest : public ::testing::Test {
 protected:
  PortAccessTest()
      : access(
            br,
            [this](PortNo p, std::span<const uint8_t> d) {
              sent.emplace_back(p, std::vector<uint8_t>(d.begin(), d.end()));
            },
            42) {
    for (VlanId v : {10, 20}) EXPECT_TRUE(br.create_vlan(v).ok());
    EXPECT_TRUE(br.add_port(1, PortConfig::access(10)).ok());
    EXPECT_TRUE(br.set_active(1, true).ok());
    access.set_server(*parse_radius_server("192.0.2.1", kSecret), now);
  }
  // Answers the last request with `code` and, if not empty, a VLAN group.
  void answer(nac::RadiusCode code, const std::string& group) {
    ASSERT_FALSE(sent.empty());
    const auto& req = sent.back().second;
    nac::Authenticator auth;
    std::copy_n(req.begin() + 4, 16, auth.begin());
    nac::RadiusPacket p;
    p.code = code;
    p.id = req[1];
    if (!group.empty()) {
      p.add_u32(nac::attr::kTunnelType, nac::kTunnelTypeVlan);
      p.add_u32(nac::attr::kTunnelMediumType, nac::kTunnelMedium802);
      p.add(nac::attr::kTunnelPrivateGroupId, group);
    }
    access.on_radius(1, nac::testing::server_answer(p, auth, kSecret), now);
  }
  size_t frames_out(PortNo port) {
    size_t n = 0;
    br.drain([&](PortNo p, std::vector<packet::Frame>& fs) {
      if (p == port) n += fs.size();
    });
    return n;
  }
  PortAccess::PortView view() { return access.ports().at(0); }
  // The clock moves on by `d` in 100 ms steps, ticking at each as the dataplane's timer would.
  void run_for(Duration d) {
    for (Duration t{0}; t < d; t += std::chrono::milliseconds(100)) {
      now += std::min<Duration>(std::chrono::milliseconds(100), d - t);
      access.tick(now);
    }
  }

  TimePoint now{};
  Bridge br{"br"};
  std::vector<std::pair<PortNo, std::vector<uint8_t>>> sent;
  PortAccess access;
};

TEST_F(PortAccessTest, MacAuthenticationOpensThePortInTheAssignedVlanAndRestoresItsOwn) {
  ASSERT_TRUE(access.set_port(1, *parse_port_auth("mac"), now).ok());
  EXPECT_FALSE(br.authorized(1));
  access.on_unauthorized(1, kClient, now);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_FALSE(br.authorized(1)) << "open before RADIUS answered";
  answer(nac::RadiusCode::kAccessAccept, "20");
  EXPECT_TRUE(br.authorized(1));
  EXPECT_EQ(br.port_config(1).access_vlan, 20);
  EXPECT_EQ(view().vlan, 20);
  access.on_link(1, false, now);
  EXPECT_FALSE(br.authorized(1));
  EXPECT_EQ(br.port_config(1).access_vlan, 10) << "the configured VLAN is back";
  ASSERT_TRUE(access.set_port(1, std::nullopt, now).ok());
  EXPECT_TRUE(br.authorized(1)) << "off opens the port";
}

TEST_F(PortAccessTest, AVlanTheBridgeCannotHonourKeepsThePortClosed) {
  ASSERT_TRUE(access.set_port(1, *parse_port_auth("mac"), now).ok());
  access.on_unauthorized(1, kClient, now);
  answer(nac::RadiusCode::kAccessAccept, "30");  // VLAN 30 does not exist
  EXPECT_FALSE(br.authorized(1));
  EXPECT_NE(view().refused.find("VLAN 30"), std::string::npos) << view().refused;
  EXPECT_EQ(br.port_config(1).access_vlan, 10);
}

TEST_F(PortAccessTest, AVlanNameThatIsNotANumberKeepsThePortClosed) {
  ASSERT_TRUE(access.set_port(1, *parse_port_auth("mac"), now).ok());
  access.on_unauthorized(1, kClient, now);
  answer(nac::RadiusCode::kAccessAccept, "staff");
  EXPECT_FALSE(br.authorized(1));
  EXPECT_NE(view().refused.find("staff"), std::string::npos) << view().refused;
}

TEST_F(PortAccessTest, ARejectKeepsThePortClosed) {
  ASSERT_TRUE(access.set_port(1, *parse_port_auth("mac"), now).ok());
  access.on_unauthorized(1, kClient, now);
  answer(nac::RadiusCode::kAccessReject, "");
  EXPECT_FALSE(br.authorized(1));
  EXPECT_EQ(view().counters.rejects, 1u);
}

TEST_F(PortAccessTest, Dot1xAsksForTheIdentityOnLinkUpFromThePortsPaeAddress) {
  ASSERT_TRUE(access.set_port(1, *parse_port_auth("dot1x"), now).ok());
  std::vector<packet::Frame> out;
  br.drain([&](PortNo, std::vector<packet::Frame>& fs) {
    for (auto& f : fs) out.push_back(std::move(f));
  });
  ASSERT_EQ(out.size(), 1u);
  auto b = out[0].bytes();
  EXPECT_TRUE(std::equal(nac::kPaeGroupAddress.begin(), nac::kPaeGroupAddress.end(), b.begin()));
  auto src = access.pae_address(1);
  EXPECT_TRUE(std::equal(src.bytes.begin(), src.bytes.end(), b.begin() + 6));
  EXPECT_EQ(b[12], 0x88);
  EXPECT_EQ(b[13], 0x8e);
  EXPECT_GE(b.size(), 60u);
}

TEST_F(PortAccessTest, FramesToThePaeAddressThatAreNotEapolAreCounted) {
  ASSERT_TRUE(access.set_port(1, *parse_port_auth("dot1x"), now).ok());
  std::vector<uint8_t> f(60);
  std::copy(nac::kPaeGroupAddress.begin(), nac::kPaeGroupAddress.end(), f.begin());
  std::copy(kClient.bytes.begin(), kClient.bytes.end(), f.begin() + 6);
  f[12] = 0x81;  // tagged
  access.on_eapol(1, packet::Frame::copy_of(f), now);
  f[12] = 0x88;
  f[13] = 0x8e;
  f[14] = 0;  // EAPOL version 0: malformed
  access.on_eapol(1, packet::Frame::copy_of(f), now);
  EXPECT_EQ(view().malformed, 1u);
  EXPECT_EQ(view().counters.eapol_malformed, 1u);
  EXPECT_FALSE(br.authorized(1));
}

TEST_F(PortAccessTest, TimersSetHowSoonADot1xPortFallsBackToMacAuthentication) {
  // Default: txPeriod 30 s × (reAuthMax 2 + 1) = 90 s of identity requests before MAC.
  ASSERT_TRUE(access.set_port(1, *parse_port_auth("dot1x,mac"), now).ok());
  access.on_unauthorized(1, kClient, now);
  run_for(std::chrono::milliseconds(89900));
  EXPECT_TRUE(sent.empty()) << "MAC authentication before 90 s";
  run_for(std::chrono::milliseconds(100));
  EXPECT_EQ(sent.size(), 1u) << "no MAC authentication at 90 s";
  // txPeriod=1s reAuthMax=0: after 1 s.
  sent.clear();
  ASSERT_TRUE(
      access.set_port(1, *parse_port_auth_words({"dot1x,mac", "txPeriod=1s", "reAuthMax=0"}), now)
          .ok());
  EXPECT_EQ(view().config.tx_period, std::chrono::seconds(1));
  access.on_unauthorized(1, kClient, now);
  run_for(std::chrono::milliseconds(900));
  EXPECT_TRUE(sent.empty());
  run_for(std::chrono::milliseconds(100));
  ASSERT_EQ(sent.size(), 1u);
  answer(nac::RadiusCode::kAccessAccept, "20");
  EXPECT_TRUE(br.authorized(1));
  EXPECT_EQ(view().method, nac::Method::kMac);
}

TEST_F(PortAccessTest, ASilentServerIsRetriedLoggedAndThePortStaysClosed) {
  char* buf = nullptr;
  size_t len = 0;
  std::FILE* log_to = open_memstream(&buf, &len);
  log::set_file(log_to);
  ASSERT_TRUE(access
                  .set_port(1,
                            *parse_port_auth_words(
                                {"mac", "serverTimeout=1s", "serverRetries=1", "quietPeriod=5s"}),
                            now)
                  .ok());
  access.on_unauthorized(1, kClient, now);
  for (int i = 0; i < 3; ++i) {
    now += std::chrono::seconds(1);
    access.tick(now);
  }
  EXPECT_EQ(sent.size(), 2u) << "one request and one retransmission";
  EXPECT_FALSE(br.authorized(1));
  EXPECT_EQ(view().state, nac::PortState::kHeld);
  EXPECT_EQ(view().last_failure, "RADIUS server 192.0.2.1:1812 did not answer (2 tries, 1s apart)");
  // After the quiet period the next frame from the client asks again.
  now += std::chrono::seconds(5);
  access.tick(now);
  access.on_unauthorized(1, kClient, now);
  EXPECT_EQ(sent.size(), 3u);
  EXPECT_FALSE(br.authorized(1));
  log::set_file(stderr);
  std::fclose(log_to);
  std::string logged(buf, len);
  std::free(buf);
  EXPECT_NE(logged.find("RADIUS server 192.0.2.1:1812 did not answer within 1s, request sent "
                        "again"),
            std::string::npos)
      << logged;
  EXPECT_NE(logged.find("did not answer (2 tries, 1s apart); port unauthorized, held for 5s"),
            std::string::npos)
      << logged;
}

TEST(PortAccessParse, TimersAreParsedWithTheirRanges) {
  auto s = parse_port_auth_words({"dot1x", "quietPeriod=0s", "reAuthPeriod=off", "maxReq=3"});
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ((*s)->timers.quiet_period, Duration{0});
  EXPECT_EQ(auth_timer_words((*s)->timers),
            (std::vector<std::string>{"quietPeriod=0s", "maxReq=3", "reAuthPeriod=off"}));
  nac::AuthConfig c;
  apply_auth_timers((*s)->timers, c);
  EXPECT_FALSE(c.reauth_enabled);
  EXPECT_EQ(c.max_retrans, 3u);
  auto bad = parse_port_auth_words({"dot1x", "txPeriod=5"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("txPeriod"), std::string::npos) << bad.error().message;
  bad = parse_port_auth_words({"dot1x", "txPeriod=0s"});
  EXPECT_FALSE(bad.ok()) << "a zero txPeriod would spin";
  bad = parse_port_auth_words({"dot1x", "colour=blue"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("txPeriod, reAuthMax"), std::string::npos)
      << bad.error().message;
  EXPECT_FALSE(parse_port_auth_words({"off", "txPeriod=1s"}).ok());
}

TEST(PortAccessParse, BadInputIsRefusedWithTheReason) {
  auto no_secret = parse_radius_server("10.0.0.1", "");
  ASSERT_FALSE(no_secret.ok());
  EXPECT_NE(no_secret.error().message.find("secret"), std::string::npos);
  EXPECT_FALSE(parse_radius_server("radius.example", "x").ok());
  EXPECT_FALSE(parse_radius_server("10.0.0.1:0", "x").ok());
  EXPECT_EQ(parse_radius_server("[2001:db8::1]:1645", "x")->port, 1645);
  EXPECT_EQ(parse_radius_server("10.0.0.1", "x")->port, 1812);
  EXPECT_FALSE(parse_port_auth("kerberos").ok());
  EXPECT_FALSE(parse_port_auth("off")->has_value());
  EXPECT_EQ(port_auth_name(**parse_port_auth("mac,dot1x")), "mac,dot1x");
}

TEST(PortAccessParse, AuthenticationNeedsAServerFirst) {
  Bridge br("br");
  ASSERT_TRUE(br.add_port(1).ok());
  PortAccess access(br, nullptr, 1);
  auto s = access.set_port(1, *parse_port_auth("dot1x"), TimePoint{});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message.find("nac/radius"), std::string::npos);
  EXPECT_TRUE(access.set_port(1, *parse_port_auth("force-unauthorized"), TimePoint{}).ok());
  EXPECT_FALSE(br.authorized(1));
}

}  // namespace
