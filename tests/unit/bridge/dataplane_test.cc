// Dataplane on memory backends and a manual clock: batches in, batches out, cables, link state,
// dynamic ports, offload fallback.
#include "bridge/dataplane.hh"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include "base/log.hh"
#include "io/listener.hh"
#include "io/memory.hh"
#include "packet/checksum.hh"
#include "packet/l4.hh"
#include "packet/offload.hh"
#include "support/frames.hh"

using namespace vnet;
using namespace vnet::bridge;
using vnet::test::frame;
using vnet::test::mac;
using vnet::test::tags;

namespace {

struct Wire {
  std::unique_ptr<io::MemoryBackend> far;  // the "client" end
  std::vector<packet::Frame> take() {
    std::vector<packet::Frame> out;
    far->receive(out, 1000);
    return out;
  }
  void put(packet::Frame f) {
    std::vector<packet::Frame> v;
    v.push_back(std::move(f));
    far->send(v);
  }
};

class DataplaneTest : public ::testing::Test {
 protected:
  DataplaneTest() : loop(clock), dp(loop) {}
  Wire plug(Bridge& br, PortNo p, bool dynamic = false) {
    auto [near, far] = io::MemoryBackend::pair("p" + std::to_string(p));
    EXPECT_TRUE(dp.attach(br, p, std::move(near), dynamic).ok());
    return Wire{std::move(far)};
  }
  void run() {
    for (int i = 0; i < 5; ++i) loop.run_once(Duration{0});
  }
  ManualClock clock;
  EventLoop loop;
  Dataplane dp;
};

TEST_F(DataplaneTest, ForwardsThroughTheLoop) {
  Bridge& br = **dp.create_bridge("br0");
  auto a = plug(br, 1), b = plug(br, 2), c = plug(br, 3);
  a.put(frame(packet::MacAddress::broadcast(), mac(1)));
  run();
  EXPECT_EQ(b.take().size(), 1u);
  EXPECT_EQ(c.take().size(), 1u);
  b.put(frame(mac(1), mac(2)));
  run();
  EXPECT_EQ(a.take().size(), 1u);
  EXPECT_TRUE(c.take().empty());  // known unicast
}

TEST_F(DataplaneTest, CableJoinsTwoBridgesAndLinkDownCutsIt) {
  Bridge& b1 = **dp.create_bridge("sw1");
  Bridge& b2 = **dp.create_bridge("sw2");
  for (Bridge* b : {&b1, &b2}) ASSERT_TRUE(b->create_vlan(10).ok());
  auto h1 = plug(b1, 1), h2 = plug(b2, 1);
  ASSERT_TRUE(b1.configure_port(1, PortConfig::access(10)).ok());
  ASSERT_TRUE(b2.configure_port(1, PortConfig::access(10)).ok());
  ASSERT_TRUE(b1.add_port(9, PortConfig::trunk({10})).ok());
  ASSERT_TRUE(b2.add_port(9, PortConfig::trunk({10})).ok());
  ASSERT_TRUE(dp.connect_cable(b1, 9, b2, 9).ok());
  h1.put(frame(packet::MacAddress::broadcast(), mac(1)));
  run();
  auto got = h2.take();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(tags(got[0]).empty());  // tagged on the cable, untagged at the access port
  EXPECT_EQ(b1.counters(9).tx_frames, 1u);
  EXPECT_EQ(b2.counters(9).rx_frames, 1u);
  ASSERT_TRUE(dp.set_link(b1, 9, false).ok());
  EXPECT_FALSE(b2.active(9));  // the far end loses the link too
  h1.put(frame(packet::MacAddress::broadcast(), mac(1)));
  run();
  EXPECT_TRUE(h2.take().empty());
  ASSERT_TRUE(dp.set_link(b1, 9, true).ok());
  h1.put(frame(packet::MacAddress::broadcast(), mac(1)));
  run();
  EXPECT_EQ(h2.take().size(), 1u);
}

TEST_F(DataplaneTest, SilentCableDropsEveryFrameBothWaysAndKeepsTheCarrier) {
  Bridge& b1 = **dp.create_bridge("sw1");
  Bridge& b2 = **dp.create_bridge("sw2");
  auto h1 = plug(b1, 1), h2 = plug(b2, 1);
  for (Bridge* b : {&b1, &b2}) ASSERT_TRUE(b->add_port(9).ok());
  ASSERT_TRUE(dp.connect_cable(b1, 9, b2, 9).ok());
  auto silent_drops = [](Bridge& b, PortNo p) {
    return b.counters(p).drops[static_cast<size_t>(DropReason::kLinkSilent)];
  };
  // Positive control: the cable carries frames both ways.
  h1.put(frame(packet::MacAddress::broadcast(), mac(1)));
  h2.put(frame(packet::MacAddress::broadcast(), mac(2)));
  run();
  EXPECT_EQ(h2.take().size(), 1u);
  EXPECT_EQ(h1.take().size(), 1u);

  ASSERT_TRUE(dp.set_silent(b1, 9, true).ok());
  EXPECT_TRUE(b1.active(9));  // the carrier stays: neither end sees the link go down
  EXPECT_TRUE(b2.active(9));
  EXPECT_TRUE(dp.port_info(b1, 9).silent);
  EXPECT_TRUE(dp.port_info(b2, 9).silent);
  h1.put(frame(packet::MacAddress::broadcast(), mac(1)));
  h1.put(frame(mac(2), mac(1)));
  h2.put(frame(packet::MacAddress::broadcast(), mac(2)));
  run();
  EXPECT_TRUE(h2.take().empty());
  EXPECT_TRUE(h1.take().empty());
  EXPECT_EQ(silent_drops(b1, 9), 2u);       // sw1 → sw2, at the end it would have left by
  EXPECT_EQ(silent_drops(b2, 9), 1u);       // sw2 → sw1
  EXPECT_EQ(b2.counters(9).rx_frames, 1u);  // only the positive control's frame ever arrived

  ASSERT_TRUE(dp.set_silent(b2, 9, false).ok());  // either end clears the cable
  EXPECT_FALSE(dp.port_info(b1, 9).silent);
  h1.put(frame(packet::MacAddress::broadcast(), mac(1)));
  run();
  EXPECT_EQ(h2.take().size(), 1u);
}

TEST_F(DataplaneTest, SilentBackendPortDropsWhatItReceivesAndWhatItWouldSend) {
  Bridge& br = **dp.create_bridge("br0");
  auto a = plug(br, 1), b = plug(br, 2);
  ASSERT_TRUE(dp.set_silent(br, 2, true).ok());
  EXPECT_TRUE(br.active(2));
  a.put(frame(packet::MacAddress::broadcast(), mac(1)));
  b.put(frame(packet::MacAddress::broadcast(), mac(2)));
  run();
  EXPECT_TRUE(b.take().empty());
  EXPECT_TRUE(a.take().empty());
  EXPECT_EQ(br.counters(2).drops[static_cast<size_t>(DropReason::kLinkSilent)], 2u);
  EXPECT_EQ(br.counters(2).rx_frames, 0u);
  ASSERT_TRUE(dp.set_silent(br, 2, false).ok());
  a.put(frame(packet::MacAddress::broadcast(), mac(1)));
  run();
  EXPECT_EQ(b.take().size(), 1u);
}

TEST_F(DataplaneTest, StormGuardEndsFramesGoingRoundALoopOfCables) {
  Bridge& b1 = **dp.create_bridge("sw1");
  Bridge& b2 = **dp.create_bridge("sw2");
  auto h1 = plug(b1, 1), h2 = plug(b2, 1);
  for (Bridge* b : {&b1, &b2}) {
    for (PortNo p : {9, 10}) ASSERT_TRUE(b->add_port(p).ok());
  }
  ASSERT_TRUE(dp.connect_cable(b1, 9, b2, 9).ok());
  auto guarded = [&] {
    uint64_t n = 0;
    for (Bridge* b : {&b1, &b2}) {
      for (PortNo p : b->port_numbers()) {
        n += b->counters(p).drops[static_cast<size_t>(DropReason::kStormGuard)];
      }
    }
    return n;
  };
  // Positive control: one cable, no loop, one copy each and no storm-guard drop.
  h1.put(frame(packet::MacAddress::broadcast(), mac(1)));
  run();
  EXPECT_EQ(h2.take().size(), 1u);
  EXPECT_TRUE(h1.take().empty());
  EXPECT_EQ(guarded(), 0u);

  // A second cable at run time closes a loop.
  ASSERT_TRUE(dp.connect_cable(b1, 10, b2, 10).ok());
  constexpr size_t kFrames = 50;
  for (size_t i = 0; i < kFrames; ++i) h1.put(frame(packet::MacAddress::broadcast(), mac(1)));
  run();
  // Each broadcast goes both ways round the loop until it crossed more cables (3) than there are
  // bridges (2): each host sees a bounded number of copies, and then nothing more comes.
  size_t at_h2 = h2.take().size(), at_h1 = h1.take().size();
  EXPECT_GE(at_h2, kFrames);
  EXPECT_LE(at_h2, kFrames * 4);
  EXPECT_LE(at_h1, kFrames * 4);
  EXPECT_GE(guarded(), kFrames);
  uint64_t after = guarded();
  run();
  EXPECT_TRUE(h2.take().empty());
  EXPECT_EQ(guarded(), after);
  // The switch still forwards (and still guards) afterwards.
  h2.put(frame(packet::MacAddress::broadcast(), mac(2)));
  run();
  EXPECT_GE(h1.take().size(), 1u);
  EXPECT_GT(guarded(), after);
}

// Reads what the log wrote to `f` since it was opened.
std::string read_log(std::FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, f)) out.append(buf, n);
  return out;
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_F(DataplaneTest, StormGuardLogsAtMostOnceASecondWithTheCount) {
  std::FILE* logf = std::tmpfile();
  ASSERT_NE(logf, nullptr);
  log::set_file(logf);
  Bridge& b1 = **dp.create_bridge("sw1");
  Bridge& b2 = **dp.create_bridge("sw2");
  auto h1 = plug(b1, 1);
  for (Bridge* b : {&b1, &b2}) {
    for (PortNo p : {9, 10}) ASSERT_TRUE(b->add_port(p).ok());
  }
  ASSERT_TRUE(dp.connect_cable(b1, 9, b2, 9).ok());
  ASSERT_TRUE(dp.connect_cable(b1, 10, b2, 10).ok());
  for (int burst = 0; burst < 3; ++burst) {  // three bursts within the same second
    h1.put(frame(packet::MacAddress::broadcast(), mac(1)));
    run();
  }
  std::string text = read_log(logf);
  EXPECT_EQ(count_of(text, "storm guard: dropped"), 1u) << text;
  EXPECT_NE(text.find("storm guard: dropped 1 frames that crossed more than 2 cables"),
            std::string::npos)
      << text;
  // A second later the ageing tick logs what the first line did not: 5 more drops.
  clock.advance(std::chrono::seconds(1));
  dp.age_all();
  text = read_log(logf);
  EXPECT_EQ(count_of(text, "storm guard: dropped"), 2u) << text;
  EXPECT_NE(text.find("storm guard: dropped 5 frames"), std::string::npos) << text;
  dp.age_all();  // nothing new: no new line
  EXPECT_EQ(count_of(read_log(logf), "storm guard: dropped"), 2u);
  log::set_file(nullptr);
  std::fclose(logf);
}

