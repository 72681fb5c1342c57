#pragma once
// Backend: where a bridge port's frames come from and go to (a veth end, a TAP device, a VDE plug,
// a QEMU socket, a pcap file, an in-memory peer). One file per backend, like OVS netdev classes.
//
// Contract:
//  - receive() never blocks; it appends the frames that are ready (normally ≤ kBatch, a TPACKET_V3
//    block may yield a few more) and returns how many it appended.
//  - send() never blocks; it takes every frame in the span (they are moved-from afterwards) and
//    returns how many it accepted. Frames not accepted were dropped — the caller counts them
//    (DropReason::kTxQueueFull). A slow client therefore never stalls the others.
//  - fds() are the descriptors to watch for readability; when one is readable call receive().
//  - receive() takes frames straight into pooled buffers (packet::Frame::make of the largest size
//    the backend can get, resized to what arrived): no scratch buffer, no second copy, except
//    where the kernel's interface forces one (the afpacket ring; small frames of a byte stream).
//  - Stream backends queue what the socket does not take (bounded; what does not fit is not
//    accepted). While pending_output() is true the owner watches output_fd() for writability and
//    calls flush() when it is writable; nothing polls them on a timer.
//  - closed() turns true when the peer is gone (VDE ctl EOF, stream EOF); the dataplane then frees
//    the port. A closed backend receives nothing and drops everything sent.
//  - vnet_hdr(): the backend carries packet::OffloadInfo (virtio-net header) both ways, so TCP
//    segments up to 64 KiB with partial checksums pass through. Otherwise the dataplane completes
//    checksums and segments GSO frames before send().

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/clock.hh"
#include "base/result.hh"
#include "packet/frame.hh"

namespace vnet::io {

constexpr size_t kBatch = 64;
class VtepPort;

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::vector<int> fds() const = 0;
  virtual size_t receive(std::vector<packet::Frame>& out, size_t max) = 0;
  virtual size_t send(std::span<packet::Frame> frames) = 0;
  // Output queued because the socket would not take it (stream backends).
  virtual bool pending_output() const { return false; }
  // The descriptor to watch for writability while pending_output(); -1 if none.
  virtual int output_fd() const { return -1; }
  // Writes as much of the queued output as the socket takes now.
  virtual void flush() {}
  // Link carrier toward the peer (a TAP device's carrier: TUNSETCARRIER): `port/link N down`
  // takes it away so the node sees NO-CARRIER. False if the backend has no carrier to control.
  virtual bool set_carrier(bool up) {
    (void)up;
    return false;
  }
  // The kernel interface this port's link is (afpacket on a veth or NIC): the dataplane follows
  // its carrier (io/link_monitor.hh). 0: none, the link is up while the backend is attached.
  virtual int link_ifindex() const { return 0; }
  virtual bool vnet_hdr() const { return false; }
  virtual bool closed() const { return false; }
  // Kernel receive timestamps: while on, arrival() is the CLOCK_MONOTONIC time at which the
  // kernel received the earliest frame of the last receive() (its SO_TIMESTAMPNS / TPACKET
  // timestamp, CLOCK_REALTIME moved onto CLOCK_MONOTONIC by the offset between the two clocks
  // read in that call), so how late the switch woke up to read a frame does not count in a delay
  // measured from its arrival (link impairment). nullopt when off, when the backend has none
  // (only afpacket reads them) or when the last call received nothing.
  virtual void set_timestamps(bool on) { (void)on; }
  virtual std::optional<TimePoint> arrival() const { return std::nullopt; }
  // The backend's own counters, by name, for port/print and port/stats: a VXLAN port's
  // encapsulations, decapsulations, learning and drops by reason ("drop_unknown_vni").
  virtual std::vector<std::pair<std::string, uint64_t>> counters() const { return {}; }
  // A vxlan: port's VTEP (io/vtep_port.hh), for the console; nullptr for other backends.
  virtual VtepPort* vtep_port() { return nullptr; }
  virtual std::string kind() const = 0;      // "afpacket", "vde", ...
  virtual std::string describe() const = 0;  // "afpacket:veth0", "vde:/tmp/sw/ctl fd 7 (pid 42)"
};

// Opens a backend from a spec (the part after `--port N=`):
//   afpacket:IFNAME[,ring][,netns=PATH]  raw frames on an interface (PACKET_VNET_HDR, sendmmsg);
//                        receive with recvmmsg into pooled buffers, or with ",ring" through a
//                        TPACKET_V3 ring; ",netns=PATH": the interface of that network namespace
//   tap:IFNAME           a TAP device (created if missing), IFF_VNET_HDR
//   pcap:IN[,OUT]        replay IN (may be "-" for none), record what is sent to OUT
//   qemu-dgram:PATH      a unix datagram socket at PATH for QEMU -netdev dgram (remote.path=PATH)
//   vxlan:LOCAL,map=VID:VNI,…  a VXLAN tunnel end point (RFC 7348) on a trunk port; the options
//                        are in overlay/spec.hh
//   udp:LOCAL:PORT,remote=ADDR:PORT  a point-to-point UDP cable: whole frames with their tags,
//                        one per datagram (overlay/spec.hh, udp_cable.cc)
//   udp://…, vxlan://…   VDE locators as vdeplug4 writes them, turned into the two above
//                        (overlay::from_vde_locator)
// Listening specs (qemu-stream:PATH, VDE's ctl directory) are listeners (see listener.hh).
// Errors name the spec and what went wrong.
Result<std::unique_ptr<Backend>> make_backend(const std::string& spec);

Result<std::unique_ptr<Backend>> open_afpacket(const std::string& arg);  // IFNAME[,ring]
Result<std::unique_ptr<Backend>> open_tap(const std::string& ifname);
Result<std::unique_ptr<Backend>> open_pcap(const std::string& in, const std::string& out);
Result<std::unique_ptr<Backend>> open_qemu_dgram(const std::string& path);
Result<std::unique_ptr<Backend>> open_vxlan(const std::string& arg);
Result<std::unique_ptr<Backend>> open_udp_cable(const std::string& arg);

}  // namespace vnet::io
