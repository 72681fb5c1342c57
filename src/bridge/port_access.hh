#pragma once
// PortAccess: one bridge's port-based network access control (IEEE 802.1X-2010 §6.4, §8): the
// sans-IO authenticators of nac/authenticator.hh bound to a Bridge's controlled ports. The
// dataplane owns one per bridge once a port authenticates, feeds it what the bridge's hooks and
// the RADIUS sockets deliver, and calls tick() at next_deadline(); this class never touches a
// socket: RADIUS datagrams leave through the RadiusSink it is given.
//
// Inputs
//   on_eapol       a frame to the PAE group address 01-80-C2-00-00-03 (§11.1.1) the port
//                  received (the bridge hands reserved addresses to its control hook and never
//                  relays them). Frames to that address that are not untagged EAPOL (EtherType
//                  0x888E) are counted as malformed; the engine counts malformed EAPOL PDUs.
//   on_unauthorized  the source of any other frame an unauthorised port received (the bridge
//                  drops and counts it as `unauthorized`); it starts MAC authentication.
//   on_link        the port's link (Bridge::active: backend attached, admin up, carrier).
//   on_radius      a datagram from the RADIUS server on the port's socket.
// Actions applied to the bridge
//   EAPOL PDU      framed (dst 01-80-C2-00-00-03, src the port's PAE address, a locally
//                  administered address derived from bridge name and port, EtherType 0x888E,
//                  padded to 60 bytes) and queued with Bridge::send_control; the caller drains.
//   authorise      Bridge::set_authorized(port, true). A VLAN the server assigned (RFC 3580
//                  §3.31, Tunnel-Private-Group-Id) becomes the port's PVID while it is
//                  authorised: an access port's VLAN, a trunk's native VLAN; the configuration
//                  the port had is restored when it closes. A group that is not a VLAN number
//                  1–4094, or a VLAN the bridge does not have, keeps the port unauthorised
//                  (logged, shown as `refused` in ports()).
//   unauthorise    Bridge::set_authorized(port, false) (the bridge flushes the port's learned
//                  addresses) and the configuration restored.
// Logged: authorise and unauthorise (info), rejects (info), every RADIUS retransmission and a
// server that never answered (warn: "did not answer …, held for …"), refused VLANs (warn).
// Memory is bounded per port (one authenticator, one outstanding RADIUS request); nothing a
// client sends allocates beyond that.
//
// Single-threaded, on the dataplane's loop thread.

#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/clock.hh"
#include "base/result.hh"
#include "bridge/bridge.hh"
#include "nac/authenticator.hh"
#include "packet/address.hh"
#include "packet/frame.hh"

namespace vnet::bridge {

// A RADIUS authentication server (RFC 2865 §3). `host` is an IPv4 or IPv6 literal (the daemon
// resolves no names: a lookup would block the loop).
struct RadiusServer {
  std::string host;
  uint16_t port = 1812;
  std::string secret;
  friend bool operator==(const RadiusServer&, const RadiusServer&) = default;
};
// "HOST", "HOST:PORT", "[V6]:PORT" and a secret → a server. EINVAL naming what was wrong: an
// address that is not an IP literal, a port outside 1–65535, an empty secret.
Result<RadiusServer> parse_radius_server(const std::string& address, const std::string& secret);

// An authenticating port's timers and counts (IEEE 802.1X-2010 §8.2.4.1.1 names; the RADIUS
// ones per RFC 2865 §2.5). Unset: the engine's default (nac::AuthConfig). How long a
// `dot1x,mac` port waits for an 802.1X supplicant before it falls back to MAC authentication
// is txPeriod × (reAuthMax + 1): 90 s by default, as on common campus switches.
struct AuthTimers {
  std::optional<Duration> tx_period;       // txPeriod: between EAP-Request/Identity
  std::optional<unsigned> reauth_max;      // reAuthMax: identity requests beyond the first
  std::optional<Duration> quiet_period;    // quietPeriod: held after a failure
  std::optional<Duration> supp_timeout;    // suppTimeout: for the supplicant's answer
  std::optional<unsigned> max_req;         // maxReq: EAP requests resent to a silent supplicant
  std::optional<Duration> server_timeout;  // serverTimeout: for the RADIUS server's answer
  std::optional<unsigned> server_retries;  // serverRetries: RADIUS requests resent
  std::optional<Duration> reauth_period;   // reAuthPeriod: zero = no periodic re-authentication
  friend bool operator==(const AuthTimers&, const AuthTimers&) = default;
};

// One timer's name as `port/auth` and topology files write it, its range and meaning; the lab's
// key tables are built from this list.
struct AuthTimerKey {
  std::string_view name;  // "txPeriod"
  bool count = false;     // a number of tries, not a duration
  Duration lo{}, hi{};    // durations
  unsigned max = 0;       // counts: 0..max
  std::string_view doc;
  std::string_view dflt;  // "30s"
};
const std::vector<AuthTimerKey>& auth_timer_keys();
// "NAME=VALUE" (a duration like 5s or 500ms, a count, `reAuthPeriod=off`) into `t`. EINVAL names
// the key and the range, or lists the keys.
Status parse_auth_timer(std::string_view word, AuthTimers& t);
// The set ones as NAME=VALUE words (the inverse).
std::vector<std::string> auth_timer_words(const AuthTimers& t);
// The engine configuration with the set ones in effect.
void apply_auth_timers(const AuthTimers& t, nac::AuthConfig& c);

// What a port does (`port/auth N …`).
struct PortAuthSettings {
  nac::PortControl control = nac::PortControl::kAuto;
  std::vector<nac::Method> methods = {nac::Method::kDot1x};
  AuthTimers timers;
  friend bool operator==(const PortAuthSettings&, const PortAuthSettings&) = default;
};
// "dot1x", "mac", "dot1x,mac", "mac,dot1x", "force-authorized", "force-unauthorized"; "off" →
// nullopt (the port does not authenticate). EINVAL lists the accepted words.
Result<std::optional<PortAuthSettings>> parse_port_auth(const std::string& text);
// The methods word followed by NAME=VALUE timer words (`port/auth N dot1x,mac txPeriod=2s`).
Result<std::optional<PortAuthSettings>> parse_port_auth_words(
    const std::vector<std::string>& words);
std::string port_auth_name(const PortAuthSettings& s);  // the methods word
std::string_view method_name(nac::Method m);            // "dot1x", "mac"

class PortAccess {
 public:
  using RadiusSink = std::function<void(PortNo, std::span<const uint8_t>)>;

