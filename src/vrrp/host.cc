#include "vrrp/host.hh"

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
#include "packet/arp.hh"
#include "packet/checksum.hh"
#include "packet/ethernet.hh"
#include "packet/ip.hh"

namespace vnet::vrrp {
namespace {

// First IPv4 (or link-local IPv6) address of the interface that is not one of the VIPs.
bool find_primary(const HostOptions& o, packet::Ipv4Address& v4, packet::Ipv6Address& v6) {
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

}  // namespace

packet::MacAddress Host::virtual_mac(uint8_t vrid, bool ipv6) {
  return packet::MacAddress{
      {0x00, 0x00, 0x5e, 0x00, static_cast<uint8_t>(ipv6 ? 0x02 : 0x01), vrid}};
}

Host::~Host() {
  if (own_vmac_) {
    if (auto s = nl_.del_link(o_.vmac); !s) log::warn("{}", s.error().message);
  }
}

Status Host::open_vmac() {
  packet::MacAddress vmac = virtual_mac(o_.vrid, o_.ipv6);
  auto exists = nl_.has_link(o_.vmac);
  if (!exists) return exists.error();
  if (*exists) {
    auto info = nl_.link_info(o_.vmac);
    if (!info) return info.error();
    if (info->mac != vmac) {
      return make_error(EEXIST, "use_vmac: interface {} exists with MAC {}, not the VMAC {}",
                        o_.vmac, info->mac.to_string(), vmac.to_string());
    }
  } else if (auto s = nl_.add_macvlan(o_.vmac, o_.interface, vmac); !s) {
    return s;
  }
  own_vmac_ = true;  // also one a crashed run left behind: ours to reuse and to delete
  // Before the link comes up: no IPv6 autoconfiguration on it (the backup's VMAC interface must
  // stay silent, or the switch would see the VMAC move), no DAD on the VIPs.
  const std::string& v = o_.vmac;
  const std::pair<const char*, const char*> v6knobs[] = {{"addr_gen_mode", "1"},
                                                         {"accept_dad", "0"}};
  for (auto [knob, value] : v6knobs) {
    auto s = write_sysctl("ipv6/conf/" + v + "/" + knob, value);
    if (!s && o_.ipv6) return s;  // without IPv6 in the kernel these do not exist: fine for v4
  }
  if (!o_.ipv6) {
    // ARP for a VIP is answered by the VMAC interface only, with the VMAC: arp_ignore 1 =
    // answer only for addresses of the receiving interface. arp_announce 2: the base
    // interface's own ARP requests (e.g. for a host the master answers through it) name its
    // primary address, never the VIP, so hosts never bind the VIP to the physical MAC.
    for (const std::string& i : {o_.interface, v}) {
      if (auto s = write_sysctl("ipv4/conf/" + i + "/arp_ignore", "1"); !s) return s;
      if (auto s = write_sysctl("ipv4/conf/" + i + "/arp_announce", "2"); !s) return s;
    }
    if (auto s = write_sysctl("ipv4/conf/" + v + "/rp_filter", "0"); !s) return s;
  }
  if (auto s = nl_.set_up(v, true); !s) return s;
  auto info = nl_.link_info(v);
  if (!info) return info.error();
  vmac_ifindex_ = info->ifindex;
  mac_ = vmac;
  return {};
}

Result<std::unique_ptr<Host>> Host::open(HostOptions o) {
  auto nl = io::Netlink::open(o.interface);
  if (!nl) return nl.error();
  std::unique_ptr<Host> h(new Host(o, std::move(*nl)));
  auto info = h->nl_.link_info(o.interface);
  if (!info) return make_error(ENODEV, "interface {}: {}", o.interface, info.error().message);
  h->ifindex_ = info->ifindex;
  h->mac_ = info->mac;
  if (o.unicast_src) {
    h->primary4_ = o.unicast_src->v4addr;
    h->primary6_ = o.unicast_src->v6addr;
  } else if (!find_primary(o, h->primary4_, h->primary6_)) {
    return make_error(EADDRNOTAVAIL, "interface {} has no {} address to send VRRP from",
                      o.interface, o.ipv6 ? "link-local IPv6" : "IPv4");
  }
  std::string adv_if = o.interface;  // where adverts are sent and received
  if (!o.vmac.empty()) {
    if (auto s = h->open_vmac(); !s) return s.error();
    // As keepalived: IPv4 adverts go through the VMAC interface. They must be received there
    // too: a private-mode macvlan takes multicast frames whose source is its own MAC (the
    // peer's adverts, from the same VMAC) away from the lower device.
    if (!o.ipv6 && !o.vmac_xmit_base && o.unicast_peers.empty()) {
      adv_if = o.vmac;
      h->ifindex_ = h->vmac_ifindex_;
    }
  }
  int family = o.ipv6 ? AF_INET6 : AF_INET;
  h->sock_.reset(socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, kProtocol));
  int s = h->sock_.get();
  if (s < 0) return system_error("VRRP raw socket");
  if (setsockopt(s, SOL_SOCKET, SO_BINDTODEVICE, adv_if.c_str(),
                 static_cast<socklen_t>(adv_if.size())) < 0) {
    return system_error("SO_BINDTODEVICE " + adv_if);
  }
  int ttl = 255, zero = 0, one = 1, tos = 0xc0;
  if (!o.ipv6) {
    // Not bind(): a raw socket bound to an address only receives packets sent to it. The source
    // address is set per packet (IP_PKTINFO) instead.
    setsockopt(s, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
    setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
    setsockopt(s, IPPROTO_IP, IP_MULTICAST_LOOP, &zero, sizeof zero);
    setsockopt(s, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
    ip_mreqn m{};
    m.imr_multiaddr.s_addr = htonl(kMulticastV4);
    m.imr_ifindex = h->ifindex_;
    setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m);
    if (o.unicast_peers.empty() && setsockopt(s, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) < 0) {
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
    setsockopt(s, IPPROTO_IPV6, IPV6_MULTICAST_IF, &h->ifindex_, sizeof h->ifindex_);
    ipv6_mreq m{};
    inet_pton(AF_INET6, kMulticastV6, &m.ipv6mr_multiaddr);
    m.ipv6mr_interface = static_cast<unsigned>(h->ifindex_);
    if (o.unicast_peers.empty() && setsockopt(s, IPPROTO_IPV6, IPV6_JOIN_GROUP, &m, sizeof m) < 0) {
      return system_error("join ff02::12 on " + o.interface);
    }
  }
  h->raw_.reset(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0));
  if (!h->raw_.valid()) return system_error("AF_PACKET socket for gratuitous ARP");
  return h;
}

Status Host::send_advert(const Advert& a) {
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
      result = system_error("send VRRP advertisement on " + o_.interface);
  }
  return result;
}

std::vector<RxAdvert> Host::receive() {
  std::vector<RxAdvert> out;
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
    RxAdvert rx;
    IpPair ip;
    std::span<const uint8_t> payload;
    if (!o_.ipv6) {
      ByteReader r({buf, static_cast<size_t>(n)});
      auto h = packet::decode_ipv4(r);
      if (!h || h->total_length > n || h->total_length < h->header_length()) {
        ++rx_malformed_;
        continue;
      }
      rx.ttl = h->ttl;
      rx.src4 = h->src;
      ip.src4 = h->src;
      ip.dst4 = h->dst;
      payload = std::span<const uint8_t>(buf, static_cast<size_t>(n))
                    .subspan(h->header_length(), h->total_length - h->header_length());
    } else {
      ip.v6 = true;
      std::memcpy(ip.src6.bytes.data(), &reinterpret_cast<sockaddr_in6*>(&from)->sin6_addr, 16);
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
      payload = std::span<const uint8_t>(buf, static_cast<size_t>(n));
    }
    auto a = decode_advert(payload, ip);
    if (!a) {
      if (a.error().code == EPROTO)
        ++rx_bad_checksum_;
      else
        ++rx_malformed_;
      continue;
    }
    rx.advert = std::move(*a);
    out.push_back(std::move(rx));
  }
  return out;
}

