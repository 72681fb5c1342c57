#include "overlay/vtep.hh"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "base/parse.hh"
#include "packet/checksum.hh"

namespace vnet::overlay {

using packet::Frame;
using packet::MacAddress;

namespace {

constexpr size_t kUdpHeader = 8;
constexpr size_t kEncap = kUdpHeader + packet::VxlanHeader::kWireSize;  // in front of the inner
constexpr uint16_t kTpid = 0x8100;

uint16_t load16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
void store16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}

bool tagged(const Frame& f) {
  if (f.size() < 18) return false;
  const uint16_t type = load16(f.data() + 12);
  return type == 0x8100 || type == 0x88a8 || type == 0x9100;
}

}  // namespace

std::string_view drop_name(Drop d) {
  switch (d) {
    case Drop::kTruncated:
      return "truncated";
    case Drop::kNoIFlag:
      return "no_i_flag";
    case Drop::kUnknownVni:
      return "unknown_vni";
    case Drop::kInnerTruncated:
      return "inner_truncated";
    case Drop::kInnerTagged:
      return "inner_tagged";
    case Drop::kUnknownPeer:
      return "unknown_peer";
    case Drop::kUntagged:
      return "untagged";
    case Drop::kNoVni:
      return "no_vni";
    case Drop::kTooBig:
      return "too_big";
    case Drop::kNoFloodList:
      return "no_flood_list";
    case Drop::kLearnLimit:
      return "learn_limit";
    case Drop::kCount:
      break;
  }
  return "?";
}

Result<Endpoint> Endpoint::parse(std::string_view text, uint16_t default_port) {
  auto bad = [&] {
    return make_error(EINVAL,
                      "VTEP '{}': expected an IPv4 or IPv6 address with an optional port "
                      "(10.0.0.2, 10.0.0.2:4789, fd00::2, [fd00::2]:4789)",
                      text);
  };
  Endpoint e;
  e.port = default_port;
  std::string_view addr = text;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos) return bad();
    addr = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad();
      port = rest.substr(1);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    auto colon = text.find(':');
    addr = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (auto v4 = packet::Ipv4Address::parse(addr)) {
    e.v4 = *v4;
  } else if (auto v6 = packet::Ipv6Address::parse(addr)) {
    e.v6 = true;
    e.v6addr = *v6;
  } else {
    return bad();
  }
  if (!port.empty() || (text.size() > addr.size() && text.back() == ':')) {
    auto p = parse_int(port, 1, 65535);
    if (!p) {
      return make_error(EINVAL, "VTEP '{}': port '{}': expected a UDP port from 1 to 65535", text,
                        port);
    }
    e.port = static_cast<uint16_t>(*p);
  }
  return e;
}

std::string Endpoint::to_string() const {
  return v6 ? fmt::format("[{}]:{}", v6addr.to_string(), port)
            : fmt::format("{}:{}", v4.to_string(), port);
}

bool Endpoint::is_multicast() const {
  return v6 ? v6addr.bytes[0] == 0xff : (v4.value >> 28) == 0xe;
}

Vtep::Vtep(Config config) : config_(std::move(config)) {}

Status Vtep::map(uint16_t vid, uint32_t vni) {
  if (config_.untagged_vni) {
    return make_error(EINVAL, "a single-VNI port (VNI {}, untagged) has no VLAN map",
                      *config_.untagged_vni);
  }
  if (vid < 1 || vid > 4094) return make_error(EINVAL, "VLAN {}: expected 1 to 4094", vid);
  if (vni > packet::kMaxVni) {
    return make_error(EINVAL, "VNI {}: expected 0 to {}", vni, packet::kMaxVni);
  }
  if (vni_of_vid_[vid] != 0) {
    return make_error(EEXIST, "VLAN {} is carried as VNI {} already", vid, vni_of_vid_[vid] - 1);
  }
  if (auto it = vid_of_vni_.find(vni); it != vid_of_vni_.end()) {
    return make_error(EEXIST, "VNI {} carries VLAN {} already", vni, it->second);
  }
  vni_of_vid_[vid] = vni + 1;
  vid_of_vni_[vni] = vid;
  return {};
}

std::optional<uint32_t> Vtep::vni_of(uint16_t vid) const {
  if (vid >= vni_of_vid_.size() || vni_of_vid_[vid] == 0) return std::nullopt;
  return vni_of_vid_[vid] - 1;
}

