// Layer-2 probe streams: the probe payload codec, the outage / loss / duplicate / reordering
// arithmetic over recorded streams (synthetic, no sockets), and the `stream` and `converge`
// steps' parsing.

#include <gtest/gtest.h>

#include "lab/probe.hh"
#include "lab/topology.hh"

using namespace vnet;
using namespace vnet::lab;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;

namespace {

constexpr int64_t kMs = 1'000'000;

// Send times of n probes, one every millisecond from t = 1000 ms.
std::vector<int64_t> sent(size_t n) {
  std::vector<int64_t> s;
  for (size_t i = 0; i < n; ++i) s.push_back((1000 + static_cast<int64_t>(i)) * kMs);
  return s;
}

// Arrivals of the given sequence numbers, in this order, each 100 µs after it was sent.
std::vector<StreamSample> arrivals(const std::vector<int64_t>& s, std::vector<uint64_t> seqs) {
  std::vector<StreamSample> a;
  for (uint64_t q : seqs) a.push_back({q, s[q], s[q] + kMs / 10});
  return a;
}

std::vector<uint64_t> all_but(size_t n, uint64_t lo, uint64_t hi) {  // [lo, hi) missing
  std::vector<uint64_t> v;
  for (uint64_t i = 0; i < n; ++i) {
    if (i < lo || i >= hi) v.push_back(i);
  }
  return v;
}

TEST(ProbeStream, PayloadRoundTripsWithGoldenBytes) {
  StreamProbeFrame f{0x01020304, 0x1122334455667788, 0x0102030405060708};
  std::vector<uint8_t> buf;
  ByteWriter w(buf);
  encode(f, w);
  std::vector<uint8_t> want = {0x76, 0x6e, 0x53, 0x50, 1, 2, 3, 4, 0x11, 0x22, 0x33, 0x44,
                               0x55, 0x66, 0x77, 0x88, 1, 2, 3, 4, 5,    6,    7,    8};
  EXPECT_EQ(buf, want);
  ByteReader r(buf);
  auto back = decode_stream_probe(r);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, f);

  ByteReader shortr(std::span<const uint8_t>(buf).first(23));
  auto t = decode_stream_probe(shortr);
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().message, "probe payload truncated: need 24 bytes, have 23");
  buf[0] = 0;
  ByteReader bad(buf);
  EXPECT_FALSE(decode_stream_probe(bad));
}

TEST(ProbeStream, AnUnbrokenStreamHasNoOutage) {
  auto s = sent(100);
  auto x = analyze_stream(s, arrivals(s, all_but(100, 0, 0)), s[50]);
  EXPECT_EQ(x.sent, 100u);
  EXPECT_EQ(x.received, 100u);
  EXPECT_EQ(x.lost, 0u);
  EXPECT_EQ(x.duplicated, 0u);
  EXPECT_EQ(x.out_of_order, 0u);
  EXPECT_EQ(x.outage, nanoseconds(0));
  EXPECT_TRUE(x.recovered);
  EXPECT_EQ(x.max_latency, nanoseconds(kMs / 10));
}

TEST(ProbeStream, TheOutageIsTheLongestLossRunAfterTheFault) {
  auto s = sent(200);
  // Lost: 10..12 (3, before the fault at 50), 60..84 (25, across and after it), 150..159 (10).
  std::vector<uint64_t> got;
  for (uint64_t i = 0; i < 200; ++i) {
    if ((i >= 10 && i < 13) || (i >= 60 && i < 85) || (i >= 150 && i < 160)) continue;
    got.push_back(i);
  }
  auto x = analyze_stream(s, arrivals(s, got), s[62]);
  EXPECT_EQ(x.lost, 38u);
  EXPECT_EQ(x.received, 162u);
  // From the send time of probe 60 (first lost) to that of 85 (first through again).
  EXPECT_EQ(x.outage, milliseconds(25));
  EXPECT_EQ(x.outage_lost, 25u);
  EXPECT_TRUE(x.recovered);

  // A run that ended before the fault does not count: fault after the second run.
  x = analyze_stream(s, arrivals(s, got), s[100]);
  EXPECT_EQ(x.outage, milliseconds(10));
  EXPECT_EQ(x.outage_lost, 10u);
  EXPECT_EQ(x.lost, 38u);  // loss is counted over the whole stream
}

TEST(ProbeStream, ADuplicateIsCountedAndNotMistakenForLoss) {
  auto s = sent(20);
  auto got = all_but(20, 5, 8);     // 5, 6, 7 lost
  got.insert(got.begin() + 12, 3);  // probe 3 arrives a second time later (a loop)
  auto x = analyze_stream(s, arrivals(s, got), s[4]);
  EXPECT_EQ(x.duplicated, 1u);
  EXPECT_EQ(x.received, 17u);
  EXPECT_EQ(x.lost, 3u);
  EXPECT_EQ(x.out_of_order, 0u);  // a second copy is a duplicate, not reordering
  EXPECT_EQ(x.outage, milliseconds(3));
  EXPECT_TRUE(x.recovered);
}

