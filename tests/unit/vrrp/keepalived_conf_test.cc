#include "vrrp/keepalived_conf.hh"

#include "base/file.hh"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

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

// ---- hostile and sloppy input ----------------------------------------------------------------

namespace fs = std::filesystem;

// A fresh directory per test, with files written into it.
class KeepalivedConfFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::path(::testing::TempDir()) /
        ("vnet_ka_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  std::string load_error(const std::string& path) {
    auto r = load_keepalived_conf(path);
    EXPECT_FALSE(r.ok()) << path << " loaded";
    return r.ok() ? "" : r.error().message;
  }
  fs::path dir_;
};

const char* kInstance = R"(vrrp_instance A {
  interface eth0
  virtual_router_id 1
  virtual_ipaddress {
    10.0.0.1
  }
}
)";

std::string repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(KeepalivedConfHostile, HundredThousandNestedBracesAreAnErrorNotACrash) {
  // Once this overflowed the stack (recursive block parser): SIGSEGV, and on SIGHUP the running
  // daemon died with its VIPs configured.
  auto r = parse_keepalived_conf(repeat("a{", 100000) + repeat("}", 100000) + "\n", "deep.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("deep.conf:1: blocks nested more than 64 deep"),
            std::string::npos)
      << r.error().message.substr(0, 500);
  // One line per brace, never closed: the error names the line where the limit was passed.
  auto lines = parse_keepalived_conf(repeat("a {\n", 100000), "lines.conf");
  ASSERT_FALSE(lines.ok());
  EXPECT_NE(lines.error().message.find("lines.conf:65: blocks nested more than 64 deep"),
            std::string::npos)
      << lines.error().message.substr(0, 500);
  EXPECT_NE(lines.error().message.find("block is not closed"), std::string::npos);
  // Stray braces by the hundred thousand: errors, counted past the first hundred.
  auto stray = parse_keepalived_conf(repeat("}\n", 100000), "stray.conf");
  ASSERT_FALSE(stray.ok());
  EXPECT_NE(stray.error().message.find("stray.conf:1: '}' without a matching '{'"),
            std::string::npos);
  EXPECT_NE(stray.error().message.find("... and 99900 more errors"), std::string::npos)
      << stray.error().message.substr(stray.error().message.size() - 200);
}

TEST(KeepalivedConfHostile, NestingUpToTheLimitParses) {
  // 64 blocks deep (global_defs and 63 unknown ones inside) is allowed.
  std::string text = "global_defs {\n" + repeat("x {\n", 63) + repeat("}\n", 64) + kInstance;
  auto r = parse_keepalived_conf(text, "limit.conf");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->instances.size(), 1u);
  auto over = parse_keepalived_conf(
      "global_defs {\n" + repeat("x {\n", 64) + repeat("}\n", 65) + kInstance, "over.conf");
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().message, "over.conf:65: blocks nested more than 64 deep");
}

TEST(KeepalivedConfHostile, AQuotedBraceIsAWord) {
  auto r = parse_keepalived_conf(std::string(R"(vrrp_script s {
  script /bin/echo "{"
}
)") + kInstance,
                                 "q.conf");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->scripts[0].script, "/bin/echo {");
}

TEST_F(KeepalivedConfFiles, IncludeOfADeviceOrFifoIsAnError) {
  std::string zero = write("zero.conf", "include /dev/zero\n");
  EXPECT_EQ(load_error(zero),
            zero + ":1: include /dev/zero: /dev/zero: not a regular file (a character device)");
  std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string f = write("fifo.conf", "include fifo\n");
  EXPECT_EQ(load_error(f), f + ":1: include fifo: " + fifo + ": not a regular file (a FIFO)");
  // The main file too.
  EXPECT_EQ(load_error("/dev/zero"), "/dev/zero: not a regular file (a character device)");
  EXPECT_EQ(load_error(fifo), fifo + ": not a regular file (a FIFO)");
  EXPECT_EQ(load_error((dir_ / "missing.conf").string()),
            (dir_ / "missing.conf").string() + ": cannot open: No such file or directory");
}

TEST_F(KeepalivedConfFiles, IncludeOfATooLargeFileIsAnError) {
  write("big.conf", std::string(kMaxConfigBytes + 1, '\n'));
  std::string main = write("main.conf", "include big.conf\n");
  EXPECT_EQ(load_error(main),
            main + ":1: include big.conf: " + (dir_ / "big.conf").string() + ": larger than 4 MiB");
}

