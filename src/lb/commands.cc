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

}  // namespace

nlohmann::json show_json(const Director& d, TimePoint now) {
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
      // Connection counts are followed for the connection-count schedulers only
      // (lb/conn_counts.hh).
      nlohmann::json active = nullptr, inactive = nullptr;
      if (follows_connections(vs.scheduler)) {
        DestCounts n = d.conn_counts().counts(vs.key, rs.addr);
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
    }
    nlohmann::json sorry = nullptr;
    if (vs.sorry_server) {
      auto w = in_table(*vs.sorry_server);
      sorry = {{"address", vs.sorry_server->to_string()}, {"in_table", w.has_value()}};
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
  }
  return out;
}

void register_commands(console::Registry& reg, const Director& director, const Clock& clock) {
  reg.add("lb/show", "", "virtual servers and real servers (ipvsadm -Ln), with checker results",
          [&director, &clock](console::Session&,
                              const std::vector<std::string>&) -> Result<console::Reply> {
            console::Reply r;
            r.json = show_json(director, clock.now());
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
                    checks +=
                        fmt::format(" ({}, {} ms ago)", c["last"]["detail"].get<std::string>(),
                                    c["last"]["age_ms"].get<long>());
                }
                std::string conns;
                if (!rs["active_conns"].is_null())
                  conns = fmt::format(" conns {}/{}", rs["active_conns"].get<int>(),
                                      rs["inactive_conns"].get<int>());
                r.text += fmt::format("  -> {:<28} {:<7} {:<6} {:<5}{}{}\n",
                                      rs["address"].get<std::string>(),
                                      s["forwarding"].get<std::string>(),
                                      rs["in_table"].get<bool>() ? rs["table_weight"].dump() : "-",
                                      rs["alive"].get<bool>() ? "up" : "down", conns, checks);
              }
            }
            return r;
          });
}

}  // namespace vnet::lb
