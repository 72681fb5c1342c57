#pragma once
// Vtep: a VXLAN tunnel end point (RFC 7348) as the switch sees it, without I/O. It sits behind a
// trunk port of a bridge: a frame the bridge sends out that port carries the 802.1Q tag of its
// VLAN, the VTEP maps the VLAN to a VNI, strips the tag (§6.1) and encapsulates the frame into
// UDP payloads for the underlay; a UDP payload it receives is checked (§5), its VNI mapped back
// to a VLAN and the inner frame handed to the bridge with that VLAN's tag. The caller owns the
// UDP sockets (and the outer IP header: the payloads start with the UDP header, as a raw
// IPPROTO_UDP socket sends them, so the VTEP chooses the source port per flow).
//
// Forwarding of (VNI, inner destination MAC):
//   - a static entry or a learned one (inner source MAC → the outer source it came from, per VNI,
//     ageing `ageing` after it was last refreshed): one payload to that remote VTEP;
//   - otherwise (broadcast, multicast, unknown unicast): one copy to every endpoint of the VNI's
//     flood list — unicast endpoints are head-end replication, a multicast group address is the
//     §4.2 multicast flood — or nothing when the list is empty (counted as kNoFloodList).
//
// Rules (RFC 7348):
//   §5   send: flags 0x08, reserved bits zero, destination port `port` (4789 by default; Linux
//        uses 8472 when none is given), source port packet::vxlan_source_port() of the inner
//        frame (49152–65535), UDP checksum zero unless `udp_checksum` (IPv4 underlay; it needs
//        `local`); over IPv6 the checksum is always computed (RFC 6935: a zero checksum over
//        IPv6 is accepted only by receivers configured for it — Linux needs udp6zerocsumrx).
//        receive: the I flag must be set (kNoIFlag), reserved bits ignored, a zero checksum
//        accepted (checking a non-zero one is the socket's business).
//   §4   no fragmentation: a frame whose encapsulation exceeds `underlay_mtu` (outer IP + UDP +
//        VXLAN + inner frame, the inner without its VLAN tag) is dropped and counted (kTooBig).
//        For an underlay MTU of 1500 the inner frame may have 1464 bytes over IPv4 (an inner IP
//        MTU of 1450, Linux's vxlan default) and 1444 over IPv6 (1430).
//   §6.1 the inner VLAN tag is stripped on encapsulation; a decapsulated frame that carries a tag
//        is dropped (kInnerTagged) unless `inner_tags` (then kept as is, under the VNI's tag).
//
// Bounds: learned entries at most `max_learned` (a new MAC past it is not learned, counted
// kLearnLimit; forwarding to it floods). With `known_peers_only`, payloads from a source that
// is neither in a flood list nor a static entry are dropped (kUnknownPeer) before anything is
// learned. Nothing a remote sends grows memory beyond these bounds. Single-threaded.
//
// Single-VNI mode (`untagged_vni`, VDE's vxlan:// plug): the port carries one VNI and no VLAN map;
// frames leave and enter the bridge untagged (the port's own mode decides their VLAN). A tagged
// frame is carried with its tag only with `inner_tags` (else dropped, kInnerTagged, both ways).
//
// Run-time changes (the console's vtep/ commands): map/unmap, flood and static entries added and
// removed, learned entries flushed; each either applies whole or changes nothing.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/clock.hh"
#include "base/result.hh"
#include "packet/address.hh"
#include "packet/frame.hh"
#include "packet/vxlan.hh"

namespace vnet::overlay {

// A VTEP in the underlay: an IPv4 or IPv6 address and a UDP port.
struct Endpoint {
  bool v6 = false;
  packet::Ipv4Address v4{};
  packet::Ipv6Address v6addr{};
  uint16_t port = packet::kVxlanPort;

