#pragma once
// Interface, address and route configuration over rtnetlink (libnl-route-3), one socket per
// network namespace. This is the lab's only way of configuring the kernel: no `ip` commands.

#include <memory>
#include <optional>
#include <string>

#include "base/result.hh"
#include "packet/address.hh"

struct nl_sock;

namespace vnet::lab {

class Netlink {
 public:
  // A route socket bound to the namespace `netns`.
  static Result<Netlink> open(const std::string& netns);
  Netlink(Netlink&&) noexcept;
  Netlink& operator=(Netlink&&) noexcept;
  ~Netlink();

  // Creates a veth pair: `name` here, `peer_name` in namespace `peer_netns` (with an optional MAC).
  Status add_veth(const std::string& name, const std::string& peer_netns,
                  const std::string& peer_name, const std::optional<packet::MacAddress>& peer_mac);
  Status set_up(const std::string& ifname, bool up);
  Status add_address(const std::string& ifname, const packet::IpPrefix& prefix);
  // to = 0.0.0.0/0 or ::/0 for the default route.
  Status add_route(const packet::IpPrefix& to, const std::string& via);
  Result<bool> has_link(const std::string& ifname);

 private:
  explicit Netlink(nl_sock* sock, std::string netns) : sock_(sock), netns_(std::move(netns)) {}
  nl_sock* sock_ = nullptr;
  std::string netns_;
};

// Loads an nftables ruleset (nft syntax) into a namespace with libnftables.
Status load_nftables(const std::string& netns, const std::string& ruleset);

}  // namespace vnet::lab