TEST_F(KeepalivedConfFiles, IncludeLoopStopsAtTheDepthLimit) {
  write("a.conf", "include b.conf\n");
  write("b.conf", "include a.conf\n");
  std::string main = write("main.conf", std::string(kInstance) + "include a.conf\n");
  std::string m = load_error(main);
  EXPECT_NE(m.find("include a.conf: includes nested more than 8 deep (does a file include "
                   "itself?)"),
            std::string::npos)
      << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << "one error, not one per level: " << m;
  // A file including itself.
  std::string self = write("self.conf", "include self.conf\n");
  EXPECT_NE(load_error(self).find("nested more than 8 deep"), std::string::npos);
}

TEST_F(KeepalivedConfFiles, IncludeBombStopsAtTheFileCountLimit) {
  // Each of three files includes the next 20 times: 8,000 files if nothing stopped it.
  for (int i = 0; i < 3; ++i) {
    write(fmt::format("f{}.conf", i), repeat(fmt::format("include f{}.conf\n", i + 1), 20));
  }
  write("f3.conf", "! leaf\n");
  std::string m = load_error(write("main.conf", "include f0.conf\n"));
  EXPECT_NE(m.find(": include f3.conf: more than 256 files included in all"), std::string::npos)
      << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
}

TEST_F(KeepalivedConfFiles, GlobMatchingTooManyFilesIsAnError) {
  for (size_t i = 0; i < kMaxIncludedFiles; ++i) write(fmt::format("d/{:03}.conf", i), "! empty\n");
  std::string main = write("main.conf", std::string(kInstance) + "include d/*.conf\n");
  auto ok = load_keepalived_conf(main);  // exactly the limit
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->files.size(), kMaxIncludedFiles + 1);
  write("d/zzz.conf", "! one more\n");
  EXPECT_EQ(load_error(main), main + ":8: include d/*.conf: matches more than 256 files");
}

TEST_F(KeepalivedConfFiles, WildcardMatchingNothingIsSkippedANamedFileMustExist) {
  std::string main = write("main.conf", std::string(kInstance) + "include conf.d/*.conf\n");
  auto r = load_keepalived_conf(main);  // keepalived: no error when a wildcard matches nothing
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_TRUE(r->warnings.empty());
  std::string named = write("named.conf", std::string(kInstance) + "include other.conf\n");
  EXPECT_EQ(load_error(named), named + ":8: include other.conf: " + (dir_ / "other.conf").string() +
                                   ": cannot open: No such file or directory");
  write("conf.d/sub/x.conf", "! a directory matched by the wildcard is skipped\n");
  std::string dirs = write("dirs.conf", std::string(kInstance) + "include conf.d/*\n");
  auto d = load_keepalived_conf(dirs);
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->warnings.size(), 1u);
  EXPECT_NE(d->warnings[0].find("is a directory (skipped)"), std::string::npos) << d->warnings[0];
  EXPECT_EQ(load_error(write("bare.conf", "include\n")),
            (dir_ / "bare.conf").string() + ":1: include: expected one file name or pattern");
}

