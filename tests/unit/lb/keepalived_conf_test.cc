#include "lb/keepalived_conf.hh"

#include "lb/balancer.hh"

#include <gtest/gtest.h>

#include <string>

using namespace vnet;
using namespace vnet::lb;
using namespace std::chrono_literals;

namespace {

// Both halves in one file, with the old spellings (lb_algo, lb_kind, nb_get_retry) that shipped
// samples and how-tos still use.
const char* kDirector = R"(global_defs {
   router_id lb1
}

vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    virtual_ipaddress {
        192.168.200.100/24
    }
}

virtual_server 192.168.200.100 80 {
    delay_loop 6
    lb_algo wrr
    lb_kind DR
    persistence_timeout 50
    protocol TCP
    quorum 2
    hysteresis 1
    quorum_up "/usr/local/bin/qup"
    quorum_down "/usr/local/bin/qdown"
    sorry_server 192.168.200.200 80
    sorry_server_inhibit
    retry 2

    real_server 192.168.201.1 80 {
        weight 3
        inhibit_on_failure
        notify_down "/usr/local/bin/rs-down 1"
        TCP_CHECK {
            connect_timeout 3
            delay_before_retry 2
        }
    }
    real_server 192.168.201.2 80 {
        weight 2
        HTTP_GET {
            url {
              path /health
              digest 9B3A0C85A887A256D6939DA88AABD8CD
              status_code 200 300-302
            }
            connect_timeout 3
            nb_get_retry 4
        }
    }
    real_server 192.168.201.3 80 {
        delay_loop 2
        alpha
        SSL_GET {
            url {
              path /
            }
            warmup 5
        }
        MISC_CHECK {
            misc_path "/usr/local/bin/check web"
            misc_timeout 4
            misc_dynamic
        }
    }
}

virtual_server fwmark 7 {
    lvs_sched mh
    lvs_method NAT
    mh-port
    real_server 10.1.0.1 0 {
        SMTP_CHECK {
            helo_name lb1
        }
        DNS_CHECK {
            type A
            name example.org
        }
        UDP_CHECK {
            payload 00ff
        }
        PING_CHECK {
        }
    }
}

track_file state {
    file /run/lb/state
}

virtual_server_group web {
    10.2.0.1-5 443
    fwmark 9
}

virtual_server group web {
    lvs_sched sh
    lvs_method NAT
    alpha
    omega
    real_server 10.3.0.1 443 {
        FILE_CHECK {
            track_file state
        }
    }
}
)";

KeepalivedFullConfig parse(const std::string& text) {
  auto c = parse_keepalived_conf_full(text, "keepalived.conf");
  EXPECT_TRUE(c) << (c ? "" : c.error().message);
  return c ? *c : KeepalivedFullConfig{};
}

std::string errors_of(const std::string& text) {
  auto c = parse_keepalived_conf_full(text, "keepalived.conf");
  return c ? "" : c.error().message;
}

bool has(const std::vector<std::string>& v, const std::string& s) {
  for (auto& x : v) {
    if (x == s) return true;
  }
  return false;
}

