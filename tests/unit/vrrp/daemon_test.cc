// The VRRP daemon's logic on a ManualClock with a fake Host and fake Children: sync groups,
// trackers, notify scripts, reload. No sockets, no root, no sleeps.
#include "vrrp/daemon.hh"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "fake_host.hh"
#include "packet/arp.hh"
#include "packet/ethernet.hh"

namespace vnet::vrrp {
namespace {

using namespace std::chrono_literals;
using testing::FakeChildren;
using testing::FakeHost;

// A vrrp_instance block. `extra` goes inside it.
std::string instance(const std::string& name, const std::string& interface, int vrid, int prio,
                     const std::string& vip, const std::string& extra = "") {
  return "vrrp_instance " + name + " {\n  interface " + interface + "\n  virtual_router_id " +
         std::to_string(vrid) + "\n  priority " + std::to_string(prio) +
         "\n  advert_int 1\n  virtual_ipaddress {\n    " + vip + "\n  }\n" + extra + "}\n";
}

const std::string kGlobal = "global_defs {\n  vrrp_version 3\n}\n";

struct DaemonTest : ::testing::Test {
  ManualClock clock;
  EventLoop loop{clock};
  FakeHost host{clock};
  FakeChildren children;
  std::unique_ptr<Daemon> daemon;
  std::filesystem::path dir;

  DaemonTest() {
    host.add_link("eth0", "02:00:00:00:00:01", "10.0.0.1");
    host.add_link("eth1", "02:00:00:00:01:01", "10.1.0.1");
    host.add_link("eth2", "02:00:00:00:02:01", "10.2.0.1");
    char tmpl[] = "/tmp/vnet-daemon-test.XXXXXX";
    dir = mkdtemp(tmpl);
  }
  ~DaemonTest() override {
    daemon.reset();
    std::filesystem::remove_all(dir);
  }

