#include "nac/authenticator.hh"

#include <fmt/format.h>

#include <algorithm>

#include "nac/eapol.hh"

namespace vnet::nac {
namespace {

constexpr uint32_t kServiceTypeFramed = 2;         // RFC 2865 §5.6
constexpr uint32_t kServiceTypeCallCheck = 10;     // RFC 2865 §5.6, MAC authentication
constexpr uint32_t kTerminationRadiusRequest = 1;  // RFC 2865 §5.29
constexpr uint32_t kFramedMtu = 1400;              // RFC 3579 §2.4: EAP must fit one frame

std::string station_id(const Mac& m) {  // RFC 3580 §3.21: "00-10-A4-23-19-C0"
  return fmt::format("{:02X}-{:02X}-{:02X}-{:02X}-{:02X}-{:02X}", m[0], m[1], m[2], m[3], m[4],
                     m[5]);
}

std::string mac_user(const Mac& m) {  // the usual MAC-authentication user name: "0010a42319c0"
  return fmt::format("{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}", m[0], m[1], m[2], m[3], m[4], m[5]);
}

uint32_t u32_of(const RadiusAttribute* a) {
  if (!a || a->value.size() != 4) return 0;
  return uint32_t{a->value[0]} << 24 | uint32_t{a->value[1]} << 16 | uint32_t{a->value[2]} << 8 |
         a->value[3];
}

}  // namespace

std::string_view port_state_name(PortState s) {
  switch (s) {
    case PortState::kForceAuthorized:
      return "force-authorized";
    case PortState::kForceUnauthorized:
      return "force-unauthorized";
    case PortState::kDisconnected:
      return "disconnected";
    case PortState::kConnecting:
      return "connecting";
    case PortState::kAuthenticating:
      return "authenticating";
    case PortState::kAuthorized:
      return "authorized";
    case PortState::kHeld:
      return "held";
  }
  return "?";
}

PortAuthenticator::PortAuthenticator(AuthConfig config, uint64_t seed)
    : config_(std::move(config)), rng_(seed) {
  if (config_.control == PortControl::kForceAuthorized) {
    state_ = PortState::kForceAuthorized;
    actions_.push_back({AuthAction::Kind::kAuthorize, {}, {}, {}, "force-authorized"});
  } else if (config_.control == PortControl::kForceUnauthorized) {
    state_ = PortState::kForceUnauthorized;
  }
  radius_id_ = static_cast<uint8_t>(rng_());
}

bool PortAuthenticator::allows(Method m) const {
  return std::find(config_.methods.begin(), config_.methods.end(), m) != config_.methods.end();
}

void PortAuthenticator::enter(PortState s, std::string why) {
  bool was = authorized();
  state_ = s;
  if (was && !authorized()) {
    actions_.push_back({AuthAction::Kind::kUnauthorize, {}, {}, {}, std::move(why)});
  }
}

void PortAuthenticator::link(bool up, TimePoint now) {
  if (config_.control != PortControl::kAuto || up == link_up_) return;
  link_up_ = up;
  reset_session();
  if (!up) {
    enter(PortState::kDisconnected, "link down");
    deadline_.reset();
    return;
  }
  connect(now);
}

void PortAuthenticator::reset_session() {
  method_.reset();
  supplicant_.reset();
  identity_.clear();
  vlan_.reset();
  state_attr_.clear();
  pending_.reset();
  last_eap_request_.clear();
  waiting_ = Waiting::kNothing;
  identity_requests_ = 0;
  supp_resends_ = 0;
  dot1x_exhausted_ = false;
}

void PortAuthenticator::connect(TimePoint now) {
  enter(PortState::kConnecting, "connecting");
  deadline_.reset();
  if (config_.methods.empty() || config_.methods.front() == Method::kDot1x) {
    request_identity(now);
  } else {
    dot1x_exhausted_ = true;  // MAC first: the first frame from the client starts it
  }
}

void PortAuthenticator::request_identity(TimePoint now) {
  ++eap_id_;
  ++identity_requests_;
  send_eap_to_supplicant(encode_eap(EapCode::kRequest, eap_id_, kEapTypeIdentity));
  deadline_ = now + config_.tx_period;
}

void PortAuthenticator::send_eap_to_supplicant(std::span<const uint8_t> eap) {
  if (eap.size() >= 2) eap_id_ = eap[1];
  last_eap_request_.assign(eap.begin(), eap.end());
  waiting_ = Waiting::kSupplicant;
  ++counters_.eapol_tx;
  actions_.push_back(
      {AuthAction::Kind::kSendEapol, encode_eapol(EapolType::kEapPacket, eap), {}, {}, {}});
}

RadiusPacket PortAuthenticator::next_request() {
  RadiusPacket p;
  p.code = RadiusCode::kAccessRequest;
  p.id = ++radius_id_;
  for (size_t i = 0; i < radius_auth_.size(); i += 8) {
    uint64_t r = rng_();
    for (size_t j = 0; j < 8; ++j) radius_auth_[i + j] = static_cast<uint8_t>(r >> (8 * j));
  }
  p.authenticator = radius_auth_;
  return p;
}

void PortAuthenticator::send_radius(RadiusPacket p, TimePoint now) {
  p.add(attr::kNasIdentifier, config_.nas_identifier);
  p.add_u32(attr::kNasPort, config_.nas_port);
  p.add_u32(attr::kNasPortType, kNasPortTypeEthernet);
  if (supplicant_) p.add(attr::kCallingStationId, station_id(*supplicant_));
  // Message-Authenticator on every request, EAP or not (RFC 3579 §3.2; the BlastRADIUS advice).
  auto wire = seal_request(std::move(p), config_.secret, true);
  if (!wire) {  // a session too large for one packet: the conversation cannot go on
    fail(now, "RADIUS request not encodable: " + wire.error().message);
    return;
  }
  pending_ = *wire;
  radius_sends_ = 1;
  waiting_ = Waiting::kServer;
  ++counters_.radius_tx;
  actions_.push_back({AuthAction::Kind::kSendRadius, *wire, {}, {}, {}});
  deadline_ = now + config_.radius_timeout;
}

void PortAuthenticator::start_mac_auth(const Mac& src, TimePoint now) {
  method_ = Method::kMac;
  supplicant_ = src;
  identity_ = mac_user(src);
  if (!authorized()) enter(PortState::kAuthenticating);
  RadiusPacket p = next_request();
  p.add(attr::kUserName, identity_);
  auto hidden = hide_password(identity_, config_.secret, p.authenticator);
  if (hidden) p.add(attr::kUserPassword, *hidden);
  p.add_u32(attr::kServiceType, kServiceTypeCallCheck);
  send_radius(std::move(p), now);
}

void PortAuthenticator::on_eapol(const Mac& src, std::span<const uint8_t> pdu, TimePoint now) {
  ++counters_.eapol_rx;
  auto e = decode_eapol(pdu);
  if (!e) {
    ++counters_.eapol_malformed;
    return;
  }
  if (config_.control != PortControl::kAuto || !link_up_ || state_ == PortState::kHeld) return;
  bool busy = state_ == PortState::kAuthenticating || state_ == PortState::kAuthorized;
  if (busy && supplicant_ && *supplicant_ != src) return;  // one supplicant per port
  switch (e->type) {
    case EapolType::kStart:
      if (state_ == PortState::kAuthenticating) return;  // a conversation is under way
      if (authorized()) {
        method_.reset();  // re-authentication asked by the supplicant; the port stays open
      } else {
        reset_session();
        enter(PortState::kConnecting);
      }
      identity_requests_ = 0;
      request_identity(now);
      return;
    case EapolType::kLogoff:
      ++counters_.logoffs;
      reset_session();
      enter(PortState::kConnecting, "EAPOL-Logoff");
      connect(now);
      return;
    case EapolType::kEapPacket:
      break;
    default:
      return;  // EAPOL-Key, ASF alerts, MKA: not ours
  }
  auto eap = decode_eap(e->body);
  if (!eap || eap->code != EapCode::kResponse) {
    ++counters_.eapol_malformed;
    return;
  }
  if (!allows(Method::kDot1x) || waiting_ != Waiting::kSupplicant || eap->id != eap_id_) return;
  RadiusPacket p = next_request();
  if (eap->type == kEapTypeIdentity) {
    method_ = Method::kDot1x;
    supplicant_ = src;
    identity_.assign(eap->data.begin(), eap->data.end());
    state_attr_.clear();
    if (!authorized()) enter(PortState::kAuthenticating);
  } else if (!method_ || *method_ != Method::kDot1x || *supplicant_ != src) {
    return;
  }
  p.add(attr::kUserName, identity_.substr(0, kMaxAttributeValue));
  p.add_u32(attr::kServiceType, kServiceTypeFramed);
  p.add_u32(attr::kFramedMtu, kFramedMtu);
  p.add_eap(eap->whole);
  if (!state_attr_.empty()) p.add(attr::kState, state_attr_);
  send_radius(std::move(p), now);
}

void PortAuthenticator::on_frame(const Mac& src, TimePoint now) {
  if (config_.control != PortControl::kAuto || !link_up_) return;
  if (state_ != PortState::kConnecting || !allows(Method::kMac)) return;
  if (!dot1x_exhausted_) {
    seen_ = src;  // for MAC authentication once 802.1X has had its tries
    return;
  }
  start_mac_auth(src, now);
}

void PortAuthenticator::on_radius(std::span<const uint8_t> datagram, TimePoint now) {
  if (!pending_) {
    ++counters_.radius_dropped;
    return;
  }
  auto p = open_response(datagram, radius_id_, radius_auth_, config_.secret);
  if (!p) {
    ++counters_.radius_dropped;
    return;
  }
  ++counters_.radius_rx;
  pending_.reset();
  waiting_ = Waiting::kNothing;
  deadline_.reset();
  on_answer(*p, now);
}

void PortAuthenticator::on_answer(const RadiusPacket& p, TimePoint now) {
  std::vector<uint8_t> eap = p.joined(attr::kEapMessage);
  bool dot1x = method_ == Method::kDot1x;
  switch (p.code) {
    case RadiusCode::kAccessChallenge: {
      if (!dot1x || eap.size() < 4) {
        fail(now, "RADIUS challenge without an EAP request");
        return;
      }
      const auto* st = p.find(attr::kState);
      state_attr_ = st ? st->value : std::vector<uint8_t>{};
      supp_resends_ = 0;
      send_eap_to_supplicant(eap);
      deadline_ = now + config_.supp_timeout;
      return;
    }
    case RadiusCode::kAccessAccept: {
      ++counters_.accepts;
      if (dot1x) {
        send_eap_to_supplicant(eap.size() >= 4 ? eap : encode_eap(EapCode::kSuccess, eap_id_));
      }
      waiting_ = Waiting::kNothing;
      last_eap_request_.clear();
      auto v = nac::assigned_vlan(p);
      vlan_ = v ? v->vid : std::nullopt;
      state_ = PortState::kAuthorized;
      std::string why = fmt::format("{} accept for {}", dot1x ? "802.1X" : "MAC", identity_);
      actions_.push_back(
          {AuthAction::Kind::kAuthorize, {}, vlan_, v && !v->vid ? v->group : std::string{}, why});
      deadline_.reset();
      if (config_.reauth_enabled) deadline_ = now + config_.reauth_period;
      if (uint32_t t = u32_of(p.find(attr::kSessionTimeout));
          t && u32_of(p.find(attr::kTerminationAction)) == kTerminationRadiusRequest) {
        deadline_ = now + std::chrono::seconds(t);
      }
      return;
    }
    case RadiusCode::kAccessReject:
      ++counters_.rejects;
      if (dot1x) {
        send_eap_to_supplicant(eap.size() >= 4 ? eap : encode_eap(EapCode::kFailure, eap_id_));
      }
      fail(now, fmt::format("{} reject for {}", dot1x ? "802.1X" : "MAC", identity_));
      return;
    default:
      return;
  }
}

void PortAuthenticator::fail(TimePoint now, std::string why) {
  reset_session();
  enter(PortState::kHeld, std::move(why));
  deadline_ = now + config_.quiet_period;
}

void PortAuthenticator::tick(TimePoint now) {
  if (!deadline_ || now < *deadline_) return;
  deadline_.reset();
  if (waiting_ == Waiting::kServer && pending_) {
    if (radius_sends_ <= config_.radius_retries) {
      ++radius_sends_;
      ++counters_.radius_retransmits;
      actions_.push_back({AuthAction::Kind::kSendRadius, *pending_, {}, {}, {}});
      deadline_ = now + config_.radius_timeout;
    } else {
      ++counters_.radius_timeouts;
      fail(now, "RADIUS server did not answer");
    }
    return;
  }
  if (state_ == PortState::kHeld) {
    connect(now);
    return;
  }
  bool identity_phase =
      last_eap_request_.size() >= 5 && last_eap_request_[4] == kEapTypeIdentity && !method_;
  if (waiting_ == Waiting::kSupplicant && identity_phase) {
    if (identity_requests_ <= config_.reauth_max) {
      request_identity(now);
    } else if (state_ == PortState::kAuthorized) {
      fail(now, "no answer to re-authentication");
    } else if (allows(Method::kMac)) {
      dot1x_exhausted_ = true;
      waiting_ = Waiting::kNothing;
      if (seen_) start_mac_auth(*seen_, now);
    } else {
      request_identity(now);  // 802.1X only: keep asking every tx_period (§8.2.4)
    }
    return;
  }
  if (waiting_ == Waiting::kSupplicant) {  // mid-conversation: resend, then give up
    if (supp_resends_ < config_.max_retrans) {
      ++supp_resends_;
      ++counters_.eapol_tx;
      actions_.push_back({AuthAction::Kind::kSendEapol,
                          encode_eapol(EapolType::kEapPacket, last_eap_request_),
                          {},
                          {},
                          {}});
      deadline_ = now + config_.supp_timeout;
    } else {
      ++counters_.supp_timeouts;
      fail(now, "supplicant stopped answering");
    }
    return;
  }
  if (state_ == PortState::kAuthorized && supplicant_) {  // re-authentication is due
    if (method_ == Method::kMac) {
      start_mac_auth(*supplicant_, now);
    } else {
      Mac keep = *supplicant_;
      method_.reset();
      supplicant_ = keep;
      identity_requests_ = 0;
      request_identity(now);
    }
  }
}

}  // namespace vnet::nac
