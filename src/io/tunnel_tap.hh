#pragma once
// TunnelTap: the kernel's UDP tunnel segmentation for vnet's VTEP (Linux ≥ 6.17). A tap device
// (vnetgso%d; not persistent: it goes with its descriptor) set up for UDP tunnel GSO
// (TUN_F_UDP_TUNNEL_GSO and the 24-byte virtio_net_hdr_v1_hash_tunnel), up, with an ingress
// qdisc whose u32 match-all filter redirects everything written to the tap to the egress of one
// underlay device (tc-mirred(8) `egress redirect`, TC_ACT_STOLEN). A packet written to it
// (overlay/tunnel_gso.hh: the header and a whole outer IPv4 packet) so leaves that device as
// VXLAN datagrams that the kernel or the NIC segments — without the IP stack: no routing, no
// netfilter, no neighbour resolution, so the writer names the device and the next hop's MAC
// (io/next_hop.hh). Nothing else reaches the tap's queue but what the host sends it (bounded by
// its txqueuelen, never read).

#include <memory>
#include <span>

#include "base/fd.hh"
#include "base/result.hh"

namespace vnet::io {

class TunnelTap {
 public:
  // In the calling thread's network namespace, redirecting to `out_ifindex`. Errors: EINVAL
  // ("no UDP tunnel GSO") when the kernel's tun lacks it, tun and rtnetlink failures (EPERM
  // without CAP_NET_ADMIN).
  static Result<std::unique_ptr<TunnelTap>> open(int out_ifindex);
  int out_ifindex() const { return out_; }
  const std::string& name() const { return name_; }
  // One packet, `head` then `payload` (writev). False, with errno, when the tap refuses it.
  bool write(std::span<const uint8_t> head, std::span<const uint8_t> payload) const;

 private:
  TunnelTap(UniqueFd fd, std::string name, int out)
      : fd_(std::move(fd)), name_(std::move(name)), out_(out) {}
  UniqueFd fd_;
  std::string name_;
  int out_;
};

}  // namespace vnet::io