TEST_F(DataplaneTest, LongLoopFreeChainIsNotGuarded) {
  // Four bridges in a line: a broadcast crosses three cables, fewer than the four bridges.
  std::vector<Bridge*> chain;
  for (int i = 0; i < 4; ++i) chain.push_back(*dp.create_bridge("sw" + std::to_string(i)));
  for (Bridge* b : chain) {
    for (PortNo p : {8, 9}) ASSERT_TRUE(b->add_port(p).ok());
  }
  for (size_t i = 0; i + 1 < chain.size(); ++i) {
    ASSERT_TRUE(dp.connect_cable(*chain[i], 9, *chain[i + 1], 8).ok());
  }
  auto first = plug(*chain.front(), 1), last = plug(*chain.back(), 1);
  first.put(frame(packet::MacAddress::broadcast(), mac(1)));
  run();
  EXPECT_EQ(last.take().size(), 1u);
  for (Bridge* b : chain) {
    for (PortNo p : b->port_numbers()) {
      EXPECT_EQ(b->counters(p).drops[static_cast<size_t>(DropReason::kStormGuard)], 0u);
    }
  }
}

TEST_F(DataplaneTest, DynamicPortIsFreedWhenTheClientGoes) {
  Bridge& br = **dp.create_bridge("br0");
  auto a = plug(br, 0, true);  // any free port
  EXPECT_TRUE(br.has_port(1));
  EXPECT_TRUE(br.active(1));
  a.far.reset();  // client gone
  run();
  EXPECT_FALSE(br.has_port(1));
}

