// Egress stage chains on memory backends and a manual clock: a stage that holds frames releases
// them after the set time and in order, a dropping stage counts, a stage's removal releases or
// drops what it holds at once, and a port's timer is armed only while frames are held.
#include "bridge/egress.hh"

#include <gtest/gtest.h>

#include <deque>

#include "bridge/dataplane.hh"
#include "io/memory.hh"
#include "support/frames.hh"

using namespace vnet;
using namespace vnet::bridge;
using namespace std::chrono_literals;
using packet::Frame;
using vnet::test::mac;

namespace {

// Holds every frame for a fixed time; releases them in arrival order.
class DelayStage final : public EgressStage {
 public:
  explicit DelayStage(Duration delay, std::string name = "delay")
      : delay_(delay), name_(std::move(name)) {}
  std::string_view name() const override { return name_; }
  void process(std::span<Frame> in, std::vector<Frame>& pass, TimePoint now) override {
    (void)pass;
    for (auto& f : in) {
      f.shrink_to_fit();
      held_.push_back({now + delay_, std::move(f)});
    }
  }
  std::optional<TimePoint> next_due() const override {
    if (held_.empty()) return std::nullopt;
    return held_.front().due;
  }
  void release(TimePoint now, std::vector<Frame>& pass) override {
    while (!held_.empty() && held_.front().due <= now) {
      pass.push_back(std::move(held_.front().frame));
      held_.pop_front();
    }
  }
  void take_held(std::vector<Frame>& out) override {
    for (auto& h : held_) out.push_back(std::move(h.frame));
    held_.clear();
  }
  size_t held() const override { return held_.size(); }

 private:
  struct Held {
    TimePoint due;
    Frame frame;
  };
  Duration delay_;
  std::string name_;
  std::deque<Held> held_;
};

// Drops frames with an odd sequence number (see numbered()), passes the others.
class DropOddStage final : public EgressStage {
 public:
  std::string_view name() const override { return "drop-odd"; }
  void process(std::span<Frame> in, std::vector<Frame>& pass, TimePoint) override {
    for (auto& f : in) {
      if (f.data()[14] % 2) {
        count_drop();
      } else {
        pass.push_back(std::move(f));
      }
    }
  }
};

// A unicast frame to mac(2) from mac(1) carrying `seq` in its first payload byte.
Frame numbered(uint8_t seq) {
  Frame f = test::frame(mac(2), mac(1));
  f.data()[14] = seq;
  return f;
}

class EgressTest : public ::testing::Test {
 protected:
  EgressTest() : loop(clock), dp(loop), br(**dp.create_bridge("br0")) {
    auto [near_a, far_a] = io::MemoryBackend::pair("a");
    auto [near_b, far_b] = io::MemoryBackend::pair("b");
    EXPECT_TRUE(dp.attach(br, 1, std::move(near_a), false).ok());
    EXPECT_TRUE(dp.attach(br, 2, std::move(near_b), false).ok());
    a = std::move(far_a);
    b = std::move(far_b);
    put(*b, test::frame(packet::MacAddress::broadcast(), mac(2)));  // learn mac(2) on port 2
    run();
    take(*a);
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
  // Sequence numbers of the frames that arrived at `end`, in arrival order.
  static std::vector<int> take(io::MemoryBackend& end) {
    std::vector<Frame> got;
    end.receive(got, 1000);
    std::vector<int> seqs;
    for (auto& f : got) seqs.push_back(f.data()[14]);
    return seqs;
  }
  void run() {
    for (int i = 0; i < 5; ++i) loop.run_once(Duration{0});
  }
  void advance(Duration d) {
    clock.advance(d);
    loop.run_timers();
  }
  using Seqs = std::vector<int>;
  ManualClock clock;
  EventLoop loop;
  Dataplane dp;
  Bridge& br;
  std::unique_ptr<io::MemoryBackend> a, b;
};

TEST_F(EgressTest, WithoutStagesFramesPassAndNoTimerIsArmed) {
  send({1, 2, 3});
  EXPECT_EQ(take(*b), (Seqs{1, 2, 3}));
  EXPECT_FALSE(dp.egress_timer_armed(br, 2));
}

TEST_F(EgressTest, AHoldingStageReleasesAfterTheSetTimeInOrder) {
  ASSERT_TRUE(dp.add_egress_stage(br, 2, std::make_unique<DelayStage>(10ms)).ok());
  EXPECT_FALSE(dp.egress_timer_armed(br, 2)) << "nothing held yet";
  send({1, 2, 3});
  EXPECT_TRUE(take(*b).empty());
  EXPECT_TRUE(dp.egress_timer_armed(br, 2));
  advance(4ms);
  send({4, 5});
  advance(5999us);  // 9.999 ms after the first three
  EXPECT_TRUE(take(*b).empty());
  advance(1us);
  EXPECT_EQ(take(*b), (Seqs{1, 2, 3}));
  EXPECT_TRUE(dp.egress_timer_armed(br, 2)) << "4 and 5 are still held";
  advance(3999us);
  EXPECT_TRUE(take(*b).empty());
  advance(1us);
  EXPECT_EQ(take(*b), (Seqs{4, 5}));
  EXPECT_FALSE(dp.egress_timer_armed(br, 2)) << "nothing held: no timer";
  auto info = dp.egress_chain(br, 2)->info();
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].passed, 5u);
  EXPECT_EQ(info[0].held, 0u);
}

