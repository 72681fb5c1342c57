#include "io/tunnel_tap.hh"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/tc_act/tc_mirred.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/qdisc.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include "overlay/tunnel_gso.hh"

namespace vnet::io {
namespace {

// if_tun.h of Linux 6.17; Debian 12's headers predate it.
constexpr unsigned kTunFCsum = 0x01, kTunFTso4 = 0x02, kTunFTso6 = 0x04;
constexpr unsigned kTunFUdpTunnelGso = 0x080;
constexpr uint32_t kIngressHandle = 0xffff0000;  // the ingress qdisc, ffff:

struct NlSock {
  nl_sock* s = nl_socket_alloc();
  ~NlSock() {
    if (s) nl_socket_free(s);
  }
};

Status redirect(int from, int to, const std::string& what) {
  NlSock sk;
  if (!sk.s || nl_connect(sk.s, NETLINK_ROUTE) < 0) return make_error(EIO, "{}: rtnetlink", what);
  rtnl_qdisc* q = rtnl_qdisc_alloc();
  rtnl_tc_set_ifindex(TC_CAST(q), from);
  rtnl_tc_set_parent(TC_CAST(q), TC_H_INGRESS);
  rtnl_tc_set_handle(TC_CAST(q), kIngressHandle);
  rtnl_tc_set_kind(TC_CAST(q), "ingress");
  int r = rtnl_qdisc_add(sk.s, q, NLM_F_CREATE);
  rtnl_qdisc_put(q);
  if (r < 0) return make_error(EIO, "{}: ingress qdisc: {}", what, nl_geterror(r));
  rtnl_cls* c = rtnl_cls_alloc();
  rtnl_tc_set_ifindex(TC_CAST(c), from);
  rtnl_tc_set_parent(TC_CAST(c), kIngressHandle);
  rtnl_tc_set_kind(TC_CAST(c), "u32");
  rtnl_cls_set_protocol(c, ETH_P_ALL);
  rtnl_cls_set_prio(c, 1);
  rtnl_u32_add_key_uint32(c, 0, 0, 0, 0);  // every packet
  rtnl_u32_set_cls_terminal(c);
  rtnl_act* a = rtnl_act_alloc();
  rtnl_tc_set_kind(TC_CAST(a), "mirred");
  rtnl_mirred_set_action(a, TCA_EGRESS_REDIR);
  rtnl_mirred_set_policy(a, TC_ACT_STOLEN);
  rtnl_mirred_set_ifindex(a, static_cast<uint32_t>(to));
  rtnl_u32_add_action(c, a);
  r = rtnl_cls_add(sk.s, c, NLM_F_CREATE | NLM_F_EXCL);
  rtnl_act_put(a);
  rtnl_cls_put(c);
  if (r < 0) return make_error(EIO, "{}: u32 filter with mirred: {}", what, nl_geterror(r));
  return {};
}

}  // namespace

Result<std::unique_ptr<TunnelTap>> TunnelTap::open(int out_ifindex) {
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (fd.get() < 0) return system_error("tunnel tap: /dev/net/tun");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "vnetgso%d", IFNAMSIZ - 1);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
  if (::ioctl(fd.get(), TUNSETIFF, &ifr) < 0) return system_error("tunnel tap: TUNSETIFF");
  const std::string name = ifr.ifr_name;
  const std::string what = "tunnel tap " + name;
  int size = static_cast<int>(overlay::kTunnelVnetHdr);
  if (::ioctl(fd.get(), TUNSETVNETHDRSZ, &size) < 0)
    return system_error(what + ": TUNSETVNETHDRSZ");
  if (::ioctl(fd.get(), TUNSETOFFLOAD, kTunFCsum | kTunFTso4 | kTunFTso6 | kTunFUdpTunnelGso) < 0) {
    return make_error(errno, "{}: no UDP tunnel GSO in this kernel's tun (Linux ≥ 6.17)", what);
  }
  UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq up{};
  std::memcpy(up.ifr_name, ifr.ifr_name, IFNAMSIZ);
  if (s.get() < 0 || ::ioctl(s.get(), SIOCGIFFLAGS, &up) < 0) return system_error(what + ": flags");
  up.ifr_flags = static_cast<short>(up.ifr_flags | IFF_UP);
  if (::ioctl(s.get(), SIOCSIFFLAGS, &up) < 0) return system_error(what + ": up");
  if (::ioctl(s.get(), SIOCGIFINDEX, &up) < 0) return system_error(what + ": index");
  if (auto st = redirect(up.ifr_ifindex, out_ifindex, what); !st) return st.error();
  return std::unique_ptr<TunnelTap>(new TunnelTap(std::move(fd), name, out_ifindex));
}

bool TunnelTap::write(std::span<const uint8_t> head, std::span<const uint8_t> payload) const {
  iovec iov[2] = {{const_cast<uint8_t*>(head.data()), head.size()},
                  {const_cast<uint8_t*>(payload.data()), payload.size()}};
  return ::writev(fd_.get(), iov, 2) >= 0;
}

}  // namespace vnet::io
