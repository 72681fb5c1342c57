#pragma once
// SystemHost: the Host of a real machine — the only VRRP file that touches sockets, netlink,
// sysctls and nftables. It works in the network namespace it was opened in.
//
//  Adverts, IPv4: a raw IP-protocol-112 socket bound to the advert interface (SO_BINDTODEVICE),
//        TTL 255, DSCP CS6, joined to 224.0.0.18 (or sending to unicast peers, no group joined);
//        the source address is set per packet (IP_PKTINFO), since a raw socket bound to an
//        address only receives packets sent to it. Received packets carry the IP header, from
//        which TTL and addresses are taken for the §7.1 checks.
//  Adverts, IPv6: the same with ff02::12 from the link-local address; the kernel computes and
//        verifies the checksum (IPV6_CHECKSUM), hop limit and destination come as ancillary
//        data. A port's socket is watched by the event loop and drained when readable.
//  VIPs: rtnetlink. Announcements: one AF_PACKET socket, frames sent as they are.
//  VMAC: a macvlan (mode private) created at open_vmac (or taken over when one with the right
//        MAC exists, left by a crashed run), with IPv6 autoconfiguration and DAD off before it
//        comes up (the backup's VMAC interface must stay silent, or the switch would see the
//        VMAC move) and, for IPv4, arp_ignore 1 / arp_announce 2 on both interfaces and
//        rp_filter 0 on the VMAC, so only the VMAC answers ARP for a VIP. Deleted with its
//        VmacLink.
//  no_accept: libnftables, the table from no_accept_ruleset(); nothing is loaded until a first
//        non-empty set (a run that never needs the table never touches nftables).

#include <memory>

#include "base/event_loop.hh"
#include "base/fd.hh"
#include "io/netlink.hh"
#include "vrrp/host.hh"

namespace vnet::vrrp {

class SystemHost final : public Host {
 public:
  // Errors: netlink or AF_PACKET sockets cannot be opened (not root?).
  static Result<std::unique_ptr<SystemHost>> open(EventLoop& loop);

  Result<std::unique_ptr<AdvertPort>> open_port(const PortOptions& options,
                                                OnAdvert on_advert) override;
  Result<std::unique_ptr<VmacLink>> open_vmac(const VmacOptions& options) override;
  Status add_address(const std::string& dev, const packet::IpPrefix& prefix,
                     const std::string& label) override;
  Status del_address(const std::string& dev, const packet::IpPrefix& prefix) override;
  Result<packet::MacAddress> link_mac(const std::string& ifname) override;
  bool link_running(const std::string& ifname) override;
  Status send_frames(const std::string& dev,
                     const std::vector<std::vector<uint8_t>>& frames) override;
  Status set_no_accept(const NoAcceptSet& vips) override;
  Status add_route(const RouteConfig& route) override;
  Status del_route(const RouteConfig& route) override;
  Status add_rule(const RuleConfig& rule) override;
  Status del_rule(const RuleConfig& rule) override;

 private:
  SystemHost(EventLoop& loop, io::Netlink nl, UniqueFd raw)
      : loop_(loop), nl_(std::move(nl)), raw_(std::move(raw)) {}
  EventLoop& loop_;
  io::Netlink nl_;
  UniqueFd raw_;                 // AF_PACKET, for announcements
  std::string no_accept_rules_;  // as last loaded ("" = never)
};

}  // namespace vnet::vrrp
