// RFC 5798 behaviour replayed on a manual clock.
#include "vrrp/router.hh"

#include <gtest/gtest.h>

using namespace vnet;
using namespace vnet::vrrp;
using namespace std::chrono_literals;

namespace {

RouterConfig config(uint8_t prio, uint8_t version = 3, Duration interval = 1s) {
  RouterConfig c;
  c.version = version;
  c.vrid = 77;
  c.priority = prio;
  c.advert_interval = interval;
  c.primary4 = *packet::Ipv4Address::parse("10.77.0.1");
  c.vips4 = {*packet::Ipv4Address::parse("10.77.0.254")};
  return c;
}

RxAdvert from(const Router& peer_cfg_source, uint8_t prio, const char* src, uint8_t version = 3,
              uint16_t cs = 100) {
  RxAdvert rx;
  rx.advert = peer_cfg_source.advert(prio);
  rx.advert.version = version;
  rx.advert.interval_cs = cs;
  rx.src4 = *packet::Ipv4Address::parse(src);
  return rx;
}

template <typename T>
int count(const std::vector<Action>& as) {
  int n = 0;
  for (auto& a : as) n += std::holds_alternative<T>(a);
  return n;
}

struct Fixture : ::testing::Test {
  TimePoint t{std::chrono::seconds(100)};
};

TEST_F(Fixture, TimersAreThoseOfTheRfc) {
  Router v2(config(100, 2));
  v2.start(t);
  EXPECT_EQ(v2.skew_time(), Duration(std::chrono::nanoseconds(609375000)));  // (256-100)/256 s
  EXPECT_EQ(v2.master_down_interval(), 3s + Duration(std::chrono::nanoseconds(609375000)));
  Router v3(config(100, 3, 100ms));
  v3.start(t);
  EXPECT_EQ(v3.skew_time(),
            Duration(std::chrono::microseconds(60937)) + Duration(500));  // 60.9375 ms
  EXPECT_EQ(v3.master_down_interval(), Duration(std::chrono::microseconds(360937)) + Duration(500));
}

TEST_F(Fixture, BackupBecomesMasterWhenTheMasterGoesSilent) {
  Router r(config(100));
  r.start(t);
  EXPECT_EQ(r.state(), State::kBackup);
  auto start = r.take_actions();
  EXPECT_EQ(count<RemoveAddresses>(start), 1);  // stale VIPs go at start-up
  r.tick(t + r.master_down_interval() - 1ms);
  EXPECT_EQ(r.state(), State::kBackup);
  r.tick(t + r.master_down_interval());
  EXPECT_EQ(r.state(), State::kMaster);
  auto a = r.take_actions();
  EXPECT_EQ(count<SendAdvert>(a), 1);
  EXPECT_EQ(count<AddAddresses>(a), 1);
  ASSERT_EQ(count<SendGratuitous>(a), 1);
  EXPECT_EQ(std::get<SendGratuitous>(a[2]).count, 5);
  // Adverts every interval, a second GARP burst garp_master_delay (5 s) later.
  TimePoint m = t + r.master_down_interval();
  r.tick(m + 1s);
  EXPECT_EQ(count<SendAdvert>(r.take_actions()), 1);
  r.tick(m + 5s);
  EXPECT_EQ(count<SendGratuitous>(r.take_actions()), 1);
}

TEST_F(Fixture, AdvertsKeepTheBackupWaiting) {
  Router r(config(100));
  Router master(config(150));
  r.start(t);
  for (int i = 1; i <= 10; ++i) {
    r.on_advert(t + i * 1s, from(master, 150, "10.77.0.9"));
    r.tick(t + i * 1s);
  }
  EXPECT_EQ(r.state(), State::kBackup);
  EXPECT_EQ(r.counters().adverts_received, 10u);
}

TEST_F(Fixture, ElectionByPriorityThenByPrimaryAddress) {
  Router r(config(100));
  r.start(t);
  r.tick(t + 10s);
  ASSERT_EQ(r.state(), State::kMaster);
  r.take_actions();
  // Equal priority from a lower address: we stay master.
  r.on_advert(t + 10s, from(r, 100, "10.77.0.0"));
  EXPECT_EQ(r.state(), State::kMaster);
  // Equal priority from a higher address: we yield.
  r.on_advert(t + 11s, from(r, 100, "10.77.0.2"));
  EXPECT_EQ(r.state(), State::kBackup);
  auto a = r.take_actions();
  EXPECT_EQ(count<RemoveAddresses>(a), 1);
  ASSERT_EQ(count<StateChanged>(a), 1);
}

TEST_F(Fixture, HigherPriorityMasterDemotesUs) {
  Router r(config(100));
  r.start(t);
  r.tick(t + 10s);
  r.take_actions();
  r.on_advert(t + 11s, from(r, 200, "10.77.0.0"));
  EXPECT_EQ(r.state(), State::kBackup);
}

TEST_F(Fixture, LowerPriorityAdvertIsIgnoredByMaster) {
  Router r(config(150));
  r.start(t);
  r.tick(t + 10s);
  r.take_actions();
  r.on_advert(t + 11s, from(r, 100, "10.77.0.200"));
  EXPECT_EQ(r.state(), State::kMaster);
}

TEST_F(Fixture, PreemptionByAHigherPriorityBackup) {
  // We (150) return while a 100 is master: its adverts are discarded, we take over after our
  // own Master_Down_Interval (3 + 106/256 s), as keepalived does.
  Router r(config(150));
  Router low(config(100));
  r.start(t);
  TimePoint down = t + r.master_down_interval();
  for (TimePoint x = t + 1s; x < down; x += 1s) {
    r.on_advert(x, from(low, 100, "10.77.0.2"));
    r.tick(x);
  }
  EXPECT_EQ(r.state(), State::kBackup);
  r.tick(down);
  EXPECT_EQ(r.state(), State::kMaster);
}

TEST_F(Fixture, NopreemptKeepsALowerPriorityMaster) {
  auto c = config(150);
  c.preempt = false;
  Router r(c);
  Router low(config(100));
  r.start(t);
  for (int i = 1; i <= 20; ++i) {
    r.on_advert(t + i * 1s, from(low, 100, "10.77.0.2"));
    r.tick(t + i * 1s);
  }
  EXPECT_EQ(r.state(), State::kBackup);
  r.tick(t + 20s + r.master_down_interval());  // the master dies: now we take over
  EXPECT_EQ(r.state(), State::kMaster);
}

TEST_F(Fixture, PreemptDelayPostponesPreemption) {
  auto c = config(150);
  c.preempt_delay = 10s;
  Router r(c);
  Router low(config(100));
  r.start(t);
  for (int i = 1; i <= 9; ++i) {
    r.on_advert(t + i * 1s, from(low, 100, "10.77.0.2"));
    r.tick(t + i * 1s);
  }
  EXPECT_EQ(r.state(), State::kBackup);  // without the delay we would be master after 3.4 s
  for (int i = 10; i <= 14; ++i) {
    r.on_advert(t + i * 1s, from(low, 100, "10.77.0.2"));  // now discarded
    r.tick(t + i * 1s);
  }
  EXPECT_EQ(r.state(), State::kMaster);
}

TEST_F(Fixture, PriorityZeroMeansSkewTime) {
  Router r(config(100));
  Router master(config(150));
  r.start(t);
  r.on_advert(t + 1s, from(master, 150, "10.77.0.9"));
  r.on_advert(t + 2s, from(master, 0, "10.77.0.9"));
  r.tick(t + 2s + r.skew_time() - 1ms);
  EXPECT_EQ(r.state(), State::kBackup);
  r.tick(t + 2s + r.skew_time());
  EXPECT_EQ(r.state(), State::kMaster);
  EXPECT_EQ(r.counters().priority_zero_received, 1u);
}

TEST_F(Fixture, ShutdownSendsPriorityZeroAndRemovesAddresses) {
  Router r(config(100));
  r.start(t);
  r.tick(t + 10s);
  r.take_actions();
  r.shutdown(t + 11s);
  auto a = r.take_actions();
  ASSERT_GE(a.size(), 2u);
  EXPECT_EQ(std::get<SendAdvert>(a[0]).priority, 0);
  EXPECT_EQ(count<RemoveAddresses>(a), 1);
  EXPECT_EQ(r.state(), State::kInitialize);
}

TEST_F(Fixture, AddressOwnerStartsAsMaster) {
  Router r(config(255));
  r.start(t);
  EXPECT_EQ(r.state(), State::kMaster);
}

TEST_F(Fixture, V3LearnsTheMastersInterval) {
  Router r(config(100, 3, 1s));
  Router master(config(150, 3, 100ms));
  r.start(t);
  r.on_advert(t, from(master, 150, "10.77.0.9", 3, 10));
  EXPECT_EQ(r.master_adver_interval(), 100ms);
  r.tick(t + r.master_down_interval() - 1ms);
  EXPECT_EQ(r.state(), State::kBackup);
  r.tick(t + Duration(std::chrono::microseconds(360938)));  // 0.3 + 156*0.1/256 s, as keepalived
  EXPECT_EQ(r.state(), State::kMaster);
}

TEST_F(Fixture, ReceiveChecksAreCounted) {
  auto c = config(100, 2);
  c.auth_type = AuthType::kSimpleText;
  std::memcpy(c.auth_pass.data(), "pw", 2);
  Router r(c);
  r.start(t);
  auto good = from(r, 150, "10.77.0.9", 2, 100);
  auto ttl = good;
  ttl.ttl = 64;
  r.on_advert(t, ttl);
  auto ver = from(r, 150, "10.77.0.9", 3, 100);
  r.on_advert(t, ver);
  auto auth = good;
  auth.advert.auth_data[0] = 'x';
  r.on_advert(t, auth);
  auto interval = from(r, 150, "10.77.0.9", 2, 200);
  r.on_advert(t, interval);
  auto addrs = good;
  addrs.advert.v4 = {*packet::Ipv4Address::parse("10.77.0.253")};
  r.on_advert(t, addrs);
  const auto& k = r.counters();
  EXPECT_EQ(k.bad_ttl, 1u);
  EXPECT_EQ(k.bad_version, 1u);
  EXPECT_EQ(k.bad_auth, 1u);
  EXPECT_EQ(k.bad_interval, 1u);
  EXPECT_EQ(k.address_mismatch, 1u);
  EXPECT_EQ(k.adverts_received, 0u);
  r.on_advert(t, good);
  EXPECT_EQ(k.adverts_received, 1u);
}

TEST_F(Fixture, FaultDropsMastershipAndRecovers) {
  Router r(config(100));
  r.start(t);
  r.tick(t + 10s);
  r.take_actions();
  r.set_fault(t + 11s, true);
  EXPECT_EQ(r.state(), State::kFault);
  auto a = r.take_actions();
  EXPECT_EQ(std::get<SendAdvert>(a[0]).priority, 0);
  r.tick(t + 30s);
  EXPECT_EQ(r.state(), State::kFault);
  r.set_fault(t + 31s, false);
  EXPECT_EQ(r.state(), State::kBackup);
  r.tick(t + 31s + r.master_down_interval());
  EXPECT_EQ(r.state(), State::kMaster);
}

}  // namespace
