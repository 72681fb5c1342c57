#include "packet/frame.hh"

#include <utility>
#include <vector>

namespace vnet::packet {
namespace {

// Per-thread pool of standard-capacity buffers.
struct Pool {
  std::vector<uint8_t*> free;
  ~Pool() {
    for (uint8_t* p : free) delete[] p;
  }
};
thread_local Pool g_pool;
constexpr size_t kPoolMax = 8192;

}  // namespace

void Frame::recycle(uint8_t* p, uint32_t cap) {
  if (cap == kStandardCapacity && g_pool.free.size() < kPoolMax) {
    g_pool.free.push_back(p);
  } else {
    delete[] p;
  }
}

Frame Frame::make(size_t size) {
  Frame f;
  size_t need = size + kHeadroom;
  size_t capacity = need <= kStandardCapacity ? kStandardCapacity : need + 64;
  if (capacity == kStandardCapacity && !g_pool.free.empty()) {
    f.buf_ = g_pool.free.back();
    g_pool.free.pop_back();
  } else {
    f.buf_ = new uint8_t[capacity];
  }
  f.cap_ = static_cast<uint32_t>(capacity);
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
  return f;
}

}  // namespace vnet::packet