TEST_F(EgressTest, ADroppingStageCountsWhatItDrops) {
  ASSERT_TRUE(dp.add_egress_stage(br, 2, std::make_unique<DropOddStage>()).ok());
  send({1, 2, 3, 4, 5, 6, 7});
  EXPECT_EQ(take(*b), (Seqs{2, 4, 6}));
  auto info = dp.egress_chain(br, 2)->info();
  ASSERT_EQ(info.size(), 1u);
  EXPECT_EQ(info[0].dropped, 4u);
  EXPECT_EQ(info[0].passed, 3u);
  EXPECT_FALSE(dp.egress_timer_armed(br, 2));
}

TEST_F(EgressTest, FramesReleasedByAStageGoThroughTheStagesAfterIt) {
  ASSERT_TRUE(dp.add_egress_stage(br, 2, std::make_unique<DropOddStage>()).ok());
  ASSERT_TRUE(dp.add_egress_stage(br, 2, std::make_unique<DelayStage>(10ms), 0).ok());  // first
  send({1, 2, 3, 4});
  advance(10ms);
  EXPECT_EQ(take(*b), (Seqs{2, 4}));
  auto info = dp.egress_chain(br, 2)->info();
  ASSERT_EQ(info.size(), 2u);
  EXPECT_EQ(info[0].name, "delay");
  EXPECT_EQ(info[1].dropped, 2u);
}

TEST_F(EgressTest, StageNamesAreUniqueOnAPort) {
  ASSERT_TRUE(dp.add_egress_stage(br, 2, std::make_unique<DelayStage>(1ms)).ok());
  auto again = dp.add_egress_stage(br, 2, std::make_unique<DelayStage>(2ms));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, EEXIST);
  auto gone = dp.remove_egress_stage(br, 2, "nothing", HeldFrames::kDrop);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.error().code, ENOENT);
  EXPECT_FALSE(dp.add_egress_stage(br, 7, std::make_unique<DelayStage>(1ms)).ok()) << "no port 7";
}

