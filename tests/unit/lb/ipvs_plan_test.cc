// The director's table as IPVS requests (lb/ipvs_plan.hh): one service per virtual server, one
// per group entry and per address of a VIP range; persistence, granularity and scheduler flags
// as the kernel takes them; and the smallest list of requests from one table to the next, in
// keepalived's order — a recovered real server is one NEW_DEST, a weight change one SET_DEST.
#include "lb/ipvs_plan.hh"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/ip_vs.h>

using namespace vnet::lb;
using ipvs::Cmd;

namespace {

Endpoint ep(const char* a, uint16_t port) { return *Endpoint::parse(a, port); }

TableService web(std::vector<std::pair<const char*, int>> dests) {
  TableService s;
  s.key.addr = ep("10.0.0.1", 80);
  s.scheduler = "wlc";
  for (auto& [a, w] : dests) s.dests.push_back({ep(a, 80), w});
  return s;
}

std::vector<Cmd> cmds(const std::vector<IpvsRequest>& r) {
  std::vector<Cmd> out;
  for (auto& x : r) out.push_back(x.cmd);
  return out;
}

TEST(IpvsPlan, AServiceAndItsRealServersFromNothing) {
  auto plan = ipvs_plan({}, {web({{"10.0.1.2", 2}, {"10.0.1.1", 1}})});
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  ASSERT_EQ(cmds(*plan), (std::vector<Cmd>{Cmd::kNewService, Cmd::kNewDest, Cmd::kNewDest}));
  const auto& s = (*plan)[0].service;
  EXPECT_EQ(s.af, AF_INET);
  EXPECT_EQ(s.protocol, IPPROTO_TCP);
  EXPECT_EQ(s.port, 80);
  EXPECT_EQ(s.scheduler, "wlc");
  EXPECT_EQ(s.flags, 0u);
  EXPECT_EQ(s.netmask, 0xffffffffu);
  EXPECT_EQ((ipvs::Addr{10, 0, 0, 1}), s.addr);
  ASSERT_TRUE((*plan)[1].dest && (*plan)[2].dest);
  // In the table's order (the file's, then the sorry server), not the addresses': IPVS lists
  // destinations by insertion and rr walks that list (keepalived in a VM, lb_ipvs_vm.sh).
  EXPECT_EQ((*plan)[1].dest->addr[3], 2);
  EXPECT_EQ((*plan)[1].dest->weight, 2u);
  EXPECT_EQ((*plan)[2].dest->weight, 1u);
  EXPECT_EQ((*plan)[2].dest->fwd, ipvs::Fwd::kMasq);
}

TEST(IpvsPlan, RealServersInTheFilesOrderThenTheSorryServer) {
  // The table keeps destinations by address; rank is their place in the file (the sorry server
  // after the real servers). keepalived adds them in that order and rr walks the kernel's list.
  TableService s = web({{"10.0.1.1", 0}, {"10.0.1.2", 1}, {"10.0.1.3", 1}});
  s.dests[0].sorry = true;
  s.dests[0].rank = 2;
  s.dests[1].rank = 1;
  s.dests[2].rank = 0;
  auto plan = ipvs_plan({}, {s});
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->size(), 4u);
  EXPECT_EQ((*plan)[1].dest->addr[3], 3);
  EXPECT_EQ((*plan)[2].dest->addr[3], 2);
  EXPECT_EQ((*plan)[3].dest->addr[3], 1);
  // A real server that recovers is added at the end of the kernel's list, as keepalived does.
  TableService less = s;
  less.dests.erase(less.dests.begin() + 1);
  auto back = ipvs_plan({less}, {s});
  ASSERT_EQ(cmds(*back), std::vector<Cmd>{Cmd::kNewDest});
  EXPECT_EQ((*back)[0].dest->addr[3], 2);
}