TEST(KeepalivedConfStrict, NumbersAreWholeAndInRange) {
  auto bad = [](const std::string& body) {
    std::string text =
        "vrrp_script s {\n script /bin/true\n}\nvrrp_instance A {\n interface eth0\n"
        " virtual_router_id 1\n virtual_ipaddress {\n  10.0.0.1\n }\n" +
        body + "}\n";
    auto r = parse_keepalived_conf(text, "n.conf");
    return r.ok() ? std::string("(accepted)") : r.error().message;
  };
  // Once `weight abc` silently became 0 (atoi): a FAULT-on-failure tracker instead of a weight.
  EXPECT_EQ(bad(" track_interface {\n  eth1 weight abc\n }\n"),
            "n.conf:11: 'weight' abc: expected a whole number from -254 to 254");
  EXPECT_EQ(bad(" track_script {\n  s weight abc\n }\n"),
            "n.conf:11: 'weight' abc: expected a whole number from -254 to 254");
  EXPECT_EQ(bad(" track_script {\n  s weight 10x\n }\n"),
            "n.conf:11: 'weight' 10x: expected a whole number from -254 to 254");
  EXPECT_EQ(bad(" track_interface {\n  eth1 weight\n }\n"),
            "n.conf:11: eth1 weight: 'weight' needs a value");
  EXPECT_EQ(bad(" track_interface {\n  eth1 wieght 10\n }\n"),
            "n.conf:11: eth1 wieght: expected NAME [weight N]");
  EXPECT_EQ(bad(" track_interface {\n  eth1 weight 10 reverse\n }\n"),
            "n.conf:11: eth1: 'reverse' weights are not supported");
  EXPECT_EQ(bad(" priority 1x\n"),
            "n.conf:10: 'priority' 1x: expected a whole number from 1 to 255");
  EXPECT_EQ(bad(" priority 100 200\n"), "n.conf:10: 'priority' 100: expected one value, not 2");
  EXPECT_EQ(bad(" priority\n"), "n.conf:10: 'priority' needs a value");
  EXPECT_EQ(bad(" advert_int abc\n"),
            "n.conf:10: 'advert_int' abc: expected seconds from 0.01 to 255");
  EXPECT_EQ(bad(" advert_int 1e3\n"),
            "n.conf:10: 'advert_int' 1e3: expected seconds from 0.01 to 255");
  EXPECT_EQ(bad(" advert_int 100ms\n"),
            "n.conf:10: 'advert_int' 100ms: expected seconds from 0.01 to 255");
  EXPECT_EQ(bad(" garp_master_repeat -1\n"),
            "n.conf:10: 'garp_master_repeat' -1: expected a whole number from 1 to 255");
  EXPECT_EQ(bad(" interface a-name-far-too-long\n"),
            "n.conf:10: 'interface' a-name-far-too-long: expected an interface name of 1 to 15 "
            "characters without '/', ':' or spaces");
  EXPECT_EQ(bad(" state master\n"), "n.conf:10: 'state' master: expected MASTER or BACKUP");
  auto script = parse_keepalived_conf(
      std::string("vrrp_script s {\n script /bin/true\n weight 5x\n fall 0\n}\n") + kInstance,
      "s.conf");
  ASSERT_FALSE(script.ok());
  EXPECT_EQ(script.error().message,
            "s.conf:3: 'weight' 5x: expected a whole number from -253 to 253\n"
            "s.conf:4: 'fall' 0: expected a whole number from 1 to 1000000");
}

TEST(KeepalivedConfStrict, WeightOf254BecomesTheLimitWithKeepalivedsWarning) {
  auto r = parse_keepalived_conf(R"(vrrp_instance A {
  interface eth0
  virtual_router_id 1
  virtual_ipaddress {
    10.0.0.1
  }
  track_interface {
    eth1 weight -254
    eth2 weight 254 noreverse
  }
}
)",
                                 "w.conf");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->instances[0].track_interfaces.size(), 2u);
  EXPECT_EQ(r->instances[0].track_interfaces[0].weight, -253);
  EXPECT_EQ(r->instances[0].track_interfaces[1].weight, 253);
  ASSERT_EQ(r->warnings.size(), 2u);
  EXPECT_EQ(r->warnings[0], "w.conf:8: weight for eth1 cannot be +/-254. Setting to +/-253");
}

TEST(KeepalivedConfStrict, VipOptionsAsKeepalivedReadsThem) {
  auto r = parse_keepalived_conf(R"(vrrp_instance A {
  interface eth0
  virtual_router_id 1
  virtual_ipaddress {
    10.0.0.1/24 no_track dev eth1 label eth1:a brd +
  }
}
)",
                                 "vip.conf");
  ASSERT_TRUE(r.ok()) << r.error().message;
  const auto& v = r->instances[0].vips[0];
  EXPECT_EQ(v.dev, "eth1");  // a one-word option does not swallow the next word
  EXPECT_EQ(v.label, "eth1:a");
  EXPECT_EQ(v.brd, "+");
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_EQ(r->warnings[0], "vip.conf:5: VIP option 'no_track' is not supported (ignored)");
  auto bad = parse_keepalived_conf(R"(vrrp_instance A {
  interface eth0
  virtual_router_id 1
  virtual_ipaddress {
    10.0.0.1/24 dev
    10.0.0.2/24 brd 10.0.0.300
  }
}
)",
                                   "vip.conf");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message,
            "vip.conf:5: VIP 10.0.0.1/24: 'dev' needs a value\n"
            "vip.conf:6: 'brd' 10.0.0.300: expected an IPv4 address, + or -\n"
            "vip.conf:1: vrrp_instance A: no virtual_ipaddress");
}

