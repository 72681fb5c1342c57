#include "lb/nft_ruleset.hh"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

#include "lb/keepalived_conf.hh"
#include "lb/scheduler.hh"

namespace vnet::lb {
namespace {

std::string_view proto_word(Protocol p) {
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

}  // namespace

std::vector<std::string> nft_refusals(const LbConfig& config) {
  std::vector<std::string> out;
  for (auto& vs : config.services) {
    std::string at =
        fmt::format("{}: virtual_server {}: ", vs.where.str(), keepalived_vs_name(vs.key));
    auto refuse = [&](const std::string& why) { out.push_back(at + why); };
    if (vs.key.kind != ServiceKey::kAddress) {
      refuse(
          "fwmark and group services need IPVS; the nftables datapath serves IP PORT services "
          "only");
      continue;
    }
    if (vs.key.addr.v6) refuse("IPv6: the nftables datapath serves IPv4 services only");
    if (vs.key.addr.port == 0) refuse("port 0: the nftables datapath needs the service's port");
    if (vs.forwarding != Forwarding::kNat)
      refuse(fmt::format(
          "lb_kind {}: the nftables datapath does NAT only (no DR or TUN forwarding yet)",
          forwarding_word(vs.forwarding)));
    if (vs.scheduler != "rr" && vs.scheduler != "wrr" && vs.scheduler != "sh" &&
        !follows_connections(vs.scheduler))
      refuse(fmt::format("lvs_sched {}: the nftables datapath has rr, wrr, sh, lc and wlc",
                         vs.scheduler));
    if (!vs.sched_flags.empty())
      refuse("scheduler flags (" + vs.sched_flags.front() + "): not in the nftables datapath");
    if (vs.persistence_timeout)
      refuse("persistence_timeout: the nftables datapath has no persistence (use lvs_sched sh)");
    auto check_real = [&](const Endpoint& e, const Where& w, std::string_view what) {
      if (e.v6)
        out.push_back(fmt::format("{}: {} {}: IPv6: the nftables datapath serves IPv4 only",
                                  w.str(), what, e.to_string()));
      if (e.port == 0)
        out.push_back(fmt::format("{}: {} {}: port 0: the nftables datapath needs a port", w.str(),
                                  what, e.to_string()));
    };
    if (vs.sorry_server) check_real(*vs.sorry_server, vs.where, "sorry_server");
    long sum = 0, g = 0;
    for (auto& r : vs.reals) {
      check_real(r.addr, r.where, "real_server");
      sum += r.weight;
      g = std::gcd(g, long(r.weight));
      for (auto& c : r.checkers) {
        if (c.type == CheckerType::kTcp || c.type == CheckerType::kHttp ||
            c.type == CheckerType::kSsl || c.type == CheckerType::kMisc)
          continue;
        out.push_back(fmt::format(
            "{}: {}: no prober for this checker yet (TCP_CHECK, HTTP_GET, SSL_GET and MISC_CHECK "
            "run)",
            c.where.str(), checker_keyword(c.type)));
      }
    }
    if (vs.scheduler == "wrr" && g > 0 && size_t(sum / g) > kMaxMapEntries)
      refuse(fmt::format("lvs_sched wrr: weights need {} map entries, more than {}", sum / g,
                         kMaxMapEntries));
  }
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
  } else {
    return make_error(EINVAL, "{}: lvs_sched {} is not in the nftables datapath", s.key.str(),
                      s.scheduler);
  }
  return slots;
}

bool follows_connections(std::string_view scheduler) {
  return scheduler == "lc" || scheduler == "wlc";
}

std::string nft_pick_map(const ServiceKey& key) {
  std::string a = key.addr.address_string();
  std::replace(a.begin(), a.end(), '.', '_');
  return fmt::format("pick_{}_{}_{}", proto_word(key.protocol), a, key.addr.port);
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

Result<std::string> nft_ruleset(const Table& table, const Picks& picks) {
  std::string rules, maps;
  for (auto& s : table) {
    if (s.key.kind != ServiceKey::kAddress || s.key.addr.v6)
      return make_error(EINVAL, "{}: not in the nftables datapath", s.key.str());
    if (follows_connections(s.scheduler)) {
      // One element, rewritten by the daemon as connection counts change (lb/conn_counts.hh).
      std::string name = nft_pick_map(s.key);
      auto p = picks.find(s.key);
      maps += fmt::format("  map {} {{\n    type ipv4_addr : ipv4_addr . inet_service;\n", name);
      if (p != picks.end())
        maps += fmt::format("    elements = {{ {} }}\n", pick_element(s.key, p->second));
      maps += "  }\n";
      rules += fmt::format("    ip daddr {} {} dport {} dnat ip to ip daddr map @{}\n",
                           s.key.addr.address_string(), proto_word(s.key.protocol), s.key.addr.port,
                           name);
      continue;
    }
    auto slots = nft_slots(s);
    if (!slots) return slots.error();
    if (slots->empty()) continue;  // no destination: nothing rewritten
    std::string match = fmt::format("ip daddr {} {} dport {}", s.key.addr.address_string(),
                                    proto_word(s.key.protocol), s.key.addr.port);
    if (slots->size() == 1) {
      rules += fmt::format("    {} dnat ip to {}\n", match, slots->front().to_string());
      continue;
    }
    std::string map;
    for (size_t i = 0; i < slots->size(); ++i) {
      map += fmt::format("{}{} : {} . {}", i ? ", " : "", i, (*slots)[i].address_string(),
                         (*slots)[i].port);
    }
    std::string key = s.scheduler == "sh"
                          ? fmt::format("jhash ip saddr mod {} seed 0x0", slots->size())
                          : fmt::format("numgen inc mod {}", slots->size());
    rules += fmt::format("    {} dnat ip to {} map {{ {} }}\n", match, key, map);
  }
  return fmt::format(
      "table ip {0} {{}}\n"
      "delete table ip {0}\n"
      "table ip {0} {{\n"
      "{2}"
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
      "  }}\n"
      "}}\n",
      kNftTable, rules, maps);
}

std::string nft_delete_ruleset() {
  return fmt::format("table ip {0} {{}}\ndelete table ip {0}\n", kNftTable);
}

}  // namespace vnet::lb