TEST_F(DataplaneTest, ConfiguredPortStaysInactiveWhenTheClientGoes) {
  Bridge& br = **dp.create_bridge("br0");
  ASSERT_TRUE(br.add_port(4).ok());
  auto a = plug(br, 4, true);
  a.far.reset();
  run();
  EXPECT_TRUE(br.has_port(4));
  EXPECT_FALSE(br.active(4));
}

TEST_F(DataplaneTest, BusyPortIsRefused) {
  Bridge& br = **dp.create_bridge("br0");
  auto a = plug(br, 1);
  auto [near, far] = io::MemoryBackend::pair("x");
  auto r = dp.attach(br, 1, std::move(near), false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, EADDRINUSE);
}

TEST_F(DataplaneTest, SlowReceiverDropsAreCounted) {
  Bridge& br = **dp.create_bridge("br0");
  auto a = plug(br, 1);
  auto [near, far] = io::MemoryBackend::pair("slow", 2);  // holds two frames
  ASSERT_TRUE(dp.attach(br, 2, std::move(near), false).ok());
  for (int i = 0; i < 5; ++i) a.put(frame(packet::MacAddress::broadcast(), mac(1)));
  run();
  EXPECT_EQ(far->pending(), 2u);  // the far end's inbox holds what fitted
  std::vector<packet::Frame> got;
  far->receive(got, 100);
  EXPECT_EQ(got.size(), 2u);
  EXPECT_EQ(br.counters(2).drops[static_cast<size_t>(DropReason::kTxQueueFull)], 3u);
}