// Every field of a configuration as keepalived users write it, as text: the parser hardening
// must not change what a real configuration means. The expected text was produced by the parser
// before the hardening.
const char* kReal = R"__(! Configuration File for keepalived
global_defs {
   router_id r1
   notification_email {
     ops@example.org
   }
   notification_email_from keepalived@r1
   smtp_server 127.0.0.1
   smtp_connect_timeout 30
   vrrp_skip_check_adv_addr
   vrrp_garp_master_delay 3
   vrrp_garp_master_repeat 2
   enable_script_security
   script_user root
}

vrrp_script chk_uplink {
    script "/usr/local/bin/check_uplink.sh eth2"
    interval 2
    timeout 1.5
    weight -60
    fall 3
    rise 2
}

vrrp_script chk_haproxy {
    script "/usr/bin/killall -0 haproxy"   # cheaper than pidof
    interval 0.25
    weight 2
}

vrrp_sync_group CAMPUS {
    group {
        VI_10
        VI_20
    }
    notify_master "/etc/keepalived/notify.sh master"
    notify_backup "/etc/keepalived/notify.sh backup"
    notify_fault "/etc/keepalived/notify.sh fault"
    notify /etc/keepalived/notify-all.sh
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
        10.0.10.2/24 brd 10.0.10.255 dev vlan10 scope global
    }
    virtual_ipaddress_excluded {
        10.0.11.1/24 dev vlan11
    }
    track_interface {
        eth2 weight -30
        eth3
    }
    track_script {
        chk_uplink
        chk_haproxy weight 20
    }
    garp_master_delay 1
    garp_master_repeat 3
    notify_backup "/etc/keepalived/notify.sh backup"
    notify_stop /etc/keepalived/stop.sh
}

vrrp_instance VI_20
{
    state BACKUP
    interface vlan20
    virtual_router_id 20
    priority 100
    advert_int 1
    nopreempt
    preempt_delay 30
    virtual_ipaddress {
        10.0.20.1/24
    }
    no_accept
    smtp_alert
}

vrrp_instance V6 {
    interface eth0
    virtual_router_id 78
    priority 120
    version 3
    advert_int 0.3
    unicast_src_ip fe80::1
    unicast_peer {
        fe80::2
        fe80::3
    }
    virtual_ipaddress {
        fd00:77::254/64
    }
    use_vmac vrrp.78
    vmac_xmit_base
    accept
}
)__";

std::string dump(const KeepalivedConfig& c) {
  std::string o;
  auto& g = c.global;
  o += fmt::format("global {} {} {} {} {} {} {} {}\n", g.router_id, g.vrrp_version, g.vrrp_strict,
                   g.enable_script_security, g.script_user, g.skip_check_adv_addr,
                   g.garp_master_delay.count(), g.garp_master_repeat);
  for (auto& in : c.instances) {
    o += fmt::format("inst {} {} {} {} {} {} {} {} {} {} {} {}\n", in.name, in.state, in.interface,
                     in.vrid, in.priority, in.advert_int.count(), in.version,
                     static_cast<int>(in.auth_type), in.auth_pass, in.nopreempt,
                     in.preempt_delay.count(), in.where.str());
    for (auto& v : in.vips) {
      o += fmt::format("  vip {} {} {} {} {}\n", v.prefix.to_string(), v.dev, v.label, v.brd,
                       v.where.str());
    }
    for (auto& v : in.vips_excluded) {
      o += fmt::format("  xvip {} {} {} {} {}\n", v.prefix.to_string(), v.dev, v.label, v.brd,
                       v.where.str());
    }
    if (in.unicast_src) o += "  usrc " + in.unicast_src->to_string() + "\n";
    for (auto& p : in.unicast_peers) o += "  peer " + p.to_string() + "\n";
    for (auto& t : in.track_interfaces) o += fmt::format("  ti {} {}\n", t.name, t.weight);
    for (auto& t : in.track_scripts)
      o += fmt::format("  ts {} {}\n", t.name, t.weight.value_or(-999));
    o += fmt::format("  notify [{}] [{}] [{}] [{}] [{}]\n", in.notify_master, in.notify_backup,
                     in.notify_fault, in.notify_stop, in.notify);
    o += fmt::format("  garp {} {} vmac {} {} {} accept {} v6 {}\n",
                     in.garp_master_delay ? in.garp_master_delay->count() : -1,
                     in.garp_master_repeat.value_or(-1), in.use_vmac, in.vmac_name,
                     in.vmac_xmit_base, in.accept ? static_cast<int>(*in.accept) : -1, in.ipv6);
  }
  for (auto& s : c.sync_groups) {
    o += "group " + s.name + " " + s.where.str() + ":";
    for (auto& n : s.instances) o += " " + n;
    o += fmt::format(" [{}] [{}] [{}] [{}]\n", s.notify_master, s.notify_backup, s.notify_fault,
                     s.notify);
  }
  for (auto& s : c.scripts) {
    o += fmt::format("script {} [{}] {} {} {} {} {} {}\n", s.name, s.script, s.interval.count(),
                     s.timeout.count(), s.weight, s.fall, s.rise, s.where.str());
  }
  for (auto& w : c.warnings) o += "W " + w + "\n";
  return o;
}

