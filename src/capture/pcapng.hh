#pragma once
// pcapng writer: the blocks of a capture file (draft-ietf-opsawg-pcapng, "PCAP Next Generation
// (pcapng) Capture File Format") appended to a byte buffer. No I/O: the caller decides where the
// bytes go (a console connection, a file), and when.
//
// What is written, all in little-endian byte order (the Section Header's byte-order magic tells
// readers which; §4.1):
//  - Section Header Block (§4.1), section length -1 (unknown: the file is written as a stream),
//    with shb_userappl naming the writer.
//  - one Interface Description Block (§4.2) per captured port: LINKTYPE_ETHERNET (1), the
//    snapshot length, if_name (e.g. "br0:2"), if_description when given, and if_tsresol = 9 so
//    timestamps count nanoseconds.
//  - Enhanced Packet Blocks (§4.3): the interface, the timestamp in ns, captured and original
//    length, the bytes (padded to 32 bits), epb_flags (§4.3.1) with the direction in bits 0–1
//    (01 inbound, 10 outbound), and opt_comment (§3.5.1) when given (vnet writes
//    "dropped: REASON" for frames the switch dropped).
//  - Interface Statistics Blocks (§4.6) at the end: isb_starttime, isb_endtime, isb_ifrecv
//    (frames seen), isb_ifdrop (frames the capture could not keep), isb_filteraccept.
// Block lengths are multiples of 4; every block ends with its total length repeated (§3.1).
//
// parse_blocks() reads back what the writer produced (same byte order only), for tests and the
// `vnet capture` client's statistics.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.hh"

namespace vnet::capture {

constexpr uint32_t kSectionHeaderBlock = 0x0A0D0D0A;
constexpr uint32_t kInterfaceDescriptionBlock = 1;
constexpr uint32_t kInterfaceStatisticsBlock = 5;
constexpr uint32_t kEnhancedPacketBlock = 6;
constexpr uint16_t kLinkTypeEthernet = 1;
// Where an Enhanced Packet Block's packet data starts: type, length, interface, timestamp (2),
// captured and original length (§4.3).
constexpr size_t kPacketDataOffset = 28;  // LINKTYPE_ETHERNET (tcpdump.org link-layer types)

// epb_flags bits 0–1 (draft-ietf-opsawg-pcapng §4.3.1).
enum class Direction : uint8_t { kUnknown = 0, kInbound = 1, kOutbound = 2 };

struct Interface {
  std::string name;         // if_name
  std::string description;  // if_description; empty = none
  uint32_t snaplen = 0;     // 0 = no limit
};

struct Packet {
  uint32_t interface = 0;  // index of its Interface Description Block in the section
  uint64_t timestamp_ns = 0;
  std::span<const uint8_t> data;  // the captured bytes (≤ snaplen)
  uint32_t original_length = 0;   // the frame's length on the wire
  Direction direction = Direction::kUnknown;
  std::string_view comment;  // empty = none
};

struct InterfaceStatistics {
  uint32_t interface = 0;
  uint64_t timestamp_ns = 0;
  uint64_t start_ns = 0, end_ns = 0;
  uint64_t received = 0;  // isb_ifrecv: frames the capture saw
  uint64_t dropped = 0;   // isb_ifdrop: frames it could not keep (buffer full)
  uint64_t accepted = 0;  // isb_filteraccept: frames the filter accepted
};

void append_section_header(std::string& out, std::string_view application);
void append_interface(std::string& out, const Interface& iface);
void append_packet(std::string& out, const Packet& packet);
void append_interface_statistics(std::string& out, const InterfaceStatistics& stats);
// The size append_packet() would add.
size_t packet_block_size(const Packet& packet);

// One block read back, with the options the writer uses.
struct Block {
  uint32_t type = 0;
  uint32_t interface = 0;  // EPB, ISB
  uint64_t timestamp_ns = 0;
  std::vector<uint8_t> data;  // EPB bytes
  uint32_t original_length = 0;
  uint32_t flags = 0;  // epb_flags
  std::string comment;
  std::string name;  // if_name
  uint16_t linktype = 0;
  uint32_t snaplen = 0;
  uint8_t tsresol = 6;  // if_tsresol (default 6: microseconds)
  std::optional<uint64_t> ifrecv, ifdrop;
};
// Blocks of a little-endian stream; a trailing incomplete block is left out (the stream may have
// been cut). EINVAL for a malformed block, naming its offset.
Result<std::vector<Block>> parse_blocks(std::span<const uint8_t> bytes);

}  // namespace vnet::capture