TEST(IpvsPlan, SmallestChangeFromOneTableToTheNext) {
  Table a{web({{"10.0.1.1", 1}, {"10.0.1.2", 1}})};
  // r2 fails: one DEL_DEST; it recovers: one NEW_DEST (keepalived #1720: always re-added).
  Table b{web({{"10.0.1.1", 1}})};
  EXPECT_EQ(cmds(*ipvs_plan(a, b)), std::vector<Cmd>{Cmd::kDelDest});
  EXPECT_EQ(cmds(*ipvs_plan(b, a)), std::vector<Cmd>{Cmd::kNewDest});
  // A weight change (inhibit_on_failure, MISC_CHECK's dynamic weight): SET_DEST.
  Table c{web({{"10.0.1.1", 1}, {"10.0.1.2", 0}})};
  auto set = ipvs_plan(a, c);
  ASSERT_EQ(cmds(*set), std::vector<Cmd>{Cmd::kSetDest});
  EXPECT_EQ((*set)[0].dest->weight, 0u);
  // The same table: nothing.
  EXPECT_TRUE(ipvs_plan(a, a)->empty());
  // A scheduler change: SET_SERVICE, the real servers untouched.
  Table d = a;
  d[0].scheduler = "rr";
  EXPECT_EQ(cmds(*ipvs_plan(a, d)), std::vector<Cmd>{Cmd::kSetService});
  // A service that goes: DEL_SERVICE only (its destinations go with it), before anything new.
  TableService other = web({{"10.0.1.9", 1}});
  other.key.addr = ep("10.0.0.2", 443);
  EXPECT_EQ(cmds(*ipvs_plan(a, {other})),
            (std::vector<Cmd>{Cmd::kDelService, Cmd::kNewService, Cmd::kNewDest}));
}

TEST(IpvsPlan, PersistenceAndFlagsAsTheKernelTakesThem) {
  TableService s = web({{"10.0.1.1", 1}});
  s.persistence = std::chrono::seconds(300);
  s.persistence_granularity = "255.255.255.0";
  s.sched_flags = {"sh-port", "sh-fallback"};
  s.scheduler = "sh";
  s.forwarding = Forwarding::kDr;
  auto svcs = ipvs_services(s);
  ASSERT_TRUE(svcs.ok()) << svcs.error().message;
  ASSERT_EQ(svcs->size(), 1u);
  EXPECT_EQ((*svcs)[0].timeout, 300u);
  EXPECT_EQ((*svcs)[0].flags,
            uint32_t{IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_SCHED1 | IP_VS_SVC_F_SCHED2});
  EXPECT_EQ((*svcs)[0].netmask, htonl(0xffffff00));
  s.persistence_granularity = "24";
  EXPECT_EQ((*ipvs_services(s))[0].netmask, htonl(0xffffff00));
  EXPECT_EQ(ipvs_dest(s, s.dests[0]).fwd, ipvs::Fwd::kRoute);
  s.sched_flags = {"no-such-flag"};
  EXPECT_EQ(ipvs_services(s).error().code, EINVAL);
  s.sched_flags.clear();
  s.persistence_granularity = "255.0.x.0";
  EXPECT_EQ(ipvs_services(s).error().code, EINVAL);
}

TEST(IpvsPlan, GroupsAndFwmarks) {
  TableService g = web({{"10.0.1.1", 1}});
  g.key.kind = ServiceKey::kGroup;
  g.key.group = "web";
  g.scheduler = "rr";
  g.group = {{ep("10.0.0.10", 80), 12, 0}, {ep("10.0.0.20", 443), 0, 0}, {{}, 0, 7}};
  auto plan = ipvs_plan({}, {g});
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  // 10.0.0.10-12 on 80, 10.0.0.20 on 443, fwmark 7: five services, one real server each.
  int services = 0, dests = 0, fwmarks = 0;
  for (auto& r : *plan) {
    services += r.cmd == Cmd::kNewService;
    dests += r.cmd == Cmd::kNewDest;
    if (r.cmd == Cmd::kNewService && r.service.fwmark == 7) {
      ++fwmarks;
      EXPECT_EQ(r.service.protocol, 0);
    }
  }
  EXPECT_EQ(services, 5);
  EXPECT_EQ(dests, 5);
  EXPECT_EQ(fwmarks, 1);
}

}  // namespace
