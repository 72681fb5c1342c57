#include "vrrp/system_host.hh"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <fstream>

#include "base/byte_io.hh"
#include "base/log.hh"
#include "packet/ip.hh"
#include "vrrp/plumbing.hh"

namespace vnet::vrrp {
namespace {

// First IPv4 (or link-local IPv6) address of the interface that is not one of the VIPs.
bool find_primary(const PortOptions& o, packet::Ipv4Address& v4, packet::Ipv6Address& v6) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return false;
  bool found = false;
  for (ifaddrs* a = list; a && !found; a = a->ifa_next) {
    if (!a->ifa_addr || o.interface != a->ifa_name) continue;
    if (!o.ipv6 && a->ifa_addr->sa_family == AF_INET) {
      packet::Ipv4Address x{ntohl(reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr.s_addr)};
      bool vip = false;
      for (auto& p : o.vips) vip |= !p.v6 && p.v4addr == x;
      if (!vip) {
        v4 = x;
        found = true;
      }
    } else if (o.ipv6 && a->ifa_addr->sa_family == AF_INET6) {
      packet::Ipv6Address x;
      std::memcpy(x.bytes.data(), &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr, 16);
      if (x.is_link_local()) {
        v6 = x;
        found = true;
      }
    }
  }
  freeifaddrs(list);
  return found;
}

// Writes a sysctl of one interface; `path` is relative to /proc/sys/net.
Status write_sysctl(const std::string& path, const std::string& value) {
  std::ofstream f("/proc/sys/net/" + path);
  f << value;
  f.flush();
  if (!f) return make_error(EIO, "cannot write {} to /proc/sys/net/{}", value, path);
  return {};
}

class SocketPort final : public AdvertPort {
 public:
  SocketPort(EventLoop& loop, PortOptions o, Host::OnAdvert cb)
      : loop_(loop), o_(std::move(o)), on_advert_(std::move(cb)) {}
  ~SocketPort() override {
    if (sock_.valid()) loop_.unwatch(sock_.get());
  }
  Status open(io::Netlink& nl);
  packet::Ipv4Address primary4() const override { return primary4_; }
  packet::Ipv6Address primary6() const override { return primary6_; }
  Status send(const Advert& advert) override;
  uint64_t rx_malformed() const override { return rx_malformed_; }
  uint64_t rx_bad_checksum() const override { return rx_bad_checksum_; }

 private:
  void drain();
  std::optional<RxAdvert> decode(std::span<const uint8_t> packet, const sockaddr_storage& from,
                                 msghdr& msg);
  EventLoop& loop_;
  PortOptions o_;
  Host::OnAdvert on_advert_;
  UniqueFd sock_;
  int ifindex_ = 0;  // of the advert interface
  packet::Ipv4Address primary4_;
  packet::Ipv6Address primary6_;
  uint64_t rx_malformed_ = 0, rx_bad_checksum_ = 0;
};

Status SocketPort::open(io::Netlink& nl) {
  const std::string& adv_if = o_.advert_interface;
  auto info = nl.link_info(adv_if);
  if (!info) return make_error(ENODEV, "interface {}: {}", adv_if, info.error().message);
  ifindex_ = info->ifindex;
  if (o_.unicast_src) {
    primary4_ = o_.unicast_src->v4addr;
    primary6_ = o_.unicast_src->v6addr;
  } else if (!find_primary(o_, primary4_, primary6_)) {
    return make_error(EADDRNOTAVAIL, "interface {} has no {} address to send VRRP from",
                      o_.interface, o_.ipv6 ? "link-local IPv6" : "IPv4");
  }
  int family = o_.ipv6 ? AF_INET6 : AF_INET;
  sock_.reset(socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, kProtocol));
  int s = sock_.get();
  if (s < 0) return system_error("VRRP raw socket");
  if (setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, adv_if.c_str(),
                 static_cast<socklen_t>(adv_if.size())) < 0) {
    return system_error("SO_BINDTODEVICE " + adv_if);
  }
  int ttl = 255, zero = 0, one = 1, tos = 0xc0;
  if (!o_.ipv6) {
    setsockopt(s, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
    setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
    setsockopt(s, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof zero);
    setsockopt(s, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
    ip_mreqn m{};
    m.imr_multiaddr.s_addr = htonl(kMulticastV4);
    m.imr_ifindex = ifindex_;
    setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m);
    if (o_.unicast_peers.empty() &&
        setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) < 0) {
      return system_error("join 224.0.0.18 on " + adv_if);
    }
  } else {
    int offset = 6;
    setsockopt(s, IPPROTO_IPV6, IPV6_CHECKSUM, &offset, sizeof offset);
    setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof ttl);
    setsockopt(s, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl);
    setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &zero, sizeof zero);
    setsockopt(s, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
    setsockopt(s, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof one);
    setsockopt(s, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
    setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex_, sizeof ifindex_);
    ipv6_mreq m{};
    inet_pton(AF_INET6, kMulticastV6, &m.ipv6mr_multiaddr);
    m.ipv6mr_interface = static_cast<unsigned>(ifindex_);
    if (o_.unicast_peers.empty() &&
        setsockopt(s, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof m) < 0) {
      return system_error("join ff02::12 on " + adv_if);
    }
  }
  return loop_.watch(s, [this] { drain(); });
}

