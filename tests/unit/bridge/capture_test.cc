// Captures through the dataplane (Dataplane::start_capture, capture/capture.hh) on memory
// backends and a manual clock: a capture sees both directions of its port with their direction
// flags, a pre capture marks frames the impairment dropped with the reason while a post capture
// does not contain them, frames the bridge drops (ingress rules, port state, same-port and
// exposed-tag filtering) carry the same reason as the port's drop counter, a stopped capture
// ends with statistics and sees nothing more. Mirror
// ports copy both directions of their source out of the destination, past its VLAN filtering,
// and refuse loops.
#include <gtest/gtest.h>

#include "bridge/commands.hh"
#include "bridge/dataplane.hh"
#include "capture/pcapng.hh"
#include "io/memory.hh"
#include "support/frames.hh"

using namespace vnet;
using namespace vnet::bridge;
using packet::Frame;
using vnet::test::mac;

namespace {

class CaptureTest : public ::testing::Test {
 protected:
  CaptureTest() : loop(clock), dp(loop) {
    register_commands(reg, dp, clock, info);
    br = *dp.create_bridge("br0");
    auto [near_a, far_a] = io::MemoryBackend::pair("a");
    auto [near_b, far_b] = io::MemoryBackend::pair("b");
    EXPECT_TRUE(dp.attach(*br, 1, std::move(near_a), false).ok());
    EXPECT_TRUE(dp.attach(*br, 2, std::move(near_b), false).ok());
    a = std::move(far_a);
    b = std::move(far_b);
  }
  static void put(io::MemoryBackend& end, Frame f) {
    std::vector<Frame> v;
    v.push_back(std::move(f));
    end.send(v);
  }
  void run() {
    for (int i = 0; i < 5; ++i) loop.run_once(Duration{0});
  }
  size_t arrived(io::MemoryBackend& end) {
    std::vector<Frame> got;
    end.receive(got, 1000);
    return got.size();
  }
  std::shared_ptr<capture::Capture> start(capture::Point point) {
    capture::Options o;
    o.point = point;
    auto f = capture::Filter::compile("", 0);
    auto c = dp.start_capture({{br, 2}}, o, std::move(*f), 0);
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : nullptr;
  }
  static std::vector<capture::Block> packets(capture::Capture& c) {
    std::string out;
    c.take(out, SIZE_MAX);
    auto blocks = capture::parse_blocks(std::vector<uint8_t>(out.begin(), out.end()));
    EXPECT_TRUE(blocks.ok());
    std::vector<capture::Block> epbs;
    for (auto& b : *blocks) {
      if (b.type == capture::kEnhancedPacketBlock) epbs.push_back(b);
    }
    return epbs;
  }

  ManualClock clock;
  EventLoop loop;
  Dataplane dp;
  console::Registry reg;
  SwitchInfo info{"test", "/tmp/x", clock.now()};
  console::Session session;
  Bridge* br = nullptr;
  std::unique_ptr<io::MemoryBackend> a, b;
};

TEST_F(CaptureTest, BothDirectionsOfThePortWithTheirFlags) {
  auto c = start(capture::Point::kPost);
  put(*a, test::frame(mac(2), mac(1)));  // flooded out of port 2
  run();
  put(*b, test::frame(mac(1), mac(2)));  // received on port 2, to port 1
  run();
  EXPECT_EQ(arrived(*b), 1u) << "positive control";
  EXPECT_EQ(arrived(*a), 1u) << "positive control";
  auto epbs = packets(*c);
  ASSERT_EQ(epbs.size(), 2u);
  EXPECT_EQ(epbs[0].flags & 3, 2u) << "outbound";
  EXPECT_EQ(epbs[0].data[5], 2) << "to mac(2)";
  EXPECT_EQ(epbs[1].flags & 3, 1u) << "inbound";
  EXPECT_EQ(epbs[1].data[5], 1) << "to mac(1)";
  EXPECT_EQ(c->counters(0).kept, 2u);
}

TEST_F(CaptureTest, PreMarksImpairmentDropsAndPostLeavesThemOut) {
  auto pre = start(capture::Point::kPre);
  auto post = start(capture::Point::kPost);
  console::Session s;
  ASSERT_TRUE(reg.run(s, "impair/set 2 out loss 100%").ok());
  for (int i = 0; i < 3; ++i) put(*a, test::frame(mac(2), mac(1)));
  run();
  put(*b, test::frame(mac(1), mac(2)));
  run();
  EXPECT_EQ(arrived(*b), 0u);
  EXPECT_EQ(arrived(*a), 1u) << "positive control: the other direction passes";
  auto p = packets(*pre);
  ASSERT_EQ(p.size(), 4u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(p[i].comment, "dropped: impair_loss") << i;
    EXPECT_EQ(p[i].flags & 3, 2u);
  }
  EXPECT_EQ(p[3].comment, "");
  auto q = packets(*post);
  ASSERT_EQ(q.size(), 1u) << "post sees only what got through: the inbound frame";
  EXPECT_EQ(q[0].flags & 3, 1u);
}

TEST_F(CaptureTest, InboundImpairmentDropsAreMarkedOnPreCaptures) {
  auto pre = start(capture::Point::kPre);
  console::Session s;
  ASSERT_TRUE(reg.run(s, "impair/set 2 in loss 100%").ok());
  put(*b, test::frame(mac(1), mac(2)));
  run();
  EXPECT_EQ(arrived(*a), 0u);
  auto p = packets(*pre);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].comment, "dropped: impair_loss");
  EXPECT_EQ(p[0].flags & 3, 1u);
}