  static KeepalivedConfig parse(const std::string& text) {
    auto c = parse_keepalived_conf(text, "test.conf");
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? *c : KeepalivedConfig{};
  }
  void start(const std::string& text) {
    daemon = std::make_unique<Daemon>(loop, host, children, DaemonOptions{});
    auto s = daemon->start(parse(text));
    ASSERT_TRUE(s.ok()) << s.error().message;
  }
  Status reload_text(const std::string& text) {
    auto path = dir / "keepalived.conf";
    std::ofstream(path) << text;
    return daemon->reload_file(path.string());
  }
  // Moves time in 1 ms steps, firing timers on the way.
  void run_for(Duration d) {
    TimePoint end = clock.now() + d;
    while (clock.now() < end) {
      clock.advance(std::min<Duration>(1ms, end - clock.now()));
      loop.run_timers();
    }
  }
  const Instance& in(const std::string& name) const { return *daemon->instances().at(name); }
  State state(const std::string& name) const { return in(name).state(); }
  // An advert of a peer on `name`'s virtual router.
  void peer_advert(const std::string& name, uint8_t prio, const char* src) {
    RxAdvert rx;
    rx.advert = in(name).router().advert(prio);
    rx.src4 = *packet::Ipv4Address::parse(src);
    ASSERT_TRUE(host.deliver(name, rx));
  }
  // A peer master advertising every second for `d`.
  void peer_for(const std::string& name, uint8_t prio, const char* src, Duration d) {
    for (Duration t{0}; t < d; t += 1s) {
      peer_advert(name, prio, src);
      run_for(1s);
    }
  }
  int count(const std::string& command) const {
    auto c = children.commands();
    return static_cast<int>(std::count(c.begin(), c.end(), command));
  }
  // Announcement bursts on `dev` since `from`: (time, frame count).
  std::vector<std::pair<TimePoint, size_t>> bursts(const std::string& dev, TimePoint from) const {
    std::vector<std::pair<TimePoint, size_t>> out;
    for (auto& f : host.frames) {
      if (f.dev == dev && f.at >= from) out.emplace_back(f.at, f.frames.size());
    }
    return out;
  }
};

TEST_F(DaemonTest, SyncGroupMembersMoveTogether) {
  start(kGlobal +
        "vrrp_sync_group G {\n  group {\n    VI_1\n    VI_2\n  }\n"
        "  notify_master \"group-master\"\n  notify_backup \"group-backup\"\n}\n" +
        instance("VI_1", "eth0", 1, 200, "10.0.0.254/24", "  notify_master \"vi1-master\"\n") +
        instance("VI_2", "eth1", 2, 50, "10.1.0.254/24", "  notify_master \"vi2-master\"\n"));
  EXPECT_EQ(state("VI_1"), State::kBackup);
  EXPECT_EQ(state("VI_2"), State::kBackup);
  EXPECT_EQ(count("group-backup"), 1) << "the group entered BACKUP once, not once per member";
  // VI_1's Master_Down_Interval is 3 + 56/256 s, VI_2's 3 + 206/256 s: VI_2 follows VI_1 before
  // its own timer would have run out.
  run_for(3300ms);
  EXPECT_EQ(state("VI_1"), State::kMaster);
  EXPECT_EQ(state("VI_2"), State::kMaster);
  EXPECT_EQ(in("VI_2").router().counters().became_master, 1u);
  EXPECT_TRUE(host.has_address("eth0", "10.0.0.254/24"));
  EXPECT_TRUE(host.has_address("eth1", "10.1.0.254/24"));
  EXPECT_EQ(count("vi1-master"), 1);
  EXPECT_EQ(count("vi2-master"), 1);
  EXPECT_EQ(count("group-master"), 1) << "the group's script runs once per group transition";

  // A higher-priority master appears on VI_1's link: VI_1 goes back to BACKUP and VI_2 with it.
  peer_advert("VI_1", 250, "10.0.0.9");
  EXPECT_EQ(state("VI_1"), State::kBackup);
  EXPECT_EQ(state("VI_2"), State::kBackup);
  EXPECT_FALSE(host.has_address("eth0", "10.0.0.254/24"));
  EXPECT_FALSE(host.has_address("eth1", "10.1.0.254/24"));
  EXPECT_EQ(count("group-backup"), 2);
  EXPECT_EQ(count("group-master"), 1);
}

TEST_F(DaemonTest, FailingScriptLowersPriorityAndRecovers) {
  start(kGlobal +
        "vrrp_script chk {\n  script \"check-it\"\n  interval 1\n  timeout 3\n  weight -60\n"
        "  fall 2\n  rise 1\n}\n" +
        instance("VI_1", "eth0", 1, 150, "10.0.0.254/24", "  track_script {\n    chk\n  }\n"));
  ASSERT_EQ(count("check-it"), 1) << "a check runs at start";
  EXPECT_EQ(children.children[0].spec.timeout, Duration(3s)) << "the supervisor enforces it";
  EXPECT_EQ(children.finish_all("check-it", 0), 1);
  run_for(4s);
  ASSERT_EQ(state("VI_1"), State::kMaster);
  EXPECT_EQ(host.adverts_of("VI_1").back().advert.priority, 150);

  // One failure is not enough (fall 2); the second one is.
  children.finish_all("check-it", 1);
  run_for(1s);
  EXPECT_EQ(in("VI_1").router().priority(), 150);
  children.finish_all("check-it", 1);
  EXPECT_EQ(in("VI_1").router().priority(), 90);
  run_for(1s);
  EXPECT_EQ(host.adverts_of("VI_1").back().advert.priority, 90);
  // A peer at 120 now wins.
  peer_advert("VI_1", 120, "10.0.0.2");
  EXPECT_EQ(state("VI_1"), State::kBackup);

  // One success brings it back (rise 1); with the priority restored it preempts the peer.
  children.finish_all("check-it", 0);
  EXPECT_EQ(in("VI_1").router().priority(), 150);
  peer_for("VI_1", 120, "10.0.0.2", 4s);
  EXPECT_EQ(state("VI_1"), State::kMaster);
}

TEST_F(DaemonTest, ScriptWithWeightZeroFaultsAndRecovers) {
  start(kGlobal + "vrrp_script chk {\n  script \"check-it\"\n  interval 1\n}\n" +
        instance("VI_1", "eth0", 1, 150, "10.0.0.254/24", "  track_script {\n    chk\n  }\n"));
  children.finish_all("check-it", 0);
  run_for(4s);
  ASSERT_EQ(state("VI_1"), State::kMaster);
  children.finish_all("check-it", 2);
  EXPECT_EQ(state("VI_1"), State::kFault);
  EXPECT_FALSE(host.has_address("eth0", "10.0.0.254/24"));
  EXPECT_EQ(host.adverts_of("VI_1").back().advert.priority, 0) << "leaving MASTER: priority 0";
  run_for(1s);
  children.finish_all("check-it", 0);
  EXPECT_EQ(state("VI_1"), State::kBackup);
  run_for(4s);
  EXPECT_EQ(state("VI_1"), State::kMaster);
}

TEST_F(DaemonTest, TrackedInterfaceDownFaultsOrLowersPriorityByWeight) {
  start(kGlobal +
        instance("VI_1", "eth0", 1, 150, "10.0.0.254/24", "  track_interface {\n    eth1\n  }\n") +
        instance("VI_2", "eth0", 2, 150, "10.0.0.253/24",
                 "  track_interface {\n    eth2 weight -50\n    eth1 weight 10\n  }\n"));
  run_for(4s);
  ASSERT_EQ(state("VI_1"), State::kMaster);
  ASSERT_EQ(state("VI_2"), State::kMaster);
  EXPECT_EQ(in("VI_2").router().priority(), 160) << "+10 while eth1 is up";

  host.set_running("eth1", false);
  run_for(100ms);  // the link poll
  EXPECT_EQ(state("VI_1"), State::kFault) << "weight 0: FAULT";
  EXPECT_FALSE(host.has_address("eth0", "10.0.0.254/24"));
  EXPECT_EQ(state("VI_2"), State::kMaster);
  EXPECT_EQ(in("VI_2").router().priority(), 150);

  host.set_running("eth2", false);
  run_for(100ms);
  EXPECT_EQ(in("VI_2").router().priority(), 100) << "-50 while eth2 is down";

  host.set_running("eth1", true);
  host.set_running("eth2", true);
  run_for(100ms);
  EXPECT_EQ(state("VI_1"), State::kBackup);
  EXPECT_EQ(in("VI_2").router().priority(), 160);
  run_for(4s);
  EXPECT_EQ(state("VI_1"), State::kMaster);

  host.set_running("eth0", false);  // the instance's own interface
  run_for(100ms);
  EXPECT_EQ(state("VI_1"), State::kFault);
  EXPECT_EQ(state("VI_2"), State::kFault);
}

TEST_F(DaemonTest, NotifyScriptsRunOnEachTransitionWithTheirArguments) {
  start(kGlobal + instance("VI_1", "eth0", 1, 100, "10.0.0.254/24",
                           "  notify_master \"/n/master\"\n  notify_backup \"/n/backup\"\n"
                           "  notify_fault \"/n/fault\"\n  notify_stop \"/n/stop\"\n"
                           "  notify \"/n/any\"\n  track_interface {\n    eth1\n  }\n"));
  auto expect = [&](std::vector<std::string> want) {
    EXPECT_EQ(children.commands(), want);
    for (auto& c : children.children) {
      EXPECT_EQ(c.spec.argv.size(), 3u);
      EXPECT_EQ(c.spec.argv[0], "/bin/sh");
      EXPECT_EQ(c.spec.argv[1], "-c");
      EXPECT_EQ(c.spec.timeout, Duration{0});
    }
  };
  expect({"/n/backup", "/n/any INSTANCE VI_1 BACKUP 100"});
  run_for(4s);
  expect({"/n/backup", "/n/any INSTANCE VI_1 BACKUP 100", "/n/master",
          "/n/any INSTANCE VI_1 MASTER 100"});
  host.set_running("eth1", false);
  run_for(100ms);
  host.set_running("eth1", true);
  run_for(100ms);
  daemon->shutdown();
  expect({"/n/backup", "/n/any INSTANCE VI_1 BACKUP 100", "/n/master",
          "/n/any INSTANCE VI_1 MASTER 100", "/n/fault", "/n/any INSTANCE VI_1 FAULT 100",
          "/n/backup", "/n/any INSTANCE VI_1 BACKUP 100", "/n/stop",
          "/n/any INSTANCE VI_1 STOP 100"});
}

// The reload of the brief: notify_master, unicast_src_ip and garp_* of a kept MASTER change.
TEST_F(DaemonTest, ReloadAppliesNotifyUnicastSourceAndGarpOfAKeptMaster) {
  auto conf = [](const char* src, const char* notify, int repeat, int delay) {
    return kGlobal + instance("VI_1", "eth0", 1, 100, "10.0.0.254/24",
                              fmt::format("  unicast_src_ip {}\n  unicast_peer {{\n    10.0.0.2\n"
                                          "  }}\n  notify_master \"{}\"\n"
                                          "  garp_master_repeat {}\n  garp_master_delay {}\n",
                                          src, notify, repeat, delay));
  };
  start(conf("10.0.0.1", "old-master", 5, 5));
  run_for(4s);
  ASSERT_EQ(state("VI_1"), State::kMaster);
  EXPECT_EQ(count("old-master"), 1);
  EXPECT_EQ(host.adverts_of("VI_1").back().src4.to_string(), "10.0.0.1");
  run_for(6s);  // past the second GARP burst
  size_t frames_before = host.frames.size();

  ASSERT_TRUE(reload_text(conf("10.0.0.11", "new-master", 2, 1)).ok());
  EXPECT_EQ(state("VI_1"), State::kMaster) << "an unchanged MASTER stays MASTER";
  EXPECT_EQ(in("VI_1").router().counters().became_master, 1u);
  EXPECT_EQ(host.frames.size(), frames_before) << "no announcement: the VIPs did not move";
  TimePoint reloaded = clock.now();
  run_for(1s);
  auto sent = host.adverts_of("VI_1");
  ASSERT_GT(sent.size(), 0u);
  EXPECT_GE(sent.back().at, reloaded);
  EXPECT_EQ(sent.back().src4.to_string(), "10.0.0.11") << "adverts from the new unicast_src_ip";
  EXPECT_EQ(sent.back().to[0].address_string(), "10.0.0.2");

  // The next takeover runs the new notify_master and announces 2 + 2, 1 s apart.
  peer_advert("VI_1", 200, "10.0.0.2");
  ASSERT_EQ(state("VI_1"), State::kBackup);
  TimePoint lost = clock.now();
  run_for(5s);
  ASSERT_EQ(state("VI_1"), State::kMaster);
  EXPECT_EQ(count("new-master"), 1);
  EXPECT_EQ(count("old-master"), 1);
  auto b = bursts("eth0", lost);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].second, 2u);
  EXPECT_EQ(b[1].second, 2u);
  EXPECT_EQ(b[1].first - b[0].first, Duration(1s));
  // Each frame is a gratuitous ARP for the VIP from eth0's MAC.
  for (auto& f : host.frames.back().frames) {
    ByteReader r(f);
    auto eth = packet::decode_ethernet(r);
    auto arp = packet::decode_arp(r);
    ASSERT_TRUE(eth.ok() && arp.ok());
    EXPECT_EQ(eth->src.to_string(), "02:00:00:00:00:01");
    EXPECT_EQ(arp->target_ip.to_string(), "10.0.0.254");
  }
}

