// Link impairment through the dataplane (bridge/impair_stage.hh) and its console commands, on
// memory backends and a manual clock: a delay delays by exactly its time, loss and the queue
// limit drop and count on the port, a command with one bad word changes nothing, impair/clear
// forwards straight again, control frames are impaired like any other, rate spaces frames by
// their serialization time, `in` impairs what the switch receives, and a delay counts from the
// kernel's receive time where the backend reports one (io::Backend::arrival).
#include "bridge/impair_stage.hh"

#include <gtest/gtest.h>

#include "bridge/commands.hh"
#include "bridge/dataplane.hh"
#include "io/memory.hh"
#include "support/frames.hh"

using namespace vnet;
using namespace vnet::bridge;
using namespace std::chrono_literals;
using packet::Frame;
using vnet::test::mac;

namespace {

// A unicast frame to mac(2) from mac(1) carrying `seq` in its first payload byte (60 bytes).
Frame numbered(uint8_t seq) {
  Frame f = test::frame(mac(2), mac(1));
  f.data()[14] = seq;
  return f;
}

const packet::MacAddress kBridgeGroup{{0x01, 0x80, 0xc2, 0x00, 0x00, 0x00}};

// A backend that reports kernel arrival times (io::Backend::arrival) as afpacket does, around a
// memory backend; the test sets the time its next frames "arrived".
class StampedBackend final : public io::Backend {
 public:
  explicit StampedBackend(std::unique_ptr<io::MemoryBackend> inner) : inner_(std::move(inner)) {}
  std::vector<int> fds() const override { return inner_->fds(); }
  size_t receive(std::vector<Frame>& out, size_t max) override {
    const size_t n = inner_->receive(out, max);
    last_ = n > 0 && timestamps ? stamp : std::nullopt;
    return n;
  }
  size_t send(std::span<Frame> frames) override { return inner_->send(frames); }
  bool vnet_hdr() const override { return true; }
  std::string kind() const override { return "stamped"; }
  std::string describe() const override { return "stamped"; }
  void set_timestamps(bool on) override { timestamps = on; }
  std::optional<TimePoint> arrival() const override { return last_; }

  bool timestamps = false;
  std::optional<TimePoint> stamp;  // what arrival() reports after the next receive()

 private:
  std::unique_ptr<io::MemoryBackend> inner_;
  std::optional<TimePoint> last_;
};

class ImpairStageTest : public ::testing::Test {
 protected:
  using Seqs = std::vector<int>;
  ImpairStageTest() : loop(clock), dp(loop) {
    register_commands(reg, dp, clock, info);
    br = *dp.create_bridge("br0");
    auto [near_a, far_a] = io::MemoryBackend::pair("a");
    auto [near_b, far_b] = io::MemoryBackend::pair("b");
    auto s = std::make_unique<StampedBackend>(std::move(near_a));
    stamped = s.get();
    EXPECT_TRUE(dp.attach(*br, 1, std::move(s), false).ok());
    EXPECT_TRUE(dp.attach(*br, 2, std::move(near_b), false).ok());
    a = std::move(far_a);
    b = std::move(far_b);
    put(*b, test::frame(packet::MacAddress::broadcast(), mac(2)));  // learn mac(2) on port 2
    run();
    take(*a);
  }
  Result<console::Reply> cmd(const std::string& line) { return reg.run(session, line); }
  void ok(const std::string& line) {
    auto r = cmd(line);
    ASSERT_TRUE(r.ok()) << line << ": " << r.error().message;
  }
  static void put(io::MemoryBackend& end, Frame f) {
    std::vector<Frame> v;
    v.push_back(std::move(f));
    end.send(v);
  }
  void send(std::initializer_list<int> seqs) {
    for (int s : seqs) put(*a, numbered(static_cast<uint8_t>(s)));
    run();
  }
  static std::vector<Frame> frames(io::MemoryBackend& end) {
    std::vector<Frame> got;
    end.receive(got, 1000);
    return got;
  }
  static Seqs take(io::MemoryBackend& end) {
    Seqs seqs;
    for (auto& f : frames(end)) seqs.push_back(f.data()[14]);
    return seqs;
  }
  void run() {
    for (int i = 0; i < 5; ++i) loop.run_once(Duration{0});
  }
  void advance(Duration d) {
    clock.advance(d);
    loop.run_timers();
    run();
  }
  // Frame 1 from port 1's peer, which the kernel received at `at` (io::Backend::arrival;
  // nullopt: no timestamp), read by a switch that woke up later.
  void send_arrived(std::optional<TimePoint> at) {
    stamped->stamp = at;
    send({1});
  }
  uint64_t drops(PortNo p, DropReason r) const {
    return br->counters(p).drops[static_cast<size_t>(r)];
  }
  nlohmann::json show(int port) {
    auto r = cmd(fmt::format("impair/show {} --json", port));
    EXPECT_TRUE(r.ok());
    session.json = false;
    return r.ok() ? r->json : nlohmann::json();
  }

