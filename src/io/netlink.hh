#pragma once
// Interface, address and route configuration over rtnetlink (libnl-route-3). A Netlink object is
// bound to the network namespace it was opened in (open it inside lab::in_netns() to reach
// another one). Used by the lab orchestrator and the VRRP host layer: no `ip` commands.

#include <memory>
#include <optional>
#include <string>

#include "base/result.hh"
#include "packet/address.hh"

struct nl_sock;
struct rtnl_addr;

namespace vnet::io {

class Netlink {
 public:
  // A route socket bound to the calling thread's current network namespace; `label` names it in
  // error messages.
  static Result<Netlink> open(const std::string& label = "this namespace");
  Netlink(Netlink&&) noexcept;
  Netlink& operator=(Netlink&&) noexcept;
  ~Netlink();

  // Creates a veth pair: `name` here, `peer_name` in namespace `peer_netns` (with an optional MAC).
  Status add_veth(const std::string& name, int peer_netns_fd, const std::string& peer_netns,
                  const std::string& peer_name, const std::optional<packet::MacAddress>& peer_mac);
  // Creates macvlan `name` on `lower` with `mac`, mode private (macvlans of one lower device do
  // not see each other's traffic), as keepalived's use_vmac does. Left down.
  Status add_macvlan(const std::string& name, const std::string& lower,
                     const packet::MacAddress& mac);
  // Deletes an interface; one that is already gone is not an error.
  Status del_link(const std::string& ifname);
  Status set_up(const std::string& ifname, bool up);
  // `label` (IPv4 only) as `ip addr add … label`, e.g. "eth0:vip".
  Status add_address(const std::string& ifname, const packet::IpPrefix& prefix,
                     const std::string& label = "");
  // ENOENT-like failures (address not there) are not errors.
  Status del_address(const std::string& ifname, const packet::IpPrefix& prefix);
  // Interface index, MAC and whether it is up with carrier (IFF_UP and IFF_RUNNING).
  struct LinkInfo {
    int ifindex = 0;
    packet::MacAddress mac;
    bool up = false, running = false;
  };
  Result<LinkInfo> link_info(const std::string& ifname);
  // to = 0.0.0.0/0 or ::/0 for the default route.
  Status add_route(const packet::IpPrefix& to, const std::string& via);
  Result<bool> has_link(const std::string& ifname);

 private:
  Result<rtnl_addr*> address_object(const std::string& ifname, const packet::IpPrefix& prefix);
  explicit Netlink(nl_sock* sock, std::string netns) : sock_(sock), netns_(std::move(netns)) {}
  nl_sock* sock_ = nullptr;
  std::string netns_;
};

// Loads an nftables ruleset (nft syntax) into the current namespace with libnftables.
Status load_nftables(const std::string& ruleset);

}  // namespace vnet::io