Status SocketPort::send(const Advert& a) {
  std::vector<sockaddr_storage> dsts;
  auto add4 = [&](uint32_t addr) {
    sockaddr_storage ss{};
    auto* s4 = reinterpret_cast<sockaddr_in*>(&ss);
    s4->sin_family = AF_INET;
    s4->sin_addr.s_addr = htonl(addr);
    dsts.push_back(ss);
  };
  auto add6 = [&](const uint8_t* addr) {
    sockaddr_storage ss{};
    auto* s6 = reinterpret_cast<sockaddr_in6*>(&ss);
    s6->sin6_family = AF_INET6;
    std::memcpy(&s6->sin6_addr, addr, 16);
    s6->sin6_scope_id = static_cast<uint32_t>(ifindex_);
    dsts.push_back(ss);
  };
  if (o_.unicast_peers.empty()) {
    if (o_.ipv6) {
      auto g = *packet::Ipv6Address::parse(kMulticastV6);
      add6(g.bytes.data());
    } else {
      add4(kMulticastV4);
    }
  } else {
    for (auto& p : o_.unicast_peers) {
      if (p.v6)
        add6(p.v6addr.bytes.data());
      else
        add4(p.v4addr.value);
    }
  }
  Status result;
  for (auto& d : dsts) {
    IpPair ip;
    ip.v6 = o_.ipv6;
    ip.src4 = primary4_;
    ip.src6 = primary6_;
    if (o_.ipv6)
      std::memcpy(ip.dst6.bytes.data(), &reinterpret_cast<sockaddr_in6*>(&d)->sin6_addr, 16);
    else
      ip.dst4 = packet::Ipv4Address{ntohl(reinterpret_cast<sockaddr_in*>(&d)->sin_addr.s_addr)};
    auto bytes = encode_advert(a, ip, o_.checksum);
    iovec iov{bytes.data(), bytes.size()};
    alignas(cmsghdr) uint8_t control[CMSG_SPACE(sizeof(in6_pktinfo))] = {};
    msghdr msg{};
    msg.msg_name = &d;
    msg.msg_namelen = o_.ipv6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    cmsghdr* c = reinterpret_cast<cmsghdr*>(control);
    if (o_.ipv6) {
      c->cmsg_level = IPPROTO_IPV6;
      c->cmsg_type = IPV6_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in6_pktinfo));
      in6_pktinfo pi{};
      std::memcpy(&pi.ipi6_addr, primary6_.bytes.data(), 16);
      pi.ipi6_ifindex = static_cast<unsigned>(ifindex_);
      std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
      msg.msg_controllen = CMSG_SPACE(sizeof(in6_pktinfo));
    } else {
      c->cmsg_level = IPPROTO_IP;
      c->cmsg_type = IP_PKTINFO;
      c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
      in_pktinfo pi{};
      pi.ipi_ifindex = ifindex_;
      pi.ipi_spec_dst.s_addr = htonl(primary4_.value);
      std::memcpy(CMSG_DATA(c), &pi, sizeof pi);
      msg.msg_controllen = CMSG_SPACE(sizeof(in_pktinfo));
    }
    if (sendmsg(sock_.get(), &msg, 0) < 0)
      result = system_error("send VRRP advertisement on " + o_.advert_interface);
  }
  return result;
}