  ManualClock clock;
  EventLoop loop;
  Dataplane dp;
  console::Registry reg;
  SwitchInfo info{"test", "/tmp/x", clock.now()};
  console::Session session;
  Bridge* br = nullptr;
  StampedBackend* stamped = nullptr;  // port 1's end
  std::unique_ptr<io::MemoryBackend> a, b;
};

TEST_F(ImpairStageTest, DelayOutDeliversExactlyTheDelayLater) {
  ok("impair/set 2 out delay 10ms");
  send({1, 2});
  EXPECT_TRUE(take(*b).empty());
  EXPECT_TRUE(dp.egress_timer_armed(*br, 2));
  advance(9999us);
  EXPECT_TRUE(take(*b).empty());
  advance(1us);
  EXPECT_EQ(take(*b), (Seqs{1, 2}));
  EXPECT_FALSE(dp.egress_timer_armed(*br, 2)) << "nothing held: no timer";
  auto j = show(2);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["direction"], "out");
  EXPECT_EQ(j[0]["settings"], "delay 10ms");
  EXPECT_EQ(j[0]["delayed"], 2);
  EXPECT_EQ(j[0]["released"], 2);
  EXPECT_EQ(j[0]["queue"]["packets"], 0);
  EXPECT_EQ(j[0]["queue"]["peak_packets"], 2);
  EXPECT_TRUE(take(*a).empty()) << "the other port is not impaired";
}

TEST_F(ImpairStageTest, DelayInHoldsWhatTheSwitchReceivesBeforeTheBridgeSeesIt) {
  ok("impair/set 1 in delay 10ms");
  const uint64_t rx_before = br->counters(1).rx_frames;
  send({7});
  EXPECT_EQ(br->counters(1).rx_frames, rx_before) << "held before Bridge::ingress";
  EXPECT_TRUE(dp.ingress_timer_armed(*br, 1));
  advance(9999us);
  EXPECT_TRUE(take(*b).empty());
  advance(1us);
  EXPECT_EQ(take(*b), (Seqs{7}));
  EXPECT_EQ(br->counters(1).rx_frames, rx_before + 1);
  EXPECT_FALSE(dp.ingress_timer_armed(*br, 1));
  EXPECT_TRUE(dp.egress_chain(*br, 1)->empty()) << "`in` is not port 1's egress";
}

TEST_F(ImpairStageTest, BothDirectionsAddUp) {
  ok("impair/set 2 both delay 10ms");
  send({1});  // in on port 1 is not impaired; out on port 2 is
  advance(10ms);
  EXPECT_EQ(take(*b), (Seqs{1}));
  put(*b, test::frame(mac(1), mac(2)));  // into the switch on port 2, out on port 1 (not impaired)
  run();
  advance(9999us);
  EXPECT_EQ(frames(*a).size(), 0u);
  advance(1us);
  EXPECT_EQ(frames(*a).size(), 1u);
}