TEST(LbKeepalivedConf, ReadsBothHalves) {
  auto c = parse(kDirector);
  ASSERT_EQ(c.vrrp.instances.size(), 1u);  // the VRRP half as before
  EXPECT_EQ(c.vrrp.instances[0].vrid, 51);
  ASSERT_EQ(c.lb.services.size(), 3u);
  const auto& vs = c.lb.services[0];
  EXPECT_EQ(keepalived_vs_name(vs.key), "[192.168.200.100]:tcp:80");
  EXPECT_EQ(vs.scheduler, "wrr");
  EXPECT_EQ(vs.forwarding, Forwarding::kDr);
  EXPECT_EQ(vs.persistence_timeout, std::optional<Duration>(50s));
  EXPECT_EQ(vs.quorum, 2u);
  EXPECT_EQ(vs.hysteresis, 1u);
  EXPECT_EQ(vs.quorum_up, "/usr/local/bin/qup");
  EXPECT_EQ(vs.sorry_server, Endpoint::parse("192.168.200.200", 80).value());
  EXPECT_TRUE(vs.sorry_server_inhibit);
  ASSERT_EQ(vs.reals.size(), 3u);

  const auto& r1 = vs.reals[0];
  EXPECT_EQ(r1.weight, 3);
  EXPECT_TRUE(r1.inhibit);
  EXPECT_EQ(r1.notify_down, "/usr/local/bin/rs-down 1");
  ASSERT_EQ(r1.checkers.size(), 1u);
  const auto& t = r1.checkers[0].timing;
  EXPECT_EQ(t.delay_loop, 6s);  // from the virtual server
  EXPECT_EQ(t.timeout, 3s);     // its own
  EXPECT_EQ(t.retry, 2u);       // from the virtual server
  EXPECT_EQ(t.delay_before_retry, 2s);
  EXPECT_EQ(t.warmup, 6s);  // default: delay_loop
  EXPECT_EQ(r1.checkers[0].connect, Endpoint::parse("192.168.201.1", 80).value());

  const auto& h = vs.reals[1].checkers[0];
  EXPECT_EQ(h.type, CheckerType::kHttp);
  EXPECT_EQ(h.timing.retry, 4u);               // nb_get_retry
  EXPECT_EQ(h.timing.delay_before_retry, 3s);  // HTTP_GET's default
  ASSERT_EQ(h.urls.size(), 1u);
  EXPECT_EQ(h.urls[0].path, "/health");
  EXPECT_EQ(h.urls[0].digest, "9b3a0c85a887a256d6939da88aabd8cd");
  EXPECT_EQ(h.urls[0].status_codes, (std::vector<int>{200, 300, 301, 302}));
  EXPECT_TRUE(
      has(c.vrrp.warnings, "keepalived.conf:47: nb_get_retry is deprecated - please use 'retry'"));

  const auto& r3 = vs.reals[2];
  ASSERT_EQ(r3.checkers.size(), 2u);
  EXPECT_EQ(r3.checkers[0].type, CheckerType::kSsl);
  EXPECT_EQ(r3.checkers[0].timing.delay_loop, 2s);  // the real server's
  EXPECT_EQ(r3.checkers[0].timing.warmup, 5s);
  EXPECT_TRUE(r3.checkers[0].timing.alpha);
  const auto& m = r3.checkers[1];
  EXPECT_EQ(m.type, CheckerType::kMisc);
  EXPECT_EQ(m.misc_path, "/usr/local/bin/check web");
  EXPECT_TRUE(m.misc_dynamic);
  EXPECT_EQ(m.timing.timeout, 4s);
  EXPECT_EQ(m.timing.retry, 2u);  // the virtual server's retry beats MISC_CHECK's default 0
  EXPECT_TRUE(m.timing.misc);

  const auto& fw = c.lb.services[1];
  EXPECT_EQ(keepalived_vs_name(fw.key), "FWM 7");
  EXPECT_EQ(fw.sched_flags, (std::vector<std::string>{"mh-port"}));
  ASSERT_EQ(fw.reals[0].checkers.size(), 4u);
  EXPECT_EQ(fw.reals[0].checkers[1].type, CheckerType::kDns);
  EXPECT_EQ(fw.reals[0].checkers[1].timing.retry, 3u);                // DNS_CHECK's default
  EXPECT_EQ(fw.reals[0].checkers[1].timing.delay_before_retry, 60s);  // = delay_loop
  EXPECT_EQ(fw.reals[0].checkers[0].timing.retry, 1u);
  EXPECT_EQ(fw.reals[0].checkers[0].timing.delay_loop, 60s);  // keepalived's default
  EXPECT_EQ(fw.reals[0].checkers[0].timing.timeout, 5s);

  ASSERT_EQ(c.lb.groups.size(), 1u);
  EXPECT_EQ(c.lb.groups[0].members.size(), 2u);
  EXPECT_EQ(c.lb.groups[0].members[0].range_end, 5u);
  EXPECT_EQ(c.lb.groups[0].members[1].fwmark, 9u);
  const auto& g = c.lb.services[2];
  EXPECT_EQ(g.key.kind, ServiceKey::kGroup);
  EXPECT_TRUE(g.alpha);
  EXPECT_TRUE(g.omega);
  EXPECT_TRUE(g.reals[0].checkers[0].timing.alpha);
  EXPECT_EQ(g.reals[0].checkers[0].type, CheckerType::kFile);
}

