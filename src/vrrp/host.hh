#pragma once
// The only VRRP file that touches sockets: one instance's view of its interface.
//
//  IPv4: a raw IP-protocol-112 socket bound to the interface and its primary address, TTL 255,
//        DSCP CS6, joined to 224.0.0.18 (or sending to unicast peers); received packets carry
//        the IP header, from which TTL and addresses are taken for the §7.1 checks.
//  IPv6: the same with ff02::12 from the link-local address; the kernel computes and verifies
//        the checksum (IPV6_CHECKSUM), hop limit and destination come as ancillary data.
//  use_vmac: a macvlan (mode private) with the RFC 5798 §7.3 virtual MAC 00:00:5e:00:01:VRID
//        (IPv6: 00:00:5e:00:02:VRID) carries the VIPs, so ARP/ND answers and gratuitous ARPs
//        name the VMAC and a takeover needs no cache update in the hosts. IPv4 adverts are sent
//        and received on it (source MAC = VMAC) unless vmac_xmit_base or unicast peers are set;
//        IPv6 adverts always use the base interface and its link-local address. The macvlan is
//        created at start (or reused when it exists with the right MAC), stays up in every state
//        and is deleted when the Host goes away.
//  VIPs are added and removed with rtnetlink. Gratuitous ARP (request, sender = target = VIP,
//  target MAC ff:ff:ff:ff:ff:ff, as keepalived) and unsolicited neighbour advertisements (from
//  the VIP to ff02::1, O flag, target link-layer address option) leave on an AF_PACKET socket.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/fd.hh"
#include "base/result.hh"
#include "io/netlink.hh"
#include "vrrp/advert.hh"
#include "vrrp/router.hh"

namespace vnet::vrrp {

struct HostOptions {
  std::string interface;
  bool ipv6 = false;
  ChecksumMode checksum = ChecksumMode::kPseudoHeader;
  std::optional<packet::IpPrefix> unicast_src;
  std::vector<packet::IpPrefix> unicast_peers;
  std::vector<packet::IpPrefix> vips;  // all of them, excluded ones too
  std::vector<std::string> vip_labels;
  std::vector<std::string> vip_devs;  // `dev` of each VIP ("" = the instance's interface)
  std::string vmac;                   // macvlan name for use_vmac; "" = no virtual MAC
  uint8_t vrid = 0;                   // for the VMAC
  bool vmac_xmit_base = false;
};

class Host {
 public:
  static Result<std::unique_ptr<Host>> open(HostOptions options);
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // RFC 5798 §7.3: 00-00-5E-00-01-{VRID} for IPv4, 00-00-5E-00-02-{VRID} for IPv6.
  static packet::MacAddress virtual_mac(uint8_t vrid, bool ipv6);

  int fd() const { return sock_.get(); }
  packet::Ipv4Address primary4() const { return primary4_; }
  packet::Ipv6Address primary6() const { return primary6_; }

  Status send_advert(const Advert& a);
  // Reads every waiting packet; undecodable ones are counted, not returned.
  std::vector<RxAdvert> receive();
  Status add_vips();
  Status remove_vips();
  Status send_gratuitous(int count);
  bool link_running();
  bool link_running(const std::string& ifname);

  uint64_t rx_malformed() const { return rx_malformed_; }
  uint64_t rx_bad_checksum() const { return rx_bad_checksum_; }

 private:
  Host(HostOptions o, io::Netlink nl) : o_(std::move(o)), nl_(std::move(nl)) {}
  Status open_vmac();
  // The interface of VIP i: its own `dev`, else the VMAC interface, else the instance's.
  const std::string& vip_dev(size_t i) const {
    if (i < o_.vip_devs.size() && !o_.vip_devs[i].empty()) return o_.vip_devs[i];
    return o_.vmac.empty() ? o_.interface : o_.vmac;
  }
  HostOptions o_;
  io::Netlink nl_;
  UniqueFd sock_, raw_;
  int ifindex_ = 0;         // where adverts are sent and received
  int vmac_ifindex_ = 0;    // 0 = no VMAC
  bool own_vmac_ = false;   // created by us: deleted by ~Host
  packet::MacAddress mac_;  // source MAC of gratuitous ARP/NA (the VMAC when there is one)
  packet::Ipv4Address primary4_;
  packet::Ipv6Address primary6_;
  uint64_t rx_malformed_ = 0, rx_bad_checksum_ = 0;
};

}  // namespace vnet::vrrp
