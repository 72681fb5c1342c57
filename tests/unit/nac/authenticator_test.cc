// One port's 802.1X / MAC authenticator (nac/authenticator.hh) on a manual clock against a
// scripted RADIUS server: what reaches the supplicant and the server, when, and whether the
// port is open.
#include "nac/authenticator.hh"

#include <gtest/gtest.h>

#include "nac/eapol.hh"
#include "unit/nac/radius_server.hh"

using namespace vnet;
using namespace vnet::nac;
using namespace std::chrono_literals;
using vnet::nac::testing::server_answer;

namespace {

constexpr std::string_view kSecret = "testing123";
const Mac kAlice = {0x02, 0, 0, 0, 0x0a, 0x01};
const Mac kBob = {0x02, 0, 0, 0, 0x0a, 0x02};

std::vector<uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }

struct Harness {
  explicit Harness(AuthConfig c = {}) : auth(with_secret(std::move(c)), 7) {}
  static AuthConfig with_secret(AuthConfig c) {
    c.secret = std::string(kSecret);
    c.nas_port = 4;
    return c;
  }
  PortAuthenticator auth;
  TimePoint now{};
  std::vector<AuthAction> log;

  std::vector<AuthAction> take() {
    auto a = auth.take_actions();
    log.insert(log.end(), a.begin(), a.end());
    return a;
  }
  void advance(Duration d) {
    now += d;
    auth.tick(now);
  }
  // The one action of `kind` just taken (fails the test if there is not exactly one).
  static AuthAction only(const std::vector<AuthAction>& a, AuthAction::Kind kind) {
    std::vector<AuthAction> found;
    for (const auto& x : a)
      if (x.kind == kind) found.push_back(x);
    EXPECT_EQ(found.size(), 1u);
    return found.empty() ? AuthAction{kind, {}, {}, {}, {}} : found.front();
  }
  // The EAP packet inside an EAPOL PDU the authenticator sent.
  static Eap eap_of(const AuthAction& a) {
    auto e = decode_eapol(a.bytes);
    EXPECT_TRUE(e);
    auto p = decode_eap(e->body);
    EXPECT_TRUE(p);
    return *p;
  }
  void respond(const Mac& src, uint8_t id, uint8_t type, std::string_view data) {
    auto eap = encode_eap(EapCode::kResponse, id, type, bytes(data));
    auth.on_eapol(src, encode_eapol(EapolType::kEapPacket, eap), now);
  }
  // The server answers the request `req` (as sent) with `code` and `attrs`.
  void answer(const AuthAction& req, RadiusCode code, RadiusPacket attrs = {}) {
    auto r = decode_radius(req.bytes);
    ASSERT_TRUE(r);
    attrs.code = code;
    attrs.id = r->id;
    auth.on_radius(server_answer(attrs, r->authenticator, kSecret), now);
  }
};

RadiusPacket vlan_attrs(std::string_view group) {
  RadiusPacket p;
  p.add_u32(attr::kTunnelType, kTunnelTypeVlan);
  p.add_u32(attr::kTunnelMediumType, kTunnelMedium802);
  p.add(attr::kTunnelPrivateGroupId, group);
  return p;
}

}  // namespace