TEST_F(EgressTest, RemovingAStageWithReleaseSendsItsHeldFramesNowInOrder) {
  ASSERT_TRUE(dp.add_egress_stage(br, 2, std::make_unique<DropOddStage>()).ok());
  ASSERT_TRUE(dp.add_egress_stage(br, 2, std::make_unique<DelayStage>(10ms), 0).ok());
  send({1, 2, 3, 4, 6});
  auto stage = dp.remove_egress_stage(br, 2, "delay", HeldFrames::kRelease);
  ASSERT_TRUE(stage.ok());
  EXPECT_EQ(take(*b), (Seqs{2, 4, 6})) << "at once, in order, through the stage after it";
  EXPECT_EQ((*stage)->dropped(), 0u);
  EXPECT_EQ((*stage)->held(), 0u);
  EXPECT_FALSE(dp.egress_timer_armed(br, 2));
  advance(1s);
  EXPECT_TRUE(take(*b).empty()) << "nothing is released twice";
  send({8});
  EXPECT_EQ(take(*b), (Seqs{8})) << "the delay is gone";
}

TEST_F(EgressTest, RemovingAStageWithDropCountsItsHeldFramesAsDropped) {
  ASSERT_TRUE(dp.add_egress_stage(br, 2, std::make_unique<DelayStage>(10ms)).ok());
  send({1, 2, 3});
  auto stage = dp.remove_egress_stage(br, 2, "delay", HeldFrames::kDrop);
  ASSERT_TRUE(stage.ok());
  EXPECT_EQ((*stage)->dropped(), 3u);
  EXPECT_FALSE(dp.egress_timer_armed(br, 2));
  advance(1s);
  EXPECT_TRUE(take(*b).empty());
  EXPECT_TRUE(dp.egress_chain(br, 2)->empty());
}

TEST_F(EgressTest, AStageOnACablePortHoldsFramesBeforeTheFarBridge) {
  Bridge& far = **dp.create_bridge("br1");
  auto [near_c, far_c] = io::MemoryBackend::pair("c");
  ASSERT_TRUE(dp.attach(far, 1, std::move(near_c), false).ok());
  ASSERT_TRUE(br.add_port(9).ok());
  ASSERT_TRUE(far.add_port(9).ok());
  ASSERT_TRUE(dp.connect_cable(br, 9, far, 9).ok());
  ASSERT_TRUE(dp.add_egress_stage(br, 9, std::make_unique<DelayStage>(5ms)).ok());
  put(*a, test::frame(packet::MacAddress::broadcast(), mac(1)));
  run();
  std::vector<Frame> got;
  far_c->receive(got, 10);
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(take(*b).size(), 1u) << "the flood's other copy is not delayed";
  advance(5ms);
  far_c->receive(got, 10);
  EXPECT_EQ(got.size(), 1u);
  EXPECT_EQ(far.counters(9).rx_frames, 1u);
}

TEST_F(EgressTest, FramesHeldOnACablePortKeepTheirCountForTheStormGuard) {
  // A loop of two cables between br0 and br1, a delay on one cable port: frames going round the
  // loop are held on every pass, and still end once they crossed more cables than there are
  // bridges.
  Bridge& far = **dp.create_bridge("br1");
  for (Bridge* x : {&br, &far}) {
    for (PortNo p : {9, 10}) ASSERT_TRUE(x->add_port(p).ok());
  }
  ASSERT_TRUE(dp.connect_cable(br, 9, far, 9).ok());
  ASSERT_TRUE(dp.connect_cable(br, 10, far, 10).ok());
  ASSERT_TRUE(dp.add_egress_stage(br, 9, std::make_unique<DelayStage>(5ms)).ok());
  auto guarded = [&] {
    uint64_t n = 0;
    for (Bridge* x : {&br, &far}) {
      for (PortNo p : x->port_numbers()) {
        n += x->counters(p).drops[static_cast<size_t>(DropReason::kStormGuard)];
      }
    }
    return n;
  };
  put(*a, test::frame(packet::MacAddress::broadcast(), mac(1)));
  run();
  for (int i = 0; i < 20; ++i) advance(5ms);
  EXPECT_GE(guarded(), 1u);
  EXPECT_FALSE(dp.egress_timer_armed(br, 9)) << "nothing is going round any more";
  size_t copies = take(*b).size();
  EXPECT_GE(copies, 1u);
  EXPECT_LE(copies, 8u);
}

}  // namespace