TEST_F(ImpairStageTest, FullLossDropsEveryFrameAndCountsItOnThePort) {
  send({1});
  EXPECT_EQ(take(*b), (Seqs{1})) << "positive control";
  ok("impair/set 2 out loss 100%");
  for (int i = 0; i < 20; ++i) send({i});
  advance(1s);
  EXPECT_TRUE(take(*b).empty());
  EXPECT_EQ(drops(2, DropReason::kImpairLoss), 20u);
  EXPECT_EQ(br->counters(2).total_drops(), 20u);
  auto j = show(2);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["dropped"]["loss"], 20);
  EXPECT_EQ(j[0]["offered"], 20);
  auto stats = cmd("port/print 2 --json");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->json[0]["drops"]["impair_loss"], 20) << stats->json.dump();
}

TEST_F(ImpairStageTest, TheQueueLimitTailDropsAndCounts) {
  ok("impair/set 2 out delay 10ms limit 3");
  send({1, 2, 3, 4, 5});
  advance(10ms);
  EXPECT_EQ(take(*b), (Seqs{1, 2, 3}));
  EXPECT_EQ(drops(2, DropReason::kImpairQueueFull), 2u);
  EXPECT_EQ(show(2)[0]["dropped"]["queue-full"], 2);
  EXPECT_EQ(dp.egress_chain(*br, 2)->info()[0].dropped, 2u);
}

TEST_F(ImpairStageTest, ACommandWithOneBadWordChangesNothing) {
  ok("impair/set 2 both delay 10ms");
  auto bad = cmd("impair/set 2 both loss 50% delay 2h");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("delay"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("1h"), std::string::npos) << bad.error().message;
  auto j = show(2);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0]["settings"], "delay 10ms");
  EXPECT_EQ(j[1]["settings"], "delay 10ms");

  auto bad2 = cmd("impair/set 1 out delay 5ms loss 120%");
  ASSERT_FALSE(bad2.ok());
  EXPECT_NE(bad2.error().message.find("loss 120%"), std::string::npos) << bad2.error().message;
  EXPECT_NE(bad2.error().message.find("0% to 100%"), std::string::npos) << bad2.error().message;
  EXPECT_TRUE(dp.egress_chain(*br, 1)->empty()) << "no stage installed";
  EXPECT_FALSE(cmd("impair/set 2 sideways delay 1ms").ok());
  EXPECT_FALSE(cmd("impair/set 9 out delay 1ms").ok()) << "no port 9";
  EXPECT_EQ(show(2)[0]["settings"], "delay 10ms");
}

TEST_F(ImpairStageTest, LaterCommandsAddToTheSettings) {
  ok("impair/set 2 out delay 10ms");
  ok("impair/set 2 out loss 100%");
  EXPECT_EQ(show(2)[0]["settings"], "loss 100% delay 10ms");
}

TEST_F(ImpairStageTest, ClearSendsHeldFramesOnAndForwardsStraightAgain) {
  ok("impair/set 2 both delay 10ms");
  send({1, 2});
  EXPECT_TRUE(take(*b).empty());
  ok("impair/clear 2");
  EXPECT_EQ(take(*b), (Seqs{1, 2})) << "held frames leave at once, in order";
  EXPECT_TRUE(dp.egress_chain(*br, 2)->empty());
  EXPECT_TRUE(dp.ingress_chain(*br, 2)->empty());
  EXPECT_FALSE(dp.egress_timer_armed(*br, 2));
  send({3});
  EXPECT_EQ(take(*b), (Seqs{3})) << "no delay";
  EXPECT_TRUE(show(2).empty());
  ok("impair/clear 2 out");  // nothing to clear is not an error
}