TEST(PortAuthenticator, Dot1xChallengeAndAcceptOpenThePortInTheAssignedVlan) {
  Harness h;
  h.auth.link(true, h.now);
  auto a = h.take();
  auto req = Harness::eap_of(Harness::only(a, AuthAction::Kind::kSendEapol));
  EXPECT_EQ(req.code, EapCode::kRequest);
  EXPECT_EQ(req.type, kEapTypeIdentity);
  EXPECT_FALSE(h.auth.authorized());

  h.respond(kAlice, req.id, kEapTypeIdentity, "alice");
  a = h.take();
  auto ar = Harness::only(a, AuthAction::Kind::kSendRadius);
  auto r = decode_radius(ar.bytes);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->code, RadiusCode::kAccessRequest);
  EXPECT_EQ(r->find(attr::kUserName)->value, bytes("alice"));
  EXPECT_EQ(r->find(attr::kCallingStationId)->value, bytes("02-00-00-00-0A-01"));
  EXPECT_TRUE(r->find(attr::kMessageAuthenticator));
  auto relayed = decode_eap(r->joined(attr::kEapMessage));
  ASSERT_TRUE(relayed);
  EXPECT_EQ(relayed->type, kEapTypeIdentity);
  EXPECT_EQ(h.auth.state(), PortState::kAuthenticating);

  // Challenge (EAP-MD5, id 9) with a State the next request must echo.
  RadiusPacket ch;
  ch.add_eap(encode_eap(EapCode::kRequest, 9, 4,
                        bytes("\x10"
                              "0123456789abcdef")));
  ch.add(attr::kState, "session-1");
  h.answer(ar, RadiusCode::kAccessChallenge, ch);
  a = h.take();
  auto md5 = Harness::eap_of(Harness::only(a, AuthAction::Kind::kSendEapol));
  EXPECT_EQ(md5.id, 9);
  EXPECT_EQ(md5.type, 4);

  h.respond(kAlice, 9, 4, "\x10response-value!");
  a = h.take();
  ar = Harness::only(a, AuthAction::Kind::kSendRadius);
  r = decode_radius(ar.bytes);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->find(attr::kState)->value, bytes("session-1"));

  RadiusPacket ok = vlan_attrs("20");
  ok.add_eap(encode_eap(EapCode::kSuccess, 9));
  h.answer(ar, RadiusCode::kAccessAccept, ok);
  a = h.take();
  auto au = Harness::only(a, AuthAction::Kind::kAuthorize);
  EXPECT_EQ(au.vlan, 20);
  EXPECT_EQ(Harness::eap_of(Harness::only(a, AuthAction::Kind::kSendEapol)).code,
            EapCode::kSuccess);
  EXPECT_TRUE(h.auth.authorized());
  EXPECT_EQ(h.auth.identity(), "alice");
  EXPECT_EQ(h.auth.counters().accepts, 1u);
}

TEST(PortAuthenticator, RejectKeepsThePortClosedForTheQuietPeriod) {
  AuthConfig c;
  c.quiet_period = 60s;
  Harness h(c);
  h.auth.link(true, h.now);
  auto req = Harness::eap_of(Harness::only(h.take(), AuthAction::Kind::kSendEapol));
  h.respond(kAlice, req.id, kEapTypeIdentity, "mallory");
  auto ar = Harness::only(h.take(), AuthAction::Kind::kSendRadius);
  h.answer(ar, RadiusCode::kAccessReject);
  auto a = h.take();
  EXPECT_EQ(Harness::eap_of(Harness::only(a, AuthAction::Kind::kSendEapol)).code,
            EapCode::kFailure);
  EXPECT_FALSE(h.auth.authorized());
  EXPECT_EQ(h.auth.state(), PortState::kHeld);
  // During the quiet period EAPOL-Start is ignored; after it, identity is asked again.
  h.advance(59s);
  h.auth.on_eapol(kAlice, encode_eapol(EapolType::kStart, {}), h.now);
  EXPECT_TRUE(h.take().empty());
  h.advance(1s);
  auto again = Harness::eap_of(Harness::only(h.take(), AuthAction::Kind::kSendEapol));
  EXPECT_EQ(again.type, kEapTypeIdentity);
  EXPECT_EQ(h.auth.state(), PortState::kConnecting);
}

TEST(PortAuthenticator, ASilentServerIsRetriedThenThePortIsHeld) {
  AuthConfig c;
  c.radius_timeout = 3s;
  c.radius_retries = 3;
  Harness h(c);
  h.auth.link(true, h.now);
  auto req = Harness::eap_of(Harness::only(h.take(), AuthAction::Kind::kSendEapol));
  h.respond(kAlice, req.id, kEapTypeIdentity, "alice");
  auto first = Harness::only(h.take(), AuthAction::Kind::kSendRadius);
  for (int i = 0; i < 3; ++i) {
    h.advance(2999ms);
    EXPECT_TRUE(h.take().empty()) << "retransmitted early, try " << i;
    h.advance(1ms);
    auto again = Harness::only(h.take(), AuthAction::Kind::kSendRadius);
    EXPECT_EQ(again.bytes, first.bytes);  // same identifier and authenticator (RFC 2865 §2.5)
  }
  h.advance(3s);
  EXPECT_EQ(h.auth.state(), PortState::kHeld);
  EXPECT_EQ(h.auth.counters().radius_retransmits, 3u);
  EXPECT_EQ(h.auth.counters().radius_timeouts, 1u);
  // A late answer to the abandoned request changes nothing.
  h.answer(first, RadiusCode::kAccessAccept);
  EXPECT_FALSE(h.auth.authorized());
  EXPECT_EQ(h.auth.counters().radius_dropped, 1u);
}

