#pragma once
// Host plumbing of an instance, decided from its configuration alone: where its virtual MAC,
// virtual addresses, advertisements and announcements live, and the Accept_Mode filter.
//
// Virtual MAC (use_vmac, RFC 5798 §7.3): a macvlan named by use_vmac (keepalived's default
// `vrrp.VRID`, for either family) on the instance's interface, with 00:00:5e:00:01:VRID
// (IPv4) or 00:00:5e:00:02:VRID (IPv6). The VIPs live on it, so ARP/ND answers and gratuitous
// ARPs name the VMAC and a takeover needs no cache update in the hosts. As keepalived, IPv4
// adverts are sent and received on it too unless vmac_xmit_base or unicast peers are set;
// IPv6 adverts always use the base interface and its link-local address.
//
// Virtual addresses: each on its own `dev` when it names one, else on the VMAC interface, else
// on the instance's interface. A label is kept only when it names the device it is on
// ("eth0:vip"), as the kernel requires. Excluded addresses are placed alike, not advertised.
//
// no_accept (RFC 5798 §6.1 Accept_Mode = False): a master that is not the address owner drops
// traffic addressed to its VIPs (it still routes through them). As keepalived with no_accept or
// vrrp_strict, with one nftables table `inet vnet_vrrp` for all instances; neighbour discovery
// to a VIP stays allowed so IPv6 hosts can resolve the gateway.

#include <optional>
#include <string>
#include <vector>

#include "vrrp/host.hh"
#include "vrrp/keepalived_conf.hh"

namespace vnet::vrrp {

// RFC 5798 §7.3: 00-00-5E-00-01-{VRID} for IPv4, 00-00-5E-00-02-{VRID} for IPv6.
packet::MacAddress virtual_mac(uint8_t vrid, bool ipv6);

struct VipPlacement {
  packet::IpPrefix prefix;
  std::string dev, label;
  friend bool operator==(const VipPlacement&, const VipPlacement&) = default;
};

struct HostLayout {
  std::optional<VmacOptions> vmac;
  std::string advert_interface;    // adverts are sent and received here
  std::string announce_interface;  // gratuitous ARP / NA leave here (the VMAC when there is one)
  std::vector<VipPlacement> vips;  // advertised ones first, then the excluded ones
  friend bool operator==(const HostLayout&, const HostLayout&) = default;
};

HostLayout host_layout(const InstanceConfig& c);

// The advert port of an instance in that layout.
PortOptions port_options(const InstanceConfig& c, const HostLayout& layout, ChecksumMode checksum);

// The nftables script that replaces the table with one dropping traffic to `vips` (deletes it
// when `vips` is empty).
std::string no_accept_ruleset(const NoAcceptSet& vips);

}  // namespace vnet::vrrp