// Every drop on the way into the bridge, one frame each, received on port 2 and captured there
// both pre and post: the frame's block (as received) says "dropped: REASON", REASON the name of
// the counter the drop went to, and that counter is 1.
TEST_F(CaptureTest, BridgeDropsOnIngressCarryTheirCounterAsComment) {
  std::vector<uint8_t> runt(10, 0x02);
  struct Case {
    const char* port2;  // port/mode words, or "state S"
    Frame frame;
    DropReason reason;
  };
  std::vector<Case> cases;
  cases.push_back({"trunk 10", test::frame(mac(1), mac(2), {20}), DropReason::kVlanNotMember});
  cases.push_back(
      {"access 10", test::frame(mac(1), mac(2), {10}), DropReason::kFrameTypeNotAdmitted});
  cases.push_back({"trunk 10 native 20 admit tagged", test::frame(mac(1), mac(2)),
                   DropReason::kFrameTypeNotAdmitted});
  cases.push_back({"trunk 10", test::frame(mac(1), mac(2)), DropReason::kUntaggedNotAllowed});
  cases.push_back({"trunk 10", test::frame(mac(1), mac(2), {4095}), DropReason::kReservedVid});
  cases.push_back({"access 10", Frame::copy_of(runt), DropReason::kMalformed});
  cases.push_back({"access 10", test::frame(mac(1), packet::MacAddress::broadcast()),
                   DropReason::kSourceMulticast});
  cases.push_back({"state discarding", test::frame(mac(1), mac(2)), DropReason::kPortDiscarding});
  cases.push_back({"state learning", test::frame(mac(1), mac(2)), DropReason::kPortLearning});
  console::Session s;
  ASSERT_TRUE(reg.run(s, "vlan/create 10").ok());
  ASSERT_TRUE(reg.run(s, "vlan/create 20").ok());
  for (auto& c : cases) {
    SCOPED_TRACE(c.port2);
    std::string words = c.port2;
    ASSERT_TRUE(reg.run(s, "port/state 2 forwarding").ok());
    std::string cmd =
        words.starts_with("state ") ? "port/state 2 " + words.substr(6) : "port/mode 2 " + words;
    ASSERT_TRUE(reg.run(s, cmd).ok());
    br->reset_counters(2);
    auto pre = start(capture::Point::kPre);
    auto post = start(capture::Point::kPost);
    std::vector<uint8_t> sent(c.frame.bytes().begin(), c.frame.bytes().end());
    put(*b, std::move(c.frame));
    run();
    EXPECT_EQ(arrived(*a), 0u);
    std::string expected = fmt::format("dropped: {}", drop_reason_name(c.reason));
    for (auto* cap : {pre.get(), post.get()}) {
      auto p = packets(*cap);
      ASSERT_EQ(p.size(), 1u);
      EXPECT_EQ(p[0].comment, expected) << capture::point_name(cap->options().point);
      EXPECT_EQ(p[0].flags & 3, 1u) << "inbound";
      EXPECT_EQ(p[0].data, sent) << "as received";
      ASSERT_TRUE(dp.stop_capture(cap->id()).ok());
    }
    EXPECT_EQ(br->counters(2).drops[static_cast<size_t>(c.reason)], 1u);
    EXPECT_EQ(br->counters(2).total_drops(), 1u);
  }
}

