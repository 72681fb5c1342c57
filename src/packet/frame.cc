#include "packet/frame.hh"

#include <algorithm>
#include <utility>

namespace vnet::packet {
namespace {

// Free-list limits per class: 8 MiB of 2 KiB buffers, 4 MiB of 16 KiB, 9 MiB of 72 KiB.
constexpr std::array<size_t, FramePool::kClasses.size()> kDefaultLimits = {4096, 256, 128};

// Set when this thread's pool has been destroyed (thread exit): frames that die later (statics,
// other thread_locals) go straight back to the heap.
thread_local bool g_pool_gone = false;

}  // namespace

FramePool::FramePool() {
  for (size_t i = 0; i < classes_.size(); ++i) {
    classes_[i].limit = kDefaultLimits[i];
    classes_[i].free.reserve(kDefaultLimits[i]);
  }
}

FramePool::~FramePool() {
  clear();
  g_pool_gone = true;
}

FramePool& FramePool::local() {
  static thread_local FramePool pool;
  return pool;
}

size_t FramePool::class_for(size_t capacity) {
  for (size_t i = 0; i < kClasses.size(); ++i) {
    if (capacity <= kClasses[i]) return i;
  }
  return kClasses.size();
}

FramePool::ClassStats FramePool::stats(size_t cls) const {
  const Class& c = classes_.at(cls);
  return ClassStats{kClasses[cls], c.free.size(), c.outstanding, c.limit,
                    c.heap_allocs, c.heap_frees,  c.reused};
}

void FramePool::set_limit(size_t cls, size_t limit) {
  Class& c = classes_.at(cls);
  c.limit = limit;
  c.free.reserve(limit);
  if (c.free.size() > limit) free_buffers(c, cls, c.free.size() - limit);
}

void FramePool::free_buffers(Class& c, size_t cls, size_t n) {
  for (size_t i = 0; i < n && !c.free.empty(); ++i) {
    delete[] c.free.back();
    c.free.pop_back();
    ++c.heap_frees;
    retained_bytes_ -= kClasses[cls];
  }
  c.low_water = std::min(c.low_water, c.free.size());
}

uint8_t* FramePool::acquire(size_t cls) {
  Class& c = classes_[cls];
  ++c.outstanding;
  if (c.free.empty()) {
    // Refill: a few at once (within the limit), so a growing load does not allocate per frame.
    size_t extra = std::min(kRefill - 1, c.limit);
    for (size_t i = 0; i < extra; ++i) c.free.push_back(new uint8_t[kClasses[cls]]);
    c.heap_allocs += extra + 1;
    retained_bytes_ += extra * kClasses[cls];
    c.low_water = 0;
    return new uint8_t[kClasses[cls]];
  }
  uint8_t* p = c.free.back();
  c.free.pop_back();
  ++c.reused;
  retained_bytes_ -= kClasses[cls];
  c.low_water = std::min(c.low_water, c.free.size());
  return p;
}

void FramePool::put(uint8_t* buf, size_t cls) {
  Class& c = classes_[cls];
  if (c.outstanding > 0) --c.outstanding;  // a buffer from another thread's pool may land here
  if (c.free.size() >= c.limit) {
    delete[] buf;
    ++c.heap_frees;
    return;
  }
  c.free.push_back(buf);
  retained_bytes_ += kClasses[cls];
}

size_t FramePool::trim() {
  size_t freed = 0;
  for (size_t i = 0; i < classes_.size(); ++i) {
    Class& c = classes_[i];
    size_t n = std::min(c.low_water, c.free.size());
    free_buffers(c, i, n);
    freed += n;
    c.low_water = c.free.size();
  }
  return freed;
}

void FramePool::clear() {
  for (size_t i = 0; i < classes_.size(); ++i)
    free_buffers(classes_[i], i, classes_[i].free.size());
}

void Frame::release(uint8_t* buf, uint32_t cap) {
  size_t cls = FramePool::class_for(cap);
  if (cls == FramePool::kClasses.size() || FramePool::kClasses[cls] != cap || g_pool_gone) {
    delete[] buf;
    return;
  }
  FramePool::local().put(buf, cls);
}

Frame Frame::make(size_t size) {
  Frame f;
  size_t need = size + kHeadroom;
  size_t cls = FramePool::class_for(need);
  if (cls < FramePool::kClasses.size() && !g_pool_gone) {
    f.buf_ = FramePool::local().acquire(cls);
    f.cap_ = FramePool::kClasses[cls];
  } else {
    if (!g_pool_gone) ++FramePool::local().oversize_allocs_;
    f.buf_ = new uint8_t[need];
    f.cap_ = static_cast<uint32_t>(need);
  }
  f.off_ = kHeadroom;
  f.len_ = static_cast<uint32_t>(size);
  return f;
}

Frame Frame::copy_of(std::span<const uint8_t> bytes) {
  Frame f = make(bytes.size());
  if (!bytes.empty()) std::memcpy(f.data(), bytes.data(), bytes.size());
  return f;
}

Frame Frame::clone() const {
  Frame f = copy_of(bytes());
  f.offload = offload;
  f.meta = meta;
  return f;
}

bool Frame::shrink_to_fit() {
  if (!buf_) return false;
  size_t cls = FramePool::class_for(len_ + kHeadroom);
  if (cls == FramePool::kClasses.size() || FramePool::kClasses[cls] >= cap_) return false;
  Frame f = copy_of(bytes());
  f.offload = offload;
  f.meta = meta;
  *this = std::move(f);
  return true;
}

bool FrameQueue::push(Frame&& f) {
  if (count_ >= limit_) return false;
  if (count_ == ring_.size()) {
    // Grow: unwrap into a ring twice the size.
    std::vector<Frame> bigger(std::max<size_t>(16, 2 * ring_.size()));
    for (size_t i = 0; i < count_; ++i) bigger[i] = std::move((*this)[i]);
    ring_ = std::move(bigger);
    head_ = 0;
  }
  ring_[(head_ + count_) & (ring_.size() - 1)] = std::move(f);
  ++count_;
  return true;
}

}  // namespace vnet::packet