TEST_F(ImpairStageTest, ControlFramesAreImpairedBothWays) {
  // Into the switch: a frame to the bridge group address reaches the control plane...
  put(*a, test::frame(kBridgeGroup, mac(1)));
  run();
  EXPECT_EQ(br->counters(1).control, 1u) << "positive control";
  ok("impair/set 1 in loss 100%");
  put(*a, test::frame(kBridgeGroup, mac(1)));
  run();
  EXPECT_EQ(br->counters(1).control, 1u) << "lost on the way in";
  EXPECT_EQ(drops(1, DropReason::kImpairLoss), 1u);
  ok("impair/clear 1");

  // Out of the switch: spanning tree's BPDUs.
  ok("impair/set 2 out loss 100%");
  ok("stp/set mode rstp");
  advance(0ms);
  advance(2s);
  size_t on_a = 0, on_b = 0;
  auto is_bpdu = [](const Frame& f) {
    return std::equal(kBridgeGroup.bytes.begin(), kBridgeGroup.bytes.end(), f.data());
  };
  for (auto& f : frames(*a)) on_a += is_bpdu(f);
  for (auto& f : frames(*b)) on_b += is_bpdu(f);
  EXPECT_GT(on_a, 0u) << "positive control: BPDUs leave port 1";
  EXPECT_EQ(on_b, 0u);
  EXPECT_GT(drops(2, DropReason::kImpairLoss), 0u);
}

TEST_F(ImpairStageTest, RateSpacesFramesByTheirSerializationTime) {
  ok("impair/set 2 out rate 1mbit");  // 60 bytes = 480 bits = 480 us
  send({1, 2, 3});
  EXPECT_TRUE(take(*b).empty());
  advance(479us);
  EXPECT_TRUE(take(*b).empty());
  advance(1us);
  EXPECT_EQ(take(*b), (Seqs{1}));
  advance(479us);
  EXPECT_TRUE(take(*b).empty());
  advance(1us);
  EXPECT_EQ(take(*b), (Seqs{2}));
  advance(480us);
  EXPECT_EQ(take(*b), (Seqs{3}));
}

// A TCP GSO frame is the segments it becomes on the wire: a rate limit releases them one
// serialization time apart (a whole 64 KiB train at once made TCP application-limited, 0.98 of
// the rate through iperf3), an MTU that each segment fits passes them all, and loss draws per
// segment. A delay alone keeps the frame whole.
TEST_F(ImpairStageTest, AGsoFrameIsImpairedAsItsSegments) {
  ok("impair/set 2 out rate 10mbit");  // a segment: 14 + 40 + 1000 bytes = 8432 bits = 843.2 us
  put(*a, test::tcp_gso_frame(mac(2), mac(1), 3000, 1000));
  run();
  EXPECT_TRUE(frames(*b).empty());
  std::vector<uint32_t> seqs;
  for (int k = 1; k <= 3; ++k) {  // segment k is due at k × 843.2 us
    advance(k == 1 ? 843us : 842us);
    EXPECT_TRUE(frames(*b).empty()) << "segment " << k << " early";
    advance(1us);
    auto got = frames(*b);
    ASSERT_EQ(got.size(), 1u) << "segment " << k;
    EXPECT_EQ(got[0].size(), 1054u);
    EXPECT_EQ(got[0].offload.gso_type, packet::OffloadInfo::kGsoNone);
    seqs.push_back(ByteReader(got[0].bytes().subspan(38)).u32());
  }
  EXPECT_EQ(seqs, (std::vector<uint32_t>{5000, 6000, 7000}));

  ok("impair/clear 2 out");
  ok("impair/set 2 out mtu 1100");  // each segment fits; the train (3054 bytes) would not
  put(*a, test::tcp_gso_frame(mac(2), mac(1), 3000, 1000));
  run();
  EXPECT_EQ(frames(*b).size(), 3u);
  EXPECT_EQ(drops(2, DropReason::kImpairMtu), 0u);

  ok("impair/clear 2 out");
  ok("impair/set 2 out delay 1ms");
  put(*a, test::tcp_gso_frame(mac(2), mac(1), 3000, 1000));
  run();
  advance(1ms);
  auto got = frames(*b);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].offload.gso_type, 1);
}

TEST_F(ImpairStageTest, DuplicatesAreClonesAndCorruptionFlipsOneBitPerCopy) {
  ok("impair/set 2 out duplicate 100% corrupt 100%");
  send({5});
  auto got = frames(*b);
  ASSERT_EQ(got.size(), 2u);
  Frame want = numbered(5);
  for (auto& f : got) {
    ASSERT_EQ(f.size(), want.size());
    int bits = 0;
    for (size_t i = 0; i < f.size(); ++i) bits += __builtin_popcount(f.data()[i] ^ want.data()[i]);
    EXPECT_EQ(bits, 1);
  }
  EXPECT_EQ(show(2)[0]["duplicated"], 1);
  EXPECT_EQ(show(2)[0]["corrupted"], 2);
}

