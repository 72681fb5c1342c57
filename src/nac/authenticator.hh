#pragma once
// One switch port's authenticator (IEEE 802.1X-2010 §8, port-based network access control),
// relaying EAP to a RADIUS server (RFC 3579, RFC 3580) and falling back to MAC authentication
// (the switch sends the client's MAC as User-Name and User-Password, RFC 3580 §3.21's
// Calling-Station-Id form), without I/O.
//
// Inputs: link(up, now), on_eapol() with EAPOL PDUs the port received (to the PAE group
// address, EtherType 0x888E), on_frame() with the source MAC of any other frame the port
// received while unauthorised (it triggers MAC authentication), on_radius() with datagrams from
// the server, tick(now) with the injected clock. Outputs, taken with take_actions(): EAPOL PDUs
// to send to the supplicant, RADIUS datagrams to send to the server, authorize (with the VLAN
// the server assigned, if any) and unauthorize; deadline() says when tick() is next due.
//
// Port states (§8.2.4's Authenticator PAE, folded with the backend machine of §8.2.9):
//   kForceAuthorized / kForceUnauthorized   the port's control is forced (§8.2.4, portControl)
//   kDisconnected   link down: nothing passes
//   kConnecting     EAP-Request/Identity sent every tx_period (§8.2.4.1.1 txPeriod), up to
//                   reauth_max + 1 times; then MAC authentication if allowed, else retried
//   kAuthenticating an EAP conversation (or a MAC check) relayed to RADIUS; server answers
//                   awaited radius_timeout, sent radius_retries + 1 times in all; supplicant
//                   answers awaited supp_timeout, resent max_retrans times
//   kAuthorized     frames pass; re-authentication every reauth_period if enabled, or after the
//                   server's Session-Timeout when it sends Termination-Action = RADIUS-Request
//   kHeld           after a reject, a timeout of server or supplicant: quiet_period
//                   (§8.2.4.1.1 quietPeriod) with nothing passing, then kConnecting
// Logoff and link down return the port to unauthorised at once (§8.2.4: eapolLogoff, portEnabled).
// Only one supplicant per port (port-based, §8.2.4): frames from other MACs are ignored
// while one is being authenticated or is authorised.

#include <array>
#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "base/clock.hh"
#include "nac/radius.hh"

namespace vnet::nac {

enum class PortControl { kAuto, kForceAuthorized, kForceUnauthorized };
enum class Method { kDot1x, kMac };
enum class PortState {
  kForceAuthorized,
  kForceUnauthorized,
  kDisconnected,
  kConnecting,
  kAuthenticating,
  kAuthorized,
  kHeld,
};
std::string_view port_state_name(PortState s);

using Mac = std::array<uint8_t, 6>;

struct AuthConfig {
  PortControl control = PortControl::kAuto;
  std::vector<Method> methods = {Method::kDot1x};  // tried in this order; MAC-first tries
                                                   // MAC authentication on the first frame
  std::string secret;                              // RADIUS shared secret (required)
  std::string nas_identifier = "vnet";
  uint32_t nas_port = 0;  // the switch port number
  Duration tx_period = std::chrono::seconds(30);
  Duration quiet_period = std::chrono::seconds(60);
  Duration supp_timeout = std::chrono::seconds(30);
  unsigned max_retrans = 2;  // EAP requests resent to a silent supplicant
  unsigned reauth_max = 2;   // identity requests beyond the first before MAC authentication
  Duration radius_timeout = std::chrono::seconds(3);
  unsigned radius_retries = 3;
  bool reauth_enabled = false;
  Duration reauth_period = std::chrono::seconds(3600);
};

struct AuthAction {
  enum class Kind { kSendEapol, kSendRadius, kAuthorize, kUnauthorize };
  Kind kind;
  std::vector<uint8_t> bytes;    // EAPOL PDU (after the EtherType) or RADIUS datagram
  std::optional<uint16_t> vlan;  // kAuthorize: the VLAN RADIUS assigned (RFC 3580 §3.31)
  std::string vlan_name;         // kAuthorize: a Tunnel-Private-Group-Id that is not a number
  std::string why;               // for logs: "802.1X accept for alice", "RADIUS timeout"
};

struct AuthCounters {
  uint64_t eapol_rx = 0, eapol_tx = 0, eapol_malformed = 0;
  uint64_t radius_tx = 0, radius_retransmits = 0, radius_rx = 0, radius_dropped = 0;
  uint64_t accepts = 0, rejects = 0, radius_timeouts = 0, supp_timeouts = 0, logoffs = 0;
};

class PortAuthenticator {
 public:
  PortAuthenticator(AuthConfig config, uint64_t seed);

