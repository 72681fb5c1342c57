#include "lb/ipvs_genl.hh"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/ip_vs.h>

#include <cstring>

namespace vnet::lb::ipvs {
namespace {

nlmsghdr* put_header(std::span<uint8_t> buf, uint16_t type, uint16_t flags, uint32_t seq,
                     uint8_t cmd, uint8_t version) {
  std::memset(buf.data(), 0, buf.size());
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = flags;
  nlh->nlmsg_seq = seq;
  auto* g = static_cast<genlmsghdr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(genlmsghdr)));
  g->cmd = cmd;
  g->version = version;
  return nlh;
}

void put_service(nlmsghdr* nlh, const Service& s, bool full) {
  nlattr* nest = mnl_attr_nest_start(nlh, IPVS_CMD_ATTR_SERVICE);
  mnl_attr_put_u16(nlh, IPVS_SVC_ATTR_AF, s.af);
  if (s.fwmark != 0) {
    mnl_attr_put_u32(nlh, IPVS_SVC_ATTR_FWMARK, s.fwmark);
  } else {
    mnl_attr_put_u16(nlh, IPVS_SVC_ATTR_PROTOCOL, s.protocol);
    mnl_attr_put(nlh, IPVS_SVC_ATTR_ADDR, s.addr.size(), s.addr.data());
    mnl_attr_put_u16(nlh, IPVS_SVC_ATTR_PORT, htons(s.port));
  }
  if (full) {
    mnl_attr_put_strz(nlh, IPVS_SVC_ATTR_SCHED_NAME, s.scheduler.c_str());
    ip_vs_flags f{s.flags, ~0u};
    mnl_attr_put(nlh, IPVS_SVC_ATTR_FLAGS, sizeof f, &f);
    mnl_attr_put_u32(nlh, IPVS_SVC_ATTR_TIMEOUT, s.timeout);
    mnl_attr_put_u32(nlh, IPVS_SVC_ATTR_NETMASK, s.netmask);
  }
  mnl_attr_nest_end(nlh, nest);
}

void put_dest(nlmsghdr* nlh, const Dest& d, bool full) {
  nlattr* nest = mnl_attr_nest_start(nlh, IPVS_CMD_ATTR_DEST);
  mnl_attr_put(nlh, IPVS_DEST_ATTR_ADDR, d.addr.size(), d.addr.data());
  mnl_attr_put_u16(nlh, IPVS_DEST_ATTR_PORT, htons(d.port));
  if (full) {
    mnl_attr_put_u32(nlh, IPVS_DEST_ATTR_FWD_METHOD, static_cast<uint32_t>(d.fwd));
    mnl_attr_put_u32(nlh, IPVS_DEST_ATTR_WEIGHT, d.weight);
    mnl_attr_put_u32(nlh, IPVS_DEST_ATTR_U_THRESH, d.u_threshold);
    mnl_attr_put_u32(nlh, IPVS_DEST_ATTR_L_THRESH, d.l_threshold);
  }
  mnl_attr_put_u16(nlh, IPVS_DEST_ATTR_ADDR_FAMILY, d.af);
  mnl_attr_nest_end(nlh, nest);
}

// The attributes of one nest, by type (the last of a type wins); types above `max` are skipped.
template <size_t N>
struct Attrs {
  std::array<const nlattr*, N> a{};
  const nlattr* operator[](size_t t) const { return t < N ? a[t] : nullptr; }
};

template <size_t N>
int collect(const nlattr* attr, void* data) {
  auto* out = static_cast<Attrs<N>*>(data);
  uint16_t type = mnl_attr_get_type(attr);
  if (type < N) out->a[type] = attr;
  return MNL_CB_OK;
}

// The genetlink message's top-level attributes, after checking the headers fit.
template <size_t N>
Result<Attrs<N>> top_attrs(std::span<const uint8_t> msg) {
  Attrs<N> at;
  if (msg.size() < sizeof(nlmsghdr)) return make_error(EBADMSG, "IPVS: short message");
  const auto* nlh = reinterpret_cast<const nlmsghdr*>(msg.data());
  if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN || nlh->nlmsg_len > msg.size())
    return make_error(EBADMSG, "IPVS: message length {} of {} bytes", nlh->nlmsg_len, msg.size());
  if (nlh->nlmsg_type == NLMSG_ERROR) {
    if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(nlmsgerr))
      return make_error(EBADMSG, "IPVS: short error message");
    const auto* e = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
    if (e->error >= 0) return make_error(EBADMSG, "IPVS: an acknowledgement, not an answer");
    return make_error(-e->error, "IPVS: the kernel answered: {}", std::strerror(-e->error));
  }
  if (mnl_attr_parse(nlh, GENL_HDRLEN, collect<N>, &at) < 0)
    return make_error(EBADMSG, "IPVS: malformed attributes");
  return at;
}

template <size_t N>
Result<Attrs<N>> nested(const nlattr* nest, const char* what) {
  Attrs<N> at;
  if (!nest) return make_error(EBADMSG, "IPVS: no {} attribute", what);
  if (mnl_attr_parse_nested(nest, collect<N>, &at) < 0)
    return make_error(EBADMSG, "IPVS: malformed {} attribute", what);
  return at;
}