std::optional<RxAdvert> SocketPort::decode(std::span<const uint8_t> packet,
                                           const sockaddr_storage& from, msghdr& msg) {
  RxAdvert rx;
  IpPair ip;
  std::span<const uint8_t> payload;
  if (!o_.ipv6) {
    ByteReader r(packet);
    auto h = packet::decode_ipv4(r);
    if (!h || h->total_length > packet.size() || h->total_length < h->header_length()) {
      ++rx_malformed_;
      return std::nullopt;
    }
    rx.ttl = h->ttl;
    rx.src4 = h->src;
    ip.src4 = h->src;
    ip.dst4 = h->dst;
    payload = packet.subspan(h->header_length(), h->total_length - h->header_length());
  } else {
    ip.v6 = true;
    std::memcpy(ip.src6.bytes.data(), &reinterpret_cast<const sockaddr_in6*>(&from)->sin6_addr, 16);
    rx.src6 = ip.src6;
    ip.dst6 = *packet::Ipv6Address::parse(kMulticastV6);
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level != IPPROTO_IPV6) continue;
      if (c->cmsg_type == IPV6_HOPLIMIT) {
        int hl;
        std::memcpy(&hl, CMSG_DATA(c), sizeof hl);
        rx.ttl = static_cast<uint8_t>(hl);
      } else if (c->cmsg_type == IPV6_PKTINFO) {
        in6_pktinfo pi;
        std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
        std::memcpy(ip.dst6.bytes.data(), &pi.ipi6_addr, 16);
      }
    }
    payload = packet;
  }
  auto a = decode_advert(payload, ip);
  if (!a) {
    if (a.error().code == EPROTO)
      ++rx_bad_checksum_;
    else
      ++rx_malformed_;
    return std::nullopt;
  }
  rx.advert = std::move(*a);
  return rx;
}

void SocketPort::drain() {
  uint8_t buf[2048];
  while (true) {
    sockaddr_storage from{};
    iovec iov{buf, sizeof buf};
    alignas(cmsghdr) uint8_t control[256];
    msghdr msg{};
    msg.msg_name = &from;
    msg.msg_namelen = sizeof from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(sock_.get(), &msg, MSG_DONTWAIT);
    if (n < 0) break;
    if (auto rx = decode({buf, static_cast<size_t>(n)}, from, msg)) on_advert_(*rx);
  }
}

class Macvlan final : public VmacLink {
 public:
  Macvlan(io::Netlink& nl, std::string name) : nl_(nl), name_(std::move(name)) {}
  ~Macvlan() override {
    if (auto s = nl_.del_link(name_); !s) log::warn("{}", s.error().message);
  }

 private:
  io::Netlink& nl_;
  std::string name_;
};

}  // namespace

Result<std::unique_ptr<SystemHost>> SystemHost::open(EventLoop& loop) {
  auto nl = io::Netlink::open();
  if (!nl) return nl.error();
  UniqueFd raw(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!raw.valid()) return system_error("AF_PACKET socket for gratuitous ARP");
  return std::unique_ptr<SystemHost>(new SystemHost(loop, std::move(*nl), std::move(raw)));
}

Result<std::unique_ptr<AdvertPort>> SystemHost::open_port(const PortOptions& options,
                                                          OnAdvert on_advert) {
  auto port = std::make_unique<SocketPort>(loop_, options, std::move(on_advert));
  if (auto s = port->open(nl_); !s) return s.error();
  return std::unique_ptr<AdvertPort>(std::move(port));
}