TEST_F(CaptureTest, ForwardedFramesAndControlFramesCarryNoDropComment) {
  console::Session s;
  ASSERT_TRUE(reg.run(s, "vlan/create 10").ok());
  ASSERT_TRUE(reg.run(s, "port/mode 2 trunk 10").ok());
  ASSERT_TRUE(reg.run(s, "port/mode 1 access 10").ok());
  auto post = start(capture::Point::kPost);
  put(*b, test::frame(mac(1), mac(2), {10}));  // forwarded to port 1
  put(*b, test::frame_of_type(packet::MacAddress{{0x01, 0x80, 0xc2, 0, 0, 0}}, mac(2), 0x0026));
  put(*b, test::frame(mac(1), mac(2), {20}));  // not a member: dropped
  run();
  EXPECT_EQ(arrived(*a), 1u);
  auto p = packets(*post);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].comment, "") << "forwarded";
  EXPECT_EQ(p[1].comment, "") << "a BPDU is consumed by the control plane, not dropped";
  EXPECT_EQ(p[2].comment, "dropped: vlan_not_member") << "positive control";
}

TEST_F(CaptureTest, SamePortFilteringIsMarkedWithTheFrameAsReceived) {
  console::Session s;
  ASSERT_TRUE(reg.run(s, "vlan/create 10").ok());
  ASSERT_TRUE(reg.run(s, "port/mode 2 trunk 10").ok());
  put(*b, test::frame(mac(1), mac(3), {10}));  // learns mac(3) on port 2
  run();
  auto post = start(capture::Point::kPost);
  Frame f = test::frame(mac(3), mac(4), {10});  // to mac(3): back out of port 2
  std::vector<uint8_t> sent(f.bytes().begin(), f.bytes().end());
  put(*b, std::move(f));
  run();
  auto p = packets(*post);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].comment, "dropped: same_port");
  EXPECT_EQ(p[0].data, sent) << "with its tag: the bridge had not removed it yet";
  EXPECT_EQ(br->counters(2).drops[static_cast<size_t>(DropReason::kSamePort)], 1u);
}

// A frame the bridge will not send on a port (it would leave untagged still starting with a
// tag) was never on that port: its pre capture of outbound frames records it, as it would have
// left, with the reason; its post capture (what went on the wire) does not.
TEST_F(CaptureTest, ExposedTagIsRecordedOutboundOnPreCapturesOfTheEgressPort) {
  console::Session s;
  ASSERT_TRUE(reg.run(s, "vlan/create 10").ok());
  ASSERT_TRUE(reg.run(s, "vlan/create 20").ok());
  ASSERT_TRUE(reg.run(s, "port/mode 1 access 10 admit all").ok());
  ASSERT_TRUE(reg.run(s, "port/mode 2 access 10").ok());
  auto pre = start(capture::Point::kPre);
  auto post = start(capture::Point::kPost);
  put(*a, test::frame(packet::MacAddress::broadcast(), mac(1), {10, 20}));
  put(*a, test::frame(packet::MacAddress::broadcast(), mac(1), {10}));  // positive control
  run();
  EXPECT_EQ(arrived(*b), 1u);
  auto p = packets(*pre);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].comment, "dropped: exposed_tag");
  EXPECT_EQ(p[0].flags & 3, 2u) << "outbound";
  EXPECT_EQ(test::tags(Frame::copy_of(p[0].data)), (std::vector<uint16_t>{20}))
      << "as it would have left: the outer tag removed, the inner one exposed";
  EXPECT_EQ(p[1].comment, "");
  auto q = packets(*post);
  ASSERT_EQ(q.size(), 1u);
  EXPECT_EQ(q[0].comment, "");
  EXPECT_EQ(br->counters(2).drops[static_cast<size_t>(DropReason::kExposedTag)], 1u);
}

// Drops on a port whose capture has stopped are counted and nothing else; a port that never had
// a capture has no observer at all.
TEST_F(CaptureTest, AStoppedCaptureNoLongerHearsOfBridgeDrops) {
  console::Session s;
  ASSERT_TRUE(reg.run(s, "vlan/create 10").ok());
  ASSERT_TRUE(reg.run(s, "port/mode 2 trunk 10").ok());
  auto post = start(capture::Point::kPost);
  ASSERT_TRUE(dp.stop_capture(post->id()).ok());
  put(*b, test::frame(mac(1), mac(2), {20}));
  run();
  EXPECT_EQ(br->counters(2).drops[static_cast<size_t>(DropReason::kVlanNotMember)], 1u);
  EXPECT_TRUE(packets(*post).empty());
}

