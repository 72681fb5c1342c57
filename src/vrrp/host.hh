#pragma once
// Host: everything the VRRP logic asks of the machine it runs on, as one small interface.
//
// The daemon's logic (instances, sync groups, trackers, reload, notify) never touches a socket,
// netlink or nftables itself: it asks a Host to
//   - open an instance's advertisement port (AdvertPort): send adverts (multicast 224.0.0.18 /
//     ff02::12, or to the unicast peers) from the instance's primary address, and hand every
//     decoded advert it receives to a callback, on the event loop;
//   - add and remove the virtual addresses (rtnetlink), on the device the layout names;
//   - send announcement frames (gratuitous ARP / unsolicited NA, built by announce.hh) out of a
//     device, as they are;
//   - report whether a link is up with carrier (trackers, the instance's own interface);
//   - create the RFC 5798 §7.3 virtual MAC interface (use_vmac) for as long as the VmacLink
//     lives;
//   - install the Accept_Mode = False filter (no_accept, RFC 5798 §6.1) for a set of VIPs;
//   - add and remove routes and policy rules (virtual_routes, virtual_rules, static_*).
// SystemHost (system_host.hh) does it for real; tests use a fake that records each request, so
// the logic runs on a ManualClock without sockets or root.
//
// Errors are returned, never thrown; an error of one instance's request is that instance's and
// leaves the others alone.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.hh"
#include "packet/address.hh"
#include "vrrp/advert.hh"
#include "vrrp/keepalived_conf.hh"
#include "vrrp/router.hh"

namespace vnet::vrrp {

// How an instance sends and receives advertisements.
struct PortOptions {
  std::string instance;          // for messages
  std::string interface;         // the instance's interface: its primary address is the source
  std::string advert_interface;  // where adverts are sent and received (the VMAC or interface)
  bool ipv6 = false;
  ChecksumMode checksum = ChecksumMode::kPseudoHeader;
  std::optional<packet::IpPrefix> unicast_src;  // the source instead of the primary address
  std::vector<packet::IpPrefix> unicast_peers;  // empty: multicast
  std::vector<packet::IpPrefix> vips;           // never chosen as the primary address
  friend bool operator==(const PortOptions&, const PortOptions&) = default;
};

// One instance's advertisement channel; closed when destroyed.
class AdvertPort {
 public:
  virtual ~AdvertPort() = default;
  // The source of our adverts (unicast_src when set, else the interface's first IPv4 address
  // that is no VIP, or its IPv6 link-local address); also the §6.4.3 tie-break.
  virtual packet::Ipv4Address primary4() const = 0;
  virtual packet::Ipv6Address primary6() const = 0;
  virtual Status send(const Advert& advert) = 0;
  // Received packets that were dropped before the Router saw them.
  virtual uint64_t rx_malformed() const = 0;
  virtual uint64_t rx_bad_checksum() const = 0;
};

// The virtual MAC interface of use_vmac: a macvlan (mode private) on `lower`.
struct VmacOptions {
  std::string name, lower;
  packet::MacAddress mac;
  bool ipv6 = false;
  friend bool operator==(const VmacOptions&, const VmacOptions&) = default;
};

// Holds a virtual MAC interface; deleting it removes the interface (and the VIPs on it).
class VmacLink {
 public:
  virtual ~VmacLink() = default;
};

// The VIPs a no_accept master must not accept traffic for, over all instances.
struct NoAcceptSet {
  std::vector<packet::Ipv4Address> v4;
  std::vector<packet::Ipv6Address> v6;
  bool empty() const { return v4.empty() && v6.empty(); }
  friend bool operator==(const NoAcceptSet&, const NoAcceptSet&) = default;
};

class Host {
 public:
  using OnAdvert = std::function<void(const RxAdvert&)>;
  virtual ~Host() = default;

  // Errors name the interface: missing, no address to send from, socket failures.
  virtual Result<std::unique_ptr<AdvertPort>> open_port(const PortOptions& options,
                                                        OnAdvert on_advert) = 0;
  // Creates the VMAC interface (or takes over one with the right MAC a crashed run left) and
  // brings it up. Errors: an interface of that name with another MAC, netlink failures.
  virtual Result<std::unique_ptr<VmacLink>> open_vmac(const VmacOptions& options) = 0;
  // An address that is already there is not an error; neither is removing one that is gone.
  // `label` (IPv4) as `ip addr add … label`; "" for none.
  virtual Status add_address(const std::string& dev, const packet::IpPrefix& prefix,
                             const std::string& label) = 0;
  virtual Status del_address(const std::string& dev, const packet::IpPrefix& prefix) = 0;
  virtual Result<packet::MacAddress> link_mac(const std::string& ifname) = 0;
  // Administratively up with carrier; false for an interface that does not exist.
  virtual bool link_running(const std::string& ifname) = 0;
  // Complete Ethernet frames, sent in order.
  virtual Status send_frames(const std::string& dev,
                             const std::vector<std::vector<uint8_t>>& frames) = 0;
  // Replaces the no_accept filter with one for `vips` (empty: none).
  virtual Status set_no_accept(const NoAcceptSet& vips) = 0;
  // Routes and policy rules of virtual_routes / virtual_rules / static_routes / static_rules
  // (rtnetlink, protocol 18 "keepalived"). One that is already there is not an error; neither
  // is removing one that is gone. Errors name the route or rule.
  virtual Status add_route(const RouteConfig& route) = 0;
  virtual Status del_route(const RouteConfig& route) = 0;
  virtual Status add_rule(const RuleConfig& rule) = 0;
  virtual Status del_rule(const RuleConfig& rule) = 0;
};

}  // namespace vnet::vrrp