TEST(ProbeStream, ReorderingIsCountedOnce) {
  auto s = sent(10);
  auto x = analyze_stream(s, arrivals(s, {0, 1, 3, 2, 4, 5, 7, 6, 8, 9}), s[0]);
  EXPECT_EQ(x.out_of_order, 2u);
  EXPECT_EQ(x.lost, 0u);
  EXPECT_EQ(x.duplicated, 0u);
  EXPECT_EQ(x.outage, nanoseconds(0));
}

TEST(ProbeStream, AStreamThatNeverCameBackHasNotRecovered) {
  auto s = sent(100);
  auto x = analyze_stream(s, arrivals(s, all_but(100, 40, 100)), s[40]);
  EXPECT_FALSE(x.recovered);
  EXPECT_EQ(x.lost, 60u);
  EXPECT_EQ(x.outage_lost, 60u);
  EXPECT_EQ(x.outage, milliseconds(59));  // up to the last probe sent
  // Through again, but lost again at the very end: not flowing at the end.
  auto got = all_but(100, 40, 50);
  got.resize(got.size() - 5);
  x = analyze_stream(s, arrivals(s, got), s[40]);
  EXPECT_FALSE(x.recovered);
  // Nothing at all after the fault arrived.
  x = analyze_stream(s, arrivals(s, all_but(100, 0, 0)), s[99] + kMs);
  EXPECT_FALSE(x.recovered);
  EXPECT_FALSE(analyze_stream({}, {}, 0).recovered);
}

TEST(ProbeStream, ForeignSequenceNumbersAreIgnored) {
  auto s = sent(5);
  auto a = arrivals(s, {0, 1, 2, 3, 4});
  a.push_back({77, 0, 0});
  auto x = analyze_stream(s, a, s[0]);
  EXPECT_EQ(x.received, 5u);
  EXPECT_EQ(x.duplicated, 0u);
}

// A lab with three hosts on one switch; `steps` are spliced into one scenario.
std::string errors_of(const std::string& steps) {
  std::string text =
      "name: m\nswitches: [{name: sw1, vlans: [10]}]\nhosts:\n"
      "  - {name: h1, interfaces: [{name: eth0, ipv4: 10.0.0.1/24}]}\n"
      "  - {name: h3, interfaces: [{name: e1, ipv4: 10.0.0.3/24}, {name: e2}]}\n"
      "links:\n  - {endpoints: [h1, sw1], vlan: 10}\n  - {endpoints: [h3:e1, sw1], vlan: 10}\n"
      "  - {endpoints: [h3:e2, sw1], vlan: 10}\n"
      "scenarios:\n  - name: s\n    steps:\n" +
      steps;
  auto r = parse_topology(text, "m.yaml");
  return r ? std::string() : r.error().message;
}

TEST(ProbeStream, StreamAndConvergeStepsParse) {
  EXPECT_EQ(errors_of("      - stream: h1 h3\n      - link: h1 sw1 down\n"
                      "      - converge: h1 h3 < 1s\n"),
            "");
  EXPECT_EQ(errors_of("      - stream: h1:eth0 h3:e2\n      - converge: h1:eth0 h3:e2 < 250ms\n"),
            "");
  struct Case {
    std::string step, error;
  };
  for (const Case& c : std::vector<Case>{
           {"stream: h1", "m.yaml:13:17: stream: expected 'FROM TO'"},
           {"stream: h1 h1", "stream: FROM and TO are the same node (h1)"},
           {"stream: h1 sw1", "'sw1' is a switch: probes run on hosts and routers"},
           {"stream: h1 h9", "unknown node 'h9'"},
           {"stream: h1 h3:eth7", "stream: h3 has no interface 'eth7'"},
           {"converge: h1 h3", "converge: expected 'FROM TO < DURATION' (e.g. 'h1 h3 < 1s')"},
           {"converge: h1 h3 > 1s", "converge: expected 'FROM TO < DURATION'"},
           {"converge: h1 h3 < 1x", "converge duration '1x': expected a duration"},
           {"converge: h1 h3 < 0s", "converge duration"},
           {"converge: h1 h4 < 1s", "unknown node 'h4'"},
       }) {
    std::string e = errors_of("      - " + c.step + "\n");
    EXPECT_NE(e.find(c.error), std::string::npos) << c.step << " → " << e;
  }
}

}  // namespace