TEST_F(DataplaneTest, NothingRunsOnATimerWhileIdle) {
  Bridge& br = **dp.create_bridge("br0");
  auto a = plug(br, 1), b = plug(br, 2);
  EXPECT_EQ(loop.timer_count(), 0u) << "ports attached, no traffic: no timer at all";
  a.put(frame(packet::MacAddress::broadcast(), mac(1)));
  run();
  EXPECT_EQ(b.take().size(), 1u);
  EXPECT_TRUE(dp.ageing_armed()) << "the FDB has an entry to age";
  // Idle from now on: ageing removes the entry at its expiry, the pool trims itself empty, and
  // then no timer is left.
  for (int i = 0; i < 200 && loop.timer_count() > 0; ++i) {
    clock.advance(std::chrono::seconds(2));
    loop.run_timers();
  }
  EXPECT_EQ(br.fdb().size(), 0u);
  EXPECT_FALSE(dp.ageing_armed());
  EXPECT_EQ(loop.timer_count(), 0u);
  EXPECT_EQ(packet::FramePool::local().retained_bytes(), 0u);
  // Traffic again: ageing comes back.
  a.put(frame(packet::MacAddress::broadcast(), mac(1)));
  run();
  EXPECT_TRUE(dp.ageing_armed());
}

TEST_F(DataplaneTest, AgeingRunsAtTheNextExpiry) {
  Bridge& br = **dp.create_bridge("br0");
  br.fdb().set_ageing_time(std::chrono::seconds(10));
  auto a = plug(br, 1), b = plug(br, 2);
  a.put(frame(packet::MacAddress::broadcast(), mac(1)));
  run();
  clock.advance(std::chrono::seconds(6));
  b.put(frame(packet::MacAddress::broadcast(), mac(2)));
  run();
  EXPECT_EQ(br.fdb().size(), 2u);
  clock.advance(std::chrono::milliseconds(4002));  // mac(1) expired, mac(2) has 6 s to go
  loop.run_timers();
  EXPECT_EQ(br.fdb().size(), 1u);
  EXPECT_TRUE(dp.ageing_armed());
  clock.advance(std::chrono::seconds(6));
  loop.run_timers();
  EXPECT_EQ(br.fdb().size(), 0u);
  EXPECT_FALSE(dp.ageing_armed());
}

