// RADIUS codec (nac/radius.hh) against RFC 2865 §7.1's example packets, and the integrity
// checks a NAS relies on: a wrong secret, a tampered byte or a missing Message-Authenticator
// is refused.
#include "nac/radius.hh"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "nac/eapol.hh"
#include "unit/nac/radius_server.hh"

using namespace vnet;
using namespace vnet::nac;
using vnet::nac::testing::server_answer;

namespace {

std::vector<uint8_t> hex(std::string_view s) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i < s.size();) {
    if (s[i] == ' ') {
      ++i;
      continue;
    }
    out.push_back(static_cast<uint8_t>(std::stoul(std::string(s.substr(i, 2)), nullptr, 16)));
    i += 2;
  }
  return out;
}

// RFC 2865 §7.1: NAS 192.168.1.16 port 3 sends nemo/arctangent, secret xyzzy5461.
const std::vector<uint8_t> kRequest = hex(
    "01 00 00 38 0f 40 3f 94 73 97 80 57 bd 83 d5 cb 98 f4 22 7a 01 06 6e 65 6d 6f 02 12 0d be 70 "
    "8d 93 d4 13 ce 31 96 e4 3f 78 2a 0a ee 04 06 c0 a8 01 10 05 06 00 00 00 03");
// ... and the server's Access-Accept (Service-Type Login, Login-Service Telnet, Login-IP-Host).
const std::vector<uint8_t> kAccept = hex(
    "02 00 00 26 86 fe 22 0e 76 24 ba 2a 10 05 f6 bf 9b 55 e0 b2 06 06 00 00 00 01 0f 06 00 00 00 "
    "00 0e 06 c0 a8 01 03");
constexpr std::string_view kSecret = "xyzzy5461";

Authenticator auth_of(const std::vector<uint8_t>& wire) {
  Authenticator a;
  std::copy_n(wire.begin() + 4, 16, a.begin());
  return a;
}

}  // namespace

TEST(Radius, Rfc2865AccessRequestDecodesAndRevealsThePassword) {
  auto p = decode_radius(kRequest);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->code, RadiusCode::kAccessRequest);
  ASSERT_EQ(p->attributes.size(), 4u);
  const auto* name = p->find(attr::kUserName);
  ASSERT_TRUE(name);
  EXPECT_EQ(std::string(name->value.begin(), name->value.end()), "nemo");
  auto pw = reveal_password(p->find(attr::kUserPassword)->value, kSecret, p->authenticator);
  ASSERT_TRUE(pw);
  EXPECT_EQ(*pw, "arctangent");
  EXPECT_FALSE(reveal_password(p->find(attr::kUserPassword)->value, "other", p->authenticator)
                   .value_or("") == "arctangent");
}

TEST(Radius, Rfc2865AccessRequestEncodesToTheSameBytes) {
  RadiusPacket p;
  p.code = RadiusCode::kAccessRequest;
  p.id = 0;
  p.authenticator = auth_of(kRequest);
  p.add(attr::kUserName, "nemo");
  p.add(attr::kUserPassword, *hide_password("arctangent", kSecret, p.authenticator));
  p.add(attr::kNasIpAddress, hex("c0 a8 01 10"));
  p.add_u32(attr::kNasPort, 3);
  auto wire = seal_request(p, kSecret);
  ASSERT_TRUE(wire);
  EXPECT_EQ(*wire, kRequest);  // no EAP-Message: no Message-Authenticator added
}

TEST(Radius, Rfc2865AccessAcceptPassesTheResponseAuthenticatorCheck) {
  auto p = open_response(kAccept, 0, auth_of(kRequest), kSecret);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->code, RadiusCode::kAccessAccept);
  EXPECT_EQ(p->attributes.size(), 3u);
  EXPECT_EQ(open_response(kAccept, 0, auth_of(kRequest), "xyzzy5462").error().code, EACCES);
  EXPECT_EQ(open_response(kAccept, 1, auth_of(kRequest), kSecret).error().code, ESRCH);
  for (size_t i = 0; i < kAccept.size(); ++i) {
    if (i == 1) continue;  // the identifier has its own error
    auto bad = kAccept;
    bad[i] ^= 0x01;
    EXPECT_FALSE(open_response(bad, 0, auth_of(kRequest), kSecret)) << "byte " << i << " flipped";
  }
}

TEST(Radius, EapIsSplitAt253BytesAndSealedWithMessageAuthenticator) {
  RadiusPacket p;
  p.id = 7;
  p.authenticator.fill(0x42);
  p.add(attr::kUserName, "alice");
  std::vector<uint8_t> eap(600, 0xab);
  p.add_eap(eap);
  ASSERT_EQ(p.attributes.size(), 4u);  // name + 253 + 253 + 94
  EXPECT_EQ(p.attributes[3].value.size(), 94u);
  EXPECT_EQ(p.joined(attr::kEapMessage), eap);
  auto wire = seal_request(p, "s3cret");
  ASSERT_TRUE(wire);
  auto back = decode_radius(*wire);
  ASSERT_TRUE(back);
  const auto* ma = back->find(attr::kMessageAuthenticator);
  ASSERT_TRUE(ma);
  // Recompute: HMAC-MD5 over the packet with the attribute's value zeroed.
  auto zeroed = *wire;
  std::fill(zeroed.end() - 16, zeroed.end(), 0);
  uint8_t mac[16];
  unsigned len = 0;
  HMAC(EVP_md5(), "s3cret", 6, zeroed.data(), zeroed.size(), mac, &len);
  EXPECT_TRUE(std::equal(mac, mac + 16, ma->value.begin()));
}