TEST_F(DaemonTest, McastSrcIpIsTheSourceOfMulticastAdverts) {
  start(kGlobal + instance("VI_1", "eth0", 1, 200, "10.0.0.254/24", "  mcast_src_ip 10.0.0.77\n"));
  run_for(4s);
  ASSERT_EQ(state("VI_1"), State::kMaster);
  auto sent = host.adverts_of("VI_1");
  ASSERT_FALSE(sent.empty());
  for (auto& a : sent) {
    EXPECT_EQ(a.src4.to_string(), "10.0.0.77");
    EXPECT_TRUE(a.to.empty()) << "multicast, not unicast";
  }
}

// virtual_routes / virtual_rules follow MASTER: added on entering it, removed on leaving it for
// BACKUP (a higher priority peer) or FAULT (its interface down), and at stop.
TEST_F(DaemonTest, VirtualRoutesAndRulesFollowMaster) {
  const std::string routes =
      "  virtual_routes {\n    10.9.0.0/16 via 10.0.0.254 dev eth0\n"
      "    blackhole 10.66.0.0/16 no_track\n  }\n"
      "  virtual_rules {\n    from 10.0.0.0/24 table 100 priority 100\n  }\n";
  start(kGlobal + instance("VI_1", "eth0", 1, 200, "10.0.0.254/24", routes));
  const std::set<std::string> want_routes = {"10.9.0.0/16 via 10.0.0.254 dev eth0",
                                             "blackhole 10.66.0.0/16"};
  const std::set<std::string> want_rules = {"from 10.0.0.0/24 lookup 100 priority 100"};
  EXPECT_EQ(state("VI_1"), State::kBackup);
  EXPECT_TRUE(host.routes.empty());
  EXPECT_TRUE(host.rules.empty());
  run_for(4s);
  ASSERT_EQ(state("VI_1"), State::kMaster);
  EXPECT_EQ(host.routes, want_routes);
  EXPECT_EQ(host.rules, want_rules);
  EXPECT_TRUE(host.has_address("eth0", "10.0.0.254/24"));

  peer_advert("VI_1", 250, "10.0.0.2");  // a higher priority master: BACKUP
  ASSERT_EQ(state("VI_1"), State::kBackup);
  EXPECT_TRUE(host.routes.empty());
  EXPECT_TRUE(host.rules.empty());

  run_for(4s);  // the peer went silent: MASTER again
  ASSERT_EQ(state("VI_1"), State::kMaster);
  EXPECT_EQ(host.routes, want_routes);

  host.set_running("eth0", false);  // FAULT
  run_for(500ms);
  ASSERT_EQ(state("VI_1"), State::kFault);
  EXPECT_TRUE(host.routes.empty());
  EXPECT_TRUE(host.rules.empty());

  host.set_running("eth0", true);
  run_for(4s);
  ASSERT_EQ(state("VI_1"), State::kMaster);
  EXPECT_EQ(host.rules, want_rules);
  daemon->shutdown();
  EXPECT_TRUE(host.routes.empty());
  EXPECT_TRUE(host.rules.empty());
  EXPECT_FALSE(host.has_address("eth0", "10.0.0.254/24"));
}

