#include "lb/nft_ruleset.hh"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <numeric>

#include "lb/dr_conns.hh"
#include "lb/keepalived_conf.hh"
#include "lb/nft_stats.hh"
#include "lb/scheduler.hh"

namespace vnet::lb {
namespace {

std::string_view forwarding_word(Forwarding f) {
  switch (f) {
    case Forwarding::kNat:
      return "NAT";
    case Forwarding::kDr:
      return "DR";
    case Forwarding::kTun:
      return "TUN";
  }
  return "?";
}

std::string name_of(std::string_view prefix, const ServiceKey& key) {
  if (key.kind == ServiceKey::kFwmark) return fmt::format("{}_fwm_{}", prefix, key.fwmark);
  if (key.kind == ServiceKey::kGroup) {
    // nft names: letters, digits, '_'; other bytes of the group's name as their hex value.
    std::string n;
    for (unsigned char c : key.group) {
      if (std::isalnum(c))
        n += char(c);
      else
        n += fmt::format("_{:02x}", c);
    }
    return fmt::format("{}_grp_{}_{}", prefix, nft_protocol(key.protocol), n);
  }
  std::string a = key.addr.address_string();
  std::replace(a.begin(), a.end(), '.', '_');
  return fmt::format("{}_{}_{}_{}", prefix, nft_protocol(key.protocol), a, key.addr.port);
}

// The transport protocols a fwmark matches: IPVS finds a fwmark service by the mark alone
// (__ip_vs_svc_fwm_find) for every protocol it balances.
constexpr const char* kAnyL4 = "meta l4proto { tcp, udp, sctp }";

constexpr const char* kHashed = "rr, wrr, sh, mh and dh";

// sh-port / mh-port (IP_VS_SVC_F_SCHED_SH_PORT = IP_VS_SVC_F_SCHED_MH_PORT = flag-2): hash the
// client's port too.
bool port_flag(std::string_view scheduler, std::string_view flag) {
  if (scheduler != "sh" && scheduler != "mh") return false;
  return flag == "flag-2" || flag == std::string(scheduler) + "-port";
}

}  // namespace

std::vector<std::string> checker_refusals(const LbConfig& config) {
  std::vector<std::string> out;
  for (auto& vs : config.services) {
    for (auto& r : vs.reals) {
      for (auto& c : r.checkers) {
        if (c.type != CheckerType::kBfd) continue;
        out.push_back(fmt::format(
            "{}: {}: no prober for this checker yet (TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK, "
            "MISC_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK and FILE_CHECK run)",
            c.where.str(), checker_keyword(c.type)));
      }
    }
  }
  return out;
}

std::string_view nft_protocol(Protocol p) {
  switch (p) {
    case Protocol::kTcp:
      return "tcp";
    case Protocol::kUdp:
      return "udp";
    case Protocol::kSctp:
      return "sctp";
  }
  return "tcp";
}

std::vector<std::string> nft_refusals(const LbConfig& config) {
  std::vector<std::string> out;
  for (auto& vs : config.services) {
    std::string at =
        fmt::format("{}: virtual_server {}: ", vs.where.str(), keepalived_vs_name(vs.key));
    auto refuse = [&](const std::string& why) { out.push_back(at + why); };
    bool dr = vs.forwarding == Forwarding::kDr;
    bool address = vs.key.kind == ServiceKey::kAddress;
    const VirtualServerGroup* group = nullptr;
    for (auto& g : config.groups) {
      if (vs.key.kind == ServiceKey::kGroup && g.name == vs.key.group) group = &g;
    }
    if (vs.key.kind == ServiceKey::kFwmark && dr) {
      refuse(
          "fwmark with lb_kind DR: DR forwards frames at the netdev ingress hook, before the "
          "firewall sets the mark; the nftables datapath serves fwmark services with NAT");
      continue;
    }
    if (group && dr &&
        std::any_of(group->members.begin(), group->members.end(),
                    [](const GroupMember& m) { return m.fwmark != 0; })) {
      refuse(fmt::format(
          "virtual_server_group {} with lb_kind DR has fwmark entries: DR forwards frames at the "
          "netdev ingress hook, before the firewall sets the mark (NAT serves them)",
          group->name));
      continue;
    }
    if (group) {
      for (auto& m : group->members) {
        if (m.fwmark) continue;
        if (m.first.v6)
          out.push_back(fmt::format(
              "{}: virtual_server_group {}: {}: IPv6: the nftables datapath serves IPv4 only",
              group->where.str(), group->name, m.first.address_string()));
        else if (m.first.port == 0)
          out.push_back(fmt::format(
              "{}: virtual_server_group {}: {}: port 0: the nftables datapath needs the port",
              group->where.str(), group->name, m.first.address_string()));
      }
    }
    if (address && vs.key.addr.v6) refuse("IPv6: the nftables datapath serves IPv4 services only");
    if (address && vs.key.addr.port == 0)
      refuse("port 0: the nftables datapath needs the service's port");
    bool hashed = hashed_scheduler(vs.scheduler);
    if (vs.forwarding == Forwarding::kTun)
      refuse("lb_kind TUN: the nftables datapath does NAT and DR only (no ipip encapsulation)");
    if (dr && follows_connections(vs.scheduler) && vs.key.protocol != Protocol::kTcp)
      refuse(fmt::format(
          "lvs_sched {} with lb_kind DR over {}: DR follows TCP connections only (from their "
          "SYN, FIN and RST, lb/dr_conns.hh); for UDP and SCTP it has {} (by a hash of the flow)",
          vs.scheduler, nft_protocol(vs.key.protocol), kHashed));
    else if (!hashed && !follows_connections(vs.scheduler))
      refuse(fmt::format("lvs_sched {}: not an IPVS scheduler the nftables datapath has",
                         vs.scheduler));
    else if (!address && follows_connections(vs.scheduler))
      refuse(fmt::format(
          "lvs_sched {} on a fwmark or group service: connection counts are followed per "
          "VIP:PORT (lb/conn_counts.hh), so these services have {} only",
          vs.scheduler, kHashed));
    for (auto& f : vs.sched_flags) {
      if (port_flag(vs.scheduler, f)) continue;
      refuse(fmt::format(
          "scheduler flag {}: not in the nftables datapath (it has mh-port with mh and sh-port "
          "with sh, also written flag-2)",
          f));
    }
    if (vs.persistence_timeout && !address)
      refuse(
          "persistence_timeout on a fwmark or group service: the nftables datapath keeps "
          "persistence per VIP:PORT service only");
    if (vs.persistence_timeout && !persistence_mask(vs.persistence_granularity))
      refuse(fmt::format(
          "persistence_granularity '{}': expected an IPv4 netmask (255.255.255.0) or a prefix "
          "length (0-32)",
          vs.persistence_granularity));
    // fwmark and group services may keep the packet's port (real servers on port 0, as IPVS
    // does), but then every real server must: one DNAT map holds addresses or address . port.
    bool keep_port = !address && !vs.reals.empty() && vs.reals.front().addr.port == 0;
    auto check_real = [&](const Endpoint& e, const Where& w, std::string_view what) {
      if (e.v6)
        out.push_back(fmt::format("{}: {} {}: IPv6: the nftables datapath serves IPv4 only",
                                  w.str(), what, e.to_string()));
      if (e.port == 0 && address)
        out.push_back(fmt::format("{}: {} {}: port 0: the nftables datapath needs a port", w.str(),
                                  what, e.to_string()));
      else if (!address && (e.port == 0) != keep_port)
        out.push_back(fmt::format(
            "{}: {} {}: a fwmark or group service's real servers all keep the packet's port "
            "(port 0) or all name one: the nftables datapath rewrites them with one map",
            w.str(), what, e.to_string()));
      if (dr && address && e.port != 0 && e.port != vs.key.addr.port)
        out.push_back(fmt::format(
            "{}: {} {}: lb_kind DR forwards the frame unchanged, so the real server must listen "
            "on the service's port {}",
            w.str(), what, e.to_string(), vs.key.addr.port));
      if (dr && group && e.port != 0) {
        for (auto& m : group->members) {
          if (m.first.port == e.port) continue;
          out.push_back(fmt::format(
              "{}: {} {}: lb_kind DR forwards the frame unchanged, so the real server must "
              "listen on every entry's port (group {} has {}); port 0 keeps the packet's port",
              w.str(), what, e.to_string(), group->name, m.first.port));
          break;
        }
      }
    };
    if (vs.sorry_server) check_real(*vs.sorry_server, vs.where, "sorry_server");
    long sum = 0, g = 0;
    for (auto& r : vs.reals) {
      check_real(r.addr, r.where, "real_server");
      sum += r.weight;
      g = std::gcd(g, long(r.weight));
    }
    if (vs.scheduler == "wrr" && g > 0 && size_t(sum / g) > kMaxMapEntries)
      refuse(fmt::format("lvs_sched wrr: weights need {} map entries, more than {}", sum / g,
                         kMaxMapEntries));
  }
  auto checkers = checker_refusals(config);
  out.insert(out.end(), checkers.begin(), checkers.end());
  return out;
}

Result<std::vector<Endpoint>> nft_slots(const TableService& s) {
  std::vector<Dest> dests;
  for (auto& d : s.dests) {
    if (d.weight > 0) dests.push_back(Dest{d.addr, d.weight});
  }
  std::vector<Endpoint> slots;
  if (dests.empty()) return slots;
  if (s.scheduler == "rr") {
    for (auto& d : dests) slots.push_back(d.addr);
  } else if (s.scheduler == "wrr") {
    long sum = 0, g = 0;
    for (auto& d : dests) {
      sum += d.weight;
      g = std::gcd(g, long(d.weight));
    }
    size_t period = size_t(sum / g);
    if (period > kMaxMapEntries)
      return make_error(E2BIG, "{}: wrr weights need {} map entries, more than {}", s.key.str(),
                        period, kMaxMapEntries);
    auto sched = make_scheduler("wrr");
    if (!sched) return sched.error();
    (*sched)->update(dests);
    for (size_t i = 0; i < period; ++i) {
      auto pick = (*sched)->schedule(dests, Flow{});
      if (!pick) return make_error(EINVAL, "{}: wrr picked nothing", s.key.str());
      slots.push_back(dests[*pick].addr);
    }
  } else if (s.scheduler == "sh") {
    // ip_vs_sh_reassign(): each destination takes `weight` consecutive buckets, in turn.
    size_t p = 0;
    int taken = 0;
    for (size_t b = 0; b < kShBuckets; ++b) {
      slots.push_back(dests[p].addr);
      if (++taken >= dests[p].weight) {
        taken = 0;
        p = (p + 1) % dests.size();
      }
    }
  } else if (s.scheduler == "mh") {
    // ip_vs_mh_populate(): IPVS's default table size, slots in proportion to weight.
    for (int d : maglev_table(dests, kMhSlots)) slots.push_back(dests[size_t(d)].addr);
  } else if (s.scheduler == "dh") {
    // ip_vs_dh_reassign(): one bucket per destination in turn, weights ignored.
    for (int d : dest_hash_table(dests)) slots.push_back(dests[size_t(d)].addr);
  } else {
    return make_error(EINVAL, "{}: lvs_sched {} is not in the nftables datapath", s.key.str(),
                      s.scheduler);
  }
  return slots;
}

bool follows_connections(std::string_view scheduler) {
  return scheduler == "lc" || scheduler == "wlc" || scheduler == "sed" || scheduler == "nq" ||
         scheduler == "fo" || scheduler == "ovf" || scheduler == "twos" || scheduler == "lblc" ||
         scheduler == "lblcr";
}

bool hashed_scheduler(std::string_view scheduler) {
  return scheduler == "rr" || scheduler == "wrr" || scheduler == "sh" || scheduler == "mh" ||
         scheduler == "dh";
}

std::optional<uint32_t> persistence_mask(std::string_view g) {
  if (g.empty()) return 0xffffffffu;
  uint32_t mask = 0;
  if (g.find('.') == std::string_view::npos) {
    int len = 0;
    for (char c : g) {
      if (c < '0' || c > '9' || len > 32) return std::nullopt;
      len = len * 10 + (c - '0');
    }
    if (len > 32) return std::nullopt;
    return len == 0 ? 0u : uint32_t(0xffffffffu << (32 - len));
  }
  auto a = packet::Ipv4Address::parse(g);
  if (!a) return std::nullopt;
  mask = a->value;
  if (uint32_t(~mask + 1) & ~mask) return std::nullopt;  // not contiguous: ~mask+1 a power of 2
  return mask;
}

std::string nft_pick_map(const ServiceKey& key) { return name_of("pick", key); }
std::string nft_flows_map(const ServiceKey& key) { return name_of("flows", key); }

Result<std::vector<DrFlow>> parse_nft_flows(std::string_view json) {
  auto doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("nftables") ||
      !doc["nftables"].is_array())
    return make_error(EBADMSG, "nft flows: expected an object with an \"nftables\" array");
  std::vector<DrFlow> out;
  for (auto& item : doc["nftables"]) {
    if (!item.is_object() || !item.contains("map")) continue;  // metainfo
    auto& m = item["map"];
    if (!m.is_object() || !m.contains("elem")) continue;  // an empty map
    if (!m["elem"].is_array()) return make_error(EBADMSG, "nft flows: \"elem\" is not an array");
    for (auto& e : m["elem"]) {
      // [{"elem": {"val": {"concat": [ADDR, PORT]}, "timeout": T, "expires": E}}, MAC]
      auto bad = [&] { return make_error(EBADMSG, "nft flows: unexpected element {}", e.dump()); };
      if (!e.is_array() || e.size() != 2 || !e[0].is_object() || !e[0].contains("elem") ||
          !e[1].is_string())
        return bad();
      auto& el = e[0]["elem"];
      if (!el.is_object() || !el.contains("val") || !el["val"].is_object() ||
          !el["val"].contains("concat") || !el["val"]["concat"].is_array() ||
          el["val"]["concat"].size() != 2 || !el["val"]["concat"][0].is_string() ||
          !el["val"]["concat"][1].is_number_unsigned())
        return bad();
      DrFlow f;
      auto addr = Endpoint::parse(el["val"]["concat"][0].get<std::string>());
      uint64_t port = el["val"]["concat"][1].get<uint64_t>();
      auto mac = packet::MacAddress::parse(e[1].get<std::string>());
      if (!addr || addr->v6 || port > 65535 || !mac) return bad();
      f.client = *addr;
      f.client.port = uint16_t(port);
      f.mac = *mac;
      for (auto [field, into] : {std::pair{"timeout", &f.timeout_s}, {"expires", &f.expires_s}}) {
        if (el.contains(field) && el[field].is_number_integer()) *into = el[field].get<long>();
      }
      out.push_back(f);
    }
  }
  return out;
}

