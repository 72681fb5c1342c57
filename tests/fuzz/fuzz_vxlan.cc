// libFuzzer target: a VTEP decapsulating whatever a remote sends (overlay/vtep.hh). Properties:
// no crash; a payload is delivered only with a valid header (I flag) and a mapped VNI, and then
// as an inner frame tagged with exactly the VLAN that VNI maps to (never another tenant's VLAN);
// the learned table never exceeds its bound; re-encapsulating a delivered frame works. A delivered
// frame that packet::adopt_partial_tcp takes as a partial checksum (its largest frame small here,
// so that GSO adoption happens) keeps its offsets inside the frame, segments into frames no
// larger than that, and its payloads finish in software or get a tunnel GSO header without
// crashing.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "overlay/tunnel_gso.hh"
#include "overlay/vtep.hh"
#include "packet/offload.hh"

using namespace vnet;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  overlay::Config c;
  c.inner_tags = data[0] & 1;
  c.known_peers_only = data[0] & 2;
  c.max_learned = 8;
  overlay::Vtep v(c);
  if (!v.map(10, 1).ok() || !v.map(20, 2).ok()) __builtin_trap();
  overlay::Endpoint peer = *overlay::Endpoint::parse("10.0.0.2");
  if (!v.add_flood(1, peer).ok()) __builtin_trap();
  // The rest is a sequence of payloads, each prefixed by one length byte.
  size_t i = 1;
  TimePoint now{};
  while (i < size) {
    size_t n = data[i++];
    if (n > size - i) n = size - i;
    packet::Frame p = packet::Frame::copy_of({data + i, n});
    i += n;
    now += std::chrono::seconds(1);
    ByteReader r({data + i - n, n});
    auto h = packet::decode_vxlan(r);
    if (v.decapsulate(peer, p, now)) {
      if (!h.ok()) __builtin_trap();
      auto vid = v.vid_of(h->vni);
      if (!vid || p.size() < 18) __builtin_trap();
      if ((p.data()[14] << 8 | p.data()[15]) != *vid) __builtin_trap();
      const size_t max_frame = 60 + (data[0] >> 2);
      if (packet::adopt_partial_tcp(p, max_frame)) {
        const auto& o = p.offload;
        if (size_t{o.csum_start} + o.csum_offset + 2 > p.size()) __builtin_trap();
        if (o.gso_type != packet::OffloadInfo::kGsoNone) {
          std::vector<packet::Frame> segs;
          if (packet::segment_gso(p, segs)) {
            for (const auto& s : segs) {
              if (s.size() > max_frame) __builtin_trap();
            }
          }
        }
      }
      std::vector<overlay::Datagram> out;
      v.encapsulate(std::move(p), now, out);
      for (auto& d : out) {
        std::array<uint8_t, overlay::kTunnelHead> head;
        (void)overlay::tunnel_gso_head(d.payload, overlay::OuterV4{}, head);
        std::vector<packet::Frame> finished;
        (void)overlay::finish_payload(std::move(d.payload), finished);
      }
    }
    if (v.entries(now).size() > c.max_learned) __builtin_trap();
  }
  return 0;
}
