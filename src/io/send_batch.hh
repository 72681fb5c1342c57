#pragma once
// Batched, non-blocking datagram I/O shared by the datagram-per-frame backends (afpacket, vde,
// qemu-dgram):
//  - send_batched: sendmmsg(2), up to kBatch messages per call, each frame optionally preceded by
//    its virtio-net header and optionally addressed. What an error means is the backend's call:
//    `on_error(errno)` returns kSkipFrame to drop the frame at the head and go on, or kStop to
//    drop the rest.
//  - recv_batched: recvmmsg(2) straight into pooled frames (no scratch buffer, no second copy).

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <span>

#include "io/backend.hh"
#include "io/vnet_hdr.hh"

namespace vnet::io {

enum class OnSendError { kSkipFrame, kStop };

// Returns how many frames the socket accepted. `to` (with `to_len`) addresses every message of
// an unconnected socket.
template <typename OnError>
size_t send_batched(int fd, std::span<packet::Frame> frames, bool with_vnet_hdr, OnError on_error,
                    const sockaddr* to = nullptr, socklen_t to_len = 0) {
  size_t i = 0, accepted = 0;
  while (i < frames.size()) {
    size_t n = std::min(frames.size() - i, kBatch);
    mmsghdr msgs[kBatch];
    iovec iov[kBatch][2];
    virtio_net_hdr hdrs[kBatch];
    for (size_t k = 0; k < n; ++k) {
      auto& f = frames[i + k];
      size_t v = 0;
      if (with_vnet_hdr) {
        hdrs[k] = to_vnet_hdr(f.offload);
        iov[k][v++] = {&hdrs[k], sizeof(virtio_net_hdr)};
      }
      iov[k][v++] = {f.data(), f.size()};
      msgs[k] = {};
      msgs[k].msg_hdr.msg_iov = iov[k];
      msgs[k].msg_hdr.msg_iovlen = v;
      msgs[k].msg_hdr.msg_name = const_cast<sockaddr*>(to);
      msgs[k].msg_hdr.msg_namelen = to_len;
    }
    int r = sendmmsg(fd, msgs, static_cast<unsigned>(n), MSG_DONTWAIT);
    if (r > 0) {
      i += static_cast<size_t>(r);
      accepted += static_cast<size_t>(r);
      continue;
    }
    if (on_error(errno) == OnSendError::kStop) break;
    ++i;
  }
  return accepted;
}

// Receives up to `want` (≤ kBatch) datagrams with one recvmmsg(2), each into a pooled frame of
// `room` bytes. `prepare(i, msghdr&)` may add a name or control buffer to message i; then
// `take(i, Frame&&, const msghdr&)` gets each datagram that arrived, its frame resized to the
// datagram (the msghdr's msg_flags say MSG_TRUNC if it did not fit). Frames not used go back to
// the pool. Returns how many datagrams arrived, or -1 with errno (EAGAIN: none waiting).
template <typename Prepare, typename Take>
int recv_batched(int fd, size_t want, size_t room, Prepare prepare, Take take) {
  want = std::clamp<size_t>(want, 1, kBatch);
  std::array<packet::Frame, kBatch> frames;
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  for (size_t i = 0; i < want; ++i) {
    frames[i] = packet::Frame::make(room);
    iov[i] = {frames[i].data(), room};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    prepare(i, msgs[i].msg_hdr);
  }
  int r = recvmmsg(fd, msgs, static_cast<unsigned>(want), MSG_DONTWAIT, nullptr);
  for (int i = 0; i < r; ++i) {
    frames[i].resize(msgs[i].msg_len);
    take(static_cast<size_t>(i), std::move(frames[i]), msgs[i].msg_hdr);
  }
  return r;
}

// How many datagrams to ask for next: twice what the last call found, within [4, kBatch], so an
// idle port does not take 64 buffers from the pool for every wakeup.
inline size_t next_batch(size_t last) { return std::clamp<size_t>(2 * last, 4, kBatch); }

}  // namespace vnet::io