namespace {
std::string pick_element(const ServiceKey& key, const Endpoint& dest) {
  return fmt::format("{} : {} . {}", key.addr.address_string(), dest.address_string(), dest.port);
}
}  // namespace

std::string nft_set_pick(const ServiceKey& key, const std::optional<Endpoint>& dest) {
  std::string map = nft_pick_map(key);
  std::string out = fmt::format("flush map ip {} {}\n", kNftTable, map);
  if (dest)
    out += fmt::format("add element ip {} {} {{ {} }}\n", kNftTable, map, pick_element(key, *dest));
  return out;
}

std::string nft_set_dr_pick(const ServiceKey& key, const std::optional<packet::MacAddress>& mac) {
  std::string map = nft_pick_map(key);
  std::string out = fmt::format("flush map netdev {} {}\n", kNftDrTable, map);
  if (mac)
    out += fmt::format("add element netdev {} {} {{ {} : {} }}\n", kNftDrTable, map,
                       key.addr.address_string(), mac->to_string());
  return out;
}

namespace {

std::string service_match(const ServiceKey& key) {
  return fmt::format("ip daddr {} {} dport {}", key.addr.address_string(),
                     nft_protocol(key.protocol), key.addr.port);
}

// What selects a service's packets, one rule each: its VIP:PORT; its mark (any protocol); for a
// group, one set of its VIP:PORT entries (ranges as address ranges) and one rule per fwmark.
std::vector<std::string> service_matches(const TableService& s) {
  if (s.key.kind == ServiceKey::kAddress) return {service_match(s.key)};
  if (s.key.kind == ServiceKey::kFwmark)
    return {fmt::format("meta mark {:#010x} {}", s.key.fwmark, kAnyL4)};
  std::vector<std::string> out;
  std::string set;
  for (auto& m : s.group) {
    if (m.fwmark) {
      out.push_back(fmt::format("meta mark {:#010x} {}", m.fwmark, kAnyL4));
      continue;
    }
    std::string addr = m.first.address_string();
    if (m.range_end) {
      packet::Ipv4Address last{(m.first.v4.value & ~0xffu) | (m.range_end & 0xffu)};
      addr += "-" + last.to_string();
    }
    set += fmt::format("{}{} . {}", set.empty() ? "" : ", ", addr, m.first.port);
  }
  if (!set.empty())
    out.insert(out.begin(), fmt::format("meta l4proto {} ip daddr . th dport {{ {} }}",
                                        nft_protocol(s.key.protocol), set));
  return out;
}

// "10.1.0.1 . 8000" in a map; "10.1.0.1" when the real server keeps the packet's port (port 0).
std::string map_target(const Endpoint& e) {
  if (e.port == 0) return e.address_string();
  return fmt::format("{} . {}", e.address_string(), e.port);
}

// The hash that picks a slot of a hashing scheduler: sh and mh by the client (and its port with
// sh-port / mh-port), dh by the packet's destination; rr and wrr in DR by the flow.
std::string slot_hash(const TableService& s, size_t slots) {
  bool has_port_flag = false;
  for (auto& f : s.sched_flags) has_port_flag |= port_flag(s.scheduler, f);
  std::string sport = s.key.kind == ServiceKey::kAddress
                          ? fmt::format("{} sport", nft_protocol(s.key.protocol))
                          : std::string("th sport");
  if (s.scheduler == "dh") return fmt::format("jhash ip daddr mod {} seed 0x0", slots);
  if ((s.scheduler == "sh" || s.scheduler == "mh") && !has_port_flag)
    return fmt::format("jhash ip saddr mod {} seed 0x0", slots);
  return fmt::format("jhash ip saddr . {} mod {} seed 0x0", sport, slots);
}

// "ip saddr" or "ip saddr & 255.255.255.0": the persistence key.
std::string persistence_key(const TableService& s) {
  uint32_t m = persistence_mask(s.persistence_granularity).value_or(0xffffffffu);
  if (m == 0xffffffffu) return "ip saddr";
  return fmt::format("ip saddr & {}", packet::Ipv4Address{m}.to_string());
}

long timeout_seconds(const TableService& s) {
  return std::max<long>(1,
                        std::chrono::duration_cast<std::chrono::seconds>(*s.persistence).count());
}

std::string persist_map(const TableService& s, std::string_view data) {
  return fmt::format("  map {} {{\n    type ipv4_addr : {}; flags timeout; timeout {}s;\n  }}\n",
                     name_of("persist", s.key), data, timeout_seconds(s));
}

struct DrParts {
  std::string maps, chains, rules;
  std::vector<std::string> devices;
};

// The device a DR service's destinations `reached` are reached through (all through one).
Result<std::string> dr_device(const TableService& s, const std::vector<Endpoint>& reached,
                              const DrHops& hops, DrParts& out) {
  std::string dev = hops.at(reached.front()).ifname;
  for (auto& e : reached) {
    if (hops.at(e).ifname != dev)
      return make_error(EINVAL,
                        "{}: DR real servers on two devices ({} on {}, {} on {}): one service "
                        "forwards out of one device",
                        s.key.str(), reached.front().address_string(), dev, e.address_string(),
                        hops.at(e).ifname);
  }
  if (std::find(out.devices.begin(), out.devices.end(), dev) == out.devices.end())
    out.devices.push_back(dev);
  return dev;
}

// A DR service with a connection-count scheduler. A flow keeps the real server its first segment
// went to (map flows_…); a new flow (with persistence: of a new client) goes to the daemon's pick
// (map pick_…, one element) — a miss there leaves the frame to the director's own stack. The exit
// chain out_… gives each flow IPVS's input-only lifetimes in the map, each in a rule of its own so
// that a full map never stops forwarding: SYN 60 s (SYN_RECV), RST 10 s (CLOSE), FIN 120 s and
// later segments of a flow in set closing_… likewise (FIN_WAIT), others kDrFlowTimeout
// (ESTABLISHED). It logs to kDrLogGroup the segments the daemon follows connections by
// (lb/dr_conns.hh): every SYN, FIN and RST, and another segment when the flow is not in set
// seen_… (each adds it for kDrRefresh; a SYN clears it), so a flow's handshake ACK and then one
// segment a kDrRefresh. `kept`: the flows the map held before a rewrite, written back.
void dr_counted_service(const TableService& s, const DrHops& hops, const Picks& picks,
                        const std::vector<DrFlow>* kept, const std::string& dev,
                        const packet::MacAddress& ifmac, const std::string& count, DrParts& out) {
  std::string flows = nft_flows_map(s.key), seen = name_of("seen", s.key);
  std::string closing = name_of("closing", s.key);
  std::string pick = nft_pick_map(s.key), chain = name_of("svc", s.key);
  std::string exit = name_of("out", s.key);
  std::string src = fmt::format("ether saddr set {} ", ifmac.to_string());
  auto secs = [](auto d) {
    return long(std::chrono::duration_cast<std::chrono::seconds>(d).count());
  };
  const DrTimeouts ipvs;
  const std::string k = "ip saddr . tcp sport";
  // The service's real servers' MACs: what a chosen frame carries.
  std::vector<packet::MacAddress> macs;
  for (auto& d : s.dests) {
    auto h = hops.find(d.addr);
    if (h != hops.end() && std::find(macs.begin(), macs.end(), h->second.mac) == macs.end())
      macs.push_back(h->second.mac);
  }
  std::string mac_set;
  for (auto& m : macs) mac_set += fmt::format("{}{}", mac_set.empty() ? "" : ", ", m.to_string());
  // Flows in progress keep their real server (one of this service's, still reached) and what
  // was left of their timeout.
  std::string elements;
  for (auto& f : kept ? *kept : std::vector<DrFlow>{}) {
    if (std::find(macs.begin(), macs.end(), f.mac) == macs.end()) continue;
    // nft lists no timeout for an element on the map's own (kDrFlowTimeout), and an element's
    // timeout stays the one it was added with while `update` moves its expiry (a SYN's 60 s flow
    // expiring in 890 s once established); the kernel refuses an expiry beyond the timeout.
    long expires = std::max(1L, f.expires_s);
    long timeout = std::max(f.timeout_s > 0 ? f.timeout_s : secs(kDrFlowTimeout), expires);
    elements +=
        fmt::format("{}{} . {} timeout {}s expires {}s : {}", elements.empty() ? "" : ", ",
                    f.client.address_string(), f.client.port, timeout, expires, f.mac.to_string());
  }
  if (!elements.empty()) elements = fmt::format("    elements = {{ {} }}\n", elements);
  out.maps += fmt::format(
      "  map {} {{\n    type ipv4_addr . inet_service : ether_addr; size {}; flags timeout; "
      "timeout {}s;\n{}"
      "  }}\n"
      "  set {} {{\n    type ipv4_addr . inet_service; size {}; flags timeout; timeout {}s;\n  }}\n"
      "  set {} {{\n    type ipv4_addr . inet_service; size {}; flags timeout; timeout {}s;\n  }}\n"
      "  map {} {{\n    type ipv4_addr : ether_addr;\n",
      flows, kDrMaxFlows, secs(kDrFlowTimeout), elements, seen, kDrMaxFlows, secs(kDrRefresh),
      closing, kDrMaxFlows, secs(ipvs.fin_wait), pick);
  if (auto p = picks.find(s.key); p != picks.end()) {
    if (auto h = hops.find(p->second); h != hops.end())
      out.maps += fmt::format("    elements = {{ {} : {} }}\n", s.key.addr.address_string(),
                              h->second.mac.to_string());
  }
  out.maps += "  }\n";
  std::string rules =
      fmt::format("    {}ether daddr set {} map @{} goto {}\n", src, k, flows, exit);
  std::string keep_client;
  if (s.persistence) {
    std::string persist = name_of("persist", s.key), key = persistence_key(s);
    out.maps += persist_map(s, "ether_addr");
    rules += fmt::format("    {}ether daddr set {} map @{} goto {}\n", src, key, persist, exit);
    keep_client = fmt::format("    update @{} {{ {} timeout {}s : ether daddr }}\n", persist, key,
                              timeout_seconds(s));
  }
  rules += fmt::format("    {}ether daddr set ip daddr map @{}\n", src, pick);
  rules += fmt::format("    ether daddr {{ {} }} goto {}\n", mac_set, exit);
  auto keep = [&](long seconds) {
    return fmt::format("update @{} {{ {} timeout {}s : ether daddr }}", flows, k, seconds);
  };
  std::string log = fmt::format("log group {} snaplen 96", kDrLogGroup);
  out.chains += fmt::format("  chain {} {{\n{}  }}\n", chain, rules);
  out.chains += fmt::format(
      "  chain {0} {{\n"
      "    tcp flags & rst == rst {1}\n"
      "    tcp flags & (syn | rst) == syn {2}\n"
      "    tcp flags & (syn | rst) == syn delete @{3} {{ {4} }}\n"
      "    tcp flags & (syn | rst) == syn delete @{5} {{ {4} }}\n"
      "    tcp flags & (fin | syn | rst) == fin {6} add @{5} {{ {4} }}\n"
      "    tcp flags & (fin | syn | rst) == 0 {4} @{5} {6}\n"
      "    tcp flags & (fin | syn | rst) == 0 {4} != @{5} {7}\n"
      "{8}"
      "    tcp flags & (fin | syn | rst) != 0 {9}\n"
      "    tcp flags & (fin | syn | rst) == 0 {4} != @{3} add @{3} {{ {4} }} {9}\n"
      "    {10}fwd to \"{11}\"\n"
      "  }}\n",
      exit, keep(secs(ipvs.close)), keep(secs(ipvs.syn_recv)), seen, k, closing,
      keep(secs(ipvs.fin_wait)), keep(secs(kDrFlowTimeout)), keep_client, log,
      count.empty() ? "" : count.substr(1) + " ", dev);
  out.rules += fmt::format("    {} goto {}\n", service_matches(s).front(), chain);
}

// One DR service: its rules in the ingress chain (and a chain and map with persistence).
Status dr_service(const TableService& s, const DrHops& hops, const Picks& picks,
                  const Counted* counted, const DrFlows* flows, DrParts& out) {
  TableService reached = s;
  std::erase_if(reached.dests, [&](const TableDest& d) { return !hops.count(d.addr); });
  // Counting after the choice: the new destination MAC selects the real server's counter.
  auto count_rule = [&] {
    std::string count;
    if (!counted) return count;
    if (auto c = counted->find(s.key); c != counted->end()) {
      count = nft_dr_count(s.key, c->second.dests, hops);
      out.maps += nft_dr_counter_objects(s.key, c->second.dests);
    }
    return count;
  };
  if (follows_connections(s.scheduler)) {
    if (s.key.protocol != Protocol::kTcp)
      return make_error(EINVAL, "{}: lvs_sched {} with lb_kind DR follows TCP only", s.key.str(),
                        s.scheduler);
    std::vector<Endpoint> dests;
    for (auto& d : reached.dests) {
      if (d.weight > 0) dests.push_back(d.addr);
    }
    if (dests.empty()) return {};  // no destination reached: the director's own stack answers
    auto dev = dr_device(s, dests, hops, out);
    if (!dev) return dev.error();
    const std::vector<DrFlow>* kept = nullptr;
    if (flows) {
      if (auto f = flows->find(s.key); f != flows->end()) kept = &f->second;
    }
    dr_counted_service(s, hops, picks, kept, *dev, hops.at(dests.front()).ifmac, count_rule(), out);
    return {};
  }
  auto slots = nft_slots(reached);
  if (!slots) return slots.error();
  if (slots->empty()) return {};  // no destination reached: the director's own stack answers
  auto device = dr_device(s, *slots, hops, out);
  if (!device) return device.error();
  const std::string& dev = *device;
  std::string choose;
  if (slots->size() == 1) {
    choose = hops.at(slots->front()).mac.to_string();
  } else {
    std::string map;
    for (size_t i = 0; i < slots->size(); ++i)
      map += fmt::format("{}{} : {}", i ? ", " : "", i, hops.at((*slots)[i]).mac.to_string());
    choose = fmt::format("{} map {{ {} }}", slot_hash(s, slots->size()), map);
  }
  std::string count = count_rule();
  std::string fwd = fmt::format("{}fwd to \"{}\"", count.empty() ? "" : count.substr(1) + " ", dev);
  std::string src = fmt::format("ether saddr set {} ", hops.at(slots->front()).ifmac.to_string());
  if (!s.persistence) {
    out.rules += fmt::format("    {} {}ether daddr set {} {}\n", service_matches(s).front(), src,
                             choose, fwd);
    return {};
  }
  std::string map = name_of("persist", s.key), chain = name_of("svc", s.key);
  std::string key = persistence_key(s);
  std::string remember =
      fmt::format("update @{} {{ {} timeout {}s : ether daddr }}", map, key, timeout_seconds(s));
  out.maps += persist_map(s, "ether_addr");
  out.chains += fmt::format(
      "  chain {} {{\n"
      "    {}ether daddr set {} map @{} {} {}\n"
      "    {}ether daddr set {} {} {}\n"
      "  }}\n",
      chain, src, key, map, remember, fwd, src, choose, remember, fwd);
  out.rules += fmt::format("    {} goto {}\n", service_matches(s).front(), chain);
  return {};
}

}  // namespace

