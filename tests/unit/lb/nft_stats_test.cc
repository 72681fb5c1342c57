#include "lb/nft_stats.hh"

#include <gtest/gtest.h>

#include "lb/nft_ruleset.hh"

using namespace vnet;
using namespace vnet::lb;

namespace {

Endpoint ep(const char* a, uint16_t port) { return *Endpoint::parse(a, port); }

TableService nat(const char* vip, std::vector<const char*> reals) {
  TableService s;
  s.key.addr = ep(vip, 80);
  s.scheduler = "rr";
  for (auto* r : reals) s.dests.push_back({ep(r, 8000), 1});
  return s;
}

ServiceKey fwmark(uint32_t m) {
  ServiceKey k;
  k.kind = ServiceKey::kFwmark;
  k.fwmark = m;
  return k;
}

// A real server that leaves the table keeps its counters while its service stays; a service
// that leaves drops them; fwmark services are not counted; a change of method starts afresh.
TEST(NftStats, CountedKeepsRealServersWhileTheServiceStays) {
  TableService a = nat("10.0.0.100", {"10.1.0.1", "10.1.0.2"});
  TableService f = nat("10.0.0.1", {"10.1.0.9"});
  f.key = fwmark(7);
  Counted c = nft_counted({a, f}, {});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[a.key].dests, (std::vector<Endpoint>{ep("10.1.0.1", 8000), ep("10.1.0.2", 8000)}));

  TableService a2 = nat("10.0.0.100", {"10.1.0.2", "10.1.0.3"});  // 10.1.0.1 failed its check
  Counted c2 = nft_counted({a2}, c);
  EXPECT_EQ(c2[a.key].dests, (std::vector<Endpoint>{ep("10.1.0.1", 8000), ep("10.1.0.2", 8000),
                                                    ep("10.1.0.3", 8000)}));

  TableService b = nat("10.0.0.101", {"10.1.0.1"});
  Counted c3 = nft_counted({b}, c2);  // a's service removed by a reload
  EXPECT_EQ(c3.count(a.key), 0u);
  ASSERT_EQ(c3.count(b.key), 1u);

  TableService a3 = a2;
  a3.forwarding = Forwarding::kDr;
  Counted c4 = nft_counted({a3}, c2);
  EXPECT_EQ(c4[a.key].dests, (std::vector<Endpoint>{ep("10.1.0.2", 8000), ep("10.1.0.3", 8000)}));
  EXPECT_EQ(c4[a.key].forwarding, Forwarding::kDr);
}

TEST(NftStats, CounterNames) {
  TableService a = nat("10.0.0.100", {});
  a.key.protocol = Protocol::kUdp;
  EXPECT_EQ(nft_counter_name("conn", a.key, ep("10.1.0.1", 8000)),
            "conn_udp_10_0_0_100_80_10_1_0_1_8000");
  a.key.protocol = Protocol::kSctp;
  a.key.addr = ep("255.255.255.255", 65535);
  EXPECT_LE(nft_counter_name("conn", a.key, ep("255.255.255.255", 65535)).size(), 64u);
}

// Golden: a new daemon's stats table for one NAT service with two real servers.
TEST(NftStats, FreshNatTable) {
  TableService a = nat("10.0.0.100", {"10.1.0.1", "10.1.0.2"});
  Counted c = nft_counted({a}, {});
  EXPECT_EQ(
      nft_stats_ruleset(c, {}, true),
      "table ip vnet_lb_stats {}\n"
      "delete table ip vnet_lb_stats\n"
      "table ip vnet_lb_stats {\n"
      "  counter in_tcp_10_0_0_100_80_10_1_0_1_8000 {\n  }\n"
      "  counter out_tcp_10_0_0_100_80_10_1_0_1_8000 {\n  }\n"
      "  counter conn_tcp_10_0_0_100_80_10_1_0_1_8000 {\n  }\n"
      "  counter in_tcp_10_0_0_100_80_10_1_0_2_8000 {\n  }\n"
      "  counter out_tcp_10_0_0_100_80_10_1_0_2_8000 {\n  }\n"
      "  counter conn_tcp_10_0_0_100_80_10_1_0_2_8000 {\n  }\n"
      "  chain count {\n"
      "    ct direction original ct original ip daddr 10.0.0.100 ct original protocol tcp ct "
      "original proto-dst 80 counter name ip daddr . th dport map { 10.1.0.1 . 8000 : "
      "\"in_tcp_10_0_0_100_80_10_1_0_1_8000\", 10.1.0.2 . 8000 : "
      "\"in_tcp_10_0_0_100_80_10_1_0_2_8000\" }\n"
      "    ct direction reply ct original ip daddr 10.0.0.100 ct original protocol tcp ct "
      "original proto-dst 80 counter name ip saddr . th sport map { 10.1.0.1 . 8000 : "
      "\"out_tcp_10_0_0_100_80_10_1_0_1_8000\", 10.1.0.2 . 8000 : "
      "\"out_tcp_10_0_0_100_80_10_1_0_2_8000\" }\n"
      "  }\n"
      "  chain forward {\n"
      "    type filter hook forward priority 0; policy accept;\n"
      "    ct status dnat jump count\n"
      "  }\n"
      "  chain input {\n"
      "    type filter hook input priority 0; policy accept;\n"
      "    ct status dnat jump count\n"
      "  }\n"
      "  chain output {\n"
      "    type filter hook output priority 0; policy accept;\n"
      "    ct status dnat jump count\n"
      "  }\n"
      "  chain conns {\n"
      "    type nat hook postrouting priority srcnat - 1; policy accept;\n"
      "    ct status dnat ct original ip daddr 10.0.0.100 ct original protocol tcp ct original "
      "proto-dst 80 counter name ip daddr . th dport map { 10.1.0.1 . 8000 : "
      "\"conn_tcp_10_0_0_100_80_10_1_0_1_8000\", 10.1.0.2 . 8000 : "
      "\"conn_tcp_10_0_0_100_80_10_1_0_2_8000\" }\n"
      "  }\n"
      "}\n");
}

