#include "io/netlink.hh"

#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <nftables/libnftables.h>

#include <cstring>
#include <utility>

namespace vnet::io {
namespace {

Error nl_error(const std::string& what, int err) {
  return Error{EIO, fmt::format("{}: {}", what, nl_geterror(err))};
}

struct LinkPtr {
  rtnl_link* p = nullptr;
  ~LinkPtr() {
    if (p) rtnl_link_put(p);
  }
};
struct AddrPtr {
  nl_addr* p = nullptr;
  ~AddrPtr() {
    if (p) nl_addr_put(p);
  }
};

}  // namespace

Result<Netlink> Netlink::open(const std::string& label) {
  nl_sock* sock = nl_socket_alloc();
  if (!sock) return make_error(ENOMEM, "nl_socket_alloc");
  if (int err = nl_connect(sock, NETLINK_ROUTE); err < 0) {
    nl_socket_free(sock);
    return nl_error("netlink connect in " + label, err);
  }
  return Netlink(sock, label);
}

Netlink::Netlink(Netlink&& o) noexcept
    : sock_(std::exchange(o.sock_, nullptr)), netns_(std::move(o.netns_)) {}
Netlink& Netlink::operator=(Netlink&& o) noexcept {
  std::swap(sock_, o.sock_);
  std::swap(netns_, o.netns_);
  return *this;
}
Netlink::~Netlink() {
  if (sock_) nl_socket_free(sock_);
}

Status Netlink::add_veth(const std::string& name, int peer_netns_fd, const std::string& peer_netns,
                         const std::string& peer_name,
                         const std::optional<packet::MacAddress>& peer_mac) {
  LinkPtr link{rtnl_link_veth_alloc()};
  if (!link.p) return make_error(ENOMEM, "rtnl_link_veth_alloc");
  rtnl_link_set_name(link.p, name.c_str());
  rtnl_link* peer = rtnl_link_veth_get_peer(link.p);
  rtnl_link_set_name(peer, peer_name.c_str());
  rtnl_link_set_ns_fd(peer, peer_netns_fd);
  AddrPtr mac;
  if (peer_mac) {
    mac.p = nl_addr_build(AF_LLC, peer_mac->bytes.data(), 6);
    rtnl_link_set_addr(peer, mac.p);
  }
  int err = rtnl_link_add(sock_, link.p, NLM_F_CREATE | NLM_F_EXCL);
  rtnl_link_put(peer);
  if (err < 0)
    return nl_error(
        fmt::format("create veth {} ({}) ↔ {} ({})", name, netns_, peer_name, peer_netns), err);
  return {};
}

Status Netlink::add_macvlan(const std::string& name, const std::string& lower,
                            const packet::MacAddress& mac) {
  auto info = link_info(lower);
  if (!info) return info.error();
  LinkPtr link{rtnl_link_macvlan_alloc()};
  if (!link.p) return make_error(ENOMEM, "rtnl_link_macvlan_alloc");
  rtnl_link_set_name(link.p, name.c_str());
  rtnl_link_set_link(link.p, info->ifindex);
  rtnl_link_macvlan_set_mode(link.p, MACVLAN_MODE_PRIVATE);
  AddrPtr addr{nl_addr_build(AF_LLC, mac.bytes.data(), 6)};
  rtnl_link_set_addr(link.p, addr.p);
  if (int err = rtnl_link_add(sock_, link.p, NLM_F_CREATE | NLM_F_EXCL); err < 0) {
    return nl_error(fmt::format("create macvlan {} on {} in {}", name, lower, netns_), err);
  }
  return {};
}

Status Netlink::del_link(const std::string& ifname) {
  LinkPtr link;
  if (rtnl_link_get_kernel(sock_, 0, ifname.c_str(), &link.p) < 0) return {};
  if (int err = rtnl_link_delete(sock_, link.p); err < 0 && err != -NLE_OBJ_NOTFOUND) {
    return nl_error(fmt::format("delete {} in {}", ifname, netns_), err);
  }
  return {};
}

Status Netlink::set_up(const std::string& ifname, bool up) {
  LinkPtr link;
  if (int err = rtnl_link_get_kernel(sock_, 0, ifname.c_str(), &link.p); err < 0) {
    return nl_error(fmt::format("{} in {}", ifname, netns_), err);
  }
  LinkPtr change{rtnl_link_alloc()};
  if (up) {
    rtnl_link_set_flags(change.p, IFF_UP);
  } else {
    rtnl_link_unset_flags(change.p, IFF_UP);
  }
  if (int err = rtnl_link_change(sock_, link.p, change.p, 0); err < 0) {
    return nl_error(fmt::format("set {} {} in {}", ifname, up ? "up" : "down", netns_), err);
  }
  return {};
}

Result<bool> Netlink::has_link(const std::string& ifname) {
  LinkPtr link;
  int err = rtnl_link_get_kernel(sock_, 0, ifname.c_str(), &link.p);
  if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return false;
  if (err < 0) return nl_error("look up " + ifname, err);
  return true;
}

// An rtnl_addr for `prefix` on `ifname`, ready for add or delete (owned by the caller).
Result<rtnl_addr*> Netlink::address_object(const std::string& ifname,
                                           const packet::IpPrefix& prefix) {
  LinkPtr link;
  if (int err = rtnl_link_get_kernel(sock_, 0, ifname.c_str(), &link.p); err < 0) {
    return nl_error(fmt::format("{} in {}", ifname, netns_), err);
  }
  AddrPtr local;
  std::string text = prefix.to_string();
  if (int err = nl_addr_parse(text.c_str(), prefix.v6 ? AF_INET6 : AF_INET, &local.p); err < 0) {
    return nl_error("parse " + text, err);
  }
  rtnl_addr* addr = rtnl_addr_alloc();
  rtnl_addr_set_ifindex(addr, rtnl_link_get_ifindex(link.p));
  rtnl_addr_set_local(addr, local.p);
  rtnl_addr_set_prefixlen(addr, prefix.length);
  return addr;
}

Status Netlink::add_address(const std::string& ifname, const packet::IpPrefix& prefix,
                            const std::string& label) {
  auto addr = address_object(ifname, prefix);
  if (!addr) return addr.error();
  if (prefix.v6) rtnl_addr_set_flags(*addr, IFA_F_NODAD);  // usable at once: no 1–2 s DAD wait
  if (!label.empty() && !prefix.v6) rtnl_addr_set_label(*addr, label.c_str());
  int err = rtnl_addr_add(sock_, *addr, 0);
  rtnl_addr_put(*addr);
  if (err < 0)
    return nl_error(fmt::format("add {} to {} in {}", prefix.to_string(), ifname, netns_), err);
  return {};
}

Status Netlink::del_address(const std::string& ifname, const packet::IpPrefix& prefix) {
  auto addr = address_object(ifname, prefix);
  if (!addr) return addr.error();
  int err = rtnl_addr_delete(sock_, *addr, 0);
  rtnl_addr_put(*addr);
  if (err < 0 && err != -NLE_NOADDR && err != -NLE_OBJ_NOTFOUND && err != -NLE_NODEV) {
    return nl_error(fmt::format("remove {} from {} in {}", prefix.to_string(), ifname, netns_),
                    err);
  }
  return {};
}

Result<Netlink::LinkInfo> Netlink::link_info(const std::string& ifname) {
  LinkPtr link;
  if (int err = rtnl_link_get_kernel(sock_, 0, ifname.c_str(), &link.p); err < 0) {
    return nl_error(fmt::format("{} in {}", ifname, netns_), err);
  }
  LinkInfo info;
  info.ifindex = rtnl_link_get_ifindex(link.p);
  unsigned flags = rtnl_link_get_flags(link.p);
  info.up = flags & IFF_UP;
  info.running = flags & IFF_RUNNING;
  if (nl_addr* a = rtnl_link_get_addr(link.p); a && nl_addr_get_len(a) == 6) {
    std::memcpy(info.mac.bytes.data(), nl_addr_get_binary_addr(a), 6);
  }
  return info;
}

Status Netlink::add_route(const packet::IpPrefix& to, const std::string& via) {
  rtnl_route* route = rtnl_route_alloc();
  int family = to.v6 ? AF_INET6 : AF_INET;
  rtnl_route_set_family(route, static_cast<uint8_t>(family));
  AddrPtr dst, gw;
  std::string text = to.to_string();
  int err = nl_addr_parse(text.c_str(), family, &dst.p);
  if (err >= 0) err = nl_addr_parse(via.c_str(), family, &gw.p);
  if (err < 0) {
    rtnl_route_put(route);
    return nl_error("parse route " + text + " via " + via, err);
  }
  nl_addr_set_prefixlen(dst.p, to.length);
  rtnl_route_set_dst(route, dst.p);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  rtnl_route_nh_set_gateway(nh, gw.p);
  rtnl_route_add_nexthop(route, nh);
  err = rtnl_route_add(sock_, route, NLM_F_CREATE | NLM_F_EXCL);
  rtnl_route_put(route);
  if (err < 0) return nl_error(fmt::format("route {} via {} in {}", text, via, netns_), err);
  return {};
}

namespace {

Result<nl_addr*> parse_addr(const packet::IpPrefix& p, bool full) {
  nl_addr* a = nullptr;
  std::string text = full ? p.address_string() : p.to_string();
  if (int err = nl_addr_parse(text.c_str(), p.v6 ? AF_INET6 : AF_INET, &a); err < 0) {
    return nl_error("parse " + text, err);
  }
  if (!full) nl_addr_set_prefixlen(a, p.length);
  return a;
}

std::string route_text(const Netlink::Route& r) {
  std::string s = r.to.to_string();
  if (r.via) s += " via " + r.via->address_string();
  if (!r.dev.empty()) s += " dev " + r.dev;
  if (r.table != 254) s += fmt::format(" table {}", r.table);
  return s;
}

std::string rule_text(const Netlink::Rule& r) {
  return fmt::format("rule from {} to {} priority {}", r.from ? r.from->to_string() : "all",
                     r.to ? r.to->to_string() : "all", r.priority);
}

}  // namespace

// An rtnl_route for `r`, ready for add or delete (owned by the caller).
Result<rtnl_route*> Netlink::route_object(const Route& r) {
  int family = r.to.v6 ? AF_INET6 : AF_INET;
  int ifindex = 0;
  if (!r.dev.empty()) {
    LinkPtr link;
    if (int err = rtnl_link_get_kernel(sock_, 0, r.dev.c_str(), &link.p); err < 0) {
      return nl_error(fmt::format("route {}: {} in {}", route_text(r), r.dev, netns_), err);
    }
    ifindex = rtnl_link_get_ifindex(link.p);
  }
  AddrPtr dst, gw, src;
  auto d = parse_addr(r.to, false);
  if (!d) return d.error();
  dst.p = *d;
  rtnl_route* route = rtnl_route_alloc();
  rtnl_route_set_family(route, static_cast<uint8_t>(family));
  rtnl_route_set_dst(route, dst.p);
  rtnl_route_set_type(route, r.type);
  rtnl_route_set_table(route, r.table);
  rtnl_route_set_scope(route, r.scope);
  if (r.protocol) rtnl_route_set_protocol(route, r.protocol);
  if (r.metric) rtnl_route_set_priority(route, *r.metric);
  if (r.src) {
    auto a = parse_addr(*r.src, true);
    if (!a) {
      rtnl_route_put(route);
      return a.error();
    }
    src.p = *a;
    rtnl_route_set_pref_src(route, src.p);
  }
  if (r.via || ifindex) {
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    if (ifindex) rtnl_route_nh_set_ifindex(nh, ifindex);
    if (r.via) {
      auto a = parse_addr(*r.via, true);
      if (!a) {
        rtnl_route_nh_free(nh);
        rtnl_route_put(route);
        return a.error();
      }
      gw.p = *a;
      rtnl_route_nh_set_gateway(nh, gw.p);
    }
    rtnl_route_add_nexthop(route, nh);
  }
  return route;
}

Status Netlink::add_route(const Route& r) {
  auto route = route_object(r);
  if (!route) return route.error();
  int err = rtnl_route_add(sock_, *route, NLM_F_CREATE | NLM_F_EXCL);
  rtnl_route_put(*route);
  if (err < 0 && err != -NLE_EXIST) {
    return nl_error(fmt::format("add route {} in {}", route_text(r), netns_), err);
  }
  return {};
}

Status Netlink::del_route(const Route& r) {
  if (!r.dev.empty()) {
    auto has = has_link(r.dev);
    if (has && !*has) return {};  // gone with its device
  }
  auto route = route_object(r);
  if (!route) return route.error();
  int err = rtnl_route_delete(sock_, *route, 0);
  rtnl_route_put(*route);
  if (err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_NODEV) {
    return nl_error(fmt::format("remove route {} in {}", route_text(r), netns_), err);
  }
  return {};
}

Result<rtnl_rule*> Netlink::rule_object(const Rule& r) {
  rtnl_rule* rule = rtnl_rule_alloc();
  rtnl_rule_set_family(rule, r.v6 ? AF_INET6 : AF_INET);
  for (int i = 0; i < 2; ++i) {
    const auto& p = i == 0 ? r.from : r.to;
    if (!p) continue;
    auto a = parse_addr(*p, false);
    if (!a) {
      rtnl_rule_put(rule);
      return a.error();
    }
    if (i == 0) {
      rtnl_rule_set_src(rule, *a);
    } else {
      rtnl_rule_set_dst(rule, *a);
    }
    nl_addr_put(*a);
  }
  rtnl_rule_set_action(rule, r.action);
  if (r.action == 1) rtnl_rule_set_table(rule, r.table);  // FR_ACT_TO_TBL
  rtnl_rule_set_prio(rule, r.priority);
  if (r.protocol) rtnl_rule_set_protocol(rule, r.protocol);
  return rule;
}

Status Netlink::add_rule(const Rule& r) {
  auto rule = rule_object(r);
  if (!rule) return rule.error();
  int err = rtnl_rule_add(sock_, *rule, NLM_F_CREATE | NLM_F_EXCL);
  rtnl_rule_put(*rule);
  if (err < 0 && err != -NLE_EXIST) {
    return nl_error(fmt::format("add {} in {}", rule_text(r), netns_), err);
  }
  return {};
}

Status Netlink::del_rule(const Rule& r) {
  auto rule = rule_object(r);
  if (!rule) return rule.error();
  int err = rtnl_rule_delete(sock_, *rule, 0);
  rtnl_rule_put(*rule);
  if (err < 0 && err != -NLE_OBJ_NOTFOUND) {
    return nl_error(fmt::format("remove {} in {}", rule_text(r), netns_), err);
  }
  return {};
}

Status load_nftables(const std::string& ruleset) {
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!ctx) return make_error(ENOMEM, "nft_ctx_new");
  nft_ctx_buffer_error(ctx);
  nft_ctx_buffer_output(ctx);
  int rc = nft_run_cmd_from_buffer(ctx, ruleset.c_str());
  std::string err = nft_ctx_get_error_buffer(ctx);
  nft_ctx_free(ctx);
  if (rc != 0) return make_error(EINVAL, "nftables ruleset rejected:\n{}", err);
  return {};
}

Result<std::string> query_nftables_json(const std::string& command) {
  nft_ctx* ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (!ctx) return make_error(ENOMEM, "nft_ctx_new");
  nft_ctx_output_set_flags(ctx, NFT_CTX_OUTPUT_JSON);
  nft_ctx_buffer_error(ctx);
  nft_ctx_buffer_output(ctx);
  int rc = nft_run_cmd_from_buffer(ctx, command.c_str());
  std::string out = nft_ctx_get_output_buffer(ctx);
  std::string err = nft_ctx_get_error_buffer(ctx);
  nft_ctx_free(ctx);
  if (rc != 0) return make_error(EINVAL, "nft '{}' failed:\n{}", command, err);
  return out;
}

}  // namespace vnet::io
