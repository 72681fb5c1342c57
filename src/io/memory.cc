#include "io/memory.hh"

#include <sys/eventfd.h>

namespace vnet::io {

MemoryBackend::MemoryBackend(std::string name, size_t capacity)
    : name_(std::move(name)), inbox_(capacity), event_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

MemoryBackend::~MemoryBackend() {
  if (peer_) {
    peer_->peer_ = nullptr;
    peer_->signal();  // wake the other end so it sees closed(), as EOF would
  }
}

std::pair<std::unique_ptr<MemoryBackend>, std::unique_ptr<MemoryBackend>> MemoryBackend::pair(
    std::string name, size_t capacity) {
  std::unique_ptr<MemoryBackend> a(new MemoryBackend(name + ".a", capacity));
  std::unique_ptr<MemoryBackend> b(new MemoryBackend(name + ".b", capacity));
  a->peer_ = b.get();
  b->peer_ = a.get();
  return {std::move(a), std::move(b)};
}

void MemoryBackend::signal() {
  if (signalled_) return;
  uint64_t one = 1;
  [[maybe_unused]] auto r = ::write(event_.get(), &one, sizeof one);
  signalled_ = true;
}

void MemoryBackend::inject(packet::Frame f) {
  inbox_.push(std::move(f));
  signal();
}

size_t MemoryBackend::receive(std::vector<packet::Frame>& out, size_t max) {
  if (inbox_.empty()) {
    if (signalled_) {
      uint64_t v;
      [[maybe_unused]] auto r = ::read(event_.get(), &v, sizeof v);
      signalled_ = false;
    }
    return 0;
  }
  size_t n = 0;
  while (n < max && !inbox_.empty()) {
    out.push_back(inbox_.pop());
    ++n;
  }
  return n;
}

size_t MemoryBackend::send(std::span<packet::Frame> frames) {
  if (!peer_) return 0;
  size_t n = 0;
  for (auto& f : frames) {
    if (!peer_->inbox_.push(std::move(f))) break;
    ++n;
  }
  if (n) peer_->signal();
  return n;
}

}  // namespace vnet::io
