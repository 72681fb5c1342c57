#pragma once
// Bridge Protocol Data Units of IEEE 802.1D-2004 clause 9: the Configuration BPDU and the
// Topology Change Notification BPDU of the Spanning Tree Protocol (§9.3.1, §9.3.2) and the
// Rapid Spanning Tree BPDU (§9.3.3). Host-order value structs; the codec encodes and decodes the
// BPDU itself (§9.1: octets from the Protocol Identifier on) and the frame that carries it
// (§7.12.3: destination 01-80-C2-00-00-00, an IEEE 802.3 length field, LLC DSAP 0x42, SSAP 0x42,
// UI control 0x03).
//
// Validation follows §9.3.4: a Configuration BPDU needs 35 octets and a Message Age below its
// Max Age, a TCN 4, an RST BPDU 36; a BPDU of Protocol Version 2 or higher with type 0x02 is an
// RST BPDU (later versions are read as version 2, §9.3.4 c). Anything else is an error naming the
// field and what was expected. Checks that need the receiving bridge (a BPDU it sent itself,
// §9.3.4 a) belong to the spanning tree engine. The Version 1 Length of an RST BPDU is not checked
// (§9.3.4 does not; IEEE 802.1Q §14.5 reads later versions with any Version 1 Length as RST).
//
// A decoded Bpdu holds only what its type carries: a TCN leaves every field after `type` at its
// default, a Configuration BPDU leaves the RST-only flags false. So decode(encode(x)) == x for
// every x that decode produced, which the fuzz target checks.
//
// Times are kept as on the wire, in units of 1/256 s (§9.2.8); `seconds()` rounds them.

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.hh"
#include "packet/address.hh"

namespace vnet::stp {

// §9.2.5: 4-bit priority (a multiple of 4096), 12-bit system ID extension, 48-bit MAC address,
// packed into one integer so that comparison is the standard's (lower is better).
struct BridgeId {
  uint64_t value = 0;
  static BridgeId make(uint16_t priority, uint16_t system_id, const packet::MacAddress& mac);
  uint16_t priority() const { return static_cast<uint16_t>(value >> 48) & 0xf000; }
  uint16_t system_id() const { return static_cast<uint16_t>(value >> 48) & 0x0fff; }
  packet::MacAddress mac() const;
  friend auto operator<=>(const BridgeId&, const BridgeId&) = default;
};

// §9.2.7: 4-bit priority (a multiple of 16) and a 12-bit port number (1–4095).
struct PortId {
  uint16_t value = 0;
  static PortId make(uint8_t priority, uint16_t number) {
    return {static_cast<uint16_t>((priority & 0xf0) << 8 | (number & 0x0fff))};
  }
  uint8_t priority() const { return static_cast<uint8_t>(value >> 8) & 0xf0; }
  uint16_t number() const { return value & 0x0fff; }
  friend auto operator<=>(const PortId&, const PortId&) = default;
};

enum class BpduType : uint8_t { kConfig = 0x00, kRst = 0x02, kTcn = 0x80 };

// §9.3.3: the Port Role field of an RST BPDU's flags (bits 3 and 4).
enum class BpduRole : uint8_t { kUnknown = 0, kAlternateOrBackup = 1, kRoot = 2, kDesignated = 3 };

// Flags (§9.3.1 for STP: bit 1 TC, bit 8 TCA; §9.3.3 for RSTP: all eight).
struct BpduFlags {
  bool topology_change = false;        // bit 1 (0x01)
  bool proposal = false;               // bit 2 (0x02), RST only
  BpduRole role = BpduRole::kUnknown;  // bits 3–4 (0x0c), RST only
  bool learning = false;               // bit 5 (0x10), RST only
  bool forwarding = false;             // bit 6 (0x20), RST only
  bool agreement = false;              // bit 7 (0x40), RST only
  bool topology_change_ack = false;    // bit 8 (0x80)
  friend bool operator==(const BpduFlags&, const BpduFlags&) = default;
};

// Times in 1/256 s, as on the wire (§9.2.8).
struct BpduTimes {
  uint16_t message_age = 0;
  uint16_t max_age = 20 * 256;
  uint16_t hello_time = 2 * 256;
  uint16_t forward_delay = 15 * 256;
  friend bool operator==(const BpduTimes&, const BpduTimes&) = default;
};
inline uint16_t seconds(uint16_t wire) { return static_cast<uint16_t>((wire + 128) / 256); }
inline uint16_t to_wire(uint16_t seconds) { return static_cast<uint16_t>(seconds * 256); }

struct Bpdu {
  uint8_t version = 0;  // Protocol Version Identifier: 0 STP, 2 RSTP (as received)
  BpduType type = BpduType::kConfig;
  // Everything below is absent from a TCN BPDU (left at its defaults).
  BpduFlags flags;
  BridgeId root;
  uint32_t root_path_cost = 0;
  BridgeId bridge;  // the transmitting (designated) bridge
  PortId port;      // the transmitting (designated) port
  BpduTimes times;
  friend bool operator==(const Bpdu&, const Bpdu&) = default;
};

constexpr size_t kConfigBpduSize = 35;
constexpr size_t kTcnBpduSize = 4;
constexpr size_t kRstBpduSize = 36;

// The BPDU from its Protocol Identifier on. Errors (EBADMSG) name the field, e.g.
// "BPDU truncated: a Configuration BPDU needs 35 octets, have 20",
// "BPDU protocol identifier 0x0001: expected 0x0000",
// "BPDU type 0x03 for version 0: expected 0x00 (Configuration) or 0x80 (TCN)",
// "Configuration BPDU message age 20.0 s is not below max age 20.0 s".
Result<Bpdu> decode_bpdu(std::span<const uint8_t> bytes);
// 35, 4 or 36 octets by type; an RST BPDU carries Version 1 Length 0. Flags that do not exist
// in the type are not encoded. The Protocol Version Identifier is `version` as given (0 for the
// STP BPDUs of §9.3.1–9.3.2), except that an RST BPDU is never written below version 2, which
// no receiver would read as RST (§9.3.4 c).
std::vector<uint8_t> encode_bpdu(const Bpdu& bpdu);

// A whole Ethernet frame: destination 01-80-C2-00-00-00, 802.3 length, LLC 42 42 03, BPDU.
// Errors name what is wrong (destination, "length field 0x0800 is an EtherType", LLC octets, then
// the BPDU's own errors). Padding after the length field's extent is ignored.
Result<Bpdu> decode_bpdu_frame(std::span<const uint8_t> frame);
// Padded to 60 octets (the minimum frame without FCS).
std::vector<uint8_t> encode_bpdu_frame(const packet::MacAddress& src, const Bpdu& bpdu);

inline const packet::MacAddress kBridgeGroupAddress{{0x01, 0x80, 0xc2, 0x00, 0x00, 0x00}};

// For logs, errors and the console.
// "Unknown", "Alternate/Backup", "Root", "Designated" (§9.3.3 port role values 0–3).
const char* bpdu_role_name(BpduRole role);
// A wire time exactly, in seconds: 5120 → "20.0 s", 5115 → "19.98046875 s".
std::string format_time(uint16_t wire);
// Priority and system ID extension as four hex digits, then the MAC: "8000.020000000a01".
std::string to_string(BridgeId id);
// Priority and port number in decimal: "128.1".
std::string to_string(PortId id);
// One line: "TCN v0", "Config v0 flags TC,TCA root … cost … bridge … port … age … max-age …
// hello … forward-delay …", "RST v2 role Designated flags proposal,learning …".
std::string to_string(const Bpdu& bpdu);

}  // namespace vnet::stp
