#include "lb/conn_counts.hh"

#include <gtest/gtest.h>

using namespace vnet::lb;

namespace {

Endpoint ep(const char* a, uint16_t port) { return *Endpoint::parse(a, port); }

ServiceKey service(const char* a, uint16_t port, Protocol p = Protocol::kTcp) {
  ServiceKey k;
  k.addr = ep(a, port);
  k.protocol = p;
  return k;
}

ConnEvent event(ConnEvent::Kind kind, uint32_t id, const char* real, bool established,
                Protocol p = Protocol::kTcp) {
  ConnEvent e;
  e.kind = kind;
  e.id = id;
  e.protocol = p;
  e.client = ep("10.9.0.1", uint16_t(40000 + id));
  e.orig_dst = ep("10.0.0.100", 80);
  e.reply_src = ep(real, 8000);
  e.established = established;
  return e;
}

// IPVS's counting (ip_vs_proto_tcp.c): a TCP connection is inactive until ESTABLISHED, active
// while it is, inactive again after (FIN_WAIT, TIME_WAIT), and gone when destroyed.
TEST(ConnCounts, TcpActiveWhileEstablished) {
  ConnCounts c;
  auto vs = service("10.0.0.100", 80);
  c.watch({vs});
  auto rs = ep("10.1.0.1", 8000);
  EXPECT_EQ(c.on_event(event(ConnEvent::kNew, 1, "10.1.0.1", false)), vs);
  EXPECT_EQ(c.counts(vs, rs), (DestCounts{0, 1}));
  EXPECT_EQ(c.on_event(event(ConnEvent::kUpdate, 1, "10.1.0.1", true)), vs);
  EXPECT_EQ(c.counts(vs, rs), (DestCounts{1, 0}));
  EXPECT_EQ(c.on_event(event(ConnEvent::kUpdate, 1, "10.1.0.1", true)), std::nullopt);  // same
  EXPECT_EQ(c.on_event(event(ConnEvent::kUpdate, 1, "10.1.0.1", false)), vs);           // TIME_WAIT
  EXPECT_EQ(c.counts(vs, rs), (DestCounts{0, 1}));
  EXPECT_EQ(c.on_event(event(ConnEvent::kDestroy, 1, "10.1.0.1", false)), vs);
  EXPECT_EQ(c.counts(vs, rs), (DestCounts{0, 0}));
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.on_event(event(ConnEvent::kDestroy, 1, "10.1.0.1", false)), std::nullopt);
}

TEST(ConnCounts, UdpIsInactiveAndServicesAreKeptApart) {
  ConnCounts c;
  auto tcp = service("10.0.0.100", 80);
  auto udp = service("10.0.0.100", 80, Protocol::kUdp);
  c.watch({udp});
  auto rs = ep("10.1.0.1", 8000);
  EXPECT_EQ(c.on_event(event(ConnEvent::kNew, 1, "10.1.0.1", true)), std::nullopt);  // tcp
  EXPECT_EQ(c.on_event(event(ConnEvent::kNew, 2, "10.1.0.1", true, Protocol::kUdp)), udp);
  EXPECT_EQ(c.counts(udp, rs), (DestCounts{0, 1}));
  EXPECT_EQ(c.counts(tcp, rs), (DestCounts{0, 0}));
}

TEST(ConnCounts, UnwatchedServicesAreForgotten) {
  ConnCounts c;
  auto vs = service("10.0.0.100", 80);
  c.watch({vs});
  c.on_event(event(ConnEvent::kNew, 1, "10.1.0.1", true));
  c.on_event(event(ConnEvent::kNew, 2, "10.1.0.2", true));
  EXPECT_EQ(c.size(), 2u);
  c.watch({});
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.counts(vs, ep("10.1.0.1", 8000)), (DestCounts{0, 0}));
}

// The same id with another client is another connection (ids are reused after destruction).
TEST(ConnCounts, IdReusedByAnotherClientIsAnotherConnection) {
  ConnCounts c;
  auto vs = service("10.0.0.100", 80);
  c.watch({vs});
  auto a = event(ConnEvent::kNew, 7, "10.1.0.1", true);
  auto b = a;
  b.client = ep("10.9.0.2", 50000);
  b.reply_src = ep("10.1.0.2", 8000);
  c.on_event(a);
  c.on_event(b);
  EXPECT_EQ(c.counts(vs, ep("10.1.0.1", 8000)), (DestCounts{1, 0}));
  EXPECT_EQ(c.counts(vs, ep("10.1.0.2", 8000)), (DestCounts{1, 0}));
}

// A client cannot make the daemon grow without bound: past max_entries, events are counted and
// dropped; destroying one makes room again.
TEST(ConnCounts, BoundedWithOverflowCounted) {
  ConnCounts c(3);
  auto vs = service("10.0.0.100", 80);
  c.watch({vs});
  for (uint32_t id = 1; id <= 5; ++id) c.on_event(event(ConnEvent::kNew, id, "10.1.0.1", true));
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(c.overflow(), 2u);
  EXPECT_EQ(c.counts(vs, ep("10.1.0.1", 8000)), (DestCounts{3, 0}));
  c.on_event(event(ConnEvent::kDestroy, 1, "10.1.0.1", true));
  EXPECT_EQ(c.on_event(event(ConnEvent::kNew, 6, "10.1.0.1", true)), vs);
  EXPECT_EQ(c.size(), 3u);
}

}  // namespace
