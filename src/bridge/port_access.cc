#include "bridge/port_access.hh"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "base/hash.hh"
#include "base/log.hh"
#include "base/parse.hh"
#include "nac/eapol.hh"

namespace vnet::bridge {
namespace {

constexpr size_t kMinFrame = 60;  // IEEE 802.3 minimum without the FCS

bool ip_literal(const std::string& host) {
  in6_addr buf;
  return inet_pton(AF_INET, host.c_str(), &buf) == 1 ||
         inet_pton(AF_INET6, host.c_str(), &buf) == 1;
}

}  // namespace

Result<RadiusServer> parse_radius_server(const std::string& address, const std::string& secret) {
  RadiusServer s;
  std::string host = address, port;
  if (!address.empty() && address.front() == '[') {  // [V6] or [V6]:PORT
    size_t close = address.find(']');
    if (close == std::string::npos)
      return make_error(EINVAL, "RADIUS server '{}': '[' without ']'", address);
    host = address.substr(1, close - 1);
    if (close + 1 < address.size()) {
      if (address[close + 1] != ':')
        return make_error(EINVAL, "RADIUS server '{}': expected ':PORT' after ']'", address);
      port = address.substr(close + 2);
    }
  } else if (std::count(address.begin(), address.end(), ':') == 1) {
    size_t colon = address.find(':');
    host = address.substr(0, colon);
    port = address.substr(colon + 1);
  }
  if (!ip_literal(host)) {
    return make_error(EINVAL,
                      "RADIUS server '{}': expected an IPv4 or IPv6 address (HOST, HOST:PORT or "
                      "[V6]:PORT; names are not resolved)",
                      address);
  }
  s.host = host;
  if (!port.empty()) {
    auto n = parse_int_as<uint16_t>(port, 1, 65535);
    if (!n) return make_error(EINVAL, "RADIUS server '{}': port: {}", address, n.error().message);
    s.port = *n;
  }
  if (secret.empty())
    return make_error(EINVAL, "RADIUS server '{}': a shared secret is required (RFC 2865 §3)",
                      address);
  s.secret = secret;
  return s;
}

Result<std::optional<PortAuthSettings>> parse_port_auth(const std::string& text) {
  PortAuthSettings s;
  if (text == "off") return std::optional<PortAuthSettings>{};
  if (text == "force-authorized") {
    s.control = nac::PortControl::kForceAuthorized;
    s.methods.clear();
  } else if (text == "force-unauthorized") {
    s.control = nac::PortControl::kForceUnauthorized;
    s.methods.clear();
  } else if (text == "dot1x") {
    s.methods = {nac::Method::kDot1x};
  } else if (text == "mac") {
    s.methods = {nac::Method::kMac};
  } else if (text == "dot1x,mac") {
    s.methods = {nac::Method::kDot1x, nac::Method::kMac};
  } else if (text == "mac,dot1x") {
    s.methods = {nac::Method::kMac, nac::Method::kDot1x};
  } else {
    return make_error(EINVAL,
                      "port authentication '{}': expected off, dot1x, mac, dot1x,mac, mac,dot1x, "
                      "force-authorized or force-unauthorized",
                      text);
  }
  return std::optional<PortAuthSettings>{s};
}

const std::vector<AuthTimerKey>& auth_timer_keys() {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  static const std::vector<AuthTimerKey> keys = {
      {"txPeriod", false, milliseconds(100), seconds(65535), 0,
       "between EAP-Request/Identity frames while no supplicant answers (IEEE 802.1X-2010 "
       "§8.2.4.1.1)",
       "30s"},
      {"reAuthMax",
       true,
       {},
       {},
       10,
       "identity requests beyond the first before a dot1x,mac port falls back to MAC "
       "authentication (fallback after txPeriod × (reAuthMax + 1)), or a re-authentication "
       "gives up",
       "2"},
      {"quietPeriod", false, Duration{0}, seconds(65535), 0,
       "how long the port stays held after a reject or a timeout before it asks again", "60s"},
      {"suppTimeout", false, milliseconds(100), seconds(65535), 0,
       "how long the supplicant has to answer an EAP request", "30s"},
      {"maxReq", true, {}, {}, 10, "EAP requests resent to a supplicant that does not answer", "2"},
      {"serverTimeout", false, milliseconds(100), seconds(600), 0,
       "how long the RADIUS server has to answer a request before it is sent again (RFC 2865 "
       "§2.5)",
       "3s"},
      {"serverRetries",
       true,
       {},
       {},
       10,
       "RADIUS requests resent to a server that does not answer before the port is held",
       "3"},
      {"reAuthPeriod", false, Duration{0}, std::chrono::hours(24), 0,
       "re-authentication of an authorised port this often; off (or 0s) for none", "off"},
  };
  return keys;
}

namespace {

template <typename T>
T& timer_field(AuthTimers& t, std::string_view name) {
  if constexpr (std::is_same_v<T, std::optional<Duration>>) {
    if (name == "txPeriod") return t.tx_period;
    if (name == "quietPeriod") return t.quiet_period;
    if (name == "suppTimeout") return t.supp_timeout;
    if (name == "serverTimeout") return t.server_timeout;
    return t.reauth_period;
  } else {
    if (name == "reAuthMax") return t.reauth_max;
    if (name == "maxReq") return t.max_req;
    return t.server_retries;
  }
}

}  // namespace

Status parse_auth_timer(std::string_view word, AuthTimers& t) {
  auto eq = word.find('=');
  std::string_view name = word.substr(0, eq);
  const auto& keys = auth_timer_keys();
  auto k = std::find_if(keys.begin(), keys.end(), [&](auto& x) { return x.name == name; });
  if (eq == std::string_view::npos || k == keys.end()) {
    std::vector<std::string_view> names;
    for (auto& x : keys) names.push_back(x.name);
    return make_error(EINVAL, "port authentication '{}': expected NAME=VALUE with NAME one of {}",
                      word, fmt::join(names, ", "));
  }
  std::string_view value = word.substr(eq + 1);
  if (k->count) {
    auto n = parse_int_as<unsigned>(value, 0, k->max);
    if (!n) return make_error(EINVAL, "{}: {}", name, n.error().message);
    timer_field<std::optional<unsigned>>(t, name) = *n;
    return {};
  }
  if (name == "reAuthPeriod" && value == "off") {
    t.reauth_period = Duration{0};
    return {};
  }
  auto d = parse_duration(value, k->lo, k->hi);
  if (!d) return make_error(EINVAL, "{}: {}", name, d.error().message);
  timer_field<std::optional<Duration>>(t, name) = *d;
  return {};
}

std::vector<std::string> auth_timer_words(const AuthTimers& t) {
  std::vector<std::string> out;
  AuthTimers copy = t;
  for (const auto& k : auth_timer_keys()) {
    if (k.count) {
      if (auto& v = timer_field<std::optional<unsigned>>(copy, k.name))
        out.push_back(fmt::format("{}={}", k.name, *v));
    } else if (auto& v = timer_field<std::optional<Duration>>(copy, k.name)) {
      out.push_back(fmt::format("{}={}", k.name,
                                k.name == "reAuthPeriod" && *v == Duration{0}
                                    ? std::string("off")
                                    : format_duration(*v)));
    }
  }
  return out;
}

void apply_auth_timers(const AuthTimers& t, nac::AuthConfig& c) {
  if (t.tx_period) c.tx_period = *t.tx_period;
  if (t.reauth_max) c.reauth_max = *t.reauth_max;
  if (t.quiet_period) c.quiet_period = *t.quiet_period;
  if (t.supp_timeout) c.supp_timeout = *t.supp_timeout;
  if (t.max_req) c.max_retrans = *t.max_req;
  if (t.server_timeout) c.radius_timeout = *t.server_timeout;
  if (t.server_retries) c.radius_retries = *t.server_retries;
  if (t.reauth_period) {
    c.reauth_enabled = *t.reauth_period > Duration{0};
    if (c.reauth_enabled) c.reauth_period = *t.reauth_period;
  }
}

Result<std::optional<PortAuthSettings>> parse_port_auth_words(
    const std::vector<std::string>& words) {
  if (words.empty()) return make_error(EINVAL, "port authentication: the methods are missing");
  auto s = parse_port_auth(words[0]);
  if (!s) return s;
  if (words.size() > 1 && !*s) {
    return make_error(EINVAL, "port authentication off takes no timers (got '{}')", words[1]);
  }
  for (size_t i = 1; i < words.size(); ++i) {
    if (auto st = parse_auth_timer(words[i], (*s)->timers); !st) return st.error();
  }
  return s;
}

std::string_view method_name(nac::Method m) { return m == nac::Method::kMac ? "mac" : "dot1x"; }

std::string port_auth_name(const PortAuthSettings& s) {
  if (s.control == nac::PortControl::kForceAuthorized) return "force-authorized";
  if (s.control == nac::PortControl::kForceUnauthorized) return "force-unauthorized";
  std::string out;
  for (auto m : s.methods) {
    if (!out.empty()) out += ',';
    out += method_name(m);
  }
  return out;
}

PortAccess::PortAccess(Bridge& bridge, RadiusSink sink, uint64_t seed)
    : br_(bridge), sink_(std::move(sink)), seed_(seed) {}

PortAccess::~PortAccess() {
  for (auto& [port, p] : ports_) {
    if (!br_.has_port(port)) continue;
    restore(port, p);
    (void)br_.set_authorized(port, true);
  }
}

packet::MacAddress PortAccess::pae_address(PortNo port) const {
  uint64_t h = fnv1a("vnet-pae:" + br_.name() + ":" + std::to_string(port));
  packet::MacAddress m;
  m.bytes[0] = 0x02;  // locally administered, unicast
  for (int i = 1; i < 6; ++i) m.bytes[i] = static_cast<uint8_t>(h >> (8 * (i - 1)));
  return m;
}

std::unique_ptr<nac::PortAuthenticator> PortAccess::make(PortNo port, const PortAuthSettings& s,
                                                         TimePoint now) {
  nac::AuthConfig c;
  c.control = s.control;
  c.methods = s.methods;
  c.secret = server_ ? server_->secret : std::string{};
  c.nas_identifier = br_.name();
  c.nas_port = port;
  apply_auth_timers(s.timers, c);
  auto a = std::make_unique<nac::PortAuthenticator>(c, seed_ ^ fnv1a(std::to_string(port)));
  seed_ = seed_ * 6364136223846793005ULL + 1442695040888963407ULL;  // a fresh stream per session
  a->link(br_.active(port), now);
  return a;
}

void PortAccess::set_server(RadiusServer server, TimePoint now) {
  if (server_ && *server_ == server) return;
  server_ = std::move(server);
  for (auto& [port, p] : ports_) {
    if (p.settings.control != nac::PortControl::kAuto) continue;
    close(port, p);
    p.seen = {};
    p.auth = make(port, p.settings, now);
    apply(port, p);
  }
}

Status PortAccess::set_port(PortNo port, std::optional<PortAuthSettings> settings, TimePoint now) {
  if (!br_.has_port(port)) return make_error(ENXIO, "bridge {} has no port {}", br_.name(), port);
  auto it = ports_.find(port);
  if (!settings) {
    if (it == ports_.end()) return {};
    restore(port, it->second);
    (void)br_.set_authorized(port, true);
    ports_.erase(it);
    log::info("{} port {}: 802.1X off, port open", br_.name(), port);
    return {};
  }
  if (settings->control == nac::PortControl::kAuto && !server_) {
    return make_error(
        ENOTCONN,
        "port {}: {} needs a RADIUS server: set one first with nac/radius HOST[:PORT] "
        "SECRET",
        port, port_auth_name(*settings));
  }
  if (it != ports_.end() && it->second.settings == *settings) return {};
  Port& p = ports_[port];
  close(port, p);
  p.settings = *settings;
  p.refused.clear();
  p.malformed = 0;
  p.seen = {};
  p.auth = make(port, p.settings, now);
  auto timers = auth_timer_words(p.settings.timers);
  log::info("{} port {}: authentication {}{}{}", br_.name(), port, port_auth_name(p.settings),
            timers.empty() ? "" : " ", fmt::join(timers, " "));
  apply(port, p);
  return {};
}

void PortAccess::port_removed(PortNo port) { ports_.erase(port); }

void PortAccess::on_eapol(PortNo port, const packet::Frame& frame, TimePoint now) {
  auto it = ports_.find(port);
  if (it == ports_.end()) return;
  Port& p = it->second;
  std::span<const uint8_t> b = frame.bytes();
  if (b.size() < 14 || b[12] != 0x88 || b[13] != 0x8e) {  // tagged, or not EAPOL
    ++p.malformed;
    return;
  }
  nac::Mac src;
  std::copy_n(b.begin() + 6, 6, src.begin());
  p.auth->on_eapol(src, b.subspan(14), now);
  apply(port, p);
}

void PortAccess::on_unauthorized(PortNo port, const packet::MacAddress& source, TimePoint now) {
  auto it = ports_.find(port);
  if (it == ports_.end()) return;
  it->second.auth->on_frame(source.bytes, now);
  apply(port, it->second);
}

void PortAccess::on_link(PortNo port, bool up, TimePoint now) {
  auto it = ports_.find(port);
  if (it == ports_.end()) return;
  it->second.auth->link(up, now);
  apply(port, it->second);
}

void PortAccess::on_radius(PortNo port, std::span<const uint8_t> datagram, TimePoint now) {
  auto it = ports_.find(port);
  if (it == ports_.end()) return;
  it->second.auth->on_radius(datagram, now);
  apply(port, it->second);
}

void PortAccess::tick(TimePoint now) {
  for (auto& [port, p] : ports_) {
    auto due = p.auth->deadline();
    if (!due || *due > now) continue;
    p.auth->tick(now);
    apply(port, p);
  }
}

std::optional<TimePoint> PortAccess::next_deadline() const {
  std::optional<TimePoint> next;
  for (auto& [port, p] : ports_) {
    auto due = p.auth->deadline();
    if (due && (!next || *due < *next)) next = due;
  }
  return next;
}

void PortAccess::apply(PortNo port, Port& p) {
  for (auto& a : p.auth->take_actions()) {
    switch (a.kind) {
      case nac::AuthAction::Kind::kSendEapol: {
        std::vector<uint8_t> f(14);
        std::copy(nac::kPaeGroupAddress.begin(), nac::kPaeGroupAddress.end(), f.begin());
        auto src = pae_address(port);
        std::copy(src.bytes.begin(), src.bytes.end(), f.begin() + 6);
        f[12] = 0x88;
        f[13] = 0x8e;
        f.insert(f.end(), a.bytes.begin(), a.bytes.end());
        if (f.size() < kMinFrame) f.resize(kMinFrame, 0);
        (void)br_.send_control(port, packet::Frame::copy_of(f));  // ENETDOWN: link is down
        break;
      }
      case nac::AuthAction::Kind::kSendRadius:
        if (sink_) sink_(port, a.bytes);
        break;
      case nac::AuthAction::Kind::kAuthorize:
        authorize(port, p, a);
        break;
      case nac::AuthAction::Kind::kUnauthorize:
        close(port, p);
        log::info("{} port {}: unauthorized ({})", br_.name(), port, a.why);
        break;
    }
  }
  // The engine is the authority on the port's state; the bridge follows it (a refused VLAN
  // keeps the bridge's port closed while the engine holds an accept).
  if (!p.auth->authorized() && br_.authorized(port)) close(port, p);
  log_failures(port, p);
}

// What the counters say happened since the last apply(): a silent RADIUS server (each resend
// and the giving up), a reject, a supplicant that stopped answering.
void PortAccess::log_failures(PortNo port, Port& p) {
  const nac::AuthCounters& c = p.auth->counters();
  std::string server = server_ ? fmt::format("{}:{}", server_->host, server_->port) : "-";
  nac::AuthConfig cfg;
  apply_auth_timers(p.settings.timers, cfg);
  std::string held = fmt::format("held for {} (quietPeriod)", format_duration(cfg.quiet_period));
  if (c.radius_retransmits > p.seen.radius_retransmits) {
    log::warn(
        "{} port {}: RADIUS server {} did not answer within {}, request sent again "
        "({} retransmissions so far)",
        br_.name(), port, server, format_duration(cfg.radius_timeout), c.radius_retransmits);
  }
  if (c.radius_timeouts > p.seen.radius_timeouts) {
    p.last_failure = fmt::format("RADIUS server {} did not answer ({} tries, {} apart)", server,
                                 cfg.radius_retries + 1, format_duration(cfg.radius_timeout));
    log::warn("{} port {}: {}; port unauthorized, {}", br_.name(), port, p.last_failure, held);
  }
  if (c.rejects > p.seen.rejects) {
    p.last_failure = fmt::format("RADIUS rejected {}",
                                 p.identity.empty() ? std::string("the client") : p.identity);
    log::info("{} port {}: {}; port unauthorized, {}", br_.name(), port, p.last_failure, held);
  }
  if (c.supp_timeouts > p.seen.supp_timeouts) {
    p.last_failure = "the supplicant stopped answering";
    log::info("{} port {}: {}; {}", br_.name(), port, p.last_failure, held);
  }
  p.seen = c;
  if (!p.auth->identity().empty()) p.identity = p.auth->identity();  // a reject clears it
}

void PortAccess::authorize(PortNo port, Port& p, const nac::AuthAction& a) {
  p.refused.clear();
  if (!a.vlan_name.empty()) {
    p.refused = fmt::format("Tunnel-Private-Group-Id '{}' is not a VLAN number 1-4094",
                            a.vlan_name.substr(0, 64));
  } else if (a.vlan && !br_.vlan_exists(*a.vlan)) {
    p.refused =
        fmt::format("RADIUS assigned VLAN {}, which bridge {} does not have", *a.vlan, br_.name());
  }
  if (!p.refused.empty()) {
    close(port, p);
    log::warn("{} port {}: {} ({}), port stays unauthorized", br_.name(), port, a.why, p.refused);
    return;
  }
  if (a.vlan) {
    if (!p.saved) p.saved = br_.port_config(port);
    PortConfig c = *p.saved;
    if (c.mode == PortConfig::Mode::kAccess) {
      c.access_vlan = *a.vlan;
    } else {
      c.native_vlan = *a.vlan;
    }
    if (auto s = br_.configure_port(port, c); !s) {
      p.refused = s.error().message;
      close(port, p);
      log::warn("{} port {}: {}: {}, port stays unauthorized", br_.name(), port, a.why, p.refused);
      return;
    }
    p.vlan = a.vlan;
  } else {
    restore(port, p);
  }
  (void)br_.set_authorized(port, true);
  log::info("{} port {}: authorized ({}{})", br_.name(), port, a.why,
            a.vlan ? fmt::format(", VLAN {}", *a.vlan) : std::string{});
}

void PortAccess::close(PortNo port, Port& p) {
  if (!br_.has_port(port)) return;
  (void)br_.set_authorized(port, false);
  restore(port, p);
}

void PortAccess::restore(PortNo port, Port& p) {
  p.vlan.reset();
  if (!p.saved) return;
  if (br_.has_port(port)) (void)br_.configure_port(port, *p.saved);
  p.saved.reset();
}

std::vector<PortAccess::PortView> PortAccess::ports() const {
  std::vector<PortView> out;
  for (auto& [port, p] : ports_) {
    PortView v;
    v.port = port;
    v.settings = p.settings;
    v.state = p.auth->state();
    v.authorized = br_.has_port(port) && br_.authorized(port);
    if (auto s = p.auth->supplicant()) v.supplicant = packet::MacAddress{*s};
    v.identity = p.auth->identity();
    v.method = p.auth->method();
    v.vlan = p.vlan;
    v.refused = p.refused;
    v.last_failure = p.last_failure;
    v.config = nac::AuthConfig{};
    apply_auth_timers(p.settings.timers, v.config);
    v.counters = p.auth->counters();
    v.malformed = p.malformed;
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace vnet::bridge