TEST(PortAuthenticator, ForgedOrStrayAnswersAreDroppedAndCounted) {
  Harness h;
  h.auth.link(true, h.now);
  auto req = Harness::eap_of(Harness::only(h.take(), AuthAction::Kind::kSendEapol));
  h.respond(kAlice, req.id, kEapTypeIdentity, "alice");
  auto ar = Harness::only(h.take(), AuthAction::Kind::kSendRadius);
  auto r = *decode_radius(ar.bytes);
  RadiusPacket accept;
  accept.code = RadiusCode::kAccessAccept;
  accept.id = r.id;
  h.auth.on_radius(server_answer(accept, r.authenticator, "wrong-secret"), h.now);
  accept.id = static_cast<uint8_t>(r.id + 1);
  h.auth.on_radius(server_answer(accept, r.authenticator, kSecret), h.now);
  h.auth.on_radius(std::vector<uint8_t>{2, 0, 0}, h.now);
  EXPECT_FALSE(h.auth.authorized());
  EXPECT_EQ(h.auth.counters().radius_dropped, 3u);
  EXPECT_EQ(h.auth.state(), PortState::kAuthenticating);
  // Another station's EAPOL during the conversation is ignored.
  h.respond(kBob, req.id, kEapTypeIdentity, "bob");
  EXPECT_TRUE(h.take().empty());
  h.auth.on_eapol(kAlice, std::vector<uint8_t>{2, 0}, h.now);
  EXPECT_EQ(h.auth.counters().eapol_malformed, 1u);
  // While alice's challenge is out, bob answering with its identifier cannot take the session.
  RadiusPacket ch;
  ch.add_eap(encode_eap(EapCode::kRequest, 9, 4,
                        bytes("\x10"
                              "0123456789abcdef")));
  h.answer(ar, RadiusCode::kAccessChallenge, ch);
  h.take();
  h.respond(kBob, 9, kEapTypeIdentity, "bob");
  h.respond(kBob, 9, 4,
            "\x10"
            "bob's-response!");
  EXPECT_TRUE(h.take().empty());
  EXPECT_EQ(h.auth.identity(), "alice");
}

TEST(PortAuthenticator, MacAuthenticationAfter8021xHadItsTries) {
  AuthConfig c;
  c.methods = {Method::kDot1x, Method::kMac};
  c.tx_period = 30s;
  c.reauth_max = 2;
  Harness h(c);
  h.auth.link(true, h.now);
  h.take();
  h.auth.on_frame(kAlice, h.now);  // a client that speaks no 802.1X
  EXPECT_TRUE(h.take().empty());
  for (int i = 0; i < 2; ++i) {
    h.advance(30s);
    EXPECT_EQ(Harness::eap_of(Harness::only(h.take(), AuthAction::Kind::kSendEapol)).type,
              kEapTypeIdentity);
  }
  h.advance(30s);  // three identity requests unanswered: MAC authentication of the seen MAC
  auto ar = Harness::only(h.take(), AuthAction::Kind::kSendRadius);
  auto r = decode_radius(ar.bytes);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->find(attr::kUserName)->value, bytes("02000000"
                                                   "0a01"));
  EXPECT_EQ(*reveal_password(r->find(attr::kUserPassword)->value, kSecret, r->authenticator),
            "020000000a01");
  EXPECT_EQ(r->find(attr::kServiceType)->value, (std::vector<uint8_t>{0, 0, 0, 10}));
  EXPECT_FALSE(r->find(attr::kEapMessage));
  h.answer(ar, RadiusCode::kAccessAccept, vlan_attrs("30"));
  auto au = Harness::only(h.take(), AuthAction::Kind::kAuthorize);
  EXPECT_EQ(au.vlan, 30);
  EXPECT_EQ(h.auth.method(), Method::kMac);
  EXPECT_TRUE(h.auth.authorized());
}