  // "10.0.0.2", "10.0.0.2:8472", "fd00::2", "[fd00::2]:8472"; `default_port` when none.
  static Result<Endpoint> parse(std::string_view text, uint16_t default_port = packet::kVxlanPort);
  std::string to_string() const;  // "10.0.0.2:4789", "[fd00::2]:4789"
  bool is_multicast() const;      // 224.0.0.0/4 or ff00::/8
  friend bool operator==(const Endpoint&, const Endpoint&) = default;
  friend auto operator<=>(const Endpoint&, const Endpoint&) = default;
};

enum class Drop : uint8_t {
  kTruncated,       // a payload shorter than the VXLAN header
  kNoIFlag,         // §5: I flag clear
  kUnknownVni,      // a VNI no VLAN is mapped to
  kInnerTruncated,  // the inner frame shorter than an Ethernet header
  kInnerTagged,     // §6.1: a tagged inner frame and inner_tags off
  kUnknownPeer,     // known_peers_only and the source is not configured
  kUntagged,        // encapsulation: a frame without a VLAN tag (the port must be a trunk)
  kNoVni,           // encapsulation: a VLAN without a VNI
  kTooBig,          // §4: the encapsulation would exceed the underlay MTU
  kNoFloodList,     // BUM or unknown unicast and the VNI floods nowhere
  kLearnLimit,      // a new inner source MAC past max_learned (the frame itself is delivered)
  kCount
};
std::string_view drop_name(Drop d);

struct Config {
  uint16_t port = packet::kVxlanPort;  // destination port of what this VTEP sends
  bool udp_checksum = false;           // IPv4: compute the checksum (needs local)
  std::optional<Endpoint> local;       // this VTEP's underlay address (checksums)
  bool inner_tags = false;             // §6.1 "unless configured otherwise"
  bool learning = true;
  bool known_peers_only = false;
  Duration ageing = std::chrono::seconds(300);  // Linux vxlan's default
  size_t max_learned = 16384;
  size_t underlay_mtu = 1500;            // bytes of outer IP packet
  uint64_t salt = 0;                     // source port hash salt
  std::optional<uint32_t> untagged_vni;  // single-VNI mode: no map, frames untagged
  // encapsulate() leaves the UDP checksum zero; the caller fills it with finish_checksum() for
  // the payloads it sends whole (a UDP socket's kernel computes it for the others, often in
  // the NIC).
  bool checksum_later = false;
};

// One payload for the underlay: UDP header (8 bytes) + VXLAN header (8) + inner frame.
struct Datagram {
  Endpoint to;
  packet::Frame payload;
};

// The largest frame `f` puts on a wire: itself, or for a TCP GSO frame its headers and one
// segment (gso_size bytes of payload).
size_t segment_frame_size(const packet::Frame& f);

struct Counters {
  uint64_t encapsulated = 0;  // inner frames sent (once each, however many copies)
  uint64_t copies = 0;        // payloads produced (head-end replication counts each)
  uint64_t decapsulated = 0;  // inner frames handed to the bridge
  uint64_t learned = 0;       // new (VNI, MAC) entries
  uint64_t moved = 0;         // entries that moved to another remote
  std::array<uint64_t, static_cast<size_t>(Drop::kCount)> drops{};
  uint64_t dropped(Drop d) const { return drops[static_cast<size_t>(d)]; }
};

struct LearnedEntry {
  uint32_t vni = 0;
  packet::MacAddress mac;
  Endpoint remote;
  bool is_static = false;
  Duration age{0};
};

class Vtep {
 public:
  explicit Vtep(Config config);

  // VLAN `vid` of the switch is carried as `vni`. Errors (EINVAL, naming the value and the
  // range): VID outside 1–4094, VNI outside 0–16777215; EEXIST: either is mapped already.
  Status map(uint16_t vid, uint32_t vni);
  // Adds `e` to the VNI's flood list (EINVAL for an unmapped VNI; a duplicate is ignored).
  Status add_flood(uint32_t vni, const Endpoint& e);
  // A static (VNI, MAC) → remote entry; it never ages and learning never moves it. EINVAL for an
  // unmapped VNI or a multicast MAC.
  Status add_static(uint32_t vni, const packet::MacAddress& mac, const Endpoint& e);