TEST(Radius, AnswersWithEapMustCarryAValidMessageAuthenticator) {
  Authenticator ra;
  ra.fill(0x17);
  RadiusPacket challenge;
  challenge.code = RadiusCode::kAccessChallenge;
  challenge.id = 9;
  challenge.add_eap(encode_eap(EapCode::kRequest, 2, 4, hex("10 00 01 02 03")));
  challenge.add(attr::kState, "st");
  auto good = server_answer(challenge, ra, "s3cret", true);
  auto p = open_response(good, 9, ra, "s3cret");
  ASSERT_TRUE(p) << p.error().message;
  auto eap = decode_eap(p->joined(attr::kEapMessage));
  ASSERT_TRUE(eap);
  EXPECT_EQ(eap->type, 4);
  auto without = server_answer(challenge, ra, "s3cret", false);
  EXPECT_EQ(open_response(without, 9, ra, "s3cret").error().code, EACCES);
  // A valid Response Authenticator over a wrong Message-Authenticator is still refused.
  auto forged = good;
  forged[forged.size() - 1] ^= 0x80;
  std::vector<uint8_t> in(forged.begin(), forged.end());
  std::copy(ra.begin(), ra.end(), in.begin() + 4);
  in.insert(in.end(), {'s', '3', 'c', 'r', 'e', 't'});
  unsigned len = 0;
  EVP_Digest(in.data(), in.size(), forged.data() + 4, &len, EVP_md5(), nullptr);
  auto r = open_response(forged, 9, ra, "s3cret");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("Message-Authenticator"), std::string::npos);
}

TEST(Radius, AssignedVlanFollowsRfc3580) {
  RadiusPacket p;
  p.add(attr::kTunnelType, hex("00 00 00 0d"));
  p.add(attr::kTunnelMediumType, hex("00 00 00 06"));
  p.add(attr::kTunnelPrivateGroupId, "20");
  auto v = assigned_vlan(p);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->vid, 20);
  // Tagged (tag 1 on all three) and a VLAN given by name.
  RadiusPacket q;
  q.add(attr::kTunnelType, hex("01 00 00 0d"));
  q.add(attr::kTunnelMediumType, hex("01 00 00 06"));
  q.add(attr::kTunnelPrivateGroupId, hex("01 73 74 61 66 66"));  // tag 1, "staff"
  v = assigned_vlan(q);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->group, "staff");
  EXPECT_FALSE(v->vid);
  // Not a VLAN tunnel, a VLAN out of range, tags that disagree: no assignment / no number.
  RadiusPacket r = p;
  r.attributes[0].value = hex("00 00 00 03");
  EXPECT_FALSE(assigned_vlan(r));
  RadiusPacket s = p;
  s.attributes[2].value = {'4', '0', '9', '5'};
  EXPECT_FALSE(assigned_vlan(s)->vid);
  RadiusPacket t = q;
  t.attributes[2].value[0] = 2;
  EXPECT_FALSE(assigned_vlan(t));
}

TEST(Radius, MalformedPacketsAreRefusedWithTheirReason) {
  EXPECT_FALSE(decode_radius(hex("01 00 00 14")));
  auto p = kRequest;
  p[3] = 0x13;  // Length 19
  EXPECT_FALSE(decode_radius(p));
  p = kRequest;
  p[3] = 0x40;  // Length past the datagram
  EXPECT_FALSE(decode_radius(p));
  p = kRequest;
  p[21] = 1;  // attribute length 1
  EXPECT_FALSE(decode_radius(p));
  p = kRequest;
  p[21] = 0x30;  // attribute past Length
  EXPECT_FALSE(decode_radius(p));
  p = kRequest;
  p.insert(p.end(), {0, 0, 0});  // padding past Length is ignored (§3)
  ASSERT_TRUE(decode_radius(p));
  EXPECT_EQ(decode_radius(p)->attributes.size(), 4u);
  EXPECT_FALSE(hide_password(std::string(129, 'x'), "s", {}));
  EXPECT_FALSE(reveal_password(hex("00 01 02"), "s", {}));
}

TEST(Eapol, HeadersRoundTripAndMalformedOnesAreRefused) {
  auto eap = encode_eap(EapCode::kResponse, 5, kEapTypeIdentity, hex("61 6c 69 63 65"));
  auto pdu = encode_eapol(EapolType::kEapPacket, eap);
  auto e = decode_eapol(pdu);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, EapolType::kEapPacket);
  auto inner = decode_eap(e->body);
  ASSERT_TRUE(inner);
  EXPECT_EQ(inner->code, EapCode::kResponse);
  EXPECT_EQ(inner->id, 5);
  EXPECT_EQ(inner->type, kEapTypeIdentity);
  EXPECT_EQ(std::string(inner->data.begin(), inner->data.end()), "alice");
  EXPECT_EQ(encode_eap(EapCode::kSuccess, 5), hex("03 05 00 04"));
  EXPECT_FALSE(decode_eapol(hex("02 00 00")));
  EXPECT_FALSE(decode_eapol(hex("00 01 00 00")));
  EXPECT_FALSE(decode_eapol(hex("02 00 00 09 01 02")));
  EXPECT_FALSE(decode_eap(hex("05 01 00 04")));
  EXPECT_FALSE(decode_eap(hex("01 01 00 04")));  // a Request without its Type
  EXPECT_FALSE(decode_eap(hex("03 01 00 09")));
  auto padded = pdu;
  padded.resize(46, 0);  // Ethernet minimum padding after the body
  EXPECT_EQ(decode_eapol(padded)->body.size(), eap.size());
}