// SIGHUP under a master: routes and rules no longer written go, new ones come, kept ones stay;
// a backup installs nothing.
TEST_F(DaemonTest, ReloadSwapsTheVirtualRoutesOfAMaster) {
  auto conf = [&](const std::string& r1, const std::string& r2, const std::string& rule) {
    return kGlobal +
           instance("VI_1", "eth0", 1, 200, "10.0.0.254/24",
                    "  virtual_routes {\n    " + r1 + "\n    " + r2 + "\n  }\n" +
                        "  virtual_rules {\n    " + rule + "\n  }\n") +
           instance("VI_2", "eth1", 2, 50, "10.1.0.254/24",
                    "  virtual_routes {\n    10.77.0.0/16 dev eth1\n  }\n");
  };
  start(conf("10.9.0.0/16 dev eth0", "10.10.0.0/16 dev eth0", "to 10.9.0.0/16 table 7 priority 7"));
  run_for(4s);
  ASSERT_EQ(state("VI_1"), State::kMaster);
  EXPECT_EQ(host.routes, (std::set<std::string>{"10.9.0.0/16 dev eth0", "10.10.0.0/16 dev eth0",
                                                "10.77.0.0/16 dev eth1"}));
  // VI_2 (priority 50) also became master with no peer; make it a backup behind a peer.
  peer_advert("VI_2", 250, "10.1.0.2");
  ASSERT_EQ(state("VI_2"), State::kBackup);
  EXPECT_EQ(host.routes, (std::set<std::string>{"10.9.0.0/16 dev eth0", "10.10.0.0/16 dev eth0"}));

  ASSERT_TRUE(reload_text(conf("10.10.0.0/16 dev eth0", "10.11.0.0/16 dev eth0 metric 5",
                               "to 10.11.0.0/16 table 7 priority 8")));
  ASSERT_EQ(state("VI_1"), State::kMaster);
  EXPECT_EQ(host.routes,
            (std::set<std::string>{"10.10.0.0/16 dev eth0", "10.11.0.0/16 dev eth0 metric 5"}));
  EXPECT_EQ(host.rules, (std::set<std::string>{"from all to 10.11.0.0/16 lookup 7 priority 8"}));
  daemon->shutdown();
  EXPECT_TRUE(host.routes.empty());
  EXPECT_TRUE(host.rules.empty());
}