TEST(KeepalivedConfStrict, ARealConfigurationParsesAsBefore) {
  auto r = parse_keepalived_conf(kReal, "real.conf");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(dump(*r), R"(global r1 2 false true root true 3000000000 2
inst VI_10 MASTER vlan10 10 150 1000000000 0 1 campus-s false 0 real.conf:43
  vip 10.0.10.1/24 vlan10 vlan10:vip  real.conf:54
  vip 10.0.10.2/24 vlan10  10.0.10.255 real.conf:55
  xvip 10.0.11.1/24 vlan11   real.conf:58
  ti eth2 -30
  ti eth3 0
  ts chk_uplink -999
  ts chk_haproxy 20
  notify [] [/etc/keepalived/notify.sh backup] [] [/etc/keepalived/stop.sh] []
  garp 1000000000 3 vmac false  false accept -1 v6 false
inst VI_20 BACKUP vlan20 20 100 1000000000 0 0  true 30000000000 real.conf:74
  vip 10.0.20.1/24    real.conf:84
  notify [] [] [] [] []
  garp -1 -1 vmac false  false accept 0 v6 false
inst V6 BACKUP eth0 78 120 300000000 3 0  false 0 real.conf:90
  vip fd00:77::254/64    real.conf:102
  usrc fe80::1/128
  peer fe80::2/128
  peer fe80::3/128
  notify [] [] [] [] []
  garp -1 -1 vmac true vrrp.78 true accept 1 v6 true
group CAMPUS real.conf:32: VI_10 VI_20 [/etc/keepalived/notify.sh master] [/etc/keepalived/notify.sh backup] [/etc/keepalived/notify.sh fault] [/etc/keepalived/notify-all.sh]
script chk_uplink [/usr/local/bin/check_uplink.sh eth2] 2000000000 1500000000 -60 3 2 real.conf:17
script chk_haproxy [/usr/bin/killall -0 haproxy] 250000000 0 2 1 1 real.conf:26
W real.conf:51: Truncating auth_pass to 8 characters
)");
}

// keepalived vrrp_parser.c: mcast_src_ip and unicast_src_ip set the same source address.
TEST(KeepalivedConfSource, McastSrcIpIsTheAdvertSource) {
  auto r = parse_keepalived_conf(R"(vrrp_instance A {
  interface eth0
  virtual_router_id 1
  mcast_src_ip 10.0.0.9
  virtual_ipaddress { 10.0.0.100/24 }
}
)",
                                 "m.conf");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_TRUE(r->instances[0].unicast_src);
  EXPECT_EQ(r->instances[0].unicast_src->to_string(), "10.0.0.9/32");
  EXPECT_TRUE(r->instances[0].unicast_peers.empty());  // still multicast
  EXPECT_TRUE(r->warnings.empty());
  auto mixed = parse_keepalived_conf(R"(vrrp_instance A {
  interface eth0
  virtual_router_id 1
  mcast_src_ip fe80::9
  virtual_ipaddress { 10.0.0.100/24 }
}
)",
                                     "m.conf");
  ASSERT_FALSE(mixed);
  EXPECT_NE(mixed.error().message.find("m.conf:1: vrrp_instance A: the source address fe80::9 "
                                       "and the virtual addresses must be of the same family"),
            std::string::npos)
      << mixed.error().message;
}