// The file read above, booted: the table a datapath would be given.
TEST(LbKeepalivedConf, BootTableOfTheDirector) {
  auto c = parse(kDirector);
  Random random(1);
  Balancer b(c.lb, TimePoint{std::chrono::seconds(1000)}, random);
  Step s = b.start();
  Table t;
  auto r = apply_changes(t, s.changes);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(t.size(), 3u);
  // VS 1: 192.168.201.1 (3) and .2 (2) in; .3 held out by alpha; the sorry server inhibited.
  std::vector<TableDest> want = {
      {*Endpoint::parse("192.168.200.200", 80), 0, true},
      {*Endpoint::parse("192.168.201.1", 80), 3, false},
      {*Endpoint::parse("192.168.201.2", 80), 2, false},
  };
  EXPECT_EQ(t[0].dests, want);
  EXPECT_EQ(t[0].scheduler, "wrr");
  EXPECT_EQ(t[0].forwarding, Forwarding::kDr);
  EXPECT_TRUE(b.quorum_up(0));  // 5 >= quorum 2 + hysteresis 1
  EXPECT_EQ(t[1].dests.size(), 1u);
  EXPECT_TRUE(t[2].dests.empty());  // alpha: the group's only server waits for its check
  EXPECT_FALSE(b.quorum_up(2));
  EXPECT_EQ(s.changes.back().kind, Change::kQuorumDown);
}

TEST(LbKeepalivedConf, VrrpReaderAloneStillIgnoresVirtualServers) {
  auto v = vrrp::parse_keepalived_conf(kDirector, "keepalived.conf");
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_TRUE(has(v->warnings,
                  "keepalived.conf:15: virtual_server is for the load balancer (vnet lb), not vnet "
                  "vrrp: ignored"));
}

const char* kOne = R"(virtual_server 10.0.0.1 80 {
    lb_algo %s
    lb_kind %s
    protocol TCP
    real_server 10.0.1.1 80 {
        weight %s
        TCP_CHECK {
        }
    }
}
)";

std::string one(const std::string& algo, const std::string& kind, const std::string& weight) {
  std::string t = kOne;
  for (const std::string* v : {&algo, &kind, &weight}) t.replace(t.find("%s"), 2, *v);
  return t;
}

TEST(LbKeepalivedConf, ErrorsInKeepalivedWordsWithFileAndLine) {
  EXPECT_EQ(errors_of(one("rr", "NAT", "1")), "");
  EXPECT_EQ(errors_of(one("rr", "NAT", "70000")),
            "keepalived.conf:6: Real server weight 70000 is outside range 0-65535");
  EXPECT_EQ(errors_of(one("rr", "NAT", "-1")),
            "keepalived.conf:6: Real server weight -1 is outside range 0-65535");
  EXPECT_EQ(errors_of(one("fastest", "NAT", "1")),
            "keepalived.conf:2: Invalid lvs_scheduler 'fastest' - expected one of rr wrr lc wlc "
            "lblc lblcr dh sh sed nq fo ovf mh twos");
  EXPECT_EQ(errors_of(one("rr", "MAGIC", "1")),
            "keepalived.conf:3: PARSER : unknown [MAGIC] routing method for virtual server.");
  // Every error at once.
  std::string all = errors_of(one("x", "Y", "z"));
  EXPECT_NE(all.find("keepalived.conf:2:"), std::string::npos);
  EXPECT_NE(all.find("keepalived.conf:3:"), std::string::npos);
  EXPECT_NE(all.find("keepalived.conf:6:"), std::string::npos);
  EXPECT_EQ(errors_of(R"(virtual_server 10.0.0.1 80 {
    protocol TCP
    real_server 10.0.1.1 80 {
        HTTP_GET {
            url {
                path /
                digest 123
                status_code 200 99
            }
        }
    }
}
)"),
            "keepalived.conf:7: digest '123' character length should be 32 rather than 3\n"
            "keepalived.conf:8: Invalid HTTP_GET status code '99' (expected 100-599 or a range "
            "such as 200-299)");
  EXPECT_EQ(errors_of("virtual_server 10.0.0.300 80 {\n}\n"),
            "keepalived.conf:1: Invalid virtual server IP address 10.0.0.300 - expected an IPv4 "
            "or IPv6 address");
  EXPECT_EQ(errors_of("virtual_server group nope {\n  protocol TCP\n  real_server 10.0.0.1 80 {\n"
                      "  }\n}\n"),
            "keepalived.conf:1: virtual_server group nope: no virtual_server_group nope is "
            "defined");
}