// static_ipaddress / static_routes / static_rules: there from start to shutdown, whatever the
// instances do; a reload adds and removes the difference.
TEST_F(DaemonTest, StaticAddressesRoutesAndRulesLiveFromStartToStop) {
  auto conf = [&](const std::string& extra_route) {
    return kGlobal +
           "static_ipaddress {\n  192.168.50.1/24 dev eth2\n}\n"
           "static_routes {\n  192.168.60.0/24 via 192.168.50.254 dev eth2\n" +
           extra_route +
           "}\n"
           "static_rules {\n  from 192.168.50.0/24 table 50 priority 50\n}\n" +
           instance("VI_1", "eth0", 1, 200, "10.0.0.254/24");
  };
  start(conf(""));
  EXPECT_EQ(state("VI_1"), State::kBackup);
  EXPECT_TRUE(host.has_address("eth2", "192.168.50.1/24"));
  EXPECT_EQ(host.routes, (std::set<std::string>{"192.168.60.0/24 via 192.168.50.254 dev eth2"}));
  EXPECT_EQ(host.rules, (std::set<std::string>{"from 192.168.50.0/24 lookup 50 priority 50"}));
  ASSERT_TRUE(reload_text(conf("  unreachable 192.168.70.0/24 no_track\n")));
  EXPECT_EQ(host.routes, (std::set<std::string>{"192.168.60.0/24 via 192.168.50.254 dev eth2",
                                                "unreachable 192.168.70.0/24"}));
  ASSERT_TRUE(reload_text(kGlobal + instance("VI_1", "eth0", 1, 200, "10.0.0.254/24")));
  EXPECT_FALSE(host.has_address("eth2", "192.168.50.1/24"));
  EXPECT_TRUE(host.routes.empty());
  EXPECT_TRUE(host.rules.empty());
  ASSERT_TRUE(reload_text(conf("")));
  EXPECT_TRUE(host.has_address("eth2", "192.168.50.1/24"));
  daemon->shutdown();
  EXPECT_FALSE(host.has_address("eth2", "192.168.50.1/24"));
  EXPECT_TRUE(host.routes.empty());
  EXPECT_TRUE(host.rules.empty());
}

