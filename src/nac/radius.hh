#pragma once
// RADIUS for a switch acting as a network access server (NAS): the packet codec of RFC 2865 §3,
// User-Password hiding (§5.2), the Response Authenticator (§3), Message-Authenticator (RFC 3579
// §3.2, HMAC-MD5, mandatory with EAP-Message), EAP carried in EAP-Message attributes split at
// 253 bytes (RFC 3579 §3.1), and the VLAN a server assigns with the tunnel attributes (RFC 3580
// §3.31, RFC 2868 §3). No I/O: the caller owns the UDP socket, retries and the identifier space.
//
// Wire shape (RFC 2865 §3):
//   Code(1) Identifier(1) Length(2, 20–4096, the whole packet) Authenticator(16) Attributes…
//   Attribute: Type(1) Length(1, ≥ 2, header included) Value(Length − 2)

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hh"

namespace vnet::nac {

enum class RadiusCode : uint8_t {  // RFC 2865 §3, RFC 5997 (Status-Server)
  kAccessRequest = 1,
  kAccessAccept = 2,
  kAccessReject = 3,
  kAccountingRequest = 4,
  kAccountingResponse = 5,
  kAccessChallenge = 11,
  kStatusServer = 12,
};

// Attribute types used by an 802.1X / MAC-authentication NAS (RFC 2865 §5, RFC 2868, RFC 3579,
// RFC 3580 §3).
namespace attr {
constexpr uint8_t kUserName = 1;
constexpr uint8_t kUserPassword = 2;
constexpr uint8_t kNasIpAddress = 4;
constexpr uint8_t kNasPort = 5;
constexpr uint8_t kServiceType = 6;
constexpr uint8_t kFramedMtu = 12;
constexpr uint8_t kReplyMessage = 18;
constexpr uint8_t kState = 24;
constexpr uint8_t kSessionTimeout = 27;
constexpr uint8_t kTerminationAction = 29;
constexpr uint8_t kCalledStationId = 30;
constexpr uint8_t kCallingStationId = 31;
constexpr uint8_t kNasIdentifier = 32;
constexpr uint8_t kNasPortType = 61;
constexpr uint8_t kTunnelType = 64;
constexpr uint8_t kTunnelMediumType = 65;
constexpr uint8_t kEapMessage = 79;
constexpr uint8_t kMessageAuthenticator = 80;
constexpr uint8_t kTunnelPrivateGroupId = 81;
constexpr uint8_t kNasPortId = 87;
}  // namespace attr

constexpr uint32_t kNasPortTypeEthernet = 15;  // RFC 2865 §5.41
constexpr uint32_t kTunnelTypeVlan = 13;       // RFC 3580 §3.31
constexpr uint32_t kTunnelMedium802 = 6;       // RFC 2868 §3.2 (IEEE-802)
constexpr size_t kRadiusMinSize = 20;
constexpr size_t kRadiusMaxSize = 4096;
constexpr size_t kMaxAttributeValue = 253;

using Authenticator = std::array<uint8_t, 16>;

struct RadiusAttribute {
  uint8_t type = 0;
  std::vector<uint8_t> value;  // 0–253 bytes
  friend bool operator==(const RadiusAttribute&, const RadiusAttribute&) = default;
};

struct RadiusPacket {
  RadiusCode code = RadiusCode::kAccessRequest;
  uint8_t id = 0;
  Authenticator authenticator{};
  std::vector<RadiusAttribute> attributes;

  // The first attribute of `type`, or nullptr.
  const RadiusAttribute* find(uint8_t type) const;
  // Every attribute of `type` concatenated in order (EAP-Message, RFC 3579 §3.1); empty if none.
  std::vector<uint8_t> joined(uint8_t type) const;
  void add(uint8_t type, std::span<const uint8_t> value);  // value ≤ 253 bytes
  void add(uint8_t type, std::string_view text);
  void add_u32(uint8_t type, uint32_t value);
  // `message` split into EAP-Message attributes of at most 253 bytes.
  void add_eap(std::span<const uint8_t> message);
};

// Reads a packet. Errors (EPROTO, naming the offset): shorter than 20 bytes, a Length field
// outside 20–4096 or beyond the datagram (bytes past Length are padding and ignored, §3), an
// attribute shorter than 2 or running past Length.
Result<RadiusPacket> decode_radius(std::span<const uint8_t> wire);
// Writes the packet as it is (the authenticator as given, attributes in order). A packet over
// 4096 bytes is refused (EMSGSIZE).
Result<std::vector<uint8_t>> encode_radius(const RadiusPacket& p);

// User-Password hiding (RFC 2865 §5.2): the password padded with zeros to a multiple of 16
// (at most 128 bytes: longer is EINVAL) and XORed with the MD5 chain of secret + authenticator.
Result<std::vector<uint8_t>> hide_password(std::string_view password, std::string_view secret,
                                           const Authenticator& request_authenticator);
// The inverse; trailing zero padding removed. EPROTO if the length is not 16–128 and a
// multiple of 16.
Result<std::string> reveal_password(std::span<const uint8_t> hidden, std::string_view secret,
                                    const Authenticator& request_authenticator);

// An Access-Request ready to send: `p` encoded with its authenticator (the caller draws it from
// a good random source, RFC 2865 §3), and, when `p` carries EAP-Message or
// `message_authenticator` is set, a Message-Authenticator attribute (HMAC-MD5 keyed by the
// secret over the packet with the attribute's value zeroed, RFC 3579 §3.2) appended.
Result<std::vector<uint8_t>> seal_request(RadiusPacket p, std::string_view secret,
                                          bool message_authenticator = false);
// Checks a server's answer to the request that had `request_id` and `request_authenticator`:
// the code is Accept, Reject or Challenge (EPROTO otherwise), the identifier matches (ESRCH),
// the Response Authenticator is MD5(Code+ID+Length+RequestAuth+Attributes+Secret) (EACCES),
// and a Message-Authenticator, required when EAP-Message is present, is valid (EACCES).
// Returns the decoded packet.
Result<RadiusPacket> open_response(std::span<const uint8_t> wire, uint8_t request_id,
                                   const Authenticator& request_authenticator,
                                   std::string_view secret);

// The VLAN a server assigned (RFC 3580 §3.31): Tunnel-Type = VLAN (13), Tunnel-Medium-Type =
// 802 (6) and Tunnel-Private-Group-Id, with the tags of RFC 2868 (a first byte 0x00–0x1F is a
// tag; tagged attributes must agree). `group` is the Tunnel-Private-Group-Id text; `vid` is set
// when that text is a VLAN number 1–4094 (otherwise it names a VLAN, which the caller maps).
struct VlanAssignment {
  std::string group;
  std::optional<uint16_t> vid;
};
std::optional<VlanAssignment> assigned_vlan(const RadiusPacket& p);

}  // namespace vnet::nac
