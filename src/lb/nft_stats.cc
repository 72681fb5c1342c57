#include "lb/nft_stats.hh"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace vnet::lb {
namespace {

std::string underscored(const Endpoint& e) {
  std::string a = e.address_string();
  std::replace(a.begin(), a.end(), '.', '_');
  return fmt::format("{}_{}", a, e.port);
}

bool countable(const TableService& s) {
  return s.key.kind == ServiceKey::kAddress && !s.key.addr.v6 &&
         (s.forwarding == Forwarding::kNat || s.forwarding == Forwarding::kDr);
}

// `ct original ...`: the connection's service, whatever the packet's direction.
std::string original_service(const ServiceKey& k) {
  return fmt::format("ct original ip daddr {} ct original protocol {} ct original proto-dst {}",
                     k.addr.address_string(), nft_protocol(k.protocol), k.addr.port);
}

// "{ 10.1.0.1 . 8000 : "in_...", ... }": the real server (address . port) to its counter.
std::string counter_map(std::string_view prefix, const ServiceKey& k,
                        const std::vector<Endpoint>& dests) {
  std::string m;
  for (auto& d : dests)
    m += fmt::format("{}{} . {} : \"{}\"", m.empty() ? "" : ", ", d.address_string(), d.port,
                     nft_counter_name(prefix, k, d));
  return "{ " + m + " }";
}

constexpr std::string_view kPrefixes[] = {"in", "out", "conn"};

}  // namespace

std::string nft_counter_name(std::string_view prefix, const ServiceKey& service,
                             const Endpoint& dest) {
  return fmt::format("{}_{}_{}_{}", prefix, nft_protocol(service.protocol),
                     underscored(service.addr), underscored(dest));
}

Counted nft_counted(const Table& table, const Counted& previous) {
  Counted out;
  for (auto& s : table) {
    if (!countable(s)) continue;
    CountedService& c = out[s.key];
    c.forwarding = s.forwarding;
    for (auto& d : s.dests) c.dests.push_back(d.addr);
    auto p = previous.find(s.key);
    if (p != previous.end() && p->second.forwarding == s.forwarding)
      c.dests.insert(c.dests.end(), p->second.dests.begin(), p->second.dests.end());
    std::sort(c.dests.begin(), c.dests.end());
    c.dests.erase(std::unique(c.dests.begin(), c.dests.end()), c.dests.end());
  }
  return out;
}

std::string nft_delete_stats() {
  return fmt::format("table ip {0} {{}}\ndelete table ip {0}\n", kNftStatsTable);
}

std::string nft_stats_ruleset(const Counted& counted, const Counted& previous, bool fresh) {
  bool any = std::any_of(counted.begin(), counted.end(),
                         [](auto& c) { return c.second.forwarding == Forwarding::kNat; });
  if (!any) return nft_delete_stats();
  std::string out;
  if (fresh) {
    out = nft_delete_stats();
  } else {
    out = fmt::format("table ip {0} {{}}\nflush table ip {0}\n", kNftStatsTable);
    // Counters of real servers no longer counted (their service left, or changed method).
    for (auto& [key, p] : previous) {
      if (p.forwarding != Forwarding::kNat) continue;
      auto c = counted.find(key);
      for (auto& d : p.dests) {
        if (c != counted.end() && c->second.forwarding == Forwarding::kNat &&
            std::binary_search(c->second.dests.begin(), c->second.dests.end(), d))
          continue;
        for (auto prefix : kPrefixes)
          out += fmt::format("delete counter ip {} {}\n", kNftStatsTable,
                             nft_counter_name(prefix, key, d));
      }
    }
  }
  std::string counters, count, conns;
  for (auto& [key, c] : counted) {
    if (c.forwarding != Forwarding::kNat || c.dests.empty()) continue;
    for (auto& d : c.dests) {
      for (auto prefix : kPrefixes)
        counters += fmt::format("  counter {} {{\n  }}\n", nft_counter_name(prefix, key, d));
    }
    std::string svc = original_service(key);
    count += fmt::format(
        "    ct direction original {} counter name ip daddr . th dport map {}\n"
        "    ct direction reply {} counter name ip saddr . th sport map {}\n",
        svc, counter_map("in", key, c.dests), svc, counter_map("out", key, c.dests));
    conns += fmt::format("    ct status dnat {} counter name ip daddr . th dport map {}\n", svc,
                         counter_map("conn", key, c.dests));
  }
  out += fmt::format(
      "table ip {0} {{\n"
      "{1}"
      "  chain count {{\n"
      "{2}"
      "  }}\n"
      "  chain forward {{\n"
      "    type filter hook forward priority 0; policy accept;\n"
      "    ct status dnat jump count\n"
      "  }}\n"
      "  chain input {{\n"
      "    type filter hook input priority 0; policy accept;\n"
      "    ct status dnat jump count\n"
      "  }}\n"
      "  chain output {{\n"
      "    type filter hook output priority 0; policy accept;\n"
      "    ct status dnat jump count\n"
      "  }}\n"
      "  chain conns {{\n"
      "    type nat hook postrouting priority srcnat - 1; policy accept;\n"
      "{3}"
      "  }}\n"
      "}}\n",
      kNftStatsTable, counters, count, conns);
  return out;
}