// AH is refused where it would apply (v2, not strict), with file:line and why; where keepalived
// drops authentication (VRRPv3, strict mode) it is dropped with keepalived's warning.
TEST(KeepalivedConfSource, AuthTypeAhIsRefusedWhereItWouldApply) {
  auto conf = [](const std::string& global, int version) {
    return global + "vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  version " +
           std::to_string(version) +
           "\n  authentication {\n    auth_type AH\n    auth_pass secret\n  }\n"
           "  virtual_ipaddress { 10.0.0.100/24 }\n}\n";
  };
  auto v2 = parse_keepalived_conf(conf("", 2), "ah.conf");
  ASSERT_FALSE(v2);
  EXPECT_NE(v2.error().message.find("ah.conf:6: A: 'auth_type AH' (IPsec AH"), std::string::npos)
      << v2.error().message;
  EXPECT_NE(v2.error().message.find("use PASS or no authentication"), std::string::npos);
  auto v3 = parse_keepalived_conf(conf("", 3), "ah.conf");
  ASSERT_TRUE(v3) << v3.error().message;
  EXPECT_EQ(v3->instances[0].auth_type, AuthType::kNone);
  auto strict = parse_keepalived_conf(conf("global_defs { vrrp_strict }\n", 2), "ah.conf");
  ASSERT_TRUE(strict) << strict.error().message;
  EXPECT_EQ(strict->instances[0].auth_type, AuthType::kNone);
}

// keepalived vrrp_iproute.c / vrrp_iprule.c syntax, its warnings, and errors with file:line.
TEST(KeepalivedConfRoutes, RoutesAndRulesAsKeepalivedWritesThem) {
  auto r = parse_keepalived_conf(R"(static_ipaddress {
  192.168.50.1/24 dev eth2
}
static_routes {
  192.168.60.0/24 via 192.168.50.254 dev eth2
  default via 192.168.50.1 dev eth2 table 50 metric 10
}
static_rules {
  from 192.168.50.0/24 table 50 priority 50
  to 10.0.0.0/8 lookup main preference 60
}
vrrp_instance A {
  interface eth0
  virtual_router_id 1
  virtual_ipaddress { 10.0.0.100/24 }
  virtual_routes {
    src 10.0.0.100 to 10.9.0.0/16 via 10.0.0.254 dev eth0 scope global
    blackhole 10.66.0.0/16 no_track
    unreachable 10.67.0.0/16 no_track
    prohibit 10.68.0.0/16 no_track
    throw 10.69.0.0/16 table 100 no_track
    10.70.0.0/16 dev eth0 scope link
    fd00:9::/64 via fd00::1 dev eth0
  }
  virtual_rules {
    from 10.0.0.100 table 100 priority 100
    from all to 10.9.0.0/16 unreachable order 101
    from fd00::/64 table 100 priority 100
  }
}
)",
                                 "r.conf");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->warnings.empty()) << r->warnings[0];
  ASSERT_EQ(r->static_addresses.size(), 1u);
  EXPECT_EQ(r->static_addresses[0].dev, "eth2");
  auto strs = [](const auto& v) {
    std::vector<std::string> out;
    for (auto& x : v) out.push_back(x.str());
    return out;
  };
  EXPECT_EQ(strs(r->static_routes),
            (std::vector<std::string>{"192.168.60.0/24 via 192.168.50.254 dev eth2",
                                      "0.0.0.0/0 via 192.168.50.1 dev eth2 table 50 metric 10"}));
  EXPECT_EQ(strs(r->static_rules),
            (std::vector<std::string>{"from 192.168.50.0/24 lookup 50 priority 50",
                                      "from all to 10.0.0.0/8 lookup 254 priority 60"}));
  auto& in = r->instances[0];
  EXPECT_EQ(strs(in.routes),
            (std::vector<std::string>{
                "10.9.0.0/16 via 10.0.0.254 dev eth0 src 10.0.0.100", "blackhole 10.66.0.0/16",
                "unreachable 10.67.0.0/16", "prohibit 10.68.0.0/16", "throw 10.69.0.0/16 table 100",
                "10.70.0.0/16 dev eth0 scope 253", "fd00:9::/64 via fd00::1 dev eth0"}));
  EXPECT_TRUE(in.routes.back().v6);
  EXPECT_EQ(strs(in.rules),
            (std::vector<std::string>{"from 10.0.0.100/32 lookup 100 priority 100",
                                      "from all to 10.9.0.0/16 unreachable priority 101",
                                      "from fd00::/64 lookup 100 priority 100"}));
  EXPECT_TRUE(in.rules.back().v6);
}