// Reprogramming keeps the table and its counters: rules flushed, only the counters of a
// service that left deleted; `add counter` (the table block) keeps an existing one's values.
TEST(NftStats, ReprogramKeepsCountersOfRealServersThatRemain) {
  TableService a = nat("10.0.0.100", {"10.1.0.1", "10.1.0.2"});
  TableService b = nat("10.0.0.101", {"10.1.0.5"});
  Counted before = nft_counted({a, b}, {});
  TableService a2 = nat("10.0.0.100", {"10.1.0.2"});
  Counted after = nft_counted({a2}, before);
  std::string t = nft_stats_ruleset(after, before, false);
  EXPECT_EQ(t.find("delete table"), std::string::npos) << t;
  EXPECT_EQ(t.rfind("table ip vnet_lb_stats {}\nflush table ip vnet_lb_stats\n", 0), 0u) << t;
  for (const char* p : {"in", "out", "conn"}) {
    EXPECT_NE(t.find(std::string("delete counter ip vnet_lb_stats ") + p +
                     "_tcp_10_0_0_101_80_10_1_0_5_8000\n"),
              std::string::npos)
        << t;
    // 10.1.0.1 is out of the table but its service stays: kept, still counted.
    EXPECT_NE(t.find(std::string("  counter ") + p + "_tcp_10_0_0_100_80_10_1_0_1_8000 {"),
              std::string::npos)
        << t;
  }
  EXPECT_EQ(t.find("delete counter ip vnet_lb_stats in_tcp_10_0_0_100"), std::string::npos) << t;
  // No NAT service counted: the table goes.
  EXPECT_EQ(nft_stats_ruleset({}, after, false), nft_delete_stats());
}

DrHops hops() {
  DrHops h;
  h[ep("10.1.0.1", 80)] = {*packet::MacAddress::parse("02:00:00:00:83:01"), "eth0",
                           *packet::MacAddress::parse("02:00:00:00:84:01")};
  h[ep("10.1.0.2", 80)] = {*packet::MacAddress::parse("02:00:00:00:83:02"), "eth0",
                           *packet::MacAddress::parse("02:00:00:00:84:01")};
  return h;
}

// DR counts in the ingress rule, after the choice, by the new destination MAC.
TEST(NftStats, DrRuleCountsByTheChosenMac) {
  TableService s;
  s.key.addr = ep("10.0.0.100", 80);
  s.scheduler = "rr";
  s.forwarding = Forwarding::kDr;
  s.dests = {{ep("10.1.0.1", 80), 1}, {ep("10.1.0.2", 80), 1}, {ep("10.1.0.3", 80), 1}};
  Counted c = nft_counted({s}, {});
  auto r = nft_ruleset({s}, {}, hops(), &c);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_NE(r->find("ether daddr set jhash ip saddr . tcp sport mod 2 seed 0x0 map { 0 : "
                    "02:00:00:00:83:01, 1 : 02:00:00:00:83:02 } counter name ether daddr map { "
                    "02:00:00:00:83:01 : \"in_tcp_10_0_0_100_80_10_1_0_1_80\", 02:00:00:00:83:02 "
                    ": \"in_tcp_10_0_0_100_80_10_1_0_2_80\" } fwd to \"eth0\"\n"),
            std::string::npos)
      << *r;
  // Every counted real server has its counter, also one without a MAC yet (10.1.0.3).
  EXPECT_NE(r->find("table netdev vnet_lb_dr {\n  counter in_tcp_10_0_0_100_80_10_1_0_1_80 {\n  "
                    "}\n  counter in_tcp_10_0_0_100_80_10_1_0_2_80 {\n  }\n  counter "
                    "in_tcp_10_0_0_100_80_10_1_0_3_80 {\n  }\n"),
            std::string::npos)
      << *r;
  // Without `counted`: the rule as before.
  auto plain = nft_ruleset({s}, {}, hops());
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->find("counter"), std::string::npos) << *plain;
  // Two real servers behind one MAC: one map key, the first one's counter.
  DrHops same = hops();
  same[ep("10.1.0.2", 80)].mac = same[ep("10.1.0.1", 80)].mac;
  EXPECT_EQ(nft_dr_count(s.key, c[s.key].dests, same),
            " counter name ether daddr map { 02:00:00:00:83:01 : "
            "\"in_tcp_10_0_0_100_80_10_1_0_1_80\" }");
  EXPECT_EQ(nft_dr_count(s.key, c[s.key].dests, {}), "");
}