TEST_F(DaemonTest, ReloadMovesAMastersAddressesToANewInterface) {
  start(kGlobal + instance("VI_1", "eth0", 1, 100, "10.9.0.254/24"));
  run_for(4s);
  ASSERT_EQ(state("VI_1"), State::kMaster);
  ASSERT_TRUE(host.has_address("eth0", "10.9.0.254/24"));
  TimePoint t = clock.now();
  ASSERT_TRUE(reload_text(kGlobal + instance("VI_1", "eth1", 1, 100, "10.9.0.254/24")).ok());
  EXPECT_EQ(state("VI_1"), State::kMaster);
  EXPECT_FALSE(host.has_address("eth0", "10.9.0.254/24"));
  EXPECT_TRUE(host.has_address("eth1", "10.9.0.254/24"));
  EXPECT_EQ(bursts("eth1", t).size(), 1u) << "announced where it now is";
  run_for(1s);
  EXPECT_EQ(host.adverts_of("VI_1").back().src4.to_string(), "10.1.0.1");
}

TEST_F(DaemonTest, ReloadToAMissingInterfaceKeepsTheRunningInstance) {
  start(kGlobal + instance("VI_1", "eth0", 1, 100, "10.9.0.254/24"));
  run_for(4s);
  ASSERT_EQ(state("VI_1"), State::kMaster);
  const Instance* before = &in("VI_1");
  // The file parses, but its new interface does not exist: nothing of the running instance may
  // go (a master that drops its VIPs on a typo is an outage).
  EXPECT_FALSE(reload_text(kGlobal + instance("VI_1", "nosuch0", 1, 100, "10.9.0.254/24")).ok());
  EXPECT_EQ(&in("VI_1"), before);
  EXPECT_EQ(state("VI_1"), State::kMaster);
  EXPECT_TRUE(host.has_address("eth0", "10.9.0.254/24"));
  size_t sent = host.adverts_of("VI_1").size();
  run_for(2s);
  EXPECT_GT(host.adverts_of("VI_1").size(), sent) << "still advertising on eth0";
  EXPECT_EQ(host.adverts_of("VI_1").back().src4.to_string(), "10.0.0.1");
  // A good reload afterwards still applies.
  ASSERT_TRUE(reload_text(kGlobal + instance("VI_1", "eth1", 1, 100, "10.9.0.254/24")).ok());
  EXPECT_TRUE(host.has_address("eth1", "10.9.0.254/24"));
  EXPECT_FALSE(host.has_address("eth0", "10.9.0.254/24"));
}

