// QEMU stream framing (4-byte big-endian length + frame) over a socketpair.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "io/listener.hh"

using namespace vnet;

namespace {

struct Pair {
  std::unique_ptr<io::Backend> be;
  int peer = -1;
  Pair() {
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    be = io::make_qemu_stream_backend(UniqueFd(sv[0]), "test");
    peer = sv[1];
  }
  ~Pair() { ::close(peer); }
  void write_bytes(const std::vector<uint8_t>& b) {
    ASSERT_EQ(::write(peer, b.data(), b.size()), static_cast<ssize_t>(b.size()));
  }
};

std::vector<uint8_t> framed(size_t n, uint8_t fill) {
  std::vector<uint8_t> b = {uint8_t(n >> 24), uint8_t(n >> 16), uint8_t(n >> 8), uint8_t(n)};
  b.insert(b.end(), n, fill);
  return b;
}

TEST(QemuStream, ReassemblesFramesSplitAcrossReads) {
  Pair p;
  auto a = framed(60, 1), b = framed(100, 2);
  std::vector<uint8_t> all(a);
  all.insert(all.end(), b.begin(), b.end());
  std::vector<packet::Frame> out;
  p.write_bytes({all.begin(), all.begin() + 3});  // half a length
  EXPECT_EQ(p.be->receive(out, 64), 0u);
  p.write_bytes({all.begin() + 3, all.begin() + 70});  // rest of frame 1, start of frame 2
  EXPECT_EQ(p.be->receive(out, 64), 1u);
  p.write_bytes({all.begin() + 70, all.end()});
  EXPECT_EQ(p.be->receive(out, 64), 1u);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].size(), 60u);
  EXPECT_EQ(out[1].size(), 100u);
  EXPECT_EQ(out[1].data()[99], 2);
  EXPECT_FALSE(p.be->closed());
}

TEST(QemuStream, LargeFramesArriveWholeWhateverTheReadBoundaries) {
  // A 60,000-byte frame whose body comes in pieces (read straight into its own buffer), then one
  // that comes in one write behind a small one, then the largest QEMU sends (NET_BUFSIZE).
  Pair p;
  std::vector<uint8_t> big = framed(60000, 0);
  for (size_t i = 4; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i * 7);
  std::vector<packet::Frame> out;
  p.write_bytes({big.begin(), big.begin() + 1000});
  EXPECT_EQ(p.be->receive(out, 64), 0u);
  for (size_t at = 1000; at < big.size(); at += 7000) {
    p.write_bytes({big.begin() + static_cast<long>(at),
                   big.begin() + static_cast<long>(std::min(big.size(), at + 7000))});
    p.be->receive(out, 64);
  }
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].size(), 60000u);
  EXPECT_TRUE(std::equal(out[0].bytes().begin(), out[0].bytes().end(), big.begin() + 4));
  EXPECT_GE(out[0].headroom(), packet::Frame::kHeadroom);

  std::vector<uint8_t> two = framed(60, 9);
  auto second = framed(30000, 5);
  two.insert(two.end(), second.begin(), second.end());
  std::vector<uint8_t> all(two);
  auto largest = framed(4096 + 65536, 3);
  all.insert(all.end(), largest.begin(), largest.end());
  size_t sent = 0;
  out.clear();
  while (sent < all.size()) {  // the socket buffer may not take it all at once
    ssize_t w = ::write(p.peer, all.data() + sent, all.size() - sent);
    if (w > 0) sent += static_cast<size_t>(w);
    p.be->receive(out, 64);
  }
  p.be->receive(out, 64);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].size(), 60u);
  EXPECT_EQ(out[1].size(), 30000u);
  EXPECT_EQ(out[1].data()[29999], 5);
  EXPECT_EQ(out[2].size(), 4096u + 65536u);
  EXPECT_EQ(out[2].data()[4096 + 65535], 3);
  EXPECT_FALSE(p.be->closed());
}

TEST(QemuStream, OversizedFrameClosesTheConnection) {
  Pair p;
  p.write_bytes({0x00, 0x01, 0x20, 0x00});  // 73,728 bytes > 69,632
  std::vector<packet::Frame> out;
  p.be->receive(out, 64);
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(p.be->closed());
}

TEST(QemuStream, SendsLengthPrefixedFramesAndSeesEof) {
  Pair p;
  std::vector<packet::Frame> fs;
  fs.push_back(packet::Frame::copy_of(std::vector<uint8_t>(64, 7)));
  EXPECT_EQ(p.be->send(fs), 1u);
  uint8_t buf[100];
  ASSERT_EQ(::read(p.peer, buf, sizeof buf), 68);
  EXPECT_EQ(buf[3], 64);
  EXPECT_EQ(buf[4], 7);
  ::shutdown(p.peer, SHUT_WR);
  std::vector<packet::Frame> out;
  p.be->receive(out, 64);
  EXPECT_TRUE(p.be->closed());
}

}  // namespace