  // `seed` feeds every port's RADIUS identifiers and Request Authenticators (give it real
  // entropy outside tests: RFC 2865 §3 wants the authenticator unpredictable).
  PortAccess(Bridge& bridge, RadiusSink sink, uint64_t seed);
  ~PortAccess();  // every port it controls is authorised again
  PortAccess(const PortAccess&) = delete;
  PortAccess& operator=(const PortAccess&) = delete;

  // The server every port of this bridge asks. Changing it restarts every port's session (the
  // authenticators take the new secret).
  void set_server(RadiusServer server, TimePoint now);
  const std::optional<RadiusServer>& server() const { return server_; }

  // nullopt: the port stops authenticating (authorised, configuration restored). ENXIO: no such
  // port; ENOTCONN: dot1x or mac without a RADIUS server set.
  Status set_port(PortNo port, std::optional<PortAuthSettings> settings, TimePoint now);
  bool controls(PortNo port) const { return ports_.count(port) != 0; }
  bool empty() const { return ports_.empty(); }
  void port_removed(PortNo port);

  void on_eapol(PortNo port, const packet::Frame& frame, TimePoint now);
  void on_unauthorized(PortNo port, const packet::MacAddress& source, TimePoint now);
  void on_link(PortNo port, bool up, TimePoint now);
  void on_radius(PortNo port, std::span<const uint8_t> datagram, TimePoint now);
  void tick(TimePoint now);
  std::optional<TimePoint> next_deadline() const;

  struct PortView {
    PortNo port = 0;
    PortAuthSettings settings;
    nac::PortState state = nac::PortState::kDisconnected;
    bool authorized = false;  // the bridge's controlled port is open
    std::optional<packet::MacAddress> supplicant;
    std::string identity;
    std::optional<nac::Method> method;
    std::optional<uint16_t> vlan;  // assigned and in effect
    std::string refused;           // why an accept did not open the port
    std::string last_failure;      // the last reject or timeout, for nac/show
    nac::AuthConfig config;        // in effect (timers)
    nac::AuthCounters counters;
    uint64_t malformed = 0;  // frames to the PAE address that were not EAPOL
  };
  std::vector<PortView> ports() const;
  packet::MacAddress pae_address(PortNo port) const;

 private:
  struct Port {
    PortAuthSettings settings;
    std::unique_ptr<nac::PortAuthenticator> auth;
    std::optional<PortConfig> saved;  // the configuration before a VLAN was assigned
    std::optional<uint16_t> vlan;
    std::string refused;
    std::string last_failure;
    std::string identity;  // of the last session (a reject clears the engine's)
    uint64_t malformed = 0;
    nac::AuthCounters seen;  // counters at the last apply(): what changed is logged
  };
  std::unique_ptr<nac::PortAuthenticator> make(PortNo port, const PortAuthSettings& s,
                                               TimePoint now);
  void apply(PortNo port, Port& p);
  void authorize(PortNo port, Port& p, const nac::AuthAction& a);
  void close(PortNo port, Port& p);
  void restore(PortNo port, Port& p);
  void log_failures(PortNo port, Port& p);

  Bridge& br_;
  RadiusSink sink_;
  uint64_t seed_;
  std::optional<RadiusServer> server_;
  std::map<PortNo, Port> ports_;
};

}  // namespace vnet::bridge
