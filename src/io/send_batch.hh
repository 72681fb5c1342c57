#pragma once
// Non-blocking batched transmit with sendmmsg(2), shared by the datagram-per-frame backends
// (afpacket, vde): up to kBatch messages per call, each frame optionally preceded by its
// virtio-net header. What an error means is the backend's call: `on_error(errno)` returns
// kSkipFrame to drop the frame at the head and go on, or kStop to drop the rest.

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <span>

#include "io/backend.hh"
#include "io/vnet_hdr.hh"

namespace vnet::io {

enum class OnSendError { kSkipFrame, kStop };

// Returns how many frames the socket accepted.
template <typename OnError>
size_t send_batched(int fd, std::span<packet::Frame> frames, bool with_vnet_hdr, OnError on_error) {
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

}  // namespace vnet::io
