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

void Frame::Deleter::operator()(uint8_t* p) const {
  if (!p) return;
  if (cap == kStandardCapacity && g_pool.free.size() < kPoolMax) {
    g_pool.free.push_back(p);
  } else {
    delete[] p;
  }
}

void Frame::allocate(size_t capacity) {
  uint8_t* p = nullptr;
  if (capacity == kStandardCapacity && !g_pool.free.empty()) {
    p = g_pool.free.back();
    g_pool.free.pop_back();
  } else {
    p = new uint8_t[capacity];
  }
  buf_ = std::unique_ptr<uint8_t[], Deleter>(p, Deleter{capacity});
  cap_ = static_cast<uint32_t>(capacity);
}

Frame Frame::make(size_t size) {
  Frame f;
  size_t need = size + kHeadroom;
  f.allocate(need <= kStandardCapacity ? kStandardCapacity : need + 64);
  f.off_ = kHeadroom;
  f.len_ = static_cast<uint32_t>(size);
  return f;
}

Frame Frame::copy_of(std::span<const uint8_t> bytes) {
  Frame f = make(bytes.size());
  if (!bytes.empty()) std::memcpy(f.data(), bytes.data(), bytes.size());
  return f;
}

Frame::Frame(Frame&& o) noexcept
    : offload(o.offload),
      buf_(std::move(o.buf_)),
      cap_(std::exchange(o.cap_, 0)),
      off_(std::exchange(o.off_, 0)),
      len_(std::exchange(o.len_, 0)) {}

Frame& Frame::operator=(Frame&& o) noexcept {
  if (this != &o) {
    buf_ = std::move(o.buf_);
    cap_ = std::exchange(o.cap_, 0);
    off_ = std::exchange(o.off_, 0);
    len_ = std::exchange(o.len_, 0);
    offload = o.offload;
  }
  return *this;
}

Frame::~Frame() = default;

Frame Frame::clone() const {
  Frame f = copy_of(bytes());
  f.offload = offload;
  return f;
}

uint8_t* Frame::push_front(size_t n) {
  if (n > off_) return nullptr;
  off_ -= static_cast<uint32_t>(n);
  len_ += static_cast<uint32_t>(n);
  return data();
}

void Frame::pull_front(size_t n) {
  if (n > len_) n = len_;
  off_ += static_cast<uint32_t>(n);
  len_ -= static_cast<uint32_t>(n);
}

bool Frame::resize(size_t n) {
  if (off_ + n > cap_) return false;
  len_ = static_cast<uint32_t>(n);
  return true;
}

}  // namespace vnet::packet