// Golden: nft 1.0.6's `nft -j list counters` (two tables listed; one asked for).
constexpr const char* kListing =
    R"({"nftables": [{"metainfo": {"version": "1.0.6", "release_name": "Lester Gooch #5", )"
    R"("json_schema_version": 1}}, {"counter": {"family": "ip", "name": )"
    R"("in_tcp_10_0_0_100_80_10_1_0_1_8000", "table": "vnet_lb_stats", "handle": 4, "packets": )"
    R"(12, "bytes": 1176}}, {"counter": {"family": "ip", "name": )"
    R"("out_tcp_10_0_0_100_80_10_1_0_1_8000", "table": "vnet_lb_stats", "handle": 5, )"
    R"("packets": 10, "bytes": 18446744073709551615}}, {"counter": {"family": "netdev", "name": )"
    R"("c1", "table": "t2", "handle": 2, "packets": 0, "bytes": 0}}]})";

TEST(NftStats, ParsesNftJsonCounters) {
  auto r = parse_nft_counters(kListing, "vnet_lb_stats");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ(r->at("in_tcp_10_0_0_100_80_10_1_0_1_8000"), (NftCounter{12, 1176}));
  EXPECT_EQ(r->at("out_tcp_10_0_0_100_80_10_1_0_1_8000").bytes, UINT64_MAX);
  auto empty = parse_nft_counters(R"({"nftables": [{"metainfo": {}}]})", "vnet_lb_stats");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(NftStats, RefusesMalformedListings) {
  struct Case {
    const char* json;
    const char* says;
  } cases[] = {
      {"nft: no such table", "not JSON"},
      {R"({"counters": []})", "\"nftables\" array"},
      {R"({"nftables": [{"counter": {"table": "vnet_lb_stats", "packets": 1, "bytes": 1}}]})",
       "without a name"},
      {R"({"nftables": [{"counter": {"name": "x", "packets": 1, "bytes": 1}}]})",
       "counter x without a table"},
      {R"({"nftables": [{"counter": {"name": "x", "table": "vnet_lb_stats", "packets": -1, )"
       R"("bytes": 1}}]})",
       "counter x: \"packets\" is not an unsigned number"},
      {R"({"nftables": [{"counter": {"name": "x", "table": "vnet_lb_stats", "packets": 1}}]})",
       "counter x: \"bytes\""},
  };
  for (auto& c : cases) {
    auto r = parse_nft_counters(c.json, "vnet_lb_stats");
    ASSERT_FALSE(r) << c.json;
    EXPECT_EQ(r.error().code, EBADMSG);
    EXPECT_NE(r.error().message.find(c.says), std::string::npos) << r.error().message;
  }
}

// Live plus carried counters per real server; DR counts no connections and no replies; a real
// server without a counter yet is 0; the service's total is the sum.
TEST(NftStats, StatsFromCounters) {
  TableService a = nat("10.0.0.100", {"10.1.0.1", "10.1.0.2"});
  TableService d = nat("10.0.0.101", {"10.1.0.1"});
  d.forwarding = Forwarding::kDr;
  Counted c = nft_counted({a, d}, {});
  NftCounters live = {
      {"in_tcp_10_0_0_100_80_10_1_0_1_8000", {6, 400}},
      {"out_tcp_10_0_0_100_80_10_1_0_1_8000", {5, 900}},
      {"conn_tcp_10_0_0_100_80_10_1_0_1_8000", {1, 60}},
      {"in_tcp_10_0_0_101_80_10_1_0_1_8000", {3, 200}},
  };
  NftCounters carried = {{"in_tcp_10_0_0_101_80_10_1_0_1_8000", {4, 300}}};
  Stats s = nft_stats(c, live, carried);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_TRUE(s[a.key].conns_counted);
  EXPECT_EQ(s[a.key].dests[ep("10.1.0.1", 8000)], (Counters{1, 6, 5, 400, 900}));
  EXPECT_EQ(s[a.key].dests[ep("10.1.0.2", 8000)], Counters{});
  EXPECT_EQ(s[a.key].total(), (Counters{1, 6, 5, 400, 900}));
  EXPECT_FALSE(s[d.key].conns_counted);
  EXPECT_EQ(s[d.key].dests[ep("10.1.0.1", 8000)], (Counters{0, 7, 0, 500, 0}));
}

}  // namespace