// A QEMU stream client that reads slowly gets every frame, in order: what its socket does not
// take waits in the backend's queue and is flushed when the socket turns writable. The clock
// never moves, so no timer can be what flushes it.
TEST_F(DataplaneTest, SlowQemuStreamClientGetsEveryFrameThroughWritableInterest) {
  Bridge& br = **dp.create_bridge("br0");
  auto a = plug(br, 1);
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
  UniqueFd guest(sv[1]);
  int bufsize = 16384;  // a small socket buffer: most of the burst must wait in the queue
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &bufsize, sizeof bufsize);
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &bufsize, sizeof bufsize);
  ASSERT_TRUE(dp.attach(br, 2, io::make_qemu_stream_backend(UniqueFd(sv[0]), "guest"), false).ok());
  EXPECT_EQ(loop.timer_count(), 0u);
  constexpr int kFrames = 2000;
  constexpr size_t kSize = 1000;
  for (int i = 0; i < kFrames; ++i) {
    std::vector<uint8_t> bytes(kSize, 0);
    std::memcpy(bytes.data(), packet::MacAddress::broadcast().bytes.data(), 6);
    std::memcpy(bytes.data() + 6, mac(1).bytes.data(), 6);
    store_be16(bytes.data() + 12, 0x0800);
    store_be16(bytes.data() + 14, static_cast<uint16_t>(i));
    a.put(packet::Frame::copy_of(bytes));
  }
  std::vector<uint8_t> stream;
  bool queued_seen = false;
  for (int round = 0; round < 100000 && stream.size() < kFrames * (kSize + 4); ++round) {
    loop.run_once(Duration{0});
    queued_seen |= loop.wants_writable(sv[0]);
    uint8_t chunk[3000];  // the guest takes a little at a time
    ssize_t r = ::recv(guest.get(), chunk, sizeof chunk, MSG_DONTWAIT);
    if (r > 0) stream.insert(stream.end(), chunk, chunk + r);
  }
  EXPECT_TRUE(queued_seen) << "the burst did not outrun the socket: the test proves nothing";
  ASSERT_EQ(stream.size(), kFrames * (kSize + 4));
  for (int i = 0; i < kFrames; ++i) {
    const uint8_t* p = stream.data() + static_cast<size_t>(i) * (kSize + 4);
    ASSERT_EQ(load_be16(p) << 16 | load_be16(p + 2), static_cast<int>(kSize)) << "frame " << i;
    ASSERT_EQ(load_be16(p + 4 + 14), i) << "frames arrive in order";
  }
  EXPECT_EQ(br.counters(2).total_drops(), 0u);
  loop.run_once(Duration{0});
  EXPECT_FALSE(loop.wants_writable(sv[0])) << "writable interest ends with the queue";
}

TEST(Offload, CompleteChecksumFillsTheTransportChecksum) {
  // A UDP/IPv4 frame whose checksum field holds only the pseudo-header sum (CHECKSUM_PARTIAL).
  std::vector<uint8_t> b(14 + 20 + 8 + 4, 0);
  store_be16(b.data() + 12, 0x0800);
  b[14] = 0x45;
  store_be16(b.data() + 16, 32);
  b[23] = 17;
  uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, 2};
  std::memcpy(b.data() + 26, src, 4);
  std::memcpy(b.data() + 30, dst, 4);
  store_be16(b.data() + 34, 1000);
  store_be16(b.data() + 36, 2000);
  store_be16(b.data() + 38, 12);
  std::memcpy(b.data() + 42, "ping", 4);
  uint32_t ph = packet::pseudo_header_v4({0x0a000001}, {0x0a000002}, 17, 12);
  while (ph >> 16) ph = (ph & 0xffff) + (ph >> 16);
  store_be16(b.data() + 40, static_cast<uint16_t>(ph));
  auto f = packet::Frame::copy_of(b);
  f.offload.flags = packet::OffloadInfo::kNeedsCsum;
  f.offload.csum_start = 34;
  f.offload.csum_offset = 6;
  ASSERT_TRUE(packet::complete_checksum(f));
  EXPECT_TRUE(packet::verify_l4_checksum(
      f.bytes().subspan(34), packet::pseudo_header_v4({0x0a000001}, {0x0a000002}, 17, 12)));
  f.offload = {};
  f.offload.flags = packet::OffloadInfo::kNeedsCsum;
  f.offload.csum_start = 200;  // outside the frame
  EXPECT_FALSE(packet::complete_checksum(f));
}

TEST(Offload, SegmentsTcpSuperFrames) {
  // TCPv4, 3000 bytes of payload, MSS 1000 → three segments with consecutive sequence numbers.
  auto f = test::tcp_gso_frame(test::mac(2), test::mac(1), 3000, 1000, 5000, 0x19);  // FIN|PSH|ACK
  std::vector<packet::Frame> segs;
  ASSERT_TRUE(packet::segment_gso(f, segs));
  ASSERT_EQ(segs.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    auto& s = segs[i];
    EXPECT_EQ(s.size(), 14u + 40 + 1000);
    EXPECT_EQ(load_be16(s.data() + 16), 1040);
    EXPECT_EQ(load_be16(s.data() + 40), 5000 + 1000 * i);
    EXPECT_EQ(packet::internet_checksum(s.bytes().subspan(14, 20)), 0);
    uint32_t ph = packet::pseudo_header_v4({0x0a000001}, {0x0a000002}, 6, 1020);
    EXPECT_TRUE(packet::verify_l4_checksum(s.bytes().subspan(34), ph));
    bool last = i == 2;
    EXPECT_EQ((s.data()[47] & 0x01) != 0, last);  // FIN only on the last
  }
  EXPECT_NE(load_be16(segs[0].data() + 18), load_be16(segs[1].data() + 18));  // IP IDs advance
}

}  // namespace
