#include "vrrp/keepalived_conf.hh"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace vnet;
using namespace vnet::vrrp;
using namespace std::chrono_literals;

namespace {

// As on the production routers: one instance per interface, PASS authentication, one sync group.
const char* kRouter = R"(! Configuration File for keepalived
global_defs {
   router_id r1
   notification_email { ops@example.org }
   vrrp_skip_check_adv_addr
   enable_script_security
   script_user root
}

vrrp_script chk_uplink {
    script "/usr/local/bin/check_uplink.sh eth2"
    interval 2
    weight -60
    fall 3
    rise 2
}

vrrp_sync_group CAMPUS {
    group {
        VI_10
        VI_20
    }
    notify_master "/etc/keepalived/notify.sh master"
}

vrrp_instance VI_10 {
    state MASTER
    interface vlan10
    virtual_router_id 10
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass campus-secret
    }
    virtual_ipaddress {
        10.0.10.1/24 dev vlan10 label vlan10:vip
    }
    track_script {
        chk_uplink
    }
    notify_backup "/etc/keepalived/notify.sh backup"
}

vrrp_instance VI_20 {
    state MASTER
    interface vlan20
    virtual_router_id 20
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass campus
    }
    virtual_ipaddress {
        10.0.20.1/24
    }
    nb_get_retry 3
}
)";

TEST(KeepalivedConf, SyncGroupOfTwoInstancesWithPassAuth) {
  auto r = parse_keepalived_conf(kRouter, "keepalived.conf");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& c = *r;
  EXPECT_EQ(c.global.router_id, "r1");
  EXPECT_TRUE(c.global.skip_check_adv_addr);
  ASSERT_EQ(c.instances.size(), 2u);
  const auto& i10 = c.instances[0];
  EXPECT_EQ(i10.name, "VI_10");
  EXPECT_EQ(i10.interface, "vlan10");
  EXPECT_EQ(i10.vrid, 10);
  EXPECT_EQ(i10.priority, 150);
  EXPECT_EQ(i10.advert_int, 1s);
  EXPECT_EQ(i10.effective_version(c.global.vrrp_version), 2);
  EXPECT_EQ(i10.auth_type, AuthType::kSimpleText);
  EXPECT_EQ(i10.auth_pass, "campus-s");  // truncated to 8, as keepalived does
  ASSERT_EQ(i10.vips.size(), 1u);
  EXPECT_EQ(i10.vips[0].prefix.to_string(), "10.0.10.1/24");
  EXPECT_EQ(i10.vips[0].dev, "vlan10");
  EXPECT_EQ(i10.vips[0].label, "vlan10:vip");
  ASSERT_EQ(i10.track_scripts.size(), 1u);
  EXPECT_EQ(i10.notify_backup, "/etc/keepalived/notify.sh backup");
  ASSERT_EQ(c.sync_groups.size(), 1u);
  EXPECT_EQ(c.sync_groups[0].instances, (std::vector<std::string>{"VI_10", "VI_20"}));
  EXPECT_EQ(c.sync_groups[0].notify_master, "/etc/keepalived/notify.sh master");
  ASSERT_EQ(c.scripts.size(), 1u);
  EXPECT_EQ(c.scripts[0].script, "/usr/local/bin/check_uplink.sh eth2");
  EXPECT_EQ(c.scripts[0].weight, -60);
  EXPECT_EQ(c.scripts[0].fall, 3);
  EXPECT_EQ(c.scripts[0].interval, 2s);
  // Warnings: the truncation and the removed keyword, each with file:line.
  bool truncated = false, unknown = false;
  for (auto& w : c.warnings) {
    truncated |= w.find("keepalived.conf:34: Truncating auth_pass") == 0;
    unknown |= w.find("keepalived.conf:58: unknown keyword 'nb_get_retry'") == 0;
  }
  EXPECT_TRUE(truncated);
  EXPECT_TRUE(unknown);
}

TEST(KeepalivedConf, V3FractionsIpv6AndUnicast) {
  auto r = parse_keepalived_conf(R"(
global_defs { vrrp_version 3 }
vrrp_instance V6 {
  interface eth0
  virtual_router_id 78
  priority 120
  advert_int 0.01
  nopreempt
  preempt_delay 5
  unicast_src_ip fe80::1
  unicast_peer {
    fe80::2
  }
  virtual_ipaddress {
    fd00:77::254/64
  }
  use_vmac vrrp.78
}
)",
                                 "v6.conf");
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto& in = r->instances[0];
  EXPECT_TRUE(in.ipv6);
  EXPECT_EQ(in.effective_version(r->global.vrrp_version), 3);
  EXPECT_EQ(in.advert_int, 10ms);
  EXPECT_TRUE(in.nopreempt);
  EXPECT_EQ(in.preempt_delay, 5s);
  ASSERT_EQ(in.unicast_peers.size(), 1u);
  EXPECT_TRUE(in.use_vmac);
  EXPECT_EQ(in.vmac_name, "vrrp.78");
}

