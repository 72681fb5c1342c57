// Paced probe streams without sockets: the payload codec, the pacing schedule, what a collector
// counts (loss, duplicates, reordering, foreign and malformed datagrams), the percentile and
// jitter definitions, throughput, the reflector, and the `expect` lines of the lab step.

#include <gtest/gtest.h>

#include "probe/expect.hh"
#include "probe/stream.hh"

using namespace vnet;
using namespace vnet::probe;
using std::chrono::microseconds;
using std::chrono::milliseconds;

namespace {

const TimePoint kT0{std::chrono::seconds(1000)};

std::vector<uint8_t> datagram(uint32_t run, uint64_t seq, TimePoint sent, size_t size = 100) {
  std::vector<uint8_t> out;
  encode_probe({run, seq, sent.time_since_epoch().count()}, size, out);
  return out;
}

StreamPlan plan_of(double rate, uint64_t count, size_t payload = 100) {
  StreamOptions o;
  o.rate = rate;
  o.count = count;
  o.payload = payload;
  return make_plan(o, false).value();
}

}  // namespace

TEST(ProbeCodec, RoundTripAndGoldenBytes) {
  std::vector<uint8_t> b;
  encode_probe({0x01020304, 0x0a0b0c0d0e0f1011, 0x1122334455667788}, 30, b);
  const std::vector<uint8_t> golden = {0x76, 0x6e, 0x50, 0x52, 0x01, 0x02, 0x03, 0x04, 0x0a, 0x0b,
                                       0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x11, 0x22, 0x33, 0x44,
                                       0x55, 0x66, 0x77, 0x88, 0,    0,    0,    0,    0,    0};
  EXPECT_EQ(b, golden);
  auto h = decode_probe(b);
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(*h, (ProbeHeader{0x01020304, 0x0a0b0c0d0e0f1011, 0x1122334455667788}));
}

TEST(ProbeCodec, TruncatedAndForeignPayloadsAreErrors) {
  auto b = datagram(1, 2, kT0);
  auto t = decode_probe({b.data(), kHeaderSize - 1});
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().message, "probe truncated: need 24 bytes, have 23");
  b[0] = 'X';
  auto f = decode_probe(b);
  ASSERT_FALSE(f);
  EXPECT_NE(f.error().message.find("not a probe"), std::string::npos);
}

TEST(ProbePlan, RateAndBitrateGiveAnExactSchedule) {
  Sender s(7, plan_of(200, 1000), kT0);
  // 200/s: probe i at exactly i × 5 ms, no drift after 999 probes.
  EXPECT_EQ(s.due(0), kT0);
  EXPECT_EQ(s.due(1), kT0 + milliseconds(5));
  EXPECT_EQ(s.due(999), kT0 + milliseconds(4995));
  // 3/s does not divide a second: the period is kept in picoseconds (333333333333), so the
  // schedule drifts by less than 1 ps per probe (334 ns after a million probes).
  Sender third(7, plan_of(3, kMaxCount), kT0);
  EXPECT_EQ(third.due(1), kT0 + std::chrono::nanoseconds(333'333'333));
  EXPECT_EQ(third.due(3), kT0 + std::chrono::nanoseconds(999'999'999));
  EXPECT_EQ(third.due(999'999), kT0 + std::chrono::nanoseconds(333'332'999'999'666));
  // 10mbit of 200-byte payloads in IPv4 frames (242 bytes = 1936 bits): one every 193.6 µs.
  StreamOptions o;
  o.bitrate = parse_bitrate("10mbit").value();
  o.payload = 200;
  o.duration = std::chrono::seconds(1);
  auto p = make_plan(o, false);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->period_ps, 193'600'000u);
  EXPECT_EQ(p->count, 5166u);  // ceil(1 s / 193.6 µs)
  Sender b(1, *p, kT0);
  EXPECT_EQ(b.due(5), kT0 + microseconds(968));
  // IPv6 frames are 20 bytes longer.
  EXPECT_EQ(make_plan(o, true)->period_ps, 209'600'000u);
}

TEST(ProbePlan, DurationAndLimits) {
  StreamOptions o;
  o.rate = 200;
  o.duration = std::chrono::seconds(5);
  EXPECT_EQ(make_plan(o, false)->count, 1000u);
  o.payload = 10;
  auto small = make_plan(o, false);
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error().message, "size 10: expected 24 to 65507 bytes (the probe header is 24)");
  o.payload = 100;
  o.duration.reset();
  o.count = kMaxCount + 1;
  EXPECT_FALSE(make_plan(o, false));
  o.count = 10;
  o.bitrate = 1000;
  EXPECT_FALSE(make_plan(o, false));  // rate and bitrate
  o.rate.reset();
  o.bitrate = 100'000'000'000;  // 100 Gbit/s of 142-byte frames: past kMaxRate
  EXPECT_FALSE(make_plan(o, false));
}