std::optional<uint16_t> Vtep::vid_of(uint32_t vni) const {
  auto it = vid_of_vni_.find(vni);
  if (it == vid_of_vni_.end()) return std::nullopt;
  return it->second;
}

bool Vtep::carries(uint32_t vni) const {
  return config_.untagged_vni ? *config_.untagged_vni == vni : vid_of(vni).has_value();
}

std::map<uint32_t, uint16_t> Vtep::maps() const {
  std::map<uint32_t, uint16_t> out(vid_of_vni_.begin(), vid_of_vni_.end());
  if (config_.untagged_vni) out[*config_.untagged_vni] = 0;
  return out;
}

Result<Vtep::Removed> Vtep::unmap(uint16_t vid) {
  auto vni = vni_of(vid);
  if (!vni) return make_error(ENOENT, "VLAN {} is not carried by any VNI", vid);
  Removed r;
  if (auto it = flood_.find(*vni); it != flood_.end()) {
    r.floods = it->second.size();
    flood_.erase(it);
  }
  for (auto it = fdb_.begin(); it != fdb_.end();) {
    if (static_cast<uint32_t>(it->first >> 48) != *vni) {
      ++it;
      continue;
    }
    if (it->second.is_static) {
      ++r.statics;
    } else {
      ++r.learned;
      --learned_count_;
    }
    it = fdb_.erase(it);
  }
  vni_of_vid_[vid] = 0;
  vid_of_vni_.erase(*vni);
  rebuild_peers();
  return r;
}

Status Vtep::remove_flood(uint32_t vni, const Endpoint& e) {
  auto it = flood_.find(vni);
  auto at = it == flood_.end() ? std::vector<Endpoint>::iterator{}
                               : std::find(it->second.begin(), it->second.end(), e);
  if (it == flood_.end() || at == it->second.end()) {
    return make_error(ENOENT, "VNI {} does not flood to {}", vni, e.to_string());
  }
  it->second.erase(at);
  if (it->second.empty()) flood_.erase(it);
  rebuild_peers();
  return {};
}

Status Vtep::remove_static(uint32_t vni, const MacAddress& mac) {
  auto it = fdb_.find(key(vni, mac));
  if (it == fdb_.end() || !it->second.is_static) {
    return make_error(ENOENT, "VNI {} has no static entry for {}", vni, mac.to_string());
  }
  fdb_.erase(it);
  rebuild_peers();
  return {};
}