// Frames going round a loop of cables are ended by the storm guard on the port they arrive at:
// a capture of that port records each, inbound, with the reason the port counts it under.
TEST_F(CaptureTest, StormGuardDropsAreRecordedOnThePortTheyArriveAt) {
  Bridge& sw2 = **dp.create_bridge("sw2");
  for (Bridge* x : {br, &sw2}) {
    for (PortNo p : {9, 10}) ASSERT_TRUE(x->add_port(p).ok());
  }
  ASSERT_TRUE(dp.connect_cable(*br, 9, sw2, 9).ok());
  ASSERT_TRUE(dp.connect_cable(*br, 10, sw2, 10).ok());
  std::vector<std::pair<Bridge*, PortNo>> ports = {{br, 9}, {br, 10}, {&sw2, 9}, {&sw2, 10}};
  auto f = capture::Filter::compile("", 0);
  auto c = dp.start_capture(ports, capture::Options{}, std::move(*f), 0);
  ASSERT_TRUE(c.ok());
  put(*a, test::frame(packet::MacAddress::broadcast(), mac(1)));
  run();
  std::vector<uint64_t> marked(ports.size(), 0);
  for (auto& p : packets(**c)) {
    if (p.comment == "dropped: storm_guard") {
      EXPECT_EQ(p.flags & 3, 1u) << "inbound";
      ++marked[p.interface];
    }
  }
  uint64_t total = 0;
  for (size_t i = 0; i < ports.size(); ++i) {
    auto [x, port] = ports[i];
    EXPECT_EQ(marked[i], x->counters(port).drops[static_cast<size_t>(DropReason::kStormGuard)])
        << x->name() << ":" << port;
    total += marked[i];
  }
  EXPECT_GE(total, 1u) << "positive control: the loop was guarded";
}

TEST_F(CaptureTest, AStoppedCaptureEndsWithStatisticsAndSeesNoMore) {
  auto c = start(capture::Point::kPost);
  put(*a, test::frame(mac(2), mac(1)));
  run();
  ASSERT_TRUE(dp.stop_capture(c->id()).ok());
  EXPECT_TRUE(dp.captures().empty());
  EXPECT_FALSE(dp.stop_capture(c->id()).ok());
  put(*a, test::frame(mac(2), mac(1)));
  run();
  EXPECT_EQ(arrived(*b), 2u) << "positive control: forwarding goes on";
  std::string out;
  c->take(out, SIZE_MAX);
  auto blocks = capture::parse_blocks(std::vector<uint8_t>(out.begin(), out.end()));
  ASSERT_TRUE(blocks.ok());
  ASSERT_EQ(blocks->size(), 4u);  // SHB, IDB, one EPB, ISB
  EXPECT_EQ((*blocks)[1].name, "br0:2");
  EXPECT_EQ((*blocks)[3].type, capture::kInterfaceStatisticsBlock);
  EXPECT_EQ((*blocks)[3].ifrecv, 1u);
}

TEST_F(CaptureTest, PortsMustExistAndAppearOnce) {
  capture::Options o;
  auto f1 = capture::Filter::compile("", 0);
  EXPECT_EQ(dp.start_capture({{br, 9}}, o, std::move(*f1), 0).error().code, ENXIO);
  auto f2 = capture::Filter::compile("", 0);
  EXPECT_EQ(dp.start_capture({{br, 2}, {br, 2}}, o, std::move(*f2), 0).error().code, EINVAL);
  auto f3 = capture::Filter::compile("", 0);
  EXPECT_TRUE(dp.start_capture({{br, 1}, {br, 2}}, o, std::move(*f3), 0).ok())
      << "positive control";
}