bool sized(const nlattr* a, size_t n) { return a && mnl_attr_get_payload_len(a) == n; }

Stats read_stats(const nlattr* s64, const nlattr* s32) {
  Stats st;
  if (s64) {
    auto at = nested<IPVS_STATS_ATTR_MAX + 1>(s64, "stats64");
    if (!at) return st;
    auto u64 = [&](int t) { return sized((*at)[t], 8) ? mnl_attr_get_u64((*at)[t]) : 0; };
    return {u64(IPVS_STATS_ATTR_CONNS), u64(IPVS_STATS_ATTR_INPKTS), u64(IPVS_STATS_ATTR_OUTPKTS),
            u64(IPVS_STATS_ATTR_INBYTES), u64(IPVS_STATS_ATTR_OUTBYTES)};
  }
  if (s32) {
    auto at = nested<IPVS_STATS_ATTR_MAX + 1>(s32, "stats");
    if (!at) return st;
    auto u32 = [&](int t) -> uint64_t {
      return sized((*at)[t], 4) ? mnl_attr_get_u32((*at)[t]) : 0;
    };
    auto u64 = [&](int t) { return sized((*at)[t], 8) ? mnl_attr_get_u64((*at)[t]) : 0; };
    return {u32(IPVS_STATS_ATTR_CONNS), u32(IPVS_STATS_ATTR_INPKTS), u32(IPVS_STATS_ATTR_OUTPKTS),
            u64(IPVS_STATS_ATTR_INBYTES), u64(IPVS_STATS_ATTR_OUTBYTES)};
  }
  return st;
}

}  // namespace

Result<size_t> build(std::span<uint8_t> buf, uint16_t family, uint32_t seq, Cmd cmd,
                     const Service* service, const Dest* dest) {
  if (buf.size() < kMaxRequest) return make_error(EINVAL, "IPVS: request buffer too small");
  if (service && service->scheduler.size() >= IP_VS_SCHEDNAME_MAXLEN)
    return make_error(EINVAL, "IPVS: scheduler name '{}' over {} characters", service->scheduler,
                      IP_VS_SCHEDNAME_MAXLEN - 1);
  const bool needs_service = cmd != Cmd::kFlush && cmd != Cmd::kGetService;
  const bool needs_dest = cmd == Cmd::kNewDest || cmd == Cmd::kSetDest || cmd == Cmd::kDelDest;
  if ((needs_service && !service) || (needs_dest && !dest))
    return make_error(EINVAL, "IPVS: command {} needs a {}", static_cast<int>(cmd),
                      needs_dest && !dest ? "destination" : "service");
  uint16_t flags = NLM_F_REQUEST | NLM_F_ACK;
  if (cmd == Cmd::kGetService || cmd == Cmd::kGetDest) flags |= NLM_F_DUMP;
  nlmsghdr* nlh = put_header(buf, family, flags, seq, static_cast<uint8_t>(cmd), kFamilyVersion);
  if (needs_service) {
    put_service(nlh, *service, cmd == Cmd::kNewService || cmd == Cmd::kSetService);
  }
  if (needs_dest) put_dest(nlh, *dest, cmd != Cmd::kDelDest);
  return static_cast<size_t>(nlh->nlmsg_len);
}

size_t build_get_family(std::span<uint8_t> buf, uint32_t seq, const std::string& name) {
  nlmsghdr* nlh = put_header(buf, GENL_ID_CTRL, NLM_F_REQUEST, seq, CTRL_CMD_GETFAMILY, 1);
  mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, name.c_str());
  return nlh->nlmsg_len;
}

Result<uint16_t> parse_family_id(std::span<const uint8_t> msg) {
  auto at = top_attrs<CTRL_ATTR_MAX + 1>(msg);
  if (!at) {
    if (at.error().code == EBADMSG) return at.error();
    return make_error(ENOENT, "no generic netlink family (error {})", at.error().code);
  }
  const nlattr* id = (*at)[CTRL_ATTR_FAMILY_ID];
  if (!sized(id, 2)) return make_error(EBADMSG, "IPVS: no family id in the controller's answer");
  return mnl_attr_get_u16(id);
}