TEST(PortAuthenticator, MacFirstStartsOnTheFirstFrame) {
  AuthConfig c;
  c.methods = {Method::kMac};
  Harness h(c);
  h.auth.link(true, h.now);
  EXPECT_TRUE(h.take().empty());  // no EAPOL at all on a MAC-only port
  h.auth.on_frame(kBob, h.now);
  auto ar = Harness::only(h.take(), AuthAction::Kind::kSendRadius);
  h.auth.on_frame(kAlice, h.now);  // a second station while the first is checked: ignored
  EXPECT_TRUE(h.take().empty());
  h.answer(ar, RadiusCode::kAccessReject);
  auto a = h.take();
  EXPECT_TRUE(std::none_of(a.begin(), a.end(), [](const AuthAction& x) {
    return x.kind == AuthAction::Kind::kSendEapol;
  }));
  EXPECT_EQ(h.auth.state(), PortState::kHeld);
}

TEST(PortAuthenticator, LogoffAndLinkDownCloseTheOpenPort) {
  for (bool by_logoff : {true, false}) {
    Harness h;
    h.auth.link(true, h.now);
    auto req = Harness::eap_of(Harness::only(h.take(), AuthAction::Kind::kSendEapol));
    h.respond(kAlice, req.id, kEapTypeIdentity, "alice");
    h.answer(Harness::only(h.take(), AuthAction::Kind::kSendRadius), RadiusCode::kAccessAccept,
             vlan_attrs("20"));
    h.take();
    ASSERT_TRUE(h.auth.authorized());
    if (by_logoff) {
      h.auth.on_eapol(kAlice, encode_eapol(EapolType::kLogoff, {}), h.now);
    } else {
      h.auth.link(false, h.now);
    }
    auto a = h.take();
    Harness::only(a, AuthAction::Kind::kUnauthorize);
    EXPECT_FALSE(h.auth.authorized()) << (by_logoff ? "logoff" : "link down");
    EXPECT_FALSE(h.auth.assigned_vlan());
    EXPECT_EQ(h.auth.state(), by_logoff ? PortState::kConnecting : PortState::kDisconnected);
  }
}

TEST(PortAuthenticator, SessionTimeoutReauthenticatesAndAFailedReauthCloses) {
  Harness h;
  h.auth.link(true, h.now);
  auto req = Harness::eap_of(Harness::only(h.take(), AuthAction::Kind::kSendEapol));
  h.respond(kAlice, req.id, kEapTypeIdentity, "alice");
  RadiusPacket ok = vlan_attrs("20");
  ok.add_u32(attr::kSessionTimeout, 600);
  ok.add_u32(attr::kTerminationAction, 1);
  h.answer(Harness::only(h.take(), AuthAction::Kind::kSendRadius), RadiusCode::kAccessAccept, ok);
  h.take();
  h.advance(599s);
  EXPECT_TRUE(h.take().empty());
  h.advance(1s);
  auto id = Harness::eap_of(Harness::only(h.take(), AuthAction::Kind::kSendEapol));
  EXPECT_EQ(id.type, kEapTypeIdentity);
  EXPECT_TRUE(h.auth.authorized());  // open while re-authenticating
  h.respond(kAlice, id.id, kEapTypeIdentity, "alice");
  h.answer(Harness::only(h.take(), AuthAction::Kind::kSendRadius), RadiusCode::kAccessReject);
  Harness::only(h.take(), AuthAction::Kind::kUnauthorize);
  EXPECT_FALSE(h.auth.authorized());
}

TEST(PortAuthenticator, ForcedControlIgnoresEverything) {
  AuthConfig c;
  c.control = PortControl::kForceUnauthorized;
  Harness h(c);
  h.auth.link(true, h.now);
  h.auth.on_eapol(kAlice, encode_eapol(EapolType::kStart, {}), h.now);
  h.auth.on_frame(kAlice, h.now);
  EXPECT_TRUE(h.take().empty());
  EXPECT_FALSE(h.auth.authorized());
  AuthConfig d;
  d.control = PortControl::kForceAuthorized;
  Harness g(d);
  Harness::only(g.take(), AuthAction::Kind::kAuthorize);
  EXPECT_TRUE(g.auth.authorized());
}
