#pragma once
// The text of a VXLAN port (`--port N=vxlan:…`, `port/attach N vxlan:…`): this VTEP's underlay
// address, then comma-separated options, repeated where they add entries:
//
//   vxlan:LOCAL[:PORT],map=VID:VNI[,map=…][,flood=VNI@REMOTE[,flood=…]][,static=VNI@MAC@REMOTE]
//        [,csum][,nolearning][,known-peers][,inner-tags][,mtu=BYTES][,ageing=SECONDS][,ttl=N]
//        [,netns=PATH]
//   vxlan:LOCAL[:PORT],vni=VNI[,flood=…][,static=…][,…]     (single VNI, frames untagged)
//
//   LOCAL    IPv4 or IPv6 address the VTEP binds to (sends from, receives on); PORT the UDP
//            port it listens on and sends to (default 4789; Linux's vxlan uses 8472 when no
//            dstport is given, so peers must agree). 0.0.0.0 or :: : any local address (the
//            kernel picks the source; csum over IPv4 then needs a real address)
//   map      VLAN VID (1–4094) of the switch is carried as VNI (0–16777215); the port must be a
//            trunk of these VLANs
//   flood    broadcast, multicast and unknown unicast of VNI go to REMOTE (a unicast VTEP:
//            head-end replication; a multicast group: joined and sent to); REMOTE is ADDR,
//            ADDR:PORT or [V6ADDR]:PORT
//   vni      instead of map: the port carries this one VNI, frames untagged both ways (VDE's
//            vxlan:// plug); the port's own mode and PVID decide the VLAN
//   static   inner MAC of VNI lives behind REMOTE (never ages)
//   ttl      hop limit of multicast floods (default 1)
//   csum     compute UDP checksums over IPv4 (always over IPv6)
//   nolearning, known-peers, inner-tags, mtu, ageing: overlay::Config
//   netns    open the sockets in the network namespace at PATH (an absolute path such as
//            /run/netns/NAME or /proc/PID/ns/net) instead of the dataplane's
//
// Errors name the option and the expected form; nothing is half-applied.

#include <string>
#include <string_view>
#include <vector>

#include "base/result.hh"
#include "overlay/vtep.hh"

namespace vnet::overlay {

struct VtepSpec {
  Endpoint local;
  Config config;
  struct Map {
    uint16_t vid;
    uint32_t vni;
  };
  struct Static {
    uint32_t vni;
    packet::MacAddress mac;
    Endpoint remote;
  };
  std::vector<Map> maps;
  std::vector<std::pair<uint32_t, Endpoint>> floods;
  std::vector<Static> statics;
  int ttl = 1;  // multicast hop limit
  // netns=PATH: the sockets are opened in this network namespace (where the underlay address
  // is), not the dataplane's own; labs across hosts use it (lab/hosts.hh).
  std::string netns;
};

// Parses the part after "vxlan:".
Result<VtepSpec> parse_vtep_spec(std::string_view text);
// Builds the VTEP the spec describes (maps, flood lists, static entries).
Result<Vtep> make_vtep(const VtepSpec& spec);

// A point-to-point UDP cable (`udp:LOCAL[:PORT],remote=ADDR:PORT`): whole Ethernet frames, tags
// included, one per datagram (VDE's udp:// wire format). LOCAL may be 0.0.0.0 or :: (any
// address); PORT is required, as is remote's, and both ends are of one family. Datagrams are
// taken only from `remote` (address and port).
struct UdpCableSpec {
  Endpoint local;
  Endpoint remote;
};
// Parses the part after "udp:".
Result<UdpCableSpec> parse_udp_cable_spec(std::string_view text);

// VDE locators as vdeplug4 writes them, turned into vnet port specs (the same machinery):
//   udp://[SRCADDR:]SRCPORT->DSTADDR:DSTPORT  → udp:SRCADDR:SRCPORT,remote=DSTADDR:DSTPORT
//       (libvdeplug_udp.c: the last ':' of each side splits address and port, so IPv6 is written
//       bare, fd00::1:2000; brackets are accepted too; no SRCADDR: the wildcard of DST's family)
//   vxlan://[GROUP][/port=N][/vni=N][/ttl=N][/v4][/v6][/expiretime=S]
//       → vxlan:ANY:PORT,vni=VNI,flood=VNI@GROUP:PORT,ttl=N[,ageing=S]
//       (libvdeplug_vxlan.c: defaults group 239.0.0.1 (ff05:56de::1 with /v6), port 4789, VNI 1,
//       TTL 1; one VNI, frames untagged)
// Addresses must be literals (vdeplug also resolves host names). Keys vnet does not implement
// (if, rcvbuf, hashsize) are refused by name. Returns nullopt for a spec that is no locator.
std::optional<Result<std::string>> from_vde_locator(std::string_view spec);

// A tunnel port spec (vxlan:…, udp:…, udp://…, vxlan://…) checked by the parsers the backends
// use, without opening anything (the lab validates its files with it). Returns the VLANs a
// vxlan: map carries (the port must be their trunk); empty for udp: and single-VNI ports.
Result<std::vector<uint16_t>> check_tunnel_spec(std::string_view spec);

}  // namespace vnet::overlay