std::string nft_dr_count(const ServiceKey& service, const std::vector<Endpoint>& counted,
                         const DrHops& hops) {
  std::string m;
  std::vector<packet::MacAddress> seen;
  for (auto& d : counted) {
    auto h = hops.find(d);
    if (h == hops.end()) continue;
    if (std::find(seen.begin(), seen.end(), h->second.mac) != seen.end()) continue;
    seen.push_back(h->second.mac);
    m += fmt::format("{}{} : \"{}\"", m.empty() ? "" : ", ", h->second.mac.to_string(),
                     nft_counter_name("in", service, d));
  }
  if (m.empty()) return "";
  return fmt::format(" counter name ether daddr map {{ {} }}", m);
}

std::string nft_dr_counter_objects(const ServiceKey& service,
                                   const std::vector<Endpoint>& counted) {
  std::string out;
  for (auto& d : counted)
    out += fmt::format("  counter {} {{\n  }}\n", nft_counter_name("in", service, d));
  return out;
}

Result<NftCounters> parse_nft_counters(std::string_view json, std::string_view table) {
  auto doc = nlohmann::json::parse(json, nullptr, false);
  if (doc.is_discarded()) return make_error(EBADMSG, "nft counters: not JSON");
  if (!doc.is_object() || !doc.contains("nftables") || !doc["nftables"].is_array())
    return make_error(EBADMSG, "nft counters: expected an object with an \"nftables\" array");
  NftCounters out;
  for (auto& item : doc["nftables"]) {
    if (!item.is_object() || !item.contains("counter")) continue;  // metainfo
    auto& c = item["counter"];
    if (!c.is_object() || !c.contains("name") || !c["name"].is_string())
      return make_error(EBADMSG, "nft counters: a counter without a name: {}", c.dump());
    if (!c.contains("table") || !c["table"].is_string())
      return make_error(EBADMSG, "nft counters: counter {} without a table",
                        c["name"].get<std::string>());
    if (c["table"].get<std::string>() != table) continue;
    for (const char* f : {"packets", "bytes"}) {
      if (!c.contains(f) || !c[f].is_number_unsigned())
        return make_error(EBADMSG, "nft counters: counter {}: \"{}\" is not an unsigned number",
                          c["name"].get<std::string>(), f);
    }
    out[c["name"].get<std::string>()] =
        NftCounter{c["packets"].get<uint64_t>(), c["bytes"].get<uint64_t>()};
  }
  return out;
}

Stats nft_stats(const Counted& counted, const NftCounters& live, const NftCounters& carried) {
  auto read = [&](const std::string& name) {
    NftCounter n;
    for (auto* m : {&live, &carried}) {
      if (auto it = m->find(name); it != m->end()) {
        n.packets += it->second.packets;
        n.bytes += it->second.bytes;
      }
    }
    return n;
  };
  Stats out;
  for (auto& [key, c] : counted) {
    ServiceCounters& sc = out[key];
    sc.conns_counted = c.forwarding == Forwarding::kNat;
    for (auto& d : c.dests) {
      Counters& x = sc.dests[d];
      NftCounter in = read(nft_counter_name("in", key, d));
      x.inpkts = in.packets;
      x.inbytes = in.bytes;
      if (c.forwarding != Forwarding::kNat) continue;
      NftCounter o = read(nft_counter_name("out", key, d));
      x.outpkts = o.packets;
      x.outbytes = o.bytes;
      x.conns = read(nft_counter_name("conn", key, d)).packets;
    }
  }
  return out;
}

}  // namespace vnet::lb
