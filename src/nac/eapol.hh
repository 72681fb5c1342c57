#pragma once
// EAPOL (IEEE 802.1X-2010 §11) and EAP (RFC 3748 §4) headers, as a port authenticator reads
// and writes them. No I/O.
//
// EAPOL PDU after the Ethernet header (EtherType 0x888E, §11.3):
//   Protocol Version(1: 1, 2 or 3) Packet Type(1) Packet Body Length(2) Body…
// Destination: the PAE group address 01-80-C2-00-00-03 (§11.1.1), which a bridge never
// forwards (802.1Q Table 8-1): the switch hands such frames to the authenticator.
// EAP packet (RFC 3748 §4): Code(1) Identifier(1) Length(2, ≥ 4, the whole packet) [Type(1)] Data.

#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "base/result.hh"

namespace vnet::nac {

constexpr uint16_t kEtherTypeEapol = 0x888e;
constexpr std::array<uint8_t, 6> kPaeGroupAddress = {0x01, 0x80, 0xc2, 0x00, 0x00, 0x03};

enum class EapolType : uint8_t {  // §11.3.2
  kEapPacket = 0,
  kStart = 1,
  kLogoff = 2,
  kKey = 3,
  kAsfAlert = 4,
  kMka = 5,
};

struct Eapol {
  uint8_t version = 2;  // 802.1X-2004
  EapolType type = EapolType::kEapPacket;
  std::span<const uint8_t> body;  // Packet Body Length bytes, into the decoded buffer
};

// Reads an EAPOL PDU (the bytes after the EtherType). Errors (EPROTO): fewer than 4 bytes,
// version 0, a body length past the frame (bytes after the body are padding and ignored).
Result<Eapol> decode_eapol(std::span<const uint8_t> pdu);
// Writes the EAPOL header and body (no Ethernet header).
std::vector<uint8_t> encode_eapol(EapolType type, std::span<const uint8_t> body,
                                  uint8_t version = 2);

enum class EapCode : uint8_t { kRequest = 1, kResponse = 2, kSuccess = 3, kFailure = 4 };
constexpr uint8_t kEapTypeIdentity = 1;  // RFC 3748 §5.1

struct Eap {
  EapCode code = EapCode::kRequest;
  uint8_t id = 0;
  uint8_t type = 0;                // Request/Response only
  std::span<const uint8_t> data;   // after Type (Request/Response) or after Length
  std::span<const uint8_t> whole;  // the packet's Length bytes, as relayed in EAP-Message
};

// Reads an EAP packet. Errors (EPROTO): fewer than 4 bytes, Length < 4 or past the buffer, an
// unknown code, a Request/Response without its Type byte.
Result<Eap> decode_eap(std::span<const uint8_t> packet);
// Success/Failure (4 bytes) or Request/Response with `type` and `data`.
std::vector<uint8_t> encode_eap(EapCode code, uint8_t id, uint8_t type = 0,
                                std::span<const uint8_t> data = {});

}  // namespace vnet::nac