TEST_F(DaemonTest, ReloadChangesPriorityInPlaceAndRestartsOnANewIdentity) {
  start(kGlobal + instance("VI_1", "eth0", 1, 150, "10.0.0.254/24"));
  run_for(4s);
  ASSERT_EQ(state("VI_1"), State::kMaster);
  const Instance* before = &in("VI_1");
  ASSERT_TRUE(reload_text(kGlobal + instance("VI_1", "eth0", 1, 110, "10.0.0.254/24")).ok());
  EXPECT_EQ(&in("VI_1"), before);
  EXPECT_EQ(state("VI_1"), State::kMaster);
  EXPECT_EQ(in("VI_1").router().priority(), 110);
  EXPECT_EQ(host.adverts_of("VI_1").back().advert.priority, 110) << "announced at once";

  ASSERT_TRUE(reload_text(kGlobal + instance("VI_1", "eth0", 1, 110, "10.0.0.250/24")).ok());
  EXPECT_EQ(state("VI_1"), State::kBackup) << "new virtual addresses: a new virtual router";
  EXPECT_FALSE(host.has_address("eth0", "10.0.0.254/24"));
  auto sent = host.adverts_of("VI_1");
  EXPECT_EQ(sent.back().advert.priority, 0) << "the old one left with priority 0";
}

TEST_F(DaemonTest, ReloadWithABrokenConfigChangesNothing) {
  std::string good = kGlobal + "vrrp_script chk {\n  script \"check-it\"\n  interval 1\n}\n" +
                     instance("VI_1", "eth0", 1, 100, "10.0.0.254/24",
                              "  notify_master \"old-master\"\n  track_script {\n    chk\n  }\n");
  start(good);
  children.finish_all("check-it", 0);
  run_for(4s);
  ASSERT_EQ(state("VI_1"), State::kMaster);
  const Instance* before = &in("VI_1");

  // A syntax error, then an unknown script_user: both refused.
  std::string broken = good;
  broken.replace(broken.find("notify_master \"old-master\""), 26,
                 "notify_master \"new-master\"\n  priority two hundred");
  EXPECT_FALSE(reload_text(broken).ok());
  std::string bad_user = "global_defs {\n  vrrp_version 3\n  script_user no-such-user-here\n}\n" +
                         good.substr(kGlobal.size());
  bad_user.replace(bad_user.find("old-master"), 10, "new-master");
  EXPECT_FALSE(reload_text(bad_user).ok());

  EXPECT_EQ(&in("VI_1"), before);
  EXPECT_EQ(state("VI_1"), State::kMaster);
  EXPECT_EQ(in("VI_1").router().counters().became_master, 1u);
  size_t sent = host.adverts_of("VI_1").size();
  ASSERT_EQ(children.finish_all("check-it", 0), 1);
  int checks = count("check-it");
  run_for(2s);
  EXPECT_GT(host.adverts_of("VI_1").size(), sent) << "still advertising";
  EXPECT_EQ(count("check-it"), checks + 1) << "the script keeps running";
  peer_advert("VI_1", 200, "10.0.0.2");
  run_for(5s);
  EXPECT_EQ(state("VI_1"), State::kMaster);
  EXPECT_EQ(count("old-master"), 2) << "the old notify_master still applies";
  EXPECT_EQ(count("new-master"), 0);
}