Result<ServiceInfo> parse_service(std::span<const uint8_t> msg) {
  auto top = top_attrs<IPVS_CMD_ATTR_MAX + 1>(msg);
  if (!top) return top.error();
  auto at = nested<IPVS_SVC_ATTR_MAX + 1>((*top)[IPVS_CMD_ATTR_SERVICE], "service");
  if (!at) return at.error();
  const auto& a = *at;
  ServiceInfo out;
  Service& s = out.service;
  if (!sized(a[IPVS_SVC_ATTR_AF], 2)) return make_error(EBADMSG, "IPVS: service without family");
  s.af = mnl_attr_get_u16(a[IPVS_SVC_ATTR_AF]);
  if (sized(a[IPVS_SVC_ATTR_FWMARK], 4) && mnl_attr_get_u32(a[IPVS_SVC_ATTR_FWMARK]) != 0) {
    s.fwmark = mnl_attr_get_u32(a[IPVS_SVC_ATTR_FWMARK]);
    s.protocol = 0;
  } else {
    if (!sized(a[IPVS_SVC_ATTR_PROTOCOL], 2) || !sized(a[IPVS_SVC_ATTR_ADDR], 16) ||
        !sized(a[IPVS_SVC_ATTR_PORT], 2))
      return make_error(EBADMSG, "IPVS: service without protocol, address or port");
    s.protocol = mnl_attr_get_u16(a[IPVS_SVC_ATTR_PROTOCOL]);
    std::memcpy(s.addr.data(), mnl_attr_get_payload(a[IPVS_SVC_ATTR_ADDR]), 16);
    s.port = ntohs(mnl_attr_get_u16(a[IPVS_SVC_ATTR_PORT]));
  }
  const nlattr* sched = a[IPVS_SVC_ATTR_SCHED_NAME];
  if (!sched || mnl_attr_validate(sched, MNL_TYPE_NUL_STRING) < 0)
    return make_error(EBADMSG, "IPVS: service without scheduler name");
  s.scheduler = mnl_attr_get_str(sched);
  if (!sized(a[IPVS_SVC_ATTR_FLAGS], sizeof(ip_vs_flags)) || !sized(a[IPVS_SVC_ATTR_TIMEOUT], 4) ||
      !sized(a[IPVS_SVC_ATTR_NETMASK], 4))
    return make_error(EBADMSG, "IPVS: service without flags, timeout or netmask");
  ip_vs_flags f{};
  std::memcpy(&f, mnl_attr_get_payload(a[IPVS_SVC_ATTR_FLAGS]), sizeof f);
  // The kernel reports IP_VS_SVC_F_HASHED, which is its own and never requested.
  s.flags = f.flags & ~static_cast<uint32_t>(IP_VS_SVC_F_HASHED);
  s.timeout = mnl_attr_get_u32(a[IPVS_SVC_ATTR_TIMEOUT]);
  s.netmask = mnl_attr_get_u32(a[IPVS_SVC_ATTR_NETMASK]);
  out.stats = read_stats(a[IPVS_SVC_ATTR_STATS64], a[IPVS_SVC_ATTR_STATS]);
  return out;
}

Result<DestInfo> parse_dest(std::span<const uint8_t> msg) {
  auto top = top_attrs<IPVS_CMD_ATTR_MAX + 1>(msg);
  if (!top) return top.error();
  auto at = nested<IPVS_DEST_ATTR_MAX + 1>((*top)[IPVS_CMD_ATTR_DEST], "destination");
  if (!at) return at.error();
  const auto& a = *at;
  DestInfo out;
  Dest& d = out.dest;
  if (!sized(a[IPVS_DEST_ATTR_ADDR], 16) || !sized(a[IPVS_DEST_ATTR_PORT], 2) ||
      !sized(a[IPVS_DEST_ATTR_FWD_METHOD], 4) || !sized(a[IPVS_DEST_ATTR_WEIGHT], 4))
    return make_error(EBADMSG, "IPVS: destination without address, port, method or weight");
  std::memcpy(d.addr.data(), mnl_attr_get_payload(a[IPVS_DEST_ATTR_ADDR]), 16);
  d.port = ntohs(mnl_attr_get_u16(a[IPVS_DEST_ATTR_PORT]));
  uint32_t fwd = mnl_attr_get_u32(a[IPVS_DEST_ATTR_FWD_METHOD]) & IP_VS_CONN_F_FWD_MASK;
  if (fwd != IP_VS_CONN_F_MASQ && fwd != IP_VS_CONN_F_TUNNEL && fwd != IP_VS_CONN_F_DROUTE)
    return make_error(EBADMSG, "IPVS: destination with forwarding method {}", fwd);
  d.fwd = static_cast<Fwd>(fwd);
  d.weight = mnl_attr_get_u32(a[IPVS_DEST_ATTR_WEIGHT]);
  auto u32 = [&](int t) { return sized(a[t], 4) ? mnl_attr_get_u32(a[t]) : 0u; };
  d.u_threshold = u32(IPVS_DEST_ATTR_U_THRESH);
  d.l_threshold = u32(IPVS_DEST_ATTR_L_THRESH);
  if (sized(a[IPVS_DEST_ATTR_ADDR_FAMILY], 2))
    d.af = mnl_attr_get_u16(a[IPVS_DEST_ATTR_ADDR_FAMILY]);
  out.active = u32(IPVS_DEST_ATTR_ACTIVE_CONNS);
  out.inactive = u32(IPVS_DEST_ATTR_INACT_CONNS);
  out.persistent = u32(IPVS_DEST_ATTR_PERSIST_CONNS);
  out.stats = read_stats(a[IPVS_DEST_ATTR_STATS64], a[IPVS_DEST_ATTR_STATS]);
  return out;
}

}  // namespace vnet::lb::ipvs
