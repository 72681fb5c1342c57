// Frame buffers: metadata travels with clones, every size class is recycled through the thread's
// pool, the pool keeps no more than its limit and shrinks when idle, FrameQueue keeps order.
#include "packet/frame.hh"

#include <gtest/gtest.h>

#include <numeric>

using namespace vnet::packet;

namespace {

// The pool is per thread and shared with every other test: start each test from an empty one
// and restore the default limits afterwards.
class FramePoolTest : public ::testing::Test {
 protected:
  FramePoolTest() : pool(FramePool::local()) {
    pool.clear();
    for (size_t c = 0; c < FramePool::kClasses.size(); ++c) limits.push_back(pool.stats(c).limit);
  }
  ~FramePoolTest() override {
    for (size_t c = 0; c < limits.size(); ++c) pool.set_limit(c, limits[c]);
    pool.clear();
  }
  FramePool& pool;
  std::vector<size_t> limits;
};

// A size whose buffer (with the headroom) falls in class c.
size_t size_in_class(size_t c) { return FramePool::kClasses[c] - Frame::kHeadroom; }

TEST(Frame, CloneCopiesDataOffloadAndMeta) {
  std::vector<uint8_t> bytes(100);
  std::iota(bytes.begin(), bytes.end(), 0);
  Frame f = Frame::copy_of(bytes);
  f.offload.gso_type = 1;
  f.offload.gso_size = 1448;
  f.meta = FrameMeta{0x123456, 7, 2, 1};
  Frame c = f.clone();
  EXPECT_NE(c.data(), f.data());
  EXPECT_TRUE(std::equal(c.bytes().begin(), c.bytes().end(), bytes.begin(), bytes.end()));
  EXPECT_EQ(c.offload, f.offload);
  EXPECT_EQ(c.meta, (FrameMeta{0x123456, 7, 2, 1}));
  Frame moved = std::move(c);
  EXPECT_EQ(moved.meta.vni, 0x123456u);
  EXPECT_LE(sizeof(FrameMeta), 8u);
}

TEST_F(FramePoolTest, EverySizeClassIsRecycled) {
  for (size_t c = 0; c < FramePool::kClasses.size(); ++c) {
    const uint8_t* first;
    {
      Frame f = Frame::make(size_in_class(c));
      EXPECT_EQ(f.capacity(), FramePool::kClasses[c]) << "class " << c;
      EXPECT_GE(f.headroom(), Frame::kHeadroom);
      first = f.data();
    }
    auto before = pool.stats(c);
    for (int i = 0; i < 100; ++i) {
      Frame f = Frame::make(size_in_class(c) - static_cast<size_t>(i));  // any size in the class
      EXPECT_EQ(f.data(), first) << "class " << c << ": the warm buffer is reused (LIFO)";
    }
    auto after = pool.stats(c);
    EXPECT_EQ(after.heap_allocs, before.heap_allocs) << "class " << c;
    EXPECT_EQ(after.reused - before.reused, 100u) << "class " << c;
    EXPECT_EQ(after.outstanding, 0u);
  }
}

TEST_F(FramePoolTest, ASizeGoesToTheSmallestClassThatHoldsIt) {
  EXPECT_EQ(Frame::make(60).capacity(), FramePool::kClasses[0]);
  EXPECT_EQ(Frame::make(1518).capacity(), FramePool::kClasses[0]);
  EXPECT_EQ(Frame::make(9234).capacity(), FramePool::kClasses[1]);  // VDE jumbo datagram
  EXPECT_EQ(Frame::make(Frame::kMaxFrame).capacity(), FramePool::kClasses[2]);  // GSO
  EXPECT_EQ(Frame::make(4096 + 65536).capacity(), FramePool::kClasses[2]);      // QEMU NET_BUFSIZE
  uint64_t oversize = pool.oversize_allocs();
  Frame big = Frame::make(200000);  // pcap snaplen: from the heap, back to the heap
  EXPECT_GE(big.capacity(), 200000u + Frame::kHeadroom);
  EXPECT_EQ(pool.oversize_allocs(), oversize + 1);
}

TEST_F(FramePoolTest, FreeListsStayWithinTheirLimit) {
  for (size_t c = 0; c < FramePool::kClasses.size(); ++c) {
    pool.set_limit(c, 5);
    std::vector<Frame> many;
    for (int i = 0; i < 50; ++i) many.push_back(Frame::make(size_in_class(c)));
    EXPECT_EQ(pool.stats(c).outstanding, 50u);
    auto before = pool.stats(c);
    many.clear();
    auto after = pool.stats(c);
    EXPECT_EQ(after.free, 5u) << "class " << c;
    EXPECT_EQ(after.outstanding, 0u);
    EXPECT_GE(after.heap_frees - before.heap_frees, 45u) << "class " << c;
  }
  size_t bound = 0;
  for (size_t c = 0; c < FramePool::kClasses.size(); ++c) bound += 5 * FramePool::kClasses[c];
  EXPECT_LE(pool.retained_bytes(), bound);
}

TEST_F(FramePoolTest, TrimReturnsWhatAnIdlePoolDoesNotNeed) {
  {
    std::vector<Frame> burst;
    for (int i = 0; i < 64; ++i) burst.push_back(Frame::make(Frame::kMaxFrame));
  }
  size_t big = FramePool::kClasses.size() - 1;
  EXPECT_GE(pool.stats(big).free, 64u);
  // Busy: every interval needs 10 buffers at once; trim keeps those and frees the rest.
  for (int round = 0; round < 3; ++round) {
    std::vector<Frame> ten;
    for (int i = 0; i < 10; ++i) ten.push_back(Frame::make(Frame::kMaxFrame));
    ten.clear();
    pool.trim();
  }
  EXPECT_GE(pool.stats(big).free, 10u);
  EXPECT_LT(pool.stats(big).free, 64u);
  // Idle: two trims and nothing is retained.
  pool.trim();
  pool.trim();
  EXPECT_EQ(pool.retained_bytes(), 0u);
}

TEST_F(FramePoolTest, ShrinkToFitMovesASmallFrameOutOfALargeBuffer) {
  Frame f = Frame::make(Frame::kMaxFrame);
  ASSERT_TRUE(f.resize(60));
  for (size_t i = 0; i < 60; ++i) f.data()[i] = static_cast<uint8_t>(i);
  f.meta.vni = 42;
  f.offload.flags = OffloadInfo::kNeedsCsum;
  ASSERT_TRUE(f.shrink_to_fit());
  EXPECT_EQ(f.capacity(), FramePool::kClasses[0]);
  EXPECT_EQ(f.size(), 60u);
  EXPECT_EQ(f.data()[59], 59);
  EXPECT_EQ(f.meta.vni, 42u);
  EXPECT_EQ(f.offload.flags, OffloadInfo::kNeedsCsum);
  EXPECT_FALSE(f.shrink_to_fit());  // already the smallest that fits
}

TEST(FrameQueue, KeepsOrderAcrossGrowthAndWrapAndRefusesPastItsLimit) {
  FrameQueue q(100);
  int next_in = 0, next_out = 0;
  auto put = [&] {
    Frame f = Frame::make(1);
    f.data()[0] = static_cast<uint8_t>(next_in++);
    return q.push(std::move(f));
  };
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(put());
  for (int round = 0; round < 20; ++round) {  // wraps the ring many times, growing on the way
    for (int i = 0; i < 5; ++i) EXPECT_EQ(q.pop().data()[0], static_cast<uint8_t>(next_out++));
    for (int i = 0; i < 7; ++i) ASSERT_TRUE(put());
  }
  EXPECT_EQ(q.size(), 50u);
  while (put()) {
  }
  EXPECT_EQ(q.size(), 100u);
  EXPECT_TRUE(q.full());
  Frame extra = Frame::make(1);
  EXPECT_FALSE(q.push(std::move(extra)));
  EXPECT_FALSE(extra.empty()) << "a refused frame stays with the caller";
  while (!q.empty()) EXPECT_EQ(q.pop().data()[0], static_cast<uint8_t>(next_out++));
}

}  // namespace