TEST_F(DaemonTest, ReloadReschedulesChangedScriptsAndDropsRemovedOnes) {
  std::string vi = instance("VI_1", "eth0", 1, 100, "10.0.0.254/24");
  start(kGlobal + "vrrp_script a {\n  script \"check-a\"\n  interval 1\n}\n" +
        "vrrp_script b {\n  script \"check-b\"\n  interval 1\n}\n" + vi);
  children.finish_all("check-a", 0);
  children.finish_all("check-b", 0);
  run_for(1s);
  EXPECT_EQ(count("check-a"), 2);
  ASSERT_TRUE(
      reload_text(kGlobal + "vrrp_script a {\n  script \"check-a\"\n  interval 3\n}\n" + vi).ok());
  // b's check still running when it was removed: cancelled, never run again.
  EXPECT_TRUE(std::any_of(children.children.begin(), children.children.end(),
                          [](auto& c) { return c.command() == "check-b" && c.cancelled; }));
  children.finish_all("check-a", 0);
  run_for(2900ms);
  EXPECT_EQ(count("check-a"), 2) << "every 3 s now";
  run_for(100ms);
  EXPECT_EQ(count("check-a"), 3);
  run_for(3s);
  EXPECT_EQ(count("check-b"), 2);
}

TEST_F(DaemonTest, NoAcceptCoversTheVipsOfNonOwnerMasters) {
  start(kGlobal + instance("VI_1", "eth0", 1, 100, "10.0.0.254/24", "  no_accept\n") +
        instance("VI_2", "eth0", 2, 100, "10.0.0.253/24"));
  EXPECT_TRUE(host.no_accept.empty()) << "nothing to filter while BACKUP";
  run_for(4s);
  ASSERT_EQ(state("VI_1"), State::kMaster);
  ASSERT_FALSE(host.no_accept.empty());
  EXPECT_EQ(host.no_accept.back().v4, std::vector{*packet::Ipv4Address::parse("10.0.0.254")});
  // Reload with `accept`: lifted without a transition.
  ASSERT_TRUE(reload_text(kGlobal + instance("VI_1", "eth0", 1, 100, "10.0.0.254/24") +
                          instance("VI_2", "eth0", 2, 100, "10.0.0.253/24"))
                  .ok());
  EXPECT_EQ(state("VI_1"), State::kMaster);
  EXPECT_TRUE(host.no_accept.back().empty());
}

TEST_F(DaemonTest, UseVmacPutsTheVipsOnTheVirtualMacAndAnnouncesFromIt) {
  start(kGlobal + instance("VI_1", "eth0", 51, 100, "10.0.0.254/24", "  use_vmac\n"));
  EXPECT_EQ(host.vmacs, std::set<std::string>{"vrrp.51"});
  run_for(4s);
  ASSERT_EQ(state("VI_1"), State::kMaster);
  EXPECT_TRUE(host.has_address("vrrp.51", "10.0.0.254/24"));
  EXPECT_FALSE(host.has_address("eth0", "10.0.0.254/24"));
  ASSERT_FALSE(host.frames.empty());
  EXPECT_EQ(host.frames.back().dev, "vrrp.51");
  ByteReader r(host.frames.back().frames[0]);
  EXPECT_EQ(packet::decode_ethernet(r)->src.to_string(), "00:00:5e:00:01:33");
  // Reload without use_vmac: the VMAC goes, the VIPs move to eth0, mastership stays.
  ASSERT_TRUE(reload_text(kGlobal + instance("VI_1", "eth0", 51, 100, "10.0.0.254/24")).ok());
  EXPECT_EQ(state("VI_1"), State::kMaster);
  EXPECT_TRUE(host.vmacs.empty());
  EXPECT_TRUE(host.has_address("eth0", "10.0.0.254/24"));
  daemon->shutdown();
  EXPECT_FALSE(host.has_address("eth0", "10.0.0.254/24"));
}

}  // namespace
}  // namespace vnet::vrrp