Status Host::add_vips() {
  Status result;
  for (size_t i = 0; i < o_.vips.size(); ++i) {
    std::string label = i < o_.vip_labels.size() ? o_.vip_labels[i] : "";
    const std::string& dev = vip_dev(i);
    if (label.rfind(dev, 0) != 0) label.clear();  // a label names its device ("eth0:vip")
    auto s = nl_.add_address(dev, o_.vips[i], label);
    if (!s && s.error().message.find("exists") == std::string::npos) result = s;
  }
  return result;
}

Status Host::remove_vips() {
  Status result;
  for (size_t i = 0; i < o_.vips.size(); ++i) {
    if (auto s = nl_.del_address(vip_dev(i), o_.vips[i]); !s) result = s;
  }
  return result;
}

bool Host::link_running() { return link_running(o_.interface); }

bool Host::link_running(const std::string& ifname) {
  auto i = nl_.link_info(ifname);
  return i && i->up && i->running;
}

Status Host::send_gratuitous(int count) {
  sockaddr_ll to{};
  to.sll_family = AF_PACKET;
  to.sll_ifindex = vmac_ifindex_ ? vmac_ifindex_ : ifindex_;
  to.sll_halen = 6;
  for (auto& vip : o_.vips) {
    std::vector<uint8_t> f;
    ByteWriter w(f);
    if (!vip.v6) {
      packet::EthernetHeader eth{packet::MacAddress::broadcast(), mac_, 0x0806};
      encode(eth, w);
      packet::ArpPacket arp{packet::ArpPacket::kRequest, mac_, vip.v4addr,
                            packet::MacAddress::broadcast(), vip.v4addr};
      encode(arp, w);
      to.sll_protocol = htons(ETH_P_ARP);
    } else {
      auto all_nodes = *packet::Ipv6Address::parse("ff02::1");
      packet::EthernetHeader eth{*packet::MacAddress::parse("33:33:00:00:00:01"), mac_, 0x86dd};
      encode(eth, w);
      std::vector<uint8_t> na;
      ByteWriter nw(na);
      nw.u8(136);  // neighbour advertisement, RFC 4861 §4.4
      nw.u8(0);
      nw.u16(0);
      nw.u32(0x20000000);  // R=0 S=0 O=1
      nw.bytes(vip.v6addr.bytes);
      nw.u8(2);  // target link-layer address option
      nw.u8(1);
      nw.bytes(mac_.bytes);
      uint32_t ph =
          packet::pseudo_header_v6(vip.v6addr, all_nodes, 58, static_cast<uint32_t>(na.size()));
      nw.patch_u16(2, packet::checksum_finish(packet::checksum_add(ph, na)));
      packet::Ipv6Header ip;
      ip.payload_length = static_cast<uint16_t>(na.size());
      ip.next_header = 58;
      ip.hop_limit = 255;
      ip.src = vip.v6addr;
      ip.dst = all_nodes;
      encode(ip, w);
      w.bytes(na);
      to.sll_protocol = htons(ETH_P_IPV6);
    }
    std::memcpy(to.sll_addr, f.data(), 6);
    for (int i = 0; i < count; ++i) {
      if (sendto(raw_.get(), f.data(), f.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to) <
          0) {
        return system_error("send gratuitous ARP/NA on " + o_.interface);
      }
    }
  }
  return {};
}

}  // namespace vnet::vrrp
