#pragma once
// The text of a VXLAN port (`--port N=vxlan:…`, `port/attach N vxlan:…`): this VTEP's underlay
// address, then comma-separated options, repeated where they add entries:
//
//   vxlan:LOCAL[:PORT],map=VID:VNI[,map=…][,flood=VNI@REMOTE[,flood=…]][,static=VNI@MAC@REMOTE]
//        [,csum][,nolearning][,known-peers][,inner-tags][,mtu=BYTES][,ageing=SECONDS]
//        [,netns=PATH]
//
//   LOCAL    IPv4 or IPv6 address the VTEP binds to (sends from, receives on); PORT the UDP
//            port it listens on and sends to (default 4789; Linux's vxlan uses 8472 when no
//            dstport is given, so peers must agree)
//   map      VLAN VID (1–4094) of the switch is carried as VNI (0–16777215); the port must be a
//            trunk of these VLANs
//   flood    broadcast, multicast and unknown unicast of VNI go to REMOTE (a unicast VTEP:
//            head-end replication; a multicast group: joined and sent to); REMOTE is ADDR,
//            ADDR:PORT or [V6ADDR]:PORT
//   static   inner MAC of VNI lives behind REMOTE (never ages)
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
  // netns=PATH: the sockets are opened in this network namespace (where the underlay address
  // is), not the dataplane's own; labs across hosts use it (lab/hosts.hh).
  std::string netns;
};

// Parses the part after "vxlan:".
Result<VtepSpec> parse_vtep_spec(std::string_view text);
// Builds the VTEP the spec describes (maps, flood lists, static entries).
Result<Vtep> make_vtep(const VtepSpec& spec);

}  // namespace vnet::overlay