TEST_F(ImpairStageTest, InOnACableIsThePeersOut) {
  Bridge& b2 = **dp.create_bridge("br1");
  ASSERT_TRUE(br->add_port(9).ok());
  ASSERT_TRUE(b2.add_port(9).ok());
  ASSERT_TRUE(dp.connect_cable(*br, 9, b2, 9).ok());
  ok("impair/set 9 in delay 3ms");
  const EgressChain* peer = dp.egress_chain(b2, 9);
  ASSERT_NE(peer, nullptr);
  EXPECT_NE(const_cast<EgressChain*>(peer)->find(ImpairStage::kName), nullptr);
  auto j = show(9);
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["direction"], "in");
  EXPECT_EQ(j[0]["via"], "br1:9 out");
  ok("impair/clear 9 in");
  EXPECT_TRUE(dp.egress_chain(b2, 9)->empty());
}

TEST_F(ImpairStageTest, TheSameSeedGivesTheSameDropsAndTheSeedIsSettable) {
  auto pattern = [&] {
    ok("impair/set 2 out loss 50%");
    std::vector<int> seq;
    for (int i = 0; i < 40; ++i) seq.push_back(i);
    for (int s : seq) send({s});
    ok("impair/clear 2");
    return take(*b);
  };
  Seqs first = pattern();
  Seqs again = pattern();
  EXPECT_EQ(first, again) << "default seed: reproducible";
  EXPECT_GT(first.size(), 5u);
  EXPECT_LT(first.size(), 35u);
  ok("impair/seed 12345");
  EXPECT_NE(pattern(), first);
}

// A rate limit spaces a GSO frame as the segments it becomes on the wire: a TCP train of 10
// segments of 1448 bytes behind 66 bytes of headers (14 Ethernet + 20 IPv4 + 32 TCP with
// timestamps) counts 10 × 1514 bytes, not the 14,546 bytes of the one frame. A plain frame
// counts its size; a GSO frame too short for its headers counts as is.
TEST(ImpairWireSize, AGsoFrameCountsEverySegmentWithItsHeaders) {
  Frame f = Frame::make(66 + 10 * 1448);
  EXPECT_EQ(wire_size(f), 66u + 10 * 1448);
  f.offload.gso_type = 1;  // VIRTIO_NET_HDR_GSO_TCPV4
  f.offload.gso_size = 1448;
  f.offload.csum_start = 34;
  f.bytes()[34 + 12] = 8 << 4;  // TCP data offset: 8 words = 32 bytes
  EXPECT_EQ(wire_size(f), 10u * 1514);
  f.offload.gso_type = 1 | 0x80;  // with the ECN bit
  EXPECT_EQ(wire_size(f), 10u * 1514);
  Frame last = Frame::make(66 + 2 * 1448 + 100);  // a short last segment
  last.offload = f.offload;
  last.bytes()[34 + 12] = 8 << 4;
  EXPECT_EQ(wire_size(last), 2u * 1514 + 166);
  Frame tiny = Frame::make(40);
  tiny.offload = f.offload;
  EXPECT_EQ(wire_size(tiny), 40u);
}

}  // namespace