Result<std::string> nft_ruleset(const Table& table, const Picks& picks, const DrHops& hops,
                                const Counted* counted, const DrFlows* flows) {
  std::string rules, maps, remember;
  DrParts dr;
  std::string chains;
  for (auto& s : table) {
    if (s.key.kind == ServiceKey::kAddress && s.key.addr.v6)
      return make_error(EINVAL, "{}: IPv6 is not in the nftables datapath", s.key.str());
    if (s.forwarding == Forwarding::kDr) {
      bool marks = s.key.kind == ServiceKey::kFwmark ||
                   std::any_of(s.group.begin(), s.group.end(),
                               [](const GroupMember& m) { return m.fwmark != 0; });
      if (marks) return make_error(EINVAL, "{}: lb_kind DR cannot match a fwmark", s.key.str());
      if (auto st = dr_service(s, hops, picks, counted, flows, dr); !st) return st.error();
      continue;
    }
    if (s.forwarding != Forwarding::kNat)
      return make_error(EINVAL, "{}: lb_kind {} is not in the nftables datapath", s.key.str(),
                        forwarding_word(s.forwarding));
    bool address = s.key.kind == ServiceKey::kAddress;
    if (!address && (s.persistence || follows_connections(s.scheduler)))
      return make_error(EINVAL,
                        "{}: persistence and lvs_sched {} are per VIP:PORT service in the "
                        "nftables datapath",
                        s.key.str(), s.scheduler);
    std::string match = address ? service_match(s.key) : std::string();
    if (s.persistence) {
      // A known client goes to its real server; the choice of a new one is recorded after DNAT.
      std::string map = name_of("persist", s.key), key = persistence_key(s);
      maps += persist_map(s, "ipv4_addr . inet_service");
      rules += fmt::format("    {} dnat ip to {} map @{}\n", match, key, map);
      remember += fmt::format(
          "    ct direction original ct status dnat ct original ip daddr {} ct original protocol "
          "{} ct original proto-dst {} update @{} {{ {} timeout {}s : ip daddr . th dport }}\n",
          s.key.addr.address_string(), nft_protocol(s.key.protocol), s.key.addr.port, map, key,
          timeout_seconds(s));
    }
    if (follows_connections(s.scheduler)) {
      // One element, rewritten by the daemon as connection counts change (lb/conn_counts.hh).
      std::string name = nft_pick_map(s.key);
      auto p = picks.find(s.key);
      maps += fmt::format("  map {} {{\n    type ipv4_addr : ipv4_addr . inet_service;\n", name);
      if (p != picks.end())
        maps += fmt::format("    elements = {{ {} }}\n", pick_element(s.key, p->second));
      maps += "  }\n";
      rules += fmt::format("    {} dnat ip to ip daddr map @{}\n", match, name);
      continue;
    }
    auto slots = nft_slots(s);
    if (!slots) return slots.error();
    if (slots->empty()) continue;  // no destination: nothing rewritten
    std::string dnat;
    if (slots->size() == 1) {
      const Endpoint& e = slots->front();
      dnat = e.port ? fmt::format("dnat ip to {}", e.to_string())
                    : fmt::format("dnat ip to {}", e.address_string());
    } else {
      std::string map;
      for (size_t i = 0; i < slots->size(); ++i)
        map += fmt::format("{}{} : {}", i ? ", " : "", i, map_target((*slots)[i]));
      std::string key = s.scheduler == "rr" || s.scheduler == "wrr"
                            ? fmt::format("numgen inc mod {}", slots->size())
                            : slot_hash(s, slots->size());
      dnat = fmt::format("dnat ip to {} map {{ {} }}", key, map);
    }
    if (address) {
      rules += fmt::format("    {} {}\n", match, dnat);
      continue;
    }
    // Several matches share one choice (one numgen counter): a chain they jump to. A port
    // mapping needs the transport protocol in the chain's own rule.
    std::string chain = name_of("svc", s.key);
    chains += fmt::format("  chain {} {{\n    {} {}\n  }}\n", chain, kAnyL4, dnat);
    for (auto& m : service_matches(s)) rules += fmt::format("    {} goto {}\n", m, chain);
  }
  std::string out = fmt::format(
      "table ip {0} {{}}\n"
      "delete table ip {0}\n"
      "table netdev {3} {{}}\n"
      "delete table netdev {3}\n"
      "table ip {0} {{\n"
      "{2}{4}"
      "  chain services {{\n"
      "{1}"
      "  }}\n"
      "  chain prerouting {{\n"
      "    type nat hook prerouting priority dstnat; policy accept;\n"
      "    jump services\n"
      "  }}\n"
      "  chain output {{\n"
      "    type nat hook output priority -100; policy accept;\n"
      "    jump services\n"
      "  }}\n",
      kNftTable, rules, maps, kNftDrTable, chains);
  if (!remember.empty()) {
    out += fmt::format(
        "  chain remember {{\n"
        "{}"
        "  }}\n"
        "  chain forward {{\n"
        "    type filter hook forward priority 0; policy accept;\n"
        "    jump remember\n"
        "  }}\n"
        "  chain output_remember {{\n"
        "    type filter hook output priority 0; policy accept;\n"
        "    jump remember\n"
        "  }}\n",
        remember);
  }
  out += "}\n";
  if (!dr.devices.empty()) {
    std::string devices;
    for (auto& d : dr.devices) devices += fmt::format("{}\"{}\"", devices.empty() ? "" : ", ", d);
    out += fmt::format(
        "table netdev {} {{\n"
        "{}{}"
        "  chain ingress {{\n"
        "    type filter hook ingress devices = {{ {} }} priority 0; policy accept;\n"
        "{}"
        "  }}\n"
        "}}\n",
        kNftDrTable, dr.maps, dr.chains, devices, dr.rules);
  }
  return out;
}

std::string nft_delete_ruleset() {
  return fmt::format(
      "table ip {0} {{}}\ndelete table ip {0}\ntable netdev {1} {{}}\n"
      "delete table netdev {1}\n",
      kNftTable, kNftDrTable);
}

}  // namespace vnet::lb
