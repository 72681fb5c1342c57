// udp:LOCAL:PORT,remote=ADDR:PORT — a point-to-point cable to another switch (vnet's, or VDE's
// udp:// plug: libvdeplug_udp.c sends each frame as one datagram with sendto and takes whatever
// recv gives as a frame, no header of its own). Whole Ethernet frames, 802.1Q tags included, one
// per datagram, both ways; batched with recvmmsg / sendmmsg on one UDP socket bound to LOCAL:PORT.
//
// Receive: only datagrams from `remote` (address and port) are frames; others are dropped and
// counted ("foreign"), as are datagrams shorter than an Ethernet header ("short") and those
// larger than a frame buffer ("oversized"). Send: a frame the socket refuses as too large
// (EMSGSIZE: past the UDP limit, 65507 bytes over IPv4) is dropped and counted ("too_big"); the
// kernel fragments what exceeds the path MTU, as VDE does. A frame refused for another reason
// (an unreachable remote: ENETUNREACH, EHOSTUNREACH; a firewall: EPERM) is dropped and counted
// ("tx_error"); EAGAIN and ENOBUFS (buffer or device queue full) leave the rest of the batch
// unaccepted, which the dataplane counts as tx_queue_full. Nothing a remote sends is queued:
// what arrives is either a frame handed to the bridge now or a counter.

#include <chrono>

#include "io/backend.hh"
#include "io/send_batch.hh"
#include "io/udp_socket.hh"
#include "overlay/spec.hh"

namespace vnet::io {
namespace {

using overlay::Endpoint;

class UdpCableBackend final : public Backend {
 public:
  UdpCableBackend(std::string spec, overlay::UdpCableSpec cable, UniqueFd fd)
      : spec_(std::move(spec)), cable_(cable), fd_(std::move(fd)) {
    to_ = to_sockaddr(cable_.remote, to_len_);
  }
  std::vector<int> fds() const override { return {fd_.get()}; }
  std::string kind() const override { return "udp"; }
  std::string describe() const override { return "udp:" + spec_; }
  std::vector<std::pair<std::string, uint64_t>> counters() const override {
    return {{"drop_short", short_},
            {"drop_foreign", foreign_},
            {"drop_oversized", oversized_},
            {"drop_too_big", too_big_},
            {"drop_tx_error", tx_error_}};
  }

  size_t receive(std::vector<packet::Frame>& out, size_t max) override {
    size_t n = 0;
    std::array<sockaddr_storage, kBatch> from;
    int r = recv_batched(
        fd_.get(), std::min(max, next_batch(last_)), packet::Frame::kMaxFrame,
        [&](size_t i, msghdr& h) {
          h.msg_name = &from[i];
          h.msg_namelen = sizeof from[i];
        },
        [&](size_t i, packet::Frame&& f, const msghdr& h) {
          if (from_sockaddr(from[i]) != cable_.remote) {
            ++foreign_;
          } else if (h.msg_flags & MSG_TRUNC) {
            ++oversized_;
          } else if (f.size() < 14) {
            ++short_;
          } else {
            out.push_back(std::move(f));
            ++n;
          }
        });
    last_ = r > 0 ? static_cast<size_t>(r) : 0;
    return n;
  }

  // Frames the socket would not take now (EAGAIN, ENOBUFS) are not accepted (the dataplane
  // counts them); those it refuses for good (too large, unreachable) are counted here.
  size_t send(std::span<packet::Frame> frames) override {
    size_t too_big = 0, errors = 0;
    size_t sent = send_batched(
        fd_.get(), frames, false,
        [&too_big, &errors](int err) {
          if (err == EAGAIN || err == ENOBUFS) return OnSendError::kStop;
          ++(err == EMSGSIZE ? too_big : errors);
          return OnSendError::kSkipFrame;
        },
        reinterpret_cast<const sockaddr*>(&to_), to_len_);
    too_big_ += too_big;
    tx_error_ += errors;
    return sent + too_big + errors;
  }

 private:
  std::string spec_;
  overlay::UdpCableSpec cable_;
  UniqueFd fd_;
  sockaddr_storage to_{};
  socklen_t to_len_ = 0;
  size_t last_ = 0;
  uint64_t short_ = 0, foreign_ = 0, oversized_ = 0, too_big_ = 0, tx_error_ = 0;
};

}  // namespace

Result<std::unique_ptr<Backend>> open_udp_cable(const std::string& arg) {
  auto spec = overlay::parse_udp_cable_spec(arg);
  if (!spec) return spec.error();
  auto fd = bound_udp_socket(spec->local, "udp:" + arg);
  if (!fd) return fd.error();
  return std::unique_ptr<Backend>(std::make_unique<UdpCableBackend>(arg, *spec, std::move(*fd)));
}

}  // namespace vnet::io
