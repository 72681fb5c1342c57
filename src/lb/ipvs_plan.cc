#include "lb/ipvs_plan.hh"

#include <arpa/inet.h>
#include <linux/ip_vs.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "base/parse.hh"

namespace vnet::lb {
namespace {

using ipvs::Addr;

Addr addr_of(const Endpoint& e) {
  Addr a{};
  if (e.v6) {
    std::memcpy(a.data(), e.v6addr.bytes.data(), 16);
  } else {
    uint32_t n = htonl(e.v4.value);
    std::memcpy(a.data(), &n, 4);
  }
  return a;
}

uint16_t proto_of(Protocol p) {
  switch (p) {
    case Protocol::kTcp:
      return IPPROTO_TCP;
    case Protocol::kUdp:
      return IPPROTO_UDP;
    case Protocol::kSctp:
      return IPPROTO_SCTP;
  }
  return IPPROTO_TCP;
}

// persistence_granularity: an IPv4 netmask ("255.255.255.0") or a prefix length ("24"); as the
// kernel takes it: a big-endian IPv4 mask, or an IPv6 prefix length.
Result<uint32_t> netmask_of(const std::string& g, bool v6) {
  if (g.empty()) return v6 ? 128u : 0xffffffffu;
  if (auto len = parse_int(g, 0, v6 ? 128 : 32)) {
    if (v6) return static_cast<uint32_t>(*len);
    uint32_t m = *len == 0 ? 0 : ~uint32_t{0} << (32 - *len);
    return htonl(m);
  }
  in_addr a{};
  if (!v6 && inet_pton(AF_INET, g.c_str(), &a) == 1) return a.s_addr;
  return make_error(EINVAL, "persistence_granularity '{}': expected a netmask or a prefix length",
                    g);
}

Result<uint32_t> flags_of(const TableService& s) {
  uint32_t f = s.persistence ? IP_VS_SVC_F_PERSISTENT : 0;
  for (const auto& w : s.sched_flags) {
    if (w == "sh-fallback" || w == "mh-fallback" || w == "flag-1")
      f |= IP_VS_SVC_F_SCHED1;
    else if (w == "sh-port" || w == "mh-port" || w == "flag-2")
      f |= IP_VS_SVC_F_SCHED2;
    else if (w == "flag-3")
      f |= IP_VS_SVC_F_SCHED3;
    else if (w == "ops")
      f |= IP_VS_SVC_F_ONEPACKET;
    else
      return make_error(EINVAL, "{}: scheduler flag {}: IPVS has no such flag", s.key.str(), w);
  }
  return f;
}

// The identity of an IPVS service (what the kernel finds it by).
struct Key {
  uint16_t af, protocol;
  Addr addr;
  uint16_t port;
  uint32_t fwmark;
  friend auto operator<=>(const Key&, const Key&) = default;
};
Key key_of(const ipvs::Service& s) { return {s.af, s.protocol, s.addr, s.port, s.fwmark}; }

struct Entry {
  ipvs::Service service;
  std::vector<ipvs::Dest> dests;
};

Result<std::map<Key, Entry>> expand(const Table& t) {
  std::map<Key, Entry> out;
  for (const auto& s : t) {
    auto svcs = ipvs_services(s);
    if (!svcs) return svcs.error();
    for (auto& svc : *svcs) {
      Entry e{svc, {}};
      std::vector<const TableDest*> ranked;
      for (const auto& d : s.dests) ranked.push_back(&d);
      std::stable_sort(ranked.begin(), ranked.end(),
                       [](const TableDest* a, const TableDest* b) { return a->rank < b->rank; });
      for (const auto* d : ranked) e.dests.push_back(ipvs_dest(s, *d));
      out[key_of(svc)] = std::move(e);
    }
  }
  return out;
}

using DestKey = std::pair<Addr, uint16_t>;

}  // namespace

Result<std::vector<ipvs::Service>> ipvs_services(const TableService& s) {
  ipvs::Service base;
  base.scheduler = s.scheduler;
  auto flags = flags_of(s);
  if (!flags) return flags.error();
  base.flags = *flags;
  base.timeout = s.persistence
                     ? static_cast<uint32_t>(
                           std::chrono::duration_cast<std::chrono::seconds>(*s.persistence).count())
                     : 0;
  base.protocol = proto_of(s.key.protocol);
  std::vector<ipvs::Service> out;
  auto add_addr = [&](const Endpoint& e) -> Status {
    ipvs::Service x = base;
    x.af = e.v6 ? AF_INET6 : AF_INET;
    x.addr = addr_of(e);
    x.port = e.port;
    auto m = netmask_of(s.persistence_granularity, e.v6);
    if (!m) return m.error();
    x.netmask = *m;
    out.push_back(x);
    return {};
  };
  auto add_mark = [&](uint32_t mark, bool v6) -> Status {
    ipvs::Service x = base;
    x.af = v6 ? AF_INET6 : AF_INET;
    x.protocol = 0;
    x.fwmark = mark;
    auto m = netmask_of(s.persistence_granularity, v6);
    if (!m) return m.error();
    x.netmask = *m;
    out.push_back(x);
    return {};
  };
  Status st;
  switch (s.key.kind) {
    case ServiceKey::kAddress:
      st = add_addr(s.key.addr);
      break;
    case ServiceKey::kFwmark:
      st = add_mark(s.key.fwmark, s.key.addr.v6);
      break;
    case ServiceKey::kGroup:
      for (const auto& m : s.group) {
        if (m.fwmark != 0) {
          st = add_mark(m.fwmark, m.first.v6);
        } else if (m.range_end == 0 || m.first.v6) {
          st = add_addr(m.first);
        } else {
          // An IPv4 range: the last byte from the first address's up to range_end.
          for (uint32_t b = m.first.v4.value & 0xff; b <= m.range_end && st; ++b) {
            Endpoint e = m.first;
            e.v4.value = (m.first.v4.value & ~0xffu) | b;
            st = add_addr(e);
          }
        }
        if (!st) break;
      }
      break;
  }
  if (!st) return st.error();
  return out;
}

ipvs::Dest ipvs_dest(const TableService& s, const TableDest& d) {
  ipvs::Dest x;
  x.af = d.addr.v6 ? AF_INET6 : AF_INET;
  x.addr = addr_of(d.addr);
  x.port = d.addr.port;
  x.fwd = s.forwarding == Forwarding::kDr    ? ipvs::Fwd::kRoute
          : s.forwarding == Forwarding::kTun ? ipvs::Fwd::kTunnel
                                             : ipvs::Fwd::kMasq;
  x.weight = static_cast<uint32_t>(d.weight);
  return x;
}

Result<std::vector<IpvsRequest>> ipvs_plan(const Table& old_table, const Table& new_table) {
  auto before = expand(old_table);
  if (!before) return before.error();
  auto after = expand(new_table);
  if (!after) return after.error();
  std::vector<IpvsRequest> out;
  for (const auto& [k, e] : *before) {
    if (!after->count(k)) out.push_back({ipvs::Cmd::kDelService, e.service, std::nullopt});
  }
  for (const auto& [k, e] : *after) {
    auto was = before->find(k);
    if (was == before->end()) {
      out.push_back({ipvs::Cmd::kNewService, e.service, std::nullopt});
    } else if (!(was->second.service == e.service)) {
      out.push_back({ipvs::Cmd::kSetService, e.service, std::nullopt});
    }
  }
  for (const auto& [k, e] : *after) {
    // In the table's order, as keepalived adds them (real servers in the file's order, then the
    // sorry server): IPVS lists destinations by insertion, and rr and wrr walk that list.
    static const std::vector<ipvs::Dest> kNone;
    auto was = before->find(k);
    const auto& old_list = was != before->end() ? was->second.dests : kNone;
    std::map<DestKey, ipvs::Dest> old_dests, new_dests;
    for (const auto& d : old_list) old_dests[{d.addr, d.port}] = d;
    for (const auto& d : e.dests) new_dests[{d.addr, d.port}] = d;
    for (const auto& d : old_list)
      if (!new_dests.count({d.addr, d.port})) out.push_back({ipvs::Cmd::kDelDest, e.service, d});
    for (const auto& d : e.dests) {
      auto od = old_dests.find({d.addr, d.port});
      if (od == old_dests.end())
        out.push_back({ipvs::Cmd::kNewDest, e.service, d});
      else if (!(od->second == d))
        out.push_back({ipvs::Cmd::kSetDest, e.service, d});
    }
  }
  return out;
}

}  // namespace vnet::lb
