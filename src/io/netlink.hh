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
struct rtnl_route;
struct rtnl_rule;

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

  // A route as ip-route(8) writes it; `type` and `scope` are RTN_* and RT_SCOPE_* values.
  struct Route {
    packet::IpPrefix to;
    std::optional<packet::IpPrefix> src, via;  // preferred source, gateway
    std::string dev;                           // "" for none
    uint8_t type = 1;                          // RTN_UNICAST
    uint32_t table = 254;                      // RT_TABLE_MAIN
    std::optional<uint32_t> metric;
    uint8_t scope = 0;     // RT_SCOPE_UNIVERSE
    uint8_t protocol = 0;  // RTPROT_*; 0: the kernel's default (boot)
  };
  // Adding one that exists, or removing one that is gone, is not an error.
  Status add_route(const Route& route);
  Status del_route(const Route& route);
  // A policy rule as ip-rule(8) writes it; `action` is FR_ACT_* (1: lookup `table`).
  struct Rule {
    bool v6 = false;
    std::optional<packet::IpPrefix> from, to;  // nullopt: all
    uint8_t action = 1;
    uint32_t table = 0;
    uint32_t priority = 0;
    uint8_t protocol = 0;
  };
  Status add_rule(const Rule& rule);
  Status del_rule(const Rule& rule);

 private:
  Result<rtnl_addr*> address_object(const std::string& ifname, const packet::IpPrefix& prefix);
  Result<rtnl_route*> route_object(const Route& route);
  Result<rtnl_rule*> rule_object(const Rule& rule);
  explicit Netlink(nl_sock* sock, std::string netns) : sock_(sock), netns_(std::move(netns)) {}
  nl_sock* sock_ = nullptr;
  std::string netns_;
};

// Loads an nftables ruleset (nft syntax) into the current namespace with libnftables.
Status load_nftables(const std::string& ruleset);
// Runs one nft command (`list counters table ip T`) with JSON output (libnftables'
// NFT_CTX_OUTPUT_JSON) and returns that output. EINVAL with nft's message when it fails.
Result<std::string> query_nftables_json(const std::string& command);

}  // namespace vnet::io