TEST(KeepalivedConf, UseVmacDefaultNameXmitBaseAndBadName) {
  auto r = parse_keepalived_conf(R"(vrrp_instance A {
  interface eth0
  virtual_router_id 7
  virtual_ipaddress {
    10.0.0.254/24
  }
  use_vmac
  vmac_xmit_base
}
)",
                                 "vmac.conf");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->instances[0].use_vmac);
  EXPECT_EQ(r->instances[0].vmac_name, "");  // the daemon names it vrrp.7
  EXPECT_TRUE(r->instances[0].vmac_xmit_base);
  EXPECT_TRUE(r->warnings.empty()) << r->warnings[0];

  auto bad = parse_keepalived_conf(R"(vrrp_instance A {
  interface eth0
  virtual_router_id 7
  virtual_ipaddress {
    10.0.0.254/24
  }
  use_vmac a-name-far-too-long
}
)",
                                   "vmac.conf");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("vmac.conf:7: use_vmac: interface name 'a-name-far-too-long' "
                                     "is longer than 15 characters"),
            std::string::npos)
      << bad.error().message;
}

TEST(KeepalivedConf, StrictModeAsKeepalived) {
  const char* text = R"(global_defs {
  vrrp_strict
}
vrrp_instance A {
  state MASTER
  interface eth0
  virtual_router_id 7
  priority 100
  accept
  authentication {
    auth_type PASS
    auth_pass secret
  }
  virtual_ipaddress {
    10.0.0.254/24
  }
}
)";
  auto r = parse_keepalived_conf(text, "strict.conf");
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto& in = r->instances[0];
  EXPECT_EQ(in.auth_type, AuthType::kNone);
  EXPECT_EQ(in.state, "BACKUP");
  EXPECT_FALSE(in.accepts());
  std::string all;
  for (auto& w : r->warnings) all += w + "\n";
  EXPECT_NE(all.find("strict.conf:4: A: Strict mode does not support authentication. Ignoring."),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("State MASTER must match being address owner"), std::string::npos) << all;
  EXPECT_NE(all.find("accept is not allowed in strict mode"), std::string::npos) << all;

  // Without strict: accept by default, no_accept when asked, the owner (255) always accepts.
  std::string relaxed = text;
  relaxed.replace(relaxed.find("vrrp_strict"), 11, "router_id x");
  relaxed.replace(relaxed.find("  accept\n"), 9, "  no_accept\n");
  auto n = parse_keepalived_conf(relaxed, "relaxed.conf");
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_FALSE(n->instances[0].accepts());
  n->instances[0].priority = 255;
  EXPECT_TRUE(n->instances[0].accepts());

  auto unicast = parse_keepalived_conf(R"(global_defs { vrrp_strict }
vrrp_instance U {
  interface eth0
  virtual_router_id 8
  unicast_peer {
    10.0.0.2
  }
  virtual_ipaddress {
    10.0.0.254/24
  }
}
)",
                                       "u.conf");
  ASSERT_FALSE(unicast.ok());
  EXPECT_NE(unicast.error().message.find("u.conf:2: U: strict mode does not support unicast peers"),
            std::string::npos)
      << unicast.error().message;
}

TEST(KeepalivedConf, ErrorsNameFileAndLineAllAtOnce) {
  auto r = parse_keepalived_conf(R"(vrrp_instance A {
  interface eth0
  virtual_router_id 300
  priority 100
  advert_int 0.5
  virtual_ipaddress {
    10.0.0.300
  }
  track_script {
    missing
  }
}
vrrp_sync_group G {
  group { A B }
}
)",
                                 "bad.conf");
  ASSERT_FALSE(r.ok());
  const std::string& m = r.error().message;
  EXPECT_NE(m.find("bad.conf:3: 'virtual_router_id' 300: expected a whole number from 1 to 255"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("bad.conf:7: bad IPv4 address '10.0.0.300'"), std::string::npos) << m;
  EXPECT_NE(m.find("VRRPv2 advert_int must be whole seconds"), std::string::npos) << m;
  EXPECT_NE(m.find("tracks script missing"), std::string::npos) << m;
  EXPECT_NE(m.find("bad.conf:13: sync group G names B"), std::string::npos) << m;
}

TEST(KeepalivedConf, IncludeWithGlob) {
  auto dir = std::filesystem::path(::testing::TempDir()) / "vnet_ka_include";
  std::filesystem::create_directories(dir / "conf.d");
  std::ofstream(dir / "conf.d" / "a.conf")
      << "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n  "
         "10.0.0.1\n }\n}\n";
  std::ofstream(dir / "conf.d" / "b.conf")
      << "vrrp_instance B {\n interface eth1\n virtual_router_id 2\n virtual_ipaddress {\n  "
         "10.0.1.1\n }\n bogus 1\n}\n";
  std::ofstream(dir / "keepalived.conf")
      << "global_defs {\n router_id x\n}\ninclude conf.d/*.conf\n";
  auto r = load_keepalived_conf((dir / "keepalived.conf").string());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->instances.size(), 2u);
  EXPECT_EQ(r->files.size(), 3u);
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("b.conf:7: unknown keyword 'bogus'"), std::string::npos)
      << r->warnings[0];
}

}  // namespace
