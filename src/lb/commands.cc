#include "lb/commands.hh"

#include <fmt/format.h>

namespace vnet::lb {
namespace {

const char* forwarding_name(Forwarding f) {
  switch (f) {
    case Forwarding::kNat:
      return "Masq";
    case Forwarding::kDr:
      return "Route";
    case Forwarding::kTun:
      return "Tunnel";
  }
  return "?";
}

constexpr const char* kCounterFields[] = {"conns", "inpkts", "outpkts", "inbytes", "outbytes"};

// {conns, inpkts, outpkts, inbytes, outbytes}: null each when not counted.
void put_counters(nlohmann::json& j, const Counters* c, bool conns_counted) {
  if (!c) {
    for (auto* f : kCounterFields) j[f] = nullptr;
    return;
  }
  j["conns"] = conns_counted ? nlohmann::json(c->conns) : nlohmann::json(nullptr);
  j["inpkts"] = c->inpkts;
  j["outpkts"] = c->outpkts;
  j["inbytes"] = c->inbytes;
  j["outbytes"] = c->outbytes;
}

std::string counter_cell(const nlohmann::json& v) {
  return v.is_null() ? "-" : std::to_string(v.get<uint64_t>());
}

// ipvsadm -Ln --stats's columns: Conns InPkts OutPkts InBytes OutBytes.
std::string counter_cells(const nlohmann::json& j) {
  std::string out;
  for (auto* f : kCounterFields) out += fmt::format(" {:>8}", counter_cell(j[f]));
  return out;
}

}  // namespace

nlohmann::json show_json(const Director& d, TimePoint now) {
  auto stats = d.stats();
  return show_json(d, now, stats ? *stats : Stats{});
}

nlohmann::json show_json(const Director& d, TimePoint now, const Stats& stats) {
  nlohmann::json out = nlohmann::json::array();
  const Balancer* b = d.balancer();
  if (!b) return out;
  const auto& services = b->config().services;
  for (size_t s = 0; s < services.size(); ++s) {
    const auto& vs = services[s];
    const TableService* ts = nullptr;
    for (auto& t : b->table()) {
      if (t.key == vs.key) ts = &t;
    }
    auto in_table = [ts](const Endpoint& e) -> std::optional<int> {
      if (!ts) return std::nullopt;
      for (auto& dst : ts->dests) {
        if (dst.addr == e) return dst.weight;
      }
      return std::nullopt;
    };
    const ServiceCounters* sc = nullptr;
    if (auto it = stats.find(vs.key); it != stats.end()) sc = &it->second;
    auto counters_of = [sc](const Endpoint& e) -> const Counters* {
      static const Counters kZero{};
      if (!sc) return nullptr;
      auto it = sc->dests.find(e);
      return it == sc->dests.end() ? &kZero : &it->second;
    };
    nlohmann::json reals = nlohmann::json::array();
    for (size_t r = 0; r < vs.reals.size(); ++r) {
      const auto& rs = vs.reals[r];
      nlohmann::json checkers = nlohmann::json::array();
      for (size_t c = 0; c < rs.checkers.size(); ++c) {
        CheckerRef ref{s, r, c};
        nlohmann::json last = nullptr;
        if (auto* l = d.last(ref)) {
          last = {{"success", l->success},
                  {"detail", l->detail},
                  {"age_ms",
                   std::chrono::duration_cast<std::chrono::milliseconds>(now - l->at).count()}};
        }
        checkers.push_back({{"type", std::string(checker_keyword(rs.checkers[c].type))},
                            {"up", b->checker(ref).up()},
                            {"last", last}});
      }
      auto w = in_table(rs.addr);
      // Connection counts: the datapath's own (IPVS, every service), else followed by the
      // director for the connection-count schedulers only (lb/conn_counts.hh).
      nlohmann::json active = nullptr, inactive = nullptr;
      if (sc && sc->live_counted) {
        auto it = sc->live.find(rs.addr);
        DestCounts n = it == sc->live.end() ? DestCounts{} : it->second;
        active = n.active;
        inactive = n.inactive;
      } else if (follows_connections(vs.scheduler)) {
        DestCounts n = d.conn_counts(vs.key, vs.forwarding, rs.addr);
        active = n.active;
        inactive = n.inactive;
      }
      reals.push_back({{"address", rs.addr.to_string()},
                       {"active_conns", active},
                       {"inactive_conns", inactive},
                       {"weight", b->real_weight(s, r)},
                       {"configured_weight", rs.weight},
                       {"alive", b->real_alive(s, r)},
                       {"in_table", w.has_value()},
                       {"table_weight", w ? nlohmann::json(*w) : nlohmann::json(nullptr)},
                       {"checkers", checkers}});
      put_counters(reals.back(), counters_of(rs.addr), sc && sc->conns_counted);
    }
    nlohmann::json sorry = nullptr;
    if (vs.sorry_server) {
      auto w = in_table(*vs.sorry_server);
      sorry = {{"address", vs.sorry_server->to_string()}, {"in_table", w.has_value()}};
      put_counters(sorry, counters_of(*vs.sorry_server), sc && sc->conns_counted);
    }
    nlohmann::json next = nullptr;
    if (auto it = d.picks().find(vs.key); it != d.picks().end()) next = it->second.to_string();
    out.push_back({{"service", vs.key.str()},
                   {"scheduler", vs.scheduler},
                   {"next", next},
                   {"forwarding", forwarding_name(vs.forwarding)},
                   {"quorum_up", b->quorum_up(s)},
                   {"reals", reals},
                   {"sorry_server", sorry}});
    Counters total;
    if (sc) total = sc->total();
    put_counters(out.back(), sc ? &total : nullptr, sc && sc->conns_counted);
  }
  return out;
}

void register_commands(console::Registry& reg, const Director& director, const Clock& clock) {
  reg.add(
      "lb/show", "", "virtual servers and real servers (ipvsadm -Ln), with checker results",
      [&director, &clock](console::Session&,
                          const std::vector<std::string>&) -> Result<console::Reply> {
        console::Reply r;
        auto stats = director.stats();
        r.json = show_json(director, clock.now(), stats ? *stats : Stats{});
        r.text =
            "Prot LocalAddress:Port Scheduler\n"
            "  -> RemoteAddress:Port           Forward Weight State [conns active/inactive] "
            "Checker\n";
        for (auto& s : r.json) {
          r.text += fmt::format("{} {}{}\n", s["service"].get<std::string>(),
                                s["scheduler"].get<std::string>(),
                                s["quorum_up"].get<bool>() ? "" : " (quorum down)");
          for (auto& rs : s["reals"]) {
            std::string checks;
            for (auto& c : rs["checkers"]) {
              checks +=
                  " " + c["type"].get<std::string>() + (c["up"].get<bool>() ? " up" : " down");
              if (!c["last"].is_null())
                checks += fmt::format(" ({}, {} ms ago)", c["last"]["detail"].get<std::string>(),
                                      c["last"]["age_ms"].get<long>());
            }
            std::string conns;
            if (!rs["active_conns"].is_null())
              conns = fmt::format(" conns {}/{}", rs["active_conns"].get<int>(),
                                  rs["inactive_conns"].get<int>());
            r.text +=
                fmt::format("  -> {:<28} {:<7} {:<6} {:<5}{}{}\n", rs["address"].get<std::string>(),
                            s["forwarding"].get<std::string>(),
                            rs["in_table"].get<bool>() ? rs["table_weight"].dump() : "-",
                            rs["alive"].get<bool>() ? "up" : "down", conns, checks);
          }
        }
        // The counters, as `ipvsadm -Ln --stats` lists them ("-": not counted).
        r.text += fmt::format("\n{:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n  -> {}\n",
                              "Prot LocalAddress:Port", "Conns", "InPkts", "OutPkts", "InBytes",
                              "OutBytes", "RemoteAddress:Port");
        if (!stats) r.text += fmt::format("(counters unavailable: {})\n", stats.error().message);
        for (auto& s : r.json) {
          r.text += fmt::format("{:<33}{}\n", s["service"].get<std::string>(), counter_cells(s));
          for (auto& rs : s["reals"])
            r.text +=
                fmt::format("  -> {:<28}{}\n", rs["address"].get<std::string>(), counter_cells(rs));
          if (!s["sorry_server"].is_null())
            r.text += fmt::format("  -> {:<28}{}\n",
                                  s["sorry_server"]["address"].get<std::string>() + " (sorry)",
                                  counter_cells(s["sorry_server"]));
        }
        return r;
      });
}

}  // namespace vnet::lb
