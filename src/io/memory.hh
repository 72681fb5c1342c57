#pragma once
// MemoryBackend: an in-process pair; what one end sends the other receives. Backs unit and
// scenario tests and in-process cables. Each end has an eventfd that is readable while frames wait.
// Bounded: at most `capacity` frames queued per direction; more are dropped (send() says so).
// The eventfd is written only when it is not already readable and cleared only by a receive()
// that finds nothing (one spurious wakeup per idle transition), so a busy pair makes no syscalls.
// The inbox is a packet::FrameQueue: once warm, a pair moves frames without touching the heap.

#include <memory>
#include <utility>

#include "base/fd.hh"
#include "io/backend.hh"

namespace vnet::io {

class MemoryBackend final : public Backend {
 public:
  static std::pair<std::unique_ptr<MemoryBackend>, std::unique_ptr<MemoryBackend>> pair(
      std::string name, size_t capacity = 4096);
  ~MemoryBackend() override;

  std::vector<int> fds() const override { return {event_.get()}; }
  size_t receive(std::vector<packet::Frame>& out, size_t max) override;
  size_t send(std::span<packet::Frame> frames) override;
  bool vnet_hdr() const override { return true; }
  bool closed() const override { return peer_ == nullptr; }
  std::string kind() const override { return "memory"; }
  std::string describe() const override { return "memory:" + name_; }

  // Test helpers: inject as if the peer had sent, or take what the peer sent.
  void inject(packet::Frame f);
  size_t pending() const { return inbox_.size(); }

 private:
  MemoryBackend(std::string name, size_t capacity);
  void signal();
  std::string name_;
  MemoryBackend* peer_ = nullptr;
  packet::FrameQueue inbox_;
  UniqueFd event_;
  bool signalled_ = false;
};

}  // namespace vnet::io