TEST(ProbePlan, RateAndBitrateText) {
  EXPECT_EQ(parse_packet_rate("200/s").value(), 200);
  EXPECT_EQ(parse_packet_rate("0.5/s").value(), 0.5);
  EXPECT_FALSE(parse_packet_rate("200"));
  EXPECT_FALSE(parse_packet_rate("0/s"));
  EXPECT_FALSE(parse_packet_rate("-3/s"));
  EXPECT_EQ(parse_bitrate("10mbit").value(), 10'000'000u);
  EXPECT_EQ(parse_bitrate("1.5kbps").value(), 12'000u);
  EXPECT_FALSE(parse_bitrate("10"));
  EXPECT_FALSE(parse_bitrate("10mb"));
  EXPECT_EQ(format_bitrate(9.5e6), "9.500 Mbit/s");
}

TEST(ProbeSender, StampsEachProbeWithItsSendTimeAndStops) {
  Sender s(42, plan_of(100, 3, 64), kT0);
  std::vector<uint8_t> b;
  for (uint64_t i = 0; i < 3; ++i) {
    ASSERT_EQ(s.next_due(), kT0 + milliseconds(10 * i));
    TimePoint late = kT0 + milliseconds(10 * i) + microseconds(3);
    s.build_next(late, b);
    EXPECT_EQ(b.size(), 64u);
    EXPECT_EQ(decode_probe(b).value(), (ProbeHeader{42, i, late.time_since_epoch().count()}));
  }
  EXPECT_EQ(s.sent(), 3u);
  EXPECT_FALSE(s.next_due());
}

TEST(ProbeCollector, CountsLossDuplicatesAndReordering) {
  Collector c(5, 10, frame_bytes(0, false));
  // Probes 0..9 sent 10 ms apart; 3 and 7 lost, 5 arrives twice, 8 overtakes 6.
  auto arrive = [&](uint64_t seq, int delay_us) {
    TimePoint sent = kT0 + milliseconds(10 * seq);
    return c.on_datagram(datagram(5, seq, sent), sent + microseconds(delay_us));
  };
  for (uint64_t q : {0, 1, 2, 4, 5}) EXPECT_EQ(arrive(q, 1000), Collector::Verdict::kRecorded);
  EXPECT_EQ(arrive(5, 1500), Collector::Verdict::kDuplicate);
  EXPECT_EQ(arrive(8, 1000), Collector::Verdict::kRecorded);
  EXPECT_EQ(arrive(6, 25000), Collector::Verdict::kRecorded);  // after 8: reordered
  EXPECT_EQ(arrive(9, 1000), Collector::Verdict::kRecorded);
  Stats s = c.stats(10);
  EXPECT_EQ(s.sent, 10u);
  EXPECT_EQ(s.received, 8u);
  EXPECT_EQ(s.lost, 2u);
  EXPECT_DOUBLE_EQ(s.loss_pct, 20.0);
  EXPECT_EQ(s.duplicates, 1u);
  EXPECT_EQ(s.reordered, 1u);
  ASSERT_TRUE(s.delay);
  EXPECT_EQ(s.delay->min, milliseconds(1));  // the duplicate's 1.5 ms does not count
  EXPECT_EQ(s.delay->max, milliseconds(25));
}

TEST(ProbeCollector, ForeignAndMalformedDatagramsAreIgnoredAndCounted) {
  Collector c(5, 4, 0);
  EXPECT_EQ(c.on_datagram(datagram(6, 0, kT0), kT0), Collector::Verdict::kOtherRun);
  EXPECT_EQ(c.on_datagram(datagram(5, 4, kT0), kT0), Collector::Verdict::kOutOfRange);
  EXPECT_EQ(c.on_datagram(datagram(5, UINT64_MAX, kT0), kT0), Collector::Verdict::kOutOfRange);
  auto garbage = datagram(5, 0, kT0);
  garbage[3] ^= 1;
  EXPECT_EQ(c.on_datagram(garbage, kT0), Collector::Verdict::kMalformed);
  EXPECT_EQ(c.on_datagram({}, kT0), Collector::Verdict::kMalformed);
  std::vector<uint8_t> short_one(kHeaderSize - 1, 0);
  EXPECT_EQ(c.on_datagram(short_one, kT0), Collector::Verdict::kMalformed);
  Stats s = c.stats(4);
  EXPECT_EQ(s.received, 0u);
  EXPECT_EQ(s.lost, 4u);
  EXPECT_EQ(s.ignored, 6u);
  EXPECT_FALSE(s.delay);
  EXPECT_EQ(s.throughput_bps, 0);
}

TEST(ProbeStats, NearestRankPercentiles) {
  std::vector<Duration> v;
  for (int i = 1; i <= 10; ++i) v.push_back(milliseconds(i));
  EXPECT_EQ(percentile(v, 50), milliseconds(5));
  EXPECT_EQ(percentile(v, 90), milliseconds(9));
  EXPECT_EQ(percentile(v, 99), milliseconds(10));
  EXPECT_EQ(percentile(v, 10), milliseconds(1));
  EXPECT_EQ(percentile(v, 11), milliseconds(2));
  std::vector<Duration> hundred;
  for (int i = 1; i <= 100; ++i) hundred.push_back(microseconds(i));
  EXPECT_EQ(percentile(hundred, 99), microseconds(99));
  EXPECT_EQ(percentile(hundred, 50), microseconds(50));
  std::vector<Duration> one = {milliseconds(7)};
  EXPECT_EQ(percentile(one, 50), milliseconds(7));
  EXPECT_EQ(percentile(one, 99), milliseconds(7));
}

TEST(ProbeStats, JitterIsTheMeanAbsoluteDifferenceOfConsecutiveDelays) {
  // Delays 10, 12, 9, (lost), 9, 15 ms in sequence order: |2|+|−3|+|0|+|6| over 4 pairs = 2.75.
  Collector c(1, 6, 0);
  const int delays_ms[] = {10, 12, 9, -1, 9, 15};
  for (uint64_t q = 0; q < 6; ++q) {
    if (delays_ms[q] < 0) continue;
    TimePoint sent = kT0 + milliseconds(20 * q);
    c.on_datagram(datagram(1, q, sent), sent + milliseconds(delays_ms[q]));
  }
  Stats s = c.stats(6);
  EXPECT_EQ(s.jitter, microseconds(2750));
  EXPECT_EQ(s.delay->mean, microseconds(11000));
  // Arrival order does not matter: the pairs are consecutive sequence numbers.
  Collector r(1, 3, 0);
  r.on_datagram(datagram(1, 2, kT0 + milliseconds(2)), kT0 + milliseconds(7));  // 5 ms
  r.on_datagram(datagram(1, 0, kT0), kT0 + milliseconds(9));                    // 9 ms
  r.on_datagram(datagram(1, 1, kT0 + milliseconds(1)), kT0 + milliseconds(9));  // 8 ms
  EXPECT_EQ(r.stats(3).jitter, microseconds(2000));                             // (1 + 3) / 2
  // A constant delay has no jitter.
  Collector k(1, 50, 0);
  for (uint64_t q = 0; q < 50; ++q) {
    TimePoint sent = kT0 + milliseconds(q);
    k.on_datagram(datagram(1, q, sent), sent + microseconds(333));
  }
  EXPECT_EQ(k.stats(50).jitter, Duration{0});
}

TEST(ProbeStats, TheReflectorsTurnaroundIsNotPartOfTheRtt) {
  // Round trips of 1.2, 1.5 and 1.1 ms, of which the reflector held the probes 0.2, 0.5 and
  // (unknown) ms: RTTs 1.0, 1.0 and 1.1 ms.
  Collector replies(3, 3, 0), at_reflector(3, 3, 0);
  const int rtt_us[] = {1200, 1500, 1100};
  for (uint64_t q = 0; q < 3; ++q) {
    TimePoint sent = kT0 + milliseconds(5 * q);
    replies.on_datagram(datagram(3, q, sent), sent + microseconds(rtt_us[q]));
  }
  at_reflector.add_turnaround(0, microseconds(200));
  at_reflector.add_turnaround(1, microseconds(500));
  Stats s = replies.stats(3, &at_reflector);
  EXPECT_EQ(s.delay->min, microseconds(1000));
  EXPECT_EQ(s.delay->p50, microseconds(1000));
  EXPECT_EQ(s.delay->max, microseconds(1100));
  EXPECT_EQ(s.jitter, microseconds(50));                       // (0 + 100) / 2
  EXPECT_EQ(replies.stats(3).delay->max, microseconds(1500));  // without: the raw round trips
  EXPECT_EQ(at_reflector.turnaround()->mean, microseconds(350));
}

TEST(ProbeStats, ThroughputCountsFramesAfterTheFirstArrival) {
  // 101 probes of 200 bytes, one every 1 ms: the 100 frames of 242 bytes after the first arrive
  // in 100 ms, 1.936 Mbit/s, exactly the rate they were paced at (1000/s of 1936-bit frames).
  Collector c(1, 101, frame_bytes(0, false));
  for (uint64_t q = 0; q <= 100; ++q) {
    TimePoint t = kT0 + milliseconds(q);
    c.on_datagram(datagram(1, q, t, 200), t + microseconds(50));
  }
  EXPECT_DOUBLE_EQ(c.stats(101).throughput_bps, 1'936'000);
}

TEST(ProbeReflector, EchoesProbesOnlyAndCountsEachRunApart) {
  Reflector r;
  const size_t v4 = frame_bytes(0, false);
  EXPECT_EQ(r.on_datagram(datagram(1, 0, kT0), kT0 + milliseconds(1), v4)->run, 1u);
  EXPECT_TRUE(r.on_datagram(datagram(1, 1, kT0), kT0 + milliseconds(2), v4));
  EXPECT_TRUE(r.on_datagram(datagram(2, 0, kT0), kT0 + milliseconds(2), v4));
  EXPECT_TRUE(
      r.on_datagram(datagram(1, 1, kT0), kT0 + milliseconds(3), v4));  // duplicates go back too
  std::vector<uint8_t> junk = {1, 2, 3};
  EXPECT_FALSE(r.on_datagram(junk, kT0, v4));
  EXPECT_EQ(r.ignored(), 1u);
  ASSERT_TRUE(r.run(1));
  EXPECT_EQ(r.run(1)->received(), 2u);
  EXPECT_EQ(r.run(1)->stats(2).duplicates, 1u);
  EXPECT_EQ(r.run(2)->received(), 1u);
  EXPECT_FALSE(r.run(3));
  // Run 2 heard from last at +2 ms, run 1 at +3 ms: after 1 s idle, 2 goes first.
  auto idle = r.take_idle(kT0 + milliseconds(1002), std::chrono::seconds(1));
  ASSERT_EQ(idle.size(), 1u);
  EXPECT_EQ(idle[0].first, 2u);
  // The reflector's turnaround per echo, per run.
  EXPECT_FALSE(r.run(1)->turnaround());
  r.echoed({1, 0, 0}, microseconds(10));
  r.echoed({1, 1, 0}, microseconds(30));
  r.echoed({1, 1, 0}, microseconds(50));  // a duplicate's echo: the first one counts
  r.echoed({7, 0, 0}, microseconds(99));  // no such run: nothing
  ASSERT_TRUE(r.run(1)->turnaround());
  EXPECT_EQ(r.run(1)->turnaround()->mean, microseconds(20));
  EXPECT_EQ(r.run(1)->turnaround()->p99, microseconds(30));
  // Memory stays bounded however many runs arrive.
  for (uint32_t id = 100; id < 200; ++id)
    r.on_datagram(datagram(id, 0, kT0), kT0 + milliseconds(id), v4);
  EXPECT_TRUE(r.run(199));
  EXPECT_FALSE(r.run(100));
}

TEST(ProbeExpect, ParsesTheFormsOfTheStep) {
  auto loss = parse_expectation("loss 10% ± 3%");
  ASSERT_TRUE(loss) << loss.error().message;
  EXPECT_EQ(loss->metric, Metric::kLoss);
  EXPECT_EQ(loss->value, 10);
  EXPECT_EQ(loss->tolerance, 3);  // percentage points
  auto p50 = parse_expectation("rtt p50 40ms +- 2ms");
  ASSERT_TRUE(p50);
  EXPECT_EQ(p50->stat, RttStat::kP50);
  EXPECT_EQ(p50->value, 40e6);
  EXPECT_EQ(p50->tolerance, 2e6);
  auto p99 = parse_expectation("rtt p99<45ms");
  ASSERT_TRUE(p99);
  EXPECT_EQ(p99->compare, Compare::kLess);
  EXPECT_EQ(p99->value, 45e6);
  auto tp = parse_expectation("throughput 9.5mbit ± 5%");
  ASSERT_TRUE(tp);
  EXPECT_DOUBLE_EQ(tp->tolerance, 475'000);  // relative
  EXPECT_EQ(parse_expectation("jitter <= 5ms")->compare, Compare::kLessEqual);
  EXPECT_EQ(parse_expectation("duplicates 0")->compare, Compare::kWithin);
  EXPECT_EQ(parse_expectation("reordered >= 1")->value, 1);
}

TEST(ProbeExpect, RefusesWhatItCannotRead) {
  auto message = [](std::string_view t) {
    auto e = parse_expectation(t);
    EXPECT_FALSE(e) << t;
    return e ? std::string() : e.error().message;
  };
  EXPECT_NE(message("latency 40ms").find("unknown metric 'latency'"), std::string::npos);
  EXPECT_NE(message("rtt p95 40ms").find("min, mean, p50, p90, p99 or max"), std::string::npos);
  EXPECT_NE(message("rtt p50 40").find("a duration ≥ 0 with a unit"), std::string::npos);
  EXPECT_NE(message("rtt p50 -40ms").find("a duration ≥ 0 with a unit"), std::string::npos);
  EXPECT_NE(message("loss 10").find("a percentage"), std::string::npos);
  EXPECT_NE(message("loss 10% ± 3").find("tolerance 3"), std::string::npos);
  EXPECT_NE(message("loss 110%").find("a percentage"), std::string::npos);
  EXPECT_NE(message("throughput 10").find("a bit rate"), std::string::npos);
  EXPECT_NE(message("rtt p50 40ms ± ").find("VALUE ± TOL"), std::string::npos);
  EXPECT_NE(message("rtt p50 40ms 2ms").find("VALUE ± TOL"), std::string::npos);
  EXPECT_NE(message("jitter <").find("jitter < VALUE"), std::string::npos);
  EXPECT_NE(message("").find("METRIC"), std::string::npos);
}

TEST(ProbeExpect, ChecksMeasuredFigures) {
  Stats s;
  s.sent = 1000;
  s.received = 880;
  s.lost = 120;
  s.loss_pct = 12;
  s.delay = DelayStats{milliseconds(40), milliseconds(41), milliseconds(41),
                       milliseconds(43), milliseconds(44), milliseconds(50)};
  s.jitter = microseconds(300);
  s.throughput_bps = 9.6e6;
  auto verdict = [&](std::string_view t) { return check(parse_expectation(t).value(), s); };
  EXPECT_TRUE(verdict("loss 10% ± 3%").passed);
  EXPECT_FALSE(verdict("loss 10% ± 1.9%").passed);
  EXPECT_TRUE(verdict("rtt p50 40ms ± 1ms").passed);  // the bound is inclusive
  EXPECT_FALSE(verdict("rtt p99 < 44ms").passed);
  EXPECT_TRUE(verdict("rtt p99 <= 44ms").passed);
  EXPECT_TRUE(verdict("jitter < 1ms").passed);
  EXPECT_TRUE(verdict("throughput 9.5mbit ± 5%").passed);
  EXPECT_FALSE(verdict("throughput 9.5mbit ± 1%").passed);
  EXPECT_TRUE(check(parse_expectation("throughput 9.5mbit ± 1%").value(), s, 9.5e6).passed);
  auto v = verdict("loss 10% ± 1%");
  EXPECT_EQ(v.detail, "loss 12.00% (120 of 1000) (expected loss 10% ± 1%): FAIL");
  // Nothing came back: delay expectations fail and say why.
  Stats none;
  none.sent = 10;
  none.lost = 10;
  none.loss_pct = 100;
  auto r = check(parse_expectation("rtt p50 < 1s").value(), none);
  EXPECT_FALSE(r.passed);
  EXPECT_NE(r.detail.find("no probe came back"), std::string::npos);
}