  void link(bool up, TimePoint now);
  // An EAPOL PDU (the bytes after the EtherType) from `src`. Malformed ones are counted.
  void on_eapol(const Mac& src, std::span<const uint8_t> pdu, TimePoint now);
  // Any other frame from `src` while the port is not authorised (MAC authentication trigger).
  void on_frame(const Mac& src, TimePoint now);
  // A datagram from the RADIUS server. Answers that fail the checks of open_response(), or
  // answer nothing outstanding, are dropped and counted.
  void on_radius(std::span<const uint8_t> datagram, TimePoint now);
  void tick(TimePoint now);
  std::optional<TimePoint> deadline() const { return deadline_; }
  std::vector<AuthAction> take_actions() { return std::exchange(actions_, {}); }

  PortState state() const { return state_; }
  bool authorized() const {
    return state_ == PortState::kAuthorized || state_ == PortState::kForceAuthorized;
  }
  std::optional<Method> method() const { return method_; }  // of the current/last session
  const std::string& identity() const { return identity_; }
  std::optional<Mac> supplicant() const { return supplicant_; }
  std::optional<uint16_t> assigned_vlan() const { return vlan_; }
  const AuthCounters& counters() const { return counters_; }

 private:
  void enter(PortState s, std::string why = {});  // emits kUnauthorize when the port closes
  void connect(TimePoint now);
  void reset_session();
  RadiusPacket next_request();  // an Access-Request with a fresh identifier and authenticator
  void request_identity(TimePoint now);
  void send_eap_to_supplicant(std::span<const uint8_t> eap);
  void send_radius(RadiusPacket p, TimePoint now);
  void start_mac_auth(const Mac& src, TimePoint now);
  void on_answer(const RadiusPacket& p, TimePoint now);
  void fail(TimePoint now, std::string why);
  bool allows(Method m) const;

  AuthConfig config_;
  std::mt19937_64 rng_;
  PortState state_ = PortState::kDisconnected;
  bool link_up_ = false;
  std::optional<TimePoint> deadline_;
  std::vector<AuthAction> actions_;
  AuthCounters counters_;

  // The session.
  std::optional<Method> method_;
  std::optional<Mac> supplicant_;
  std::string identity_;
  std::optional<uint16_t> vlan_;
  uint8_t eap_id_ = 0;                     // of the last EAP request to the supplicant
  std::vector<uint8_t> last_eap_request_;  // resent on supp_timeout
  unsigned identity_requests_ = 0;
  bool dot1x_exhausted_ = false;  // 802.1X had its tries (or MAC comes first)
  std::optional<Mac> seen_;       // a client seen while 802.1X was being tried
  unsigned supp_resends_ = 0;
  std::vector<uint8_t> state_attr_;  // RADIUS State, echoed back (RFC 2865 §5.24)
  // The outstanding RADIUS request.
  std::optional<std::vector<uint8_t>> pending_;
  uint8_t radius_id_ = 0;
  Authenticator radius_auth_{};
  unsigned radius_sends_ = 0;
  enum class Waiting { kNothing, kSupplicant, kServer } waiting_ = Waiting::kNothing;
};

}  // namespace vnet::nac
