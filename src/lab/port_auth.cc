#include "lab/port_auth.hh"

#include <fmt/format.h>

#include "lab/reader.hh"

namespace vnet::lab {
namespace {

const std::vector<std::string> kMethods = {
    "dot1x", "mac", "dot1x,mac", "mac,dot1x", "force-authorized", "force-unauthorized"};

std::vector<KeySpec> timer_specs() {
  std::vector<KeySpec> out;
  for (const auto& k : bridge::auth_timer_keys()) {
    nlohmann::json s = k.count ? schema::integer(0, k.max) : schema::ref("duration");
    if (k.name == "reAuthPeriod")
      s = schema::one_of({schema::ref("duration"), schema::enumeration({"off"})});
    out.push_back({std::string(k.name), s, fmt::format("{} (default {})", k.doc, k.dflt)});
  }
  return out;
}

// A scalar as the console word would carry it ("5s", "2").
std::optional<std::string> scalar(const YAML::Node& n, Reader& r, const std::string& what) {
  if (!n.IsScalar()) {
    r.error(n, fmt::format("{}: expected a single value", what));
    return std::nullopt;
  }
  return n.Scalar();
}

}  // namespace

const KeyTable& auth_timer_table() {
  static const KeyTable t{"authTimers", timer_specs()};
  return t;
}

const KeyTable& port_auth_table() {
  static const KeyTable t = [] {
    KeyTable t{
        "portAuth",
        {{"methods", schema::enumeration(kMethods),
          "what the port requires before it forwards; with both, the fallback order", true}}};
    for (auto& k : timer_specs()) t.keys.push_back(k);
    return t;
  }();
  return t;
}

const KeyTable& radius_table() {
  static const KeyTable t{
      "radius",
      {{"server", schema::string("HOST[:PORT]"),
        "the RADIUS authentication server: an IPv4 or IPv6 address (`[V6]:PORT`), port 1812 by "
        "default; names are not resolved. The switch reaches it from the dataplane's namespace "
        "(see `management`)",
        true},
       {"secret", schema::string("shared secret"),
        "the RADIUS shared secret (RFC 2865 §3 requires one); no spaces", true}}};
  return t;
}

const KeyTable& management_table() {
  static const KeyTable t{
      "management",
      {{"vlan", schema::ref("vid"), "the management VLAN (declared on the switch)", true},
       {"address", schema::ref("prefix"),
        "the switch's address on it, with the prefix length (10.0.99.2/24)", true},
       {"gateway", schema::ref("ipAddress"),
        "the next hop toward a RADIUS server outside the management subnet"},
       {"port", schema::integer(1, 65535),
        fmt::format("the switch port the management interface takes (default {})",
                    Management::kDefaultPort)}}};
  return t;
}

nlohmann::json port_auth_schema() {
  return schema::one_of({schema::enumeration(kMethods), schema::ref("portAuth")});
}

void parse_auth_timers(const YAML::Node& map, Reader& r, const std::string& what,
                       bridge::AuthTimers& t) {
  for (const auto& k : bridge::auth_timer_keys()) {
    const YAML::Node v = map[std::string(k.name)];
    if (!v) continue;
    auto text = scalar(v, r, fmt::format("{} {}", what, k.name));
    if (!text) continue;
    if (auto s = bridge::parse_auth_timer(fmt::format("{}={}", k.name, *text), t); !s)
      r.error(v, fmt::format("{}: {}", what, s.error().message));
  }
}

std::optional<PortAuth> parse_port_auth_key(const YAML::Node& v, Reader& r,
                                            const std::string& what) {
  PortAuth a;
  a.where = r.at(v);
  // Not `YAML::Node methods = v; methods = v["methods"]`: assigning to a yaml-cpp node writes
  // through to the node it refers to.
  if (v.IsMap()) {
    if (!r.check_keys(v, port_auth_table())) return std::nullopt;
    if (!v["methods"]) return std::nullopt;  // check_keys said so
  }
  const YAML::Node methods = v.IsMap() ? v["methods"] : v;
  auto text = scalar(methods, r, what + " auth");
  if (!text) return std::nullopt;
  auto s = bridge::parse_port_auth(*text);
  if (!s) {
    r.error(methods, fmt::format("{}: {}", what, s.error().message));
    return std::nullopt;
  }
  if (!*s) return std::nullopt;  // off: the port does not authenticate
  a.settings = **s;
  if (v.IsMap()) parse_auth_timers(v, r, what + " auth", a.settings.timers);
  return a;
}

std::optional<RadiusClient> parse_radius(const YAML::Node& v, Reader& r, const std::string& sw) {
  if (!r.check_keys(v, radius_table())) return std::nullopt;
  std::string what = "switch " + sw + " radius";
  if (!v["server"] || !v["secret"]) return std::nullopt;  // check_keys said which
  auto server = scalar(v["server"], r, what + " server");
  auto secret = scalar(v["secret"], r, what + " secret");
  if (!server || !secret) return std::nullopt;
  if (secret->empty()) {
    r.error(v["secret"], what + ": the shared secret is empty (RFC 2865 §3 requires one)");
    return std::nullopt;
  }
  if (secret->find_first_of(" \t\r\n") != std::string::npos) {
    r.error(v["secret"], what + ": the shared secret may not contain spaces");
    return std::nullopt;
  }
  auto s = bridge::parse_radius_server(*server, *secret);
  if (!s) {
    r.error(v["server"], fmt::format("{}: {}", what, s.error().message));
    return std::nullopt;
  }
  return RadiusClient{*s, r.at(v)};
}

std::optional<Management> parse_management(const YAML::Node& v, Reader& r, const std::string& sw) {
  if (!r.check_keys(v, management_table())) return std::nullopt;
  std::string what = "switch " + sw + " management";
  Management m;
  m.where = r.at(v);
  bool ok = true;
  if (!v["vlan"] || !v["address"]) return std::nullopt;  // check_keys said which
  if (auto vid = r.vid(v["vlan"], what + " vlan")) {
    m.vlan = *vid;
  } else {
    ok = false;
  }
  auto text = scalar(v["address"], r, what + " address");
  auto p = text ? packet::IpPrefix::parse(*text) : Result<packet::IpPrefix>(make_error(EINVAL, ""));
  if (text && (!p || text->find('/') == std::string::npos)) {
    r.error(v["address"], fmt::format("{} address '{}': expected an address with its prefix length "
                                      "(10.0.99.2/24)",
                                      what, *text));
    ok = false;
  } else if (p) {
    m.address = *p;
  } else {
    ok = false;
  }
  if (v["gateway"]) {
    auto g = scalar(v["gateway"], r, what + " gateway");
    auto gp = g ? packet::IpPrefix::parse(*g + (p && p->v6 ? "/128" : "/32"))
                : Result<packet::IpPrefix>(make_error(EINVAL, ""));
    if (g && (!gp || (p && !p->contains(*gp)))) {
      r.error(v["gateway"], fmt::format("{} gateway '{}': expected an address in the subnet of {}",
                                        what, *g, p ? p->to_string() : std::string("the subnet")));
      ok = false;
    } else if (g) {
      m.gateway = *g;
    }
  }
  if (v["port"]) {
    auto port = r.integer(v["port"], what + " port", 1, 65535);
    if (!port) ok = false;
    m.port = static_cast<uint32_t>(port.value_or(Management::kDefaultPort));
  }
  if (!ok) return std::nullopt;
  return m;
}

bridge::AuthTimers merge_timers(const bridge::AuthTimers& port, const bridge::AuthTimers& sw) {
  bridge::AuthTimers t = sw;
  auto take = [](auto& into, const auto& from) {
    if (from) into = from;
  };
  take(t.tx_period, port.tx_period);
  take(t.reauth_max, port.reauth_max);
  take(t.quiet_period, port.quiet_period);
  take(t.supp_timeout, port.supp_timeout);
  take(t.max_req, port.max_req);
  take(t.server_timeout, port.server_timeout);
  take(t.server_retries, port.server_retries);
  take(t.reauth_period, port.reauth_period);
  return t;
}

}  // namespace vnet::lab