TEST(LbKeepalivedConf, WarningsAndRepairsAsKeepalived) {
  auto c = parse(R"(virtual_server 10.0.0.1 80 {
    lvs_sched rr
}
virtual_server 10.0.0.2 80 {
    quorum 5
    hysteresis 5
    real_server 10.0.1.1 80 {
        weight 2
        HTTP_GET {
        }
        MISC_CHECK {
        }
        TCP_CHECK {
            nb_get_retry 3
            bogus 1
        }
    }
    real_server 10.0.1.1 80 {
    }
}
)");
  auto& w = c.vrrp.warnings;
  EXPECT_TRUE(has(w,
                  "keepalived.conf:1: Virtual server [10.0.0.1]:udp:80 has no real servers - "
                  "ignoring") ||
              has(w,
                  "keepalived.conf:1: Virtual server [10.0.0.1]:tcp:80 has no real servers - "
                  "ignoring"));
  EXPECT_TRUE(has(w,
                  "keepalived.conf:4: Virtual server [10.0.0.2]:udp:80: no protocol set - "
                  "defaulting to UDP"));
  EXPECT_TRUE(has(w, "keepalived.conf:9: HTTP/SSL_GET checker has no urls specified - ignoring"));
  EXPECT_TRUE(has(w,
                  "keepalived.conf:11: No script path has been specified for MISC_CHECKER - "
                  "skipping"));
  EXPECT_TRUE(has(w, "keepalived.conf:14: nb_get_retry is deprecated - please use 'retry'"));
  EXPECT_TRUE(has(w, "keepalived.conf:15: unknown keyword 'bogus' in TCP_CHECK (ignored)"));
  EXPECT_TRUE(has(w,
                  "keepalived.conf:18: VS [10.0.0.2]:udp:80: real server 10.0.1.1:80 is "
                  "duplicated - removing second rs"));
  EXPECT_TRUE(has(w,
                  "keepalived.conf:4: Warning - quorum 5 for [10.0.0.2]:udp:80 exceeds total "
                  "weight of real servers 2, reducing quorum to 2"));
  EXPECT_TRUE(has(w,
                  "keepalived.conf:4: Virtual server [10.0.0.2]:udp:80: hysteresis 5 >= "
                  "quorum 2; setting hysteresis to 1"));
  ASSERT_EQ(c.lb.services.size(), 1u);
  const auto& vs = c.lb.services[0];
  EXPECT_EQ(vs.key.protocol, Protocol::kUdp);
  EXPECT_EQ(vs.quorum, 2u);
  EXPECT_EQ(vs.hysteresis, 1u);
  ASSERT_EQ(vs.reals.size(), 1u);
  ASSERT_EQ(vs.reals[0].checkers.size(), 1u);  // HTTP_GET and MISC_CHECK dropped
  EXPECT_EQ(vs.reals[0].checkers[0].timing.retry, 3u);
}

}  // namespace
