#include "lb/nft_ruleset.hh"

#include <gtest/gtest.h>

#include <map>

#include "lb/keepalived_conf.hh"
#include "lb/probe.hh"

using namespace vnet;
using namespace vnet::lb;

namespace {

Endpoint ep(const char* a, uint16_t port) { return *Endpoint::parse(a, port); }

TableService service(std::string sched, std::vector<int> weights) {
  TableService s;
  s.key.addr = ep("10.0.0.100", 80);
  s.scheduler = std::move(sched);
  for (size_t i = 0; i < weights.size(); ++i) {
    std::string a = "10.1.0." + std::to_string(i + 1);
    s.dests.push_back({ep(a.c_str(), 8000), weights[i]});
  }
  return s;
}

std::map<std::string, int> count(const std::vector<Endpoint>& slots) {
  std::map<std::string, int> n;
  for (auto& e : slots) ++n[e.address_string()];
  return n;
}

TEST(NftRuleset, RrSkipsWeightZero) {
  auto slots = nft_slots(service("rr", {1, 0, 5}));
  ASSERT_TRUE(slots);
  ASSERT_EQ(slots->size(), 2u);  // rr ignores weights but never schedules a quiescent one
  EXPECT_EQ((*slots)[0], ep("10.1.0.1", 8000));
  EXPECT_EQ((*slots)[1], ep("10.1.0.3", 8000));
}

TEST(NftRuleset, WrrIsOnePeriodOfIpvsSequence) {
  auto slots = nft_slots(service("wrr", {4, 2, 2}));  // gcd 2: period 4
  ASSERT_TRUE(slots);
  ASSERT_EQ(slots->size(), 4u);
  auto n = count(*slots);
  EXPECT_EQ(n["10.1.0.1"], 2);
  EXPECT_EQ(n["10.1.0.2"], 1);
  EXPECT_EQ(n["10.1.0.3"], 1);
  // ip_vs_wrr.c with weights 2:1:1 (after gcd): cw 2 → a; cw 1 → a, b, c.
  EXPECT_EQ((*slots)[0], ep("10.1.0.1", 8000));
  EXPECT_EQ((*slots)[1], ep("10.1.0.1", 8000));
}

TEST(NftRuleset, WrrPeriodTooLongIsAnError) {
  auto slots = nft_slots(service("wrr", {65535, 1}));
  ASSERT_FALSE(slots);
  EXPECT_NE(slots.error().message.find("more than 4096"), std::string::npos);
}

TEST(NftRuleset, ShBucketsFollowWeights) {
  auto slots = nft_slots(service("sh", {3, 1}));
  ASSERT_TRUE(slots);
  ASSERT_EQ(slots->size(), kShBuckets);
  auto n = count(*slots);
  EXPECT_EQ(n["10.1.0.1"], 192);
  EXPECT_EQ(n["10.1.0.2"], 64);
}

TEST(NftRuleset, MhIsTheMaglevTableOfIpvsSize) {
  auto slots = nft_slots(service("mh", {2, 1, 1, 0}));
  ASSERT_TRUE(slots);
  ASSERT_EQ(slots->size(), size_t(kMhSlots));  // 4093: ip_vs_mh.c's default
  auto n = count(*slots);
  EXPECT_EQ(n.count("10.1.0.4"), 0u);   // weight 0: no slot
  EXPECT_NEAR(n["10.1.0.1"], 2046, 2);  // in proportion to weight, to a slot or two
  EXPECT_NEAR(n["10.1.0.2"], 1023, 2);
  EXPECT_NEAR(n["10.1.0.3"], 1023, 2);
  // Consistent: removing one of three equal servers moves only its own slots.
  auto before = nft_slots(service("mh", {1, 1, 1}));
  TableService two = service("mh", {1, 1, 1});
  two.dests.erase(two.dests.begin() + 1);
  auto after = nft_slots(two);
  ASSERT_TRUE(before && after);
  size_t moved = 0;
  for (size_t i = 0; i < before->size(); ++i) {
    if ((*before)[i].address_string() != "10.1.0.2" && (*before)[i] != (*after)[i]) ++moved;
  }
  EXPECT_LT(moved, before->size() / 100) << moved;  // Maglev: < 1% of the others' slots
}

TEST(NftRuleset, DhBucketsOnePerServerInTurn) {
  auto slots = nft_slots(service("dh", {5, 1, 0}));
  ASSERT_TRUE(slots);
  ASSERT_EQ(slots->size(), 256u);
  EXPECT_EQ((*slots)[0], ep("10.1.0.1", 8000));  // weights ignored (ip_vs_dh_reassign)
  EXPECT_EQ((*slots)[1], ep("10.1.0.2", 8000));
  EXPECT_EQ((*slots)[2], ep("10.1.0.1", 8000));
  EXPECT_EQ(count(*slots)["10.1.0.3"], 0);  // weight 0 left out, as for sh
}

TEST(NftRuleset, HashKeysOfMhDhAndThePortFlag) {
  Table t{service("mh", {1, 1}), service("dh", {1, 1}), service("mh", {1, 1}),
          service("sh", {1, 1})};
  t[1].key.addr = ep("10.0.0.101", 80);
  t[2].key.addr = ep("10.0.0.102", 80);
  t[2].sched_flags = {"mh-port"};
  t[3].key.addr = ep("10.0.0.103", 80);
  t[3].sched_flags = {"flag-2"};
  auto r = nft_ruleset(t);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(r->find("ip daddr 10.0.0.100 tcp dport 80 dnat ip to jhash ip saddr mod 4093 seed 0x0 "
                    "map { 0 : 10.1.0."),
            std::string::npos)
      << *r;
  EXPECT_NE(r->find("ip daddr 10.0.0.101 tcp dport 80 dnat ip to jhash ip daddr mod 256 seed 0x0 "
                    "map { 0 : 10.1.0.1 . 8000, 1 : 10.1.0.2 . 8000, 2 : 10.1.0.1 . 8000,"),
            std::string::npos)
      << *r;
  EXPECT_NE(r->find("ip daddr 10.0.0.102 tcp dport 80 dnat ip to jhash ip saddr . tcp sport mod "
                    "4093 seed 0x0 map"),
            std::string::npos)
      << *r;
  EXPECT_NE(r->find("ip daddr 10.0.0.103 tcp dport 80 dnat ip to jhash ip saddr . tcp sport mod "
                    "256 seed 0x0 map"),
            std::string::npos)
      << *r;
}

TEST(NftRuleset, FwmarkAndGroupServicesOnNat) {
  TableService fwm = service("rr", {1, 1});
  fwm.key = ServiceKey{ServiceKey::kFwmark, {}, 7, "", Protocol::kTcp};
  TableService keep = service("mh", {1, 1});
  keep.key = ServiceKey{ServiceKey::kFwmark, {}, 8, "", Protocol::kTcp};
  for (auto& d : keep.dests) d.addr.port = 0;  // keep the packet's port
  TableService grp = service("rr", {1, 1});
  grp.key = ServiceKey{ServiceKey::kGroup, {}, 0, "web-1", Protocol::kTcp};
  grp.group = {GroupMember{ep("10.0.0.1", 80)}, GroupMember{ep("10.0.0.20", 443), 30},
               GroupMember{{}, 0, 9}};
  auto r = nft_ruleset({fwm, keep, grp});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(r->find("  chain svc_fwm_7 {\n    meta l4proto { tcp, udp, sctp } dnat ip to numgen "
                    "inc mod 2 map { 0 : 10.1.0.1 . 8000, 1 : 10.1.0.2 . 8000 }\n  }\n"),
            std::string::npos)
      << *r;
  EXPECT_NE(r->find("    meta mark 0x00000007 meta l4proto { tcp, udp, sctp } goto svc_fwm_7\n"),
            std::string::npos)
      << *r;
  EXPECT_NE(r->find("dnat ip to jhash ip saddr mod 4093 seed 0x0 map { 0 : 10.1.0."),
            std::string::npos)
      << *r;
  EXPECT_EQ(r->find("10.1.0.1 . 0"), std::string::npos) << *r;  // port 0: the address alone
  // One chain for the group (one numgen counter), entered by its set and by its fwmark.
  EXPECT_NE(r->find("    meta l4proto tcp ip daddr . th dport { 10.0.0.1 . 80, "
                    "10.0.0.20-10.0.0.30 . 443 } goto svc_grp_tcp_web_2d1\n"),
            std::string::npos)
      << *r;
  EXPECT_NE(r->find("    meta mark 0x00000009 meta l4proto { tcp, udp, sctp } goto "
                    "svc_grp_tcp_web_2d1\n"),
            std::string::npos)
      << *r;
  // DR, persistence and connection counts on these services are refused at load; the ruleset
  // builder names them if asked anyway.
  fwm.forwarding = Forwarding::kDr;
  EXPECT_FALSE(nft_ruleset({fwm}));
  grp.scheduler = "wlc";
  EXPECT_FALSE(nft_ruleset({grp}));
}

TEST(NftRuleset, TwosAndLocalitySchedulersUseThePickMap) {
  Table t{service("twos", {1, 1}), service("lblc", {1}), service("lblcr", {1})};
  t[1].key.addr = ep("10.0.0.101", 80);
  t[2].key.addr = ep("10.0.0.102", 80);
  auto r = nft_ruleset(t, Picks{{t[0].key, ep("10.1.0.2", 8000)}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(r->find("elements = { 10.0.0.100 : 10.1.0.2 . 8000 }"), std::string::npos) << *r;
  for (const char* vip :
       {"10.0.0.100 tcp dport 80 dnat ip to ip daddr map @pick_tcp_10_0_0_100_80",
        "10.0.0.101 tcp dport 80 dnat ip to ip daddr map @pick_tcp_10_0_0_101_80",
        "10.0.0.102 tcp dport 80 dnat ip to ip daddr map @pick_tcp_10_0_0_102_80"})
    EXPECT_NE(r->find(vip), std::string::npos) << vip << "\n" << *r;
}

TEST(NftRuleset, RulesetOneTransactionWithMaps) {
  Table t{service("rr", {1, 1, 1}), service("sh", {1, 1})};
  t[1].key.addr = ep("10.0.0.100", 443);
  TableService empty = service("rr", {0});
  empty.key.addr = ep("10.0.0.101", 80);
  t.push_back(empty);
  auto r = nft_ruleset(t);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->rfind("table ip vnet_lb {}\ndelete table ip vnet_lb\n", 0), 0u);
  EXPECT_NE(r->find("ip daddr 10.0.0.100 tcp dport 80 dnat ip to numgen inc mod 3 map { 0 : "
                    "10.1.0.1 . 8000, 1 : 10.1.0.2 . 8000, 2 : 10.1.0.3 . 8000 }"),
            std::string::npos)
      << *r;
  EXPECT_NE(r->find("tcp dport 443 dnat ip to jhash ip saddr mod 256 seed 0x0 map"),
            std::string::npos);
  EXPECT_EQ(r->find("10.0.0.101"), std::string::npos);  // no destination: not rewritten
}

TEST(NftRuleset, ConnectionCountServicesHaveAPickMap) {
  Table t{service("wlc", {1, 1}), service("lc", {1})};
  t[1].key.addr = ep("10.0.0.100", 443);
  t[1].key.protocol = Protocol::kUdp;
  ServiceKey wlc = t[0].key;
  auto r = nft_ruleset(t, Picks{{wlc, ep("10.1.0.2", 8000)}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(r->find("map pick_tcp_10_0_0_100_80 {\n    type ipv4_addr : ipv4_addr . inet_service;\n"
                    "    elements = { 10.0.0.100 : 10.1.0.2 . 8000 }\n  }"),
            std::string::npos)
      << *r;
  EXPECT_NE(r->find("map pick_udp_10_0_0_100_443 {\n    type ipv4_addr : ipv4_addr . "
                    "inet_service;\n  }"),
            std::string::npos)
      << *r;  // no pick yet: empty, so nothing is rewritten
  EXPECT_NE(r->find("ip daddr 10.0.0.100 tcp dport 80 dnat ip to ip daddr map "
                    "@pick_tcp_10_0_0_100_80"),
            std::string::npos)
      << *r;
  EXPECT_EQ(nft_set_pick(wlc, ep("10.1.0.1", 8000)),
            "flush map ip vnet_lb pick_tcp_10_0_0_100_80\n"
            "add element ip vnet_lb pick_tcp_10_0_0_100_80 { 10.0.0.100 : 10.1.0.1 . 8000 }\n");
  EXPECT_EQ(nft_set_pick(wlc, std::nullopt), "flush map ip vnet_lb pick_tcp_10_0_0_100_80\n");
}

TEST(NftRuleset, RefusesWhatItCannotServeWithTheReason) {
  auto conf = parse_keepalived_conf_full(R"(
virtual_server 10.0.0.1 80 {
  lb_kind TUN
  persistence_timeout 60
  persistence_granularity 255.0.255.0
  real_server 10.1.0.1 80 {
    BFD_CHECK {
    }
  }
}
virtual_server 10.0.0.3 80 {
  lvs_sched lblc
  lb_kind DR
  real_server 10.1.0.1 80 {
  }
}
virtual_server fwmark 7 {
  lvs_sched rr
  lb_kind DR
  real_server 10.1.0.1 80 {
  }
}
virtual_server 10.0.0.2 80 {
  lvs_sched rr
  lb_kind NAT
  persistence_timeout 60
  persistence_granularity 255.255.255.0
  real_server 10.1.0.1 80 {
    TCP_CHECK {
    }
  }
}
virtual_server 10.0.0.4 80 {
  lvs_sched wlc
  lb_kind DR
  real_server 10.1.0.1 8080 {
  }
}
virtual_server 10.0.0.9 80 {
  protocol TCP
  lvs_sched wlc
  lb_kind DR
  persistence_timeout 60
  real_server 10.1.0.1 80 {
  }
}
virtual_server 10.0.0.5 80 {
  lvs_sched sed
  lb_kind NAT
  real_server 10.1.0.1 80 {
  }
}
virtual_server 10.0.0.6 80 {
  lvs_sched sh
  lb_kind DR
  persistence_timeout 30
  real_server 10.1.0.1 80 {
  }
}
virtual_server fwmark 8 {
  lb_kind NAT
  real_server 10.1.0.1 80 {
  }
}
virtual_server fwmark 9 {
  lvs_sched rr
  lb_kind NAT
  real_server 10.1.0.1 0 {
  }
  real_server 10.1.0.2 80 {
  }
}
virtual_server 10.0.0.7 80 {
  lvs_sched mh
  lb_kind NAT
  mh-port
  mh-fallback
  real_server 10.1.0.1 80 {
  }
}
virtual_server_group web {
  10.0.0.20-30 80
  fwmark 11
}
virtual_server group web {
  lvs_sched rr
  lb_kind NAT
  persistence_timeout 60
  real_server 10.1.0.1 80 {
  }
}
virtual_server fwmark 10 {
  lvs_sched mh
  lb_kind NAT
  real_server 10.1.0.1 0 {
  }
  real_server 10.1.0.2 0 {
  }
}
virtual_server 10.0.0.8 80 {
  lvs_sched twos
  lb_kind NAT
  real_server 10.1.0.1 80 {
  }
}
virtual_server_group dr1 {
  10.0.0.40 80
  10.0.0.41 443
}
virtual_server group dr1 {
  lvs_sched sh
  lb_kind DR
  real_server 10.1.0.1 80 {
  }
}
virtual_server_group dr2 {
  10.0.0.60 80
  10.0.0.61 443
}
virtual_server group dr2 {
  lvs_sched mh
  lb_kind DR
  real_server 10.1.0.3 0 {
  }
}
virtual_server_group marked {
  10.0.0.50 80
  fwmark 12
}
virtual_server group marked {
  lvs_sched sh
  lb_kind DR
  real_server 10.1.0.1 80 {
  }
}
)",
                                         "k.conf");
  ASSERT_TRUE(conf) << conf.error().message;
  auto why = nft_refusals(conf->lb);
  std::string all;
  for (auto& w : why) all += w + "\n";
  // No `protocol`: keepalived defaults to UDP (with its warning).
  EXPECT_NE(all.find("k.conf:2: virtual_server [10.0.0.1]:udp:80: lb_kind TUN: the nftables "
                     "datapath does NAT and DR only"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("persistence_granularity '255.0.255.0': expected an IPv4 netmask"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("[10.0.0.3]:udp:80: lvs_sched lblc with lb_kind DR over udp: DR follows TCP "
                     "connections only (from their SYN, FIN and RST, lb/dr_conns.hh); for UDP and "
                     "SCTP it has rr, wrr, sh, mh and dh"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("k.conf:7: BFD_CHECK: no prober"), std::string::npos) << all;
  EXPECT_NE(all.find("FWM 7: fwmark with lb_kind DR: DR forwards frames at the netdev ingress "
                     "hook, before the firewall sets the mark"),
            std::string::npos)
      << all;
  // keepalived's default scheduler, wlc, counts connections per VIP:PORT.
  EXPECT_NE(all.find("FWM 8: lvs_sched wlc on a fwmark or group service: connection counts are "
                     "followed per VIP:PORT"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("real_server 10.1.0.2:80: a fwmark or group service's real servers all keep "
                     "the packet's port (port 0) or all name one"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("[10.0.0.7]:udp:80: scheduler flag mh-fallback: not in the nftables datapath"),
            std::string::npos)
      << all;
  EXPECT_EQ(all.find("flag mh-port"), std::string::npos) << all;  // served
  EXPECT_NE(all.find("[web]: persistence_timeout on a fwmark or group service"), std::string::npos)
      << all;
  EXPECT_EQ(all.find("FWM 10"), std::string::npos) << all;    // mh, NAT, keeping the port: served
  EXPECT_EQ(all.find("10.0.0.8"), std::string::npos) << all;  // twos on NAT: served
  // DR groups: every entry's port, or port 0; no fwmark entries.
  EXPECT_NE(all.find("real_server 10.1.0.1:80: lb_kind DR forwards the frame unchanged, so the "
                     "real server must listen on every entry's port (group dr1 has 443)"),
            std::string::npos)
      << all;
  EXPECT_EQ(all.find("10.1.0.3"), std::string::npos) << all;  // port 0: the packet's port
  EXPECT_EQ(all.find("[dr2]"), std::string::npos) << all;
  EXPECT_NE(all.find("virtual_server_group marked with lb_kind DR has fwmark entries"),
            std::string::npos)
      << all;
  EXPECT_EQ(all.find("10.0.0.2"), std::string::npos) << all;  // NAT, rr, persistence: served
  EXPECT_NE(all.find("[10.0.0.4]:udp:80: lvs_sched wlc with lb_kind DR over udp"),
            std::string::npos)
      << all;
  EXPECT_EQ(all.find("10.0.0.9"), std::string::npos) << all;  // wlc, DR, TCP: served
  EXPECT_NE(
      all.find("k.conf:36: real_server 10.1.0.1:8080: lb_kind DR forwards the frame unchanged, so "
               "the real server must listen on the service's port 80"),
      std::string::npos)
      << all;
  EXPECT_EQ(all.find("10.0.0.5"), std::string::npos) << all;  // sed on NAT: served
  EXPECT_EQ(all.find("10.0.0.6"), std::string::npos) << all;  // DR, sh, persistence: served
}

TEST(NftRuleset, PersistenceMask) {
  EXPECT_EQ(persistence_mask(""), 0xffffffffu);
  EXPECT_EQ(persistence_mask("255.255.255.0"), 0xffffff00u);
  EXPECT_EQ(persistence_mask("24"), 0xffffff00u);
  EXPECT_EQ(persistence_mask("0"), 0u);
  EXPECT_EQ(persistence_mask("32"), 0xffffffffu);
  EXPECT_EQ(persistence_mask("255.255.0.255"), std::nullopt);
  EXPECT_EQ(persistence_mask("33"), std::nullopt);
  EXPECT_EQ(persistence_mask("x"), std::nullopt);
}

DrHops hops_for(const TableService& s, const char* dev = "eth0") {
  DrHops h;
  for (size_t i = 0; i < s.dests.size(); ++i) {
    auto mac = packet::MacAddress::parse("02:00:00:00:83:0" + std::to_string(i + 1));
    h[s.dests[i].addr] = DrHop{*mac, dev, *packet::MacAddress::parse("02:00:00:00:84:01")};
  }
  return h;
}

TableService dr_service(std::string sched, std::vector<int> weights) {
  TableService s = service(std::move(sched), std::move(weights));
  s.forwarding = Forwarding::kDr;
  for (auto& d : s.dests) d.addr.port = 80;  // DR: the service's port
  return s;
}

TEST(NftRuleset, DrRewritesTheMacInTheNetdevFamily) {
  TableService s = dr_service("rr", {1, 1, 1});
  auto r = nft_ruleset({s}, {}, hops_for(s));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(
      *r,
      "table ip vnet_lb {}\n"
      "delete table ip vnet_lb\n"
      "table netdev vnet_lb_dr {}\n"
      "delete table netdev vnet_lb_dr\n"
      "table ip vnet_lb {\n"
      "  chain services {\n"
      "  }\n"
      "  chain prerouting {\n"
      "    type nat hook prerouting priority dstnat; policy accept;\n"
      "    jump services\n"
      "  }\n"
      "  chain output {\n"
      "    type nat hook output priority -100; policy accept;\n"
      "    jump services\n"
      "  }\n"
      "}\n"
      "table netdev vnet_lb_dr {\n"
      "  chain ingress {\n"
      "    type filter hook ingress devices = { \"eth0\" } priority 0; policy accept;\n"
      "    ip daddr 10.0.0.100 tcp dport 80 ether saddr set 02:00:00:00:84:01 ether daddr set "
      "jhash ip saddr . tcp sport mod 3 seed 0x0 map { 0 : 02:00:00:00:83:01, 1 : "
      "02:00:00:00:83:02, 2 : 02:00:00:00:83:03 } "
      "fwd to \"eth0\"\n"
      "  }\n"
      "}\n");
}

TEST(NftRuleset, DrSchedulersAndUnresolvedDestinations) {
  TableService wrr = dr_service("wrr", {2, 1});
  TableService sh = dr_service("sh", {1, 1});
  sh.key.addr = ep("10.0.0.101", 80);
  sh.key.protocol = Protocol::kUdp;
  DrHops hops = hops_for(wrr);
  auto r = nft_ruleset({wrr, sh}, {}, hops);
  ASSERT_TRUE(r) << r.error().message;
  // wrr 2:1: one period of IPVS's sequence (a, a, b), hashed per flow.
  EXPECT_NE(r->find("ip daddr 10.0.0.100 tcp dport 80 ether saddr set 02:00:00:00:84:01 ether "
                    "daddr set jhash ip saddr . tcp sport mod 3 seed 0x0 map { 0 : "
                    "02:00:00:00:83:01, 1 : 02:00:00:00:83:01, 2 : "
                    "02:00:00:00:83:02 } fwd to \"eth0\""),
            std::string::npos)
      << *r;
  // sh: the client alone, 256 buckets.
  EXPECT_NE(r->find("udp dport 80 ether saddr set 02:00:00:00:84:01 ether daddr set jhash ip saddr "
                    "mod 256 seed "
                    "0x0 map { 0 : 02:00:00:00:83:01, 1 : 02:00:00:00:83:02, "),
            std::string::npos)
      << *r;
  // A destination without a resolved MAC is left out; one left: no hash.
  hops.erase(wrr.dests[1].addr);
  r = nft_ruleset({wrr}, {}, hops);
  ASSERT_TRUE(r);
  EXPECT_NE(r->find("tcp dport 80 ether saddr set 02:00:00:00:84:01 ether daddr set "
                    "02:00:00:00:83:01 fwd to "
                    "\"eth0\""),
            std::string::npos)
      << *r;
  // None resolved: no netdev table at all (the director's own stack sees the VIP's traffic).
  r = nft_ruleset({wrr}, {}, {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->find("table netdev vnet_lb_dr {\n"), std::string::npos) << *r;
  // Real servers behind two devices: refused with both named.
  DrHops split = hops_for(wrr);
  split[wrr.dests[1].addr].ifname = "eth1";
  r = nft_ruleset({wrr}, {}, split);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("10.1.0.2 on eth1"), std::string::npos) << r.error().message;
}

TEST(NftRuleset, DrGroupAndMh) {
  TableService grp = dr_service("mh", {1, 1});
  grp.key = ServiceKey{ServiceKey::kGroup, {}, 0, "web", Protocol::kTcp};
  grp.group = {GroupMember{ep("10.0.0.1", 80), 3}, GroupMember{ep("10.0.0.9", 80)}};
  auto r = nft_ruleset({grp}, {}, hops_for(grp));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(r->find("    meta l4proto tcp ip daddr . th dport { 10.0.0.1-10.0.0.3 . 80, 10.0.0.9 . "
                    "80 } ether saddr set 02:00:00:00:84:01 ether daddr set jhash ip saddr mod "
                    "4093 seed 0x0 map { 0 : 02:00:00:00:83:0"),
            std::string::npos)
      << *r;
  // A fwmark cannot be matched at ingress: refused (also at load, see above).
  grp.group.push_back(GroupMember{{}, 0, 7});
  EXPECT_FALSE(nft_ruleset({grp}, {}, hops_for(grp)));
}

TEST(NftRuleset, DrConnectionCountsKeepEachFlowAndLogItsSegments) {
  TableService s = dr_service("wlc", {1, 1});
  Picks picks{{s.key, s.dests[1].addr}};
  auto r = nft_ruleset({s}, picks, hops_for(s));
  ASSERT_TRUE(r) << r.error().message;
  // The daemon's pick, as a MAC, for new flows; each flow keeps its real server.
  EXPECT_NE(r->find("  map pick_tcp_10_0_0_100_80 {\n    type ipv4_addr : ether_addr;\n    "
                    "elements = { 10.0.0.100 : 02:00:00:00:83:02 }\n  }\n"),
            std::string::npos)
      << *r;
  EXPECT_NE(r->find("  map flows_tcp_10_0_0_100_80 {\n    type ipv4_addr . inet_service : "
                    "ether_addr; size 1048576; flags timeout; timeout 900s;\n  }\n"),
            std::string::npos)
      << *r;
  // A known flow first; a new one takes the pick, and only a frame the pick rewrote to one of the
  // service's MACs goes on (a miss leaves the director's MAC: its own stack answers).
  EXPECT_NE(
      r->find("  chain svc_tcp_10_0_0_100_80 {\n"
              "    ether saddr set 02:00:00:00:84:01 ether daddr set ip saddr . tcp sport map "
              "@flows_tcp_10_0_0_100_80 goto out_tcp_10_0_0_100_80\n"
              "    ether saddr set 02:00:00:00:84:01 ether daddr set ip daddr map "
              "@pick_tcp_10_0_0_100_80\n"
              "    ether daddr { 02:00:00:00:83:01, 02:00:00:00:83:02 } goto "
              "out_tcp_10_0_0_100_80\n  }\n"),
      std::string::npos)
      << *r;
  // IPVS's input-only lifetimes by flag, each update in a rule of its own (a full map never stops
  // forwarding); SYN, FIN, RST logged always, other segments once a kDrRefresh per flow.
  EXPECT_NE(
      r->find(
          "  chain out_tcp_10_0_0_100_80 {\n"
          "    tcp flags & rst == rst update @flows_tcp_10_0_0_100_80 { ip saddr . tcp sport "
          "timeout 10s : ether daddr }\n"
          "    tcp flags & (syn | rst) == syn update @flows_tcp_10_0_0_100_80 { ip saddr . tcp "
          "sport timeout 60s : ether daddr }\n"
          "    tcp flags & (syn | rst) == syn delete @seen_tcp_10_0_0_100_80 { ip saddr . tcp "
          "sport }\n"
          "    tcp flags & (syn | rst) == syn delete @closing_tcp_10_0_0_100_80 { ip saddr . "
          "tcp sport }\n"
          "    tcp flags & (fin | syn | rst) == fin update @flows_tcp_10_0_0_100_80 { ip saddr "
          ". tcp sport timeout 120s : ether daddr } add @closing_tcp_10_0_0_100_80 { ip saddr "
          ". tcp sport }\n"
          "    tcp flags & (fin | syn | rst) == 0 ip saddr . tcp sport @closing_tcp_10_0_0_100_80 "
          "update @flows_tcp_10_0_0_100_80 { ip saddr . tcp sport timeout 120s : ether daddr "
          "}\n"
          "    tcp flags & (fin | syn | rst) == 0 ip saddr . tcp sport != "
          "@closing_tcp_10_0_0_100_80 update @flows_tcp_10_0_0_100_80 { ip saddr . tcp sport "
          "timeout 900s : ether daddr }\n"
          "    tcp flags & (fin | syn | rst) != 0 log group 5798 snaplen 96\n"
          "    tcp flags & (fin | syn | rst) == 0 ip saddr . tcp sport != "
          "@seen_tcp_10_0_0_100_80 add @seen_tcp_10_0_0_100_80 { ip saddr . tcp sport } log "
          "group 5798 snaplen 96\n"
          "    fwd to \"eth0\"\n  }\n"),
      std::string::npos)
      << *r;
  EXPECT_NE(r->find("    ip daddr 10.0.0.100 tcp dport 80 goto svc_tcp_10_0_0_100_80\n"),
            std::string::npos)
      << *r;
  // The pick rewritten alone, as a MAC.
  EXPECT_EQ(nft_set_dr_pick(s.key, *packet::MacAddress::parse("02:00:00:00:83:01")),
            "flush map netdev vnet_lb_dr pick_tcp_10_0_0_100_80\n"
            "add element netdev vnet_lb_dr pick_tcp_10_0_0_100_80 { 10.0.0.100 : "
            "02:00:00:00:83:01 }\n");
  EXPECT_EQ(nft_set_dr_pick(s.key, std::nullopt),
            "flush map netdev vnet_lb_dr pick_tcp_10_0_0_100_80\n");
  // Rewritten with the flows the old map held: those on one of the service's real servers keep
  // it and what was left of their timeout; one on a MAC the service no longer has is dropped.
  auto mac = [](const char* m) { return *packet::MacAddress::parse(m); };
  DrFlows flows{{s.key,
                 {DrFlow{ep("10.9.0.1", 40000), mac("02:00:00:00:83:01"), 900, 850},
                  DrFlow{ep("10.9.0.2", 40001), mac("02:00:00:00:83:02"), 60, 0},
                  DrFlow{ep("10.9.0.4", 40003), mac("02:00:00:00:83:02"), 0, 899},
                  DrFlow{ep("10.9.0.5", 40004), mac("02:00:00:00:83:02"), 60, 890},
                  DrFlow{ep("10.9.0.3", 40002), mac("02:00:00:00:83:09"), 900, 10}}}};
  r = nft_ruleset({s}, picks, hops_for(s), nullptr, &flows);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(r->find("timeout 900s;\n    elements = { 10.9.0.1 . 40000 timeout 900s expires 850s : "
                    "02:00:00:00:83:01, 10.9.0.2 . 40001 timeout 60s expires 1s : "
                    "02:00:00:00:83:02, 10.9.0.4 . 40003 timeout 900s expires 899s : "
                    "02:00:00:00:83:02, 10.9.0.5 . 40004 timeout 890s expires 890s : "
                    "02:00:00:00:83:02 }\n  }\n"),
            std::string::npos)
      << *r;
  // With persistence: a known client's template before the pick, refreshed on the way out.
  s.persistence = std::chrono::seconds(60);
  r = nft_ruleset({s}, picks, hops_for(s));
  ASSERT_TRUE(r) << r.error().message;
  auto tmpl = r->find("ether daddr set ip saddr map @persist_tcp_10_0_0_100_80 goto");
  ASSERT_NE(tmpl, std::string::npos) << *r;
  EXPECT_LT(tmpl, r->find("ether daddr set ip daddr map @pick_tcp_10_0_0_100_80"));
  EXPECT_NE(r->find("    update @persist_tcp_10_0_0_100_80 { ip saddr timeout 60s : ether daddr "
                    "}\n"),
            std::string::npos)
      << *r;
  // UDP has no connections to follow here.
  s.key.protocol = Protocol::kUdp;
  EXPECT_FALSE(nft_ruleset({s}, picks, hops_for(s)));
}

TEST(NftRuleset, ParsesTheFlowsMapAsNftListsIt) {
  auto f = parse_nft_flows(
      R"({"nftables": [{"metainfo": {"version": "1.0.6", "json_schema_version": 1}}, {"map": )"
      R"({"family": "netdev", "name": "flows_tcp_10_0_0_100_80", "table": "vnet_lb_dr", "type": )"
      R"(["ipv4_addr", "inet_service"], "handle": 3, "map": "ether_addr", "size": 1048576, )"
      R"("flags": ["timeout"], "timeout": 900, "elem": [[{"elem": {"val": {"concat": )"
      R"(["10.9.0.7", 1234]}, "timeout": 60, "expires": 29}}, "02:00:00:00:00:07"]]}}]})");
  ASSERT_TRUE(f) << f.error().message;
  ASSERT_EQ(f->size(), 1u);
  EXPECT_EQ((*f)[0], (DrFlow{ep("10.9.0.7", 1234), *packet::MacAddress::parse("02:00:00:00:00:07"),
                             60, 29}));
  // An empty map has no "elem".
  auto empty = parse_nft_flows(R"({"nftables": [{"map": {"name": "flows_x"}}]})");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
  EXPECT_FALSE(parse_nft_flows("not json"));
  EXPECT_FALSE(parse_nft_flows(
      R"({"nftables": [{"map": {"elem": [[{"elem": {"val": "10.9.0.7"}}, "02:00:00:00:00:07"]]}}]})"));
  EXPECT_FALSE(parse_nft_flows(
      R"({"nftables": [{"map": {"elem": [[{"elem": {"val": {"concat": ["10.9.0.7", 70000]}}}, "02:00:00:00:00:07"]]}}]})"));
}

TEST(NftRuleset, PersistenceNatRemembersTheClientsRealServer) {
  TableService s = service("rr", {1, 1});
  s.persistence = std::chrono::seconds(300);
  s.persistence_granularity = "255.255.255.0";
  auto r = nft_ruleset({s});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(r->find("  map persist_tcp_10_0_0_100_80 {\n    type ipv4_addr : ipv4_addr . "
                    "inet_service; flags timeout; timeout 300s;\n  }\n"),
            std::string::npos)
      << *r;
  // The lookup comes before the scheduler, so a known client is not rescheduled.
  auto lookup = r->find(
      "    ip daddr 10.0.0.100 tcp dport 80 dnat ip to ip saddr & 255.255.255.0 "
      "map @persist_tcp_10_0_0_100_80\n");
  auto sched = r->find("    ip daddr 10.0.0.100 tcp dport 80 dnat ip to numgen inc mod 2");
  ASSERT_NE(lookup, std::string::npos) << *r;
  ASSERT_NE(sched, std::string::npos) << *r;
  EXPECT_LT(lookup, sched);
  EXPECT_NE(r->find("    ct direction original ct status dnat ct original ip daddr 10.0.0.100 ct "
                    "original protocol tcp ct original proto-dst 80 update "
                    "@persist_tcp_10_0_0_100_80 { ip saddr & 255.255.255.0 timeout 300s : ip "
                    "daddr . th dport }\n"),
            std::string::npos)
      << *r;
  EXPECT_NE(r->find("type filter hook forward priority 0; policy accept;\n    jump remember\n"),
            std::string::npos);
  EXPECT_NE(r->find("type filter hook output priority 0; policy accept;\n    jump remember\n"),
            std::string::npos);
  // Without persistence: no map, no remembering chains.
  r = nft_ruleset({service("rr", {1, 1})});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->find("persist"), std::string::npos);
  EXPECT_EQ(r->find("remember"), std::string::npos);
}

TEST(NftRuleset, PersistenceDr) {
  TableService s = dr_service("rr", {1, 1});
  s.persistence = std::chrono::seconds(60);
  auto r = nft_ruleset({s}, {}, hops_for(s));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(
      r->find(
          "table netdev vnet_lb_dr {\n"
          "  map persist_tcp_10_0_0_100_80 {\n"
          "    type ipv4_addr : ether_addr; flags timeout; timeout 60s;\n"
          "  }\n"
          "  chain svc_tcp_10_0_0_100_80 {\n"
          "    ether saddr set 02:00:00:00:84:01 ether daddr set ip saddr map "
          "@persist_tcp_10_0_0_100_80 update "
          "@persist_tcp_10_0_0_100_80 { ip saddr timeout 60s : ether daddr } fwd to "
          "\"eth0\"\n"
          "    ether saddr set 02:00:00:00:84:01 ether daddr set jhash ip saddr . tcp sport mod 2 "
          "seed 0x0 map { 0 : "
          "02:00:00:00:83:01, 1 : 02:00:00:00:83:02 } update @persist_tcp_10_0_0_100_80 "
          "{ ip saddr timeout 60s : ether daddr } fwd to \"eth0\"\n"
          "  }\n"),
      std::string::npos)
      << *r;
  EXPECT_NE(r->find("    ip daddr 10.0.0.100 tcp dport 80 goto svc_tcp_10_0_0_100_80\n"),
            std::string::npos)
      << *r;
}

UrlCheck url(std::string digest = "", std::vector<int> codes = {}) {
  UrlCheck u;
  u.path = "/";
  u.digest = std::move(digest);
  u.status_codes = std::move(codes);
  return u;
}

TEST(HttpVerdict, StatusDigestGarbageAndEarlyClose) {
  std::string ok = "HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nr1\n";
  EXPECT_EQ(http_verdict(ok, url()), std::nullopt);
  EXPECT_EQ(http_verdict(ok, url(md5_hex("r1\n"))), std::nullopt);
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");  // RFC 1321 A.5
  auto bad_digest = http_verdict(ok, url(md5_hex("r2\n")));
  ASSERT_TRUE(bad_digest);
  EXPECT_NE(bad_digest->find("differs"), std::string::npos);
  EXPECT_EQ(http_verdict("HTTP/1.1 500 Oops\r\n\r\n", url()), "status 500");
  EXPECT_EQ(http_verdict("HTTP/1.1 302 Found\r\n\r\n", url("", {302})), std::nullopt);
  EXPECT_EQ(http_verdict("HTTP/1.1 200 OK\r\n\r\n", url("", {302})), "status 200");
  EXPECT_EQ(http_verdict("SSH-2.0-OpenSSH_9.2\r\n", url()), "no HTTP status line");
  EXPECT_EQ(http_verdict("", url()), "empty response");
  EXPECT_EQ(http_verdict("HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nr1\n", url()),
            "closed early: 3 of 10 body bytes");
  EXPECT_EQ(http_verdict("HTTP/1.0 200 OK\r\nServer: x\r\n", url()),
            "closed early: headers incomplete");
}

}  // namespace