TEST(KeepalivedConfRoutes, KeepalivedsWarningsAndErrors) {
  auto w = parse_keepalived_conf(R"(static_routes {
  10.9.0.0/16 gw 10.0.0.254
}
static_rules {
  from 10.0.0.0/24 table 100
  from 10.1.0.0/24 table 100
}
)",
                                 "w.conf");
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(w->warnings,
            (std::vector<std::string>{
                "w.conf:2: \"gw\" for routes is deprecated. Please use \"via\"",
                "w.conf:2: Warning - cannot track route 10.9.0.0/16 with no interface specified, "
                "not tracking",
                "w.conf:5: Rule has no preference specified - setting to 16384. This is probably "
                "not what you want.",
                "w.conf:6: Rule has no preference specified - setting to 16383. This is probably "
                "not what you want."}));
  EXPECT_EQ(w->static_rules[1].priority, 16383u);

  struct Case {
    const char* block;
    const char* line;
    const char* says;
  };
  const Case cases[] = {
      {"static_routes", "10.9.0.0/16 via 10.0.0.256 dev eth0", "invalid route via address"},
      {"static_routes", "10.9.0.0/16 via fd00::1 dev eth0", "Cannot mix IPv4 and IPv6"},
      {"static_routes", "via 10.0.0.1 dev eth0", "Route must have a destination"},
      {"static_routes", "10.9.0.0/16", "needs 'dev' or 'via'"},
      {"static_routes", "10.9.0.0/16 dev eth0 table nosuch", "Routing table nosuch not found"},
      {"static_routes", "10.9.0.0/16 dev eth0 scope far", "Scope far not found"},
      {"static_routes", "10.9.0.0/16 dev eth0 metric x", "'metric' x: expected a whole number"},
      {"static_routes", "10.9.0.0/16 dev eth0 mtu 1400", "route option 'mtu' is not supported"},
      {"static_routes", "local 10.9.0.1 dev eth0", "route type 'local' is not supported"},
      {"static_routes", "10.9.0.0/16 dev", "'dev' needs a value"},
      {"static_routes", "10.9.0.0/16 dev eth0 bogus", "unknown route keyword bogus"},
      {"static_rules", "from 10.0.0.0/24 priority 5", "No action specified for rule"},
      {"static_rules", "from 10.0.0.0/24 table 1 blackhole priority 5", "more than one of"},
      {"static_rules", "from 10.0.0.0/24 to fd00::/8 table 1 priority 5", "mixed IPv4 and IPv6"},
      {"static_rules", "fwmark 3 table 1 priority 5", "rule option 'fwmark' is not supported"},
      {"static_rules", "from 10.0.0.0/24 table 1 prio 5", "Unknown rule option prio"},
      {"static_ipaddress", "192.168.50.1/24", "static_ipaddress 192.168.50.1/24: 'dev' is missing"},
  };
  for (auto& c : cases) {
    auto r = parse_keepalived_conf(std::string(c.block) + " {\n  " + c.line + "\n}\n", "e.conf");
    ASSERT_FALSE(r) << c.line;
    EXPECT_NE(r.error().message.find("e.conf:2: "), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find(c.says), std::string::npos)
        << c.line << ": " << r.error().message;
  }
}

// An include made by ~SEQ and substitution, read while the sequence runs.
TEST(KeepalivedConfLines, IncludeFromASequence) {
  auto dir =
      std::filesystem::temp_directory_path() / ("vnet-seq-include-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (int i = 1; i <= 2; ++i) {
    std::ofstream(dir / ("vi" + std::to_string(i) + ".conf"))
        << "vrrp_instance VI_" << i << " {\n  interface eth0\n  virtual_router_id ${i}\n"
        << "  virtual_ipaddress { 10.0.0.${i}/24 }\n}\n";
  }
  std::ofstream(dir / "keepalived.conf") << "~SEQ(i, 2) include vi${i}.conf\n";
  auto r = load_keepalived_conf((dir / "keepalived.conf").string());
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->instances.size(), 2u);
  EXPECT_EQ(r->instances[1].vrid, 2);
  EXPECT_EQ(r->instances[1].vips[0].prefix.to_string(), "10.0.0.2/24");
}

}  // namespace