Result<std::unique_ptr<VmacLink>> SystemHost::open_vmac(const VmacOptions& o) {
  auto exists = nl_.has_link(o.name);
  if (!exists) return exists.error();
  if (*exists) {
    auto info = nl_.link_info(o.name);
    if (!info) return info.error();
    if (info->mac != o.mac) {
      return make_error(EEXIST, "use_vmac: interface {} exists with MAC {}, not the VMAC {}",
                        o.name, info->mac.to_string(), o.mac.to_string());
    }
  } else if (auto s = nl_.add_macvlan(o.name, o.lower, o.mac); !s) {
    return s.error();
  }
  // Ours from here on, also one a crashed run left behind: deleted when the link goes.
  auto link = std::make_unique<Macvlan>(nl_, o.name);
  const std::pair<const char*, const char*> v6knobs[] = {{"addr_gen_mode", "1"},
                                                         {"accept_dad", "0"}};
  for (auto [knob, value] : v6knobs) {
    auto s = write_sysctl("ipv6/conf/" + o.name + "/" + knob, value);
    if (!s && o.ipv6) return s.error();  // without IPv6 in the kernel these do not exist: fine
  }
  if (!o.ipv6) {
    for (const std::string& i : {o.lower, o.name}) {
      if (auto s = write_sysctl("ipv4/conf/" + i + "/arp_ignore", "1"); !s) return s.error();
      if (auto s = write_sysctl("ipv4/conf/" + i + "/arp_announce", "2"); !s) return s.error();
    }
    if (auto s = write_sysctl("ipv4/conf/" + o.name + "/rp_filter", "0"); !s) return s.error();
  }
  if (auto s = nl_.set_up(o.name, true); !s) return s.error();
  return std::unique_ptr<VmacLink>(std::move(link));
}

Status SystemHost::add_address(const std::string& dev, const packet::IpPrefix& prefix,
                               const std::string& label) {
  auto s = nl_.add_address(dev, prefix, label);
  if (!s && s.error().message.find("exists") != std::string::npos) return {};
  return s;
}

Status SystemHost::del_address(const std::string& dev, const packet::IpPrefix& prefix) {
  return nl_.del_address(dev, prefix);
}

Result<packet::MacAddress> SystemHost::link_mac(const std::string& ifname) {
  auto i = nl_.link_info(ifname);
  if (!i) return make_error(ENODEV, "interface {}: {}", ifname, i.error().message);
  return i->mac;
}

bool SystemHost::link_running(const std::string& ifname) {
  auto i = nl_.link_info(ifname);
  return i && i->up && i->running;
}

Status SystemHost::send_frames(const std::string& dev,
                               const std::vector<std::vector<uint8_t>>& frames) {
  auto info = nl_.link_info(dev);
  if (!info) return make_error(ENODEV, "interface {}: {}", dev, info.error().message);
  for (auto& f : frames) {
    if (f.size() < 14) continue;
    sockaddr_ll to{};
    to.sll_family = AF_PACKET;
    to.sll_ifindex = info->ifindex;
    to.sll_halen = 6;
    to.sll_protocol = htons(load_be16(&f[12]));
    std::memcpy(to.sll_addr, f.data(), 6);
    if (sendto(raw_.get(), f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0)
      return system_error("send gratuitous ARP/NA on " + dev);
  }
  return {};
}

namespace {

constexpr uint8_t kProtoKeepalived = 18;  // RTPROT_KEEPALIVED (keepalived vrrp_iproute.h)

io::Netlink::Route netlink_route(const RouteConfig& r) {
  io::Netlink::Route n;
  n.to = r.to;
  n.src = r.src;
  n.via = r.via;
  n.dev = r.dev;
  n.type = static_cast<uint8_t>(r.type);
  n.table = r.table;
  n.metric = r.metric;
  n.scope = r.scope;
  n.protocol = kProtoKeepalived;
  return n;
}

io::Netlink::Rule netlink_rule(const RuleConfig& r) {
  io::Netlink::Rule n;
  n.v6 = r.v6;
  n.from = r.from;
  n.to = r.to;
  n.action = static_cast<uint8_t>(r.action);
  n.table = r.table;
  n.priority = r.priority;
  n.protocol = kProtoKeepalived;
  return n;
}

}  // namespace

Status SystemHost::add_route(const RouteConfig& r) { return nl_.add_route(netlink_route(r)); }
Status SystemHost::del_route(const RouteConfig& r) { return nl_.del_route(netlink_route(r)); }
Status SystemHost::add_rule(const RuleConfig& r) { return nl_.add_rule(netlink_rule(r)); }
Status SystemHost::del_rule(const RuleConfig& r) { return nl_.del_rule(netlink_rule(r)); }

Status SystemHost::set_no_accept(const NoAcceptSet& vips) {
  std::string rules = no_accept_ruleset(vips);
  if (rules == no_accept_rules_) return {};
  if (no_accept_rules_.empty() && vips.empty()) return {};  // nothing installed yet
  if (auto s = io::load_nftables(rules); !s) return s;
  no_accept_rules_ = rules;
  return {};
}

}  // namespace vnet::vrrp