// impair/show tells how late held frames left: a timer that fires 30 µs after a frame's due
// time is counted in the 10–50 µs bucket; frames that pass undelayed are not counted.
TEST_F(ImpairStageTest, ShowsHowLateHeldFramesLeft) {
  ok("impair/set 2 out delay 1ms");
  send({1});
  EXPECT_TRUE(frames(*b).empty());
  advance(1030us);  // the loop runs the timer only now: 30 µs late
  ASSERT_EQ(take(*b), (Seqs{1}));
  auto late = show(2)[0]["late"];
  EXPECT_EQ(late["released"], 1) << late.dump();
  EXPECT_DOUBLE_EQ(late["mean_us"].get<double>(), 30.0) << late.dump();
  EXPECT_EQ(late["buckets"]["under_50us"], 1) << late.dump();
  EXPECT_EQ(late["buckets"]["under_10us"], 0) << late.dump();
  advance(1ms);
  send({3});
  advance(1250us);  // 250 µs late: counted over 200 µs in the text
  ASSERT_EQ(take(*b), (Seqs{3}));
  EXPECT_NE(cmd("impair/show 2")
                ->text.find("2 held copies left mean 140.0 µs, max 250.0 µs after "
                            "their time, 1 over 200 µs"),
            std::string::npos)
      << cmd("impair/show 2")->text;
  late = show(2)[0]["late"];

  ok("impair/set 2 out delay 0ms");  // frames leave within process(): not counted
  send({2});
  ASSERT_EQ(take(*b), (Seqs{2}));
  EXPECT_EQ(show(2)[0]["late"]["released"], 2);
}

TEST_F(ImpairStageTest, TimestampsAreOnOnlyWhileAPortIsImpaired) {
  EXPECT_FALSE(stamped->timestamps);
  ok("impair/set 2 out delay 10ms");
  EXPECT_TRUE(stamped->timestamps) << "port 2's delay counts from arrivals on port 1";
  ok("impair/clear 2");
  EXPECT_FALSE(stamped->timestamps);
  ok("impair/set 1 in loss 1%");
  EXPECT_TRUE(stamped->timestamps);
  auto [near_c, far_c] = io::MemoryBackend::pair("c");
  auto c = std::make_unique<StampedBackend>(std::move(near_c));
  StampedBackend* late = c.get();
  ASSERT_TRUE(dp.attach(*br, 3, std::move(c), false).ok());
  EXPECT_TRUE(late->timestamps) << "a port attached while impairments exist";
}

TEST_F(ImpairStageTest, AnOutDelayCountsFromTheArrivalNotFromTheRead) {
  ok("impair/set 2 out delay 10ms");
  advance(50ms);
  send_arrived(clock.now() - 3ms);  // read 3 ms after the kernel received it
  advance(6999us);
  EXPECT_TRUE(take(*b).empty());
  advance(1us);
  EXPECT_EQ(take(*b), Seqs{1}) << "released 10 ms after its arrival, 7 ms after it was read";
}

// Frames read steadily 40 µs after their arrival teach the switch its usual lag; then a frame
// read 3 ms late counts from its arrival plus that usual lag, as an undelayed frame would have
// left: the delay adds what was set on top of the unimpaired path, not the late wake-up.
TEST_F(ImpairStageTest, ADelayCountsFromTheUsualReadAfterTheArrival) {
  ok("impair/set 2 out delay 10ms");
  for (int i = 0; i < 100; ++i) {
    advance(20ms);
    send_arrived(clock.now() - 40us);
  }
  advance(20ms);
  take(*b);
  send_arrived(clock.now() - 3ms);
  advance(7ms + 39us);
  EXPECT_TRUE(take(*b).empty());
  advance(1us);
  EXPECT_EQ(take(*b).size(), 1u) << "released 10 ms after its arrival plus the usual 40 µs";
}

TEST_F(ImpairStageTest, AnInDelayCountsFromTheArrivalToo) {
  ok("impair/set 1 in delay 10ms");
  advance(50ms);
  send_arrived(clock.now() - 4ms);
  advance(5999us);
  EXPECT_TRUE(take(*b).empty());
  advance(1us);
  EXPECT_EQ(take(*b), Seqs{1});
}

TEST_F(ImpairStageTest, WithoutATimestampOrWithOneAheadOfTheClockTheReadCounts) {
  ok("impair/set 2 out delay 10ms");
  send_arrived(std::nullopt);
  advance(9999us);
  EXPECT_TRUE(take(*b).empty());
  advance(1us);
  EXPECT_EQ(take(*b), Seqs{1});
  send_arrived(clock.now() + 5ms);  // never later than the switch's own clock
  advance(9999us);
  EXPECT_TRUE(take(*b).empty());
  advance(1us);
  EXPECT_EQ(take(*b), Seqs{1});
}
