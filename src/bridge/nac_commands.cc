// Console commands of port access control (IEEE 802.1X-2010, bridge/port_access.hh), on the
// session's bridge:
//   port/auth N off|dot1x|mac|dot1x,mac|mac,dot1x|force-authorized|force-unauthorized
//             [NAME=VALUE ...]
//                          what port N requires before it forwards (dot1x and mac need a
//                          RADIUS server first; the fallback order is the list's), and its
//                          timers (txPeriod=5s quietPeriod=10s …, bridge/port_access.hh)
//   nac/radius HOST[:PORT] SECRET   the RADIUS server (IP literal, port 1812 by default) and its
//                          shared secret, which is required; setting it restarts every session
//   nac/show               per port: methods, state, authorised, supplicant MAC, identity,
//                          method, assigned VLAN, why an accept was refused, counters
//                          (text and --json); the secret is never shown
#include <fmt/format.h>

#include "bridge/commands.hh"
#include "bridge/port_access.hh"

namespace vnet::bridge {
namespace {

using console::Reply;
using console::Session;
using Args = std::vector<std::string>;
using nlohmann::json;

// The timers in effect, durations in milliseconds.
json timers_json(const nac::AuthConfig& c) {
  auto ms = [](Duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
  };
  return {{"txPeriod_ms", ms(c.tx_period)},
          {"reAuthMax", c.reauth_max},
          {"quietPeriod_ms", ms(c.quiet_period)},
          {"suppTimeout_ms", ms(c.supp_timeout)},
          {"maxReq", c.max_retrans},
          {"serverTimeout_ms", ms(c.radius_timeout)},
          {"serverRetries", c.radius_retries},
          {"reAuthPeriod_ms", c.reauth_enabled ? ms(c.reauth_period) : 0}};
}

json counters_json(const nac::AuthCounters& c, uint64_t malformed) {
  return {{"eapol_rx", c.eapol_rx},
          {"eapol_tx", c.eapol_tx},
          {"eapol_malformed", c.eapol_malformed + malformed},
          {"radius_tx", c.radius_tx},
          {"radius_retransmits", c.radius_retransmits},
          {"radius_rx", c.radius_rx},
          {"radius_dropped", c.radius_dropped},
          {"accepts", c.accepts},
          {"rejects", c.rejects},
          {"radius_timeouts", c.radius_timeouts},
          {"supplicant_timeouts", c.supp_timeouts},
          {"logoffs", c.logoffs}};
}

Reply show(const Bridge& br, const PortAccess* access, uint64_t io_errors) {
  Reply r;
  r.json = {{"bridge", br.name()},
            {"radius", nullptr},
            {"radius_io_errors", io_errors},
            {"ports", json::array()}};
  if (access && access->server()) {
    const RadiusServer& s = *access->server();
    r.json["radius"] = {{"host", s.host}, {"port", s.port}};
    r.text = fmt::format("bridge {}: RADIUS server {}:{}\n", br.name(), s.host, s.port);
  } else {
    r.text = fmt::format("bridge {}: no RADIUS server\n", br.name());
  }
  if (!access || access->empty()) {
    r.text += "no port authenticates\n";
    return r;
  }
  r.text += fmt::format(" {:>5} {:<18} {:<18} {:<4} {:<17} {:<6} {:>4} {}\n", "port", "auth",
                        "state", "open", "supplicant", "method", "vlan", "identity / counters");
  for (const auto& v : access->ports()) {
    json j = {{"port", v.port},
              {"auth", port_auth_name(v.settings)},
              {"state", nac::port_state_name(v.state)},
              {"authorized", v.authorized},
              {"supplicant", v.supplicant ? json(v.supplicant->to_string()) : json(nullptr)},
              {"identity", v.identity},
              {"method", v.method ? json(method_name(*v.method)) : json(nullptr)},
              {"vlan", v.vlan ? json(*v.vlan) : json(nullptr)},
              {"refused", v.refused.empty() ? json(nullptr) : json(v.refused)},
              {"last_failure", v.last_failure.empty() ? json(nullptr) : json(v.last_failure)},
              {"timers", timers_json(v.config)},
              {"counters", counters_json(v.counters, v.malformed)}};
    r.json["ports"].push_back(j);
    const auto& c = v.counters;
    r.text += fmt::format(
        " {:>5} {:<18} {:<18} {:<4} {:<17} {:<6} {:>4} {}\n"
        "       eapol rx {} tx {} malformed {}; radius tx {} retransmits {} rx {} dropped {} "
        "timeouts {}; accepts {} rejects {} logoffs {}{}{}{}\n",
        v.port, port_auth_name(v.settings), nac::port_state_name(v.state),
        v.authorized ? "yes" : "no", v.supplicant ? v.supplicant->to_string() : "-",
        v.method ? method_name(*v.method) : "-", v.vlan ? std::to_string(*v.vlan) : "-",
        v.identity.empty() ? "-" : v.identity, c.eapol_rx, c.eapol_tx,
        c.eapol_malformed + v.malformed, c.radius_tx, c.radius_retransmits, c.radius_rx,
        c.radius_dropped, c.radius_timeouts, c.accepts, c.rejects, c.logoffs,
        v.refused.empty() ? "" : "\n       refused: " + v.refused,
        v.last_failure.empty() ? "" : "\n       last failure: " + v.last_failure,
        v.settings.timers == AuthTimers{}
            ? ""
            : fmt::format("\n       timers: {}",
                          fmt::join(auth_timer_words(v.settings.timers), " ")));
  }
  return r;
}

}  // namespace

void register_nac_commands(console::Registry& reg, Dataplane& dp, const Clock& clock) {
  auto on_bridge = [&dp](auto fn) {
    return [&dp, fn](Session& s, const Args& a) -> Result<Reply> {
      auto b = session_bridge(dp, s);
      if (!b) return b.error();
      return fn(**b, a);
    };
  };
  reg.add("port/auth",
          "N off|dot1x|mac|dot1x,mac|mac,dot1x|force-authorized|force-unauthorized [NAME=VALUE "
          "...]",
          "802.1X / MAC authentication on port N (IEEE 802.1X-2010; RADIUS from nac/radius); "
          "timers txPeriod, reAuthMax, quietPeriod, suppTimeout, maxReq, serverTimeout, "
          "serverRetries, reAuthPeriod",
          on_bridge([&dp, &clock](Bridge& b, const Args& a) -> Result<Reply> {
            if (a.size() < 2)
              return make_error(EINVAL,
                                "usage: port/auth N off|dot1x|mac|dot1x,mac|mac,dot1x|"
                                "force-authorized|force-unauthorized [NAME=VALUE ...]");
            auto p = existing_port(b, a[0]);
            if (!p) return p.error();
            auto s = parse_port_auth_words(Args(a.begin() + 1, a.end()));
            if (!s) return s.error();
            if (!*s && !dp.find_port_access(b)) return Reply{};
            if (auto st = dp.port_access(b).set_port(*p, *s, clock.now()); !st) return st.error();
            dp.nac_changed();
            return Reply{};
          }));
  reg.add("nac/radius", "HOST[:PORT] SECRET",
          "the RADIUS server (IP address, port 1812 by default) and its shared secret",
          on_bridge([&dp, &clock](Bridge& b, const Args& a) -> Result<Reply> {
            if (a.size() == 1)
              return make_error(EINVAL,
                                "nac/radius {}: the shared secret is missing (RFC 2865 §3 requires "
                                "one): usage: nac/radius HOST[:PORT] SECRET",
                                a[0]);
            if (a.size() != 2) return make_error(EINVAL, "usage: nac/radius HOST[:PORT] SECRET");
            auto s = parse_radius_server(a[0], a[1]);
            if (!s) return s.error();
            dp.set_radius_server(b, std::move(*s), clock.now());
            return Reply{};
          }));
  reg.add("nac/show", "", "port access control: every authenticating port's state and counters",
          on_bridge([&dp](Bridge& b, const Args& a) -> Result<Reply> {
            if (!a.empty()) return make_error(EINVAL, "usage: nac/show");
            return show(b, dp.find_port_access(b), dp.radius_io_errors());
          }));
}

}  // namespace vnet::bridge