  // `frame` left the bridge on the VTEP's trunk port (802.1Q-tagged). Appends the payloads to
  // send to `out`; a dropped frame is counted. A frame with offloads (a vnet-header port's TCP
  // train or partial checksum) keeps its packet::OffloadInfo in each payload, its offsets still
  // counted from the inner frame's start (16 bytes into the payload); a GSO frame is held to the
  // MTU by its segments (segment_frame_size). The caller finishes or segments it, or has the
  // kernel do so.
  void encapsulate(packet::Frame frame, TimePoint now, std::vector<Datagram>& out);
  // `payload` (a UDP payload: VXLAN header + inner frame) arrived from `from`. On success it
  // becomes the inner frame tagged with the VNI's VLAN and true is returned; otherwise the drop is
  // counted and false returned.
  bool decapsulate(const Endpoint& from, packet::Frame& payload, TimePoint now);

  // With checksum_later: writes the UDP checksum of `payload` (one of encapsulate()'s, to `to`)
  // where the rules above want one and `local` allows it; otherwise does nothing.
  void finish_checksum(packet::Frame& payload, const Endpoint& to) const;

  // Forgets learned entries not refreshed for `ageing` (call it now and then; lookups ignore
  // expired entries anyway).
  void age(TimePoint now);
  std::vector<LearnedEntry> entries(TimePoint now) const;

  // Removes VLAN `vid`'s VNI with its flood list, static and learned entries. ENOENT if unmapped.
  struct Removed {
    size_t floods = 0, statics = 0, learned = 0;
  };
  Result<Removed> unmap(uint16_t vid);
  // ENOENT when the VNI's list does not hold `e`.
  Status remove_flood(uint32_t vni, const Endpoint& e);
  // ENOENT when there is no static entry for (vni, mac).
  Status remove_static(uint32_t vni, const packet::MacAddress& mac);
  // Forgets the learned entries (of one VNI); static ones stay. Returns how many went.
  size_t flush(std::optional<uint32_t> vni = std::nullopt);
  // Whether VNI is carried (mapped, or the single VNI).
  bool carries(uint32_t vni) const;
  // VNI → VLAN (the single VNI maps to VLAN 0: untagged), VNI → flood list.
  std::map<uint32_t, uint16_t> maps() const;
  const std::map<uint32_t, std::vector<Endpoint>>& flood_lists() const { return flood_; }
  const Counters& counters() const { return counters_; }
  const Config& config() const { return config_; }
  std::optional<uint32_t> vni_of(uint16_t vid) const;
  std::optional<uint16_t> vid_of(uint32_t vni) const;

 private:
  struct Entry {
    Endpoint remote;
    TimePoint refreshed{};
    bool is_static = false;
  };
  static uint64_t key(uint32_t vni, const packet::MacAddress& mac) {
    return uint64_t{vni} << 48 | mac.to_u64();
  }
  const Entry* lookup(uint32_t vni, const packet::MacAddress& mac, TimePoint now) const;
  void learn(uint32_t vni, const packet::MacAddress& mac, const Endpoint& from, TimePoint now);
  static Endpoint peer_key(const Endpoint& e);
  bool known_peer(const Endpoint& from) const;
  void rebuild_peers();
  bool seal(packet::Frame& f, const Endpoint& to, uint32_t vni, uint16_t src_port);
  void write_checksum(packet::Frame& f, const Endpoint& to) const;
  void drop(Drop d) { ++counters_.drops[static_cast<size_t>(d)]; }

  Config config_;
  std::array<uint32_t, 4096> vni_of_vid_{};  // 0 = unmapped; stores vni + 1
  std::unordered_map<uint32_t, uint16_t> vid_of_vni_;
  std::map<uint32_t, std::vector<Endpoint>> flood_;
  std::unordered_map<uint64_t, Entry> fdb_;
  std::set<Endpoint> peers_;  // unicast VTEPs of flood lists and static entries (port 0)
  size_t learned_count_ = 0;
  Counters counters_;
};

}  // namespace vnet::overlay