size_t Vtep::flush(std::optional<uint32_t> vni) {
  size_t n = 0;
  for (auto it = fdb_.begin(); it != fdb_.end();) {
    if (!it->second.is_static && (!vni || static_cast<uint32_t>(it->first >> 48) == *vni)) {
      it = fdb_.erase(it);
      --learned_count_;
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

void Vtep::rebuild_peers() {
  peers_.clear();
  for (const auto& [vni, list] : flood_) {
    for (const auto& e : list) {
      if (!e.is_multicast()) peers_.insert(peer_key(e));
    }
  }
  for (const auto& [k, e] : fdb_) {
    if (e.is_static) peers_.insert(peer_key(e.remote));
  }
}

Status Vtep::add_flood(uint32_t vni, const Endpoint& e) {
  if (!carries(vni)) return make_error(EINVAL, "VNI {}: no VLAN is mapped to it", vni);
  auto& list = flood_[vni];
  if (std::find(list.begin(), list.end(), e) == list.end()) list.push_back(e);
  if (!e.is_multicast()) peers_.insert(peer_key(e));
  return {};
}

Status Vtep::add_static(uint32_t vni, const MacAddress& mac, const Endpoint& e) {
  if (!carries(vni)) return make_error(EINVAL, "VNI {}: no VLAN is mapped to it", vni);
  if (mac.is_multicast()) {
    return make_error(EINVAL, "MAC {}: a static entry needs a unicast address", mac.to_string());
  }
  auto [it, inserted] = fdb_.try_emplace(key(vni, mac));
  if (!inserted && !it->second.is_static) --learned_count_;
  it->second = Entry{e, {}, true};
  peers_.insert(peer_key(e));
  return {};
}

const Vtep::Entry* Vtep::lookup(uint32_t vni, const MacAddress& mac, TimePoint now) const {
  auto it = fdb_.find(key(vni, mac));
  if (it == fdb_.end()) return nullptr;
  const Entry& e = it->second;
  if (!e.is_static && now - e.refreshed >= config_.ageing) return nullptr;
  return &e;
}

void Vtep::learn(uint32_t vni, const MacAddress& mac, const Endpoint& from, TimePoint now) {
  if (mac.is_multicast() || mac.is_zero()) return;
  auto it = fdb_.find(key(vni, mac));
  if (it != fdb_.end()) {
    Entry& e = it->second;
    if (e.is_static) return;
    if (e.remote != from) {
      e.remote = from;
      ++counters_.moved;
    }
    e.refreshed = now;
    return;
  }
  if (learned_count_ >= config_.max_learned) {
    age(now);
    if (learned_count_ >= config_.max_learned) {
      drop(Drop::kLearnLimit);
      return;
    }
  }
  fdb_.emplace(key(vni, mac), Entry{from, now, false});
  ++learned_count_;
  ++counters_.learned;
}

void Vtep::age(TimePoint now) {
  for (auto it = fdb_.begin(); it != fdb_.end();) {
    if (!it->second.is_static && now - it->second.refreshed >= config_.ageing) {
      it = fdb_.erase(it);
      --learned_count_;
    } else {
      ++it;
    }
  }
}

std::vector<LearnedEntry> Vtep::entries(TimePoint now) const {
  std::vector<LearnedEntry> out;
  for (const auto& [k, e] : fdb_) {
    if (!e.is_static && now - e.refreshed >= config_.ageing) continue;
    LearnedEntry le;
    le.vni = static_cast<uint32_t>(k >> 48);
    le.mac = MacAddress::from_u64(k & 0xffffffffffffull);
    le.remote = e.remote;
    le.is_static = e.is_static;
    le.age = e.is_static ? Duration{0} : now - e.refreshed;
    out.push_back(le);
  }
  std::sort(out.begin(), out.end(), [](const LearnedEntry& a, const LearnedEntry& b) {
    return a.vni != b.vni ? a.vni < b.vni : a.mac < b.mac;
  });
  return out;
}

// A configured peer's address, port cleared: datagrams come from any source port.
Endpoint Vtep::peer_key(const Endpoint& e) {
  Endpoint k = e;
  k.port = 0;
  return k;
}

bool Vtep::known_peer(const Endpoint& from) const { return peers_.count(peer_key(from)) != 0; }

// Writes the UDP and VXLAN headers in front of the inner frame `f` (headroom).
bool Vtep::seal(Frame& f, const Endpoint& to, uint32_t vni, uint16_t src_port) {
  uint8_t* p = f.push_front(kEncap);
  if (p == nullptr) return false;
  store16(p, src_port);
  store16(p + 2, to.port);
  store16(p + 4, static_cast<uint16_t>(f.size()));
  store16(p + 6, 0);
  packet::store_vxlan(vni, p + kUdpHeader);
  if (!config_.checksum_later) write_checksum(f, to);
  return true;
}

void Vtep::write_checksum(Frame& f, const Endpoint& to) const {
  const bool sum = to.v6 || config_.udp_checksum;
  if (!sum || !config_.local || config_.local->v6 != to.v6 || f.size() < kUdpHeader) return;
  const uint32_t len = static_cast<uint32_t>(f.size());
  uint32_t pseudo = to.v6 ? packet::pseudo_header_v6(config_.local->v6addr, to.v6addr, 17, len)
                          : packet::pseudo_header_v4(config_.local->v4, to.v4, 17, len);
  store16(f.data() + 6, 0);
  uint16_t c = packet::checksum_finish(packet::checksum_add(pseudo, f.bytes()));
  store16(f.data() + 6, c == 0 ? 0xffff : c);
}

void Vtep::finish_checksum(Frame& payload, const Endpoint& to) const {
  if (config_.checksum_later) write_checksum(payload, to);
}

// The largest frame `f` becomes on a wire: itself, or for a TCP GSO frame its headers and one
// segment (gso_size bytes of payload; its TCP header's length read at csum_start).
size_t segment_frame_size(const Frame& f) {
  const auto& o = f.offload;
  if (o.gso_type == packet::OffloadInfo::kGsoNone || !(o.flags & packet::OffloadInfo::kNeedsCsum) ||
      size_t{o.csum_start} + 13 > f.size()) {
    return f.size();
  }
  const size_t hdrs = o.csum_start + size_t{(f.data()[o.csum_start + 12] >> 4) * 4u};
  return std::min(f.size(), hdrs + o.gso_size);
}

void Vtep::encapsulate(Frame frame, TimePoint now, std::vector<Datagram>& out) {
  std::optional<uint32_t> vni = config_.untagged_vni;
  if (vni) {
    if (frame.size() < 14) {
      drop(Drop::kInnerTruncated);
      return;
    }
    if (tagged(frame) && !config_.inner_tags) {
      drop(Drop::kInnerTagged);
      return;
    }
  } else {
    if (!tagged(frame) || load16(frame.data() + 12) != kTpid) {
      drop(Drop::kUntagged);
      return;
    }
    const uint16_t vid = load16(frame.data() + 14) & 0x0fff;
    vni = vni_of(vid);
    if (!vni) {
      drop(Drop::kNoVni);
      return;
    }
    // §6.1: strip the tag (move the addresses over it).
    std::memmove(frame.data() + 4, frame.data(), 12);
    frame.pull_front(4);
    if (frame.offload.flags & packet::OffloadInfo::kNeedsCsum) frame.offload.csum_start -= 4;
  }
  MacAddress dst;
  std::memcpy(dst.bytes.data(), frame.data(), 6);
  const Entry* known = dst.is_multicast() ? nullptr : lookup(*vni, dst, now);
  const std::vector<Endpoint>* list = nullptr;
  if (!known) {
    auto it = flood_.find(*vni);
    if (it == flood_.end() || it->second.empty()) {
      drop(Drop::kNoFloodList);
      return;
    }
    list = &it->second;
  }
  const uint16_t src_port = packet::vxlan_source_port(frame.bytes(), config_.salt);
  // One payload to `to`; false when it would exceed the underlay MTU (§4: never fragment).
  // A GSO frame (a vnet-header port's TCP train) leaves as segments: each must fit.
  const size_t wire = segment_frame_size(frame);
  auto send = [&](const Endpoint& to, Frame f) {
    if ((to.v6 ? 40 : 20) + kEncap + wire > config_.underlay_mtu) {
      drop(Drop::kTooBig);
      return false;
    }
    Datagram d{to, std::move(f)};
    if (!seal(d.payload, to, *vni, src_port)) return false;
    out.push_back(std::move(d));
    ++counters_.copies;
    return true;
  };
  bool sent = false;
  if (known) {
    sent = send(known->remote, std::move(frame));
  } else {
    for (size_t i = 0; i < list->size(); ++i) {
      // Copies get the standard headroom for the headers (a clone's buffer fits its size).
      Frame f = i + 1 == list->size() ? std::move(frame) : Frame::copy_of(frame.bytes());
      f.offload = frame.offload;  // (moved-from frames keep it)
      sent |= send((*list)[i], std::move(f));
    }
  }
  if (sent) ++counters_.encapsulated;
}

bool Vtep::decapsulate(const Endpoint& from, Frame& payload, TimePoint now) {
  if (config_.known_peers_only && !known_peer(from)) {
    drop(Drop::kUnknownPeer);
    return false;
  }
  ByteReader in(payload.bytes());
  auto h = packet::decode_vxlan(in);
  if (!h) {
    drop(h.error().code == EPROTO ? Drop::kNoIFlag : Drop::kTruncated);
    return false;
  }
  auto vid = config_.untagged_vni ? std::optional<uint16_t>(0) : vid_of(h->vni);
  if (!vid || (config_.untagged_vni && h->vni != *config_.untagged_vni)) {
    drop(Drop::kUnknownVni);
    return false;
  }
  payload.pull_front(packet::VxlanHeader::kWireSize);
  if (payload.size() < 14) {
    drop(Drop::kInnerTruncated);
    return false;
  }
  if (tagged(payload) && !config_.inner_tags) {
    drop(Drop::kInnerTagged);
    return false;
  }
  if (config_.learning) {
    MacAddress src;
    std::memcpy(src.bytes.data(), payload.data() + 6, 6);
    Endpoint remote = from;
    remote.port = config_.port;  // replies go to the VXLAN port, not the flow's source port
    learn(h->vni, src, remote, now);
  }
  if (config_.untagged_vni) {
    ++counters_.decapsulated;
    return true;
  }
  uint8_t* p = payload.push_front(4);
  if (p == nullptr) {
    drop(Drop::kInnerTruncated);
    return false;
  }
  std::memmove(p, p + 4, 12);
  store16(p + 12, kTpid);
  store16(p + 14, *vid);
  ++counters_.decapsulated;
  return true;
}

}  // namespace vnet::overlay