TEST_F(CaptureTest, ConsoleListsCapturesAndRefusesToStreamFromAFile) {
  console::Session file;  // as `load` runs commands: no connection to stream on
  auto r = reg.run(file, "capture/start 2");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("cannot run from a file"), std::string::npos);
  console::Session conn;
  conn.can_stream = true;
  EXPECT_EQ(reg.run(conn, "capture/start 2 pre filter not a filter").error().code, EINVAL);
  EXPECT_EQ(reg.run(conn, "capture/start 7").error().code, ENXIO);
  ASSERT_TRUE(reg.run(conn, "capture/start 1,br0:2 pre out snaplen 128 filter icmp").ok());
  ASSERT_TRUE(conn.stream);
  auto list = reg.run(session, "capture/list --json");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->json.size(), 1u);
  EXPECT_EQ(list->json[0]["point"], "pre");
  EXPECT_EQ(list->json[0]["direction"], "out");
  EXPECT_EQ(list->json[0]["filter"], "icmp");
  EXPECT_EQ(list->json[0]["ports"][1]["port"], "br0:2");
  session.json = false;
  ASSERT_TRUE(
      reg.run(session, fmt::format("capture/stop {}", list->json[0]["id"].get<int>())).ok());
  EXPECT_TRUE(dp.captures().empty());
  std::string out;
  EXPECT_GT(conn.stream->take(out, SIZE_MAX), 0u);
  EXPECT_TRUE(conn.stream->done()) << "stopped: the statistics are the last bytes";
}

class MirrorTest : public CaptureTest {
 protected:
  MirrorTest() {
    auto [near_c, far_c] = io::MemoryBackend::pair("c");
    EXPECT_TRUE(dp.attach(*br, 3, std::move(near_c), false).ok());
    c = std::move(far_c);
  }
  Result<console::Reply> cmd(const std::string& line) { return reg.run(session, line); }
  std::unique_ptr<io::MemoryBackend> c;
};

TEST_F(MirrorTest, BothDirectionsOfTheSourceLeaveOnTheDestinationPastItsVlan) {
  ASSERT_TRUE(cmd("vlan/create 20").ok());
  ASSERT_TRUE(cmd("port/setvlan 3 20").ok()) << "port 3 is not in the sources' VLAN";
  put(*a, test::frame(mac(2), mac(1)));
  run();
  EXPECT_EQ(arrived(*c), 0u) << "without a mirror, port 3 (VLAN 20) sees nothing";
  EXPECT_EQ(arrived(*b), 1u) << "positive control";
  ASSERT_TRUE(cmd("mirror/create 1 3 both").ok());
  put(*a, test::frame(mac(2), mac(1)));  // received on 1
  run();
  put(*b, test::frame(mac(1), mac(2)));  // sent on 1
  run();
  std::vector<Frame> got;
  c->receive(got, 100);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].data()[5], 2) << "the frame port 1 received";
  EXPECT_EQ(got[1].data()[5], 1) << "the frame port 1 sent";
  EXPECT_EQ(arrived(*b), 1u);
  EXPECT_EQ(arrived(*a), 1u);
  auto show = cmd("mirror/show --json");
  ASSERT_TRUE(show.ok());
  EXPECT_EQ(show->json[0]["copied"], 2);
  ASSERT_TRUE(cmd("mirror/delete 1 3").ok());
  put(*a, test::frame(mac(2), mac(1)));
  run();
  EXPECT_EQ(arrived(*c), 0u) << "deleted";
  EXPECT_FALSE(cmd("mirror/delete 1 3").ok());
}

TEST_F(MirrorTest, OneDirectionOnly) {
  ASSERT_TRUE(cmd("vlan/create 20").ok());
  ASSERT_TRUE(cmd("port/setvlan 3 20").ok()) << "port 3 sees no flooding";
  ASSERT_TRUE(cmd("mirror/create 1 3 out").ok());
  put(*a, test::frame(mac(2), mac(1)));  // received on 1: not copied
  run();
  EXPECT_EQ(arrived(*c), 0u);
  put(*b, test::frame(mac(1), mac(2)));  // sent on 1: copied
  run();
  EXPECT_EQ(arrived(*c), 1u);
}

TEST_F(MirrorTest, TheLoopGuardRefusesADestinationAsSource) {
  ASSERT_TRUE(cmd("mirror/create 1 3 both").ok());
  EXPECT_EQ(cmd("mirror/create 3 2 both").error().code, EINVAL) << "3 is a destination";
  EXPECT_EQ(cmd("mirror/create 2 1 both").error().code, EINVAL) << "1 is a source";
  EXPECT_EQ(cmd("mirror/create 2 2 both").error().code, EINVAL);
  EXPECT_EQ(cmd("mirror/create 1 3 both").error().code, EEXIST);
  EXPECT_EQ(cmd("mirror/create 1 9 both").error().code, ENXIO);
  EXPECT_EQ(cmd("mirror/create 1 2 sideways").error().code, EINVAL);
  EXPECT_TRUE(cmd("mirror/create 2 3 in").ok()) << "positive control: two sources, one destination";
}

}  // namespace
