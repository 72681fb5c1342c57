#include "bridge/bridge.hh"

#include <algorithm>

#include "base/byte_io.hh"
#include "packet/ethernet.hh"

namespace vnet::bridge {

using packet::Frame;

std::string_view drop_reason_name(DropReason r) {
  switch (r) {
    case DropReason::kMalformed:
      return "malformed";
    case DropReason::kSourceMulticast:
      return "source_multicast";
    case DropReason::kVlanNotMember:
      return "vlan_not_member";
    case DropReason::kUntaggedNotAllowed:
      return "untagged_not_allowed";
    case DropReason::kReservedVid:
      return "reserved_vid";
    case DropReason::kMacLimit:
      return "mac_limit";
    case DropReason::kStaticMacConflict:
      return "static_mac_conflict";
    case DropReason::kSamePort:
      return "same_port";
    case DropReason::kPortInactive:
      return "port_inactive";
    case DropReason::kTxQueueFull:
      return "tx_queue_full";
    case DropReason::kOffload:
      return "offload";
    case DropReason::kCount:
      break;
  }
  return "?";
}

uint64_t PortCounters::total_drops() const {
  uint64_t t = 0;
  for (auto d : drops) t += d;
  return t;
}

Bridge::Bridge(std::string name) : name_(std::move(name)), flood_(4096) {
  vlans_.set(kDefaultVlan);
}

Status Bridge::add_port(PortNo port, PortConfig config) {
  if (port == 0 || port > 65535)
    return make_error(EINVAL, "port {} out of range: expected 1..65535", port);
  if (has_port(port)) return make_error(EEXIST, "port {} already exists", port);
  if (auto s = check_vlans_exist(config); !s) return s;
  if (ports_.size() <= port) ports_.resize(port + 1);
  ports_[port] = std::make_unique<Port>();
  ports_[port]->config = std::move(config);
  return {};
}

Status Bridge::remove_port(PortNo port) {
  if (!has_port(port)) return make_error(ENXIO, "port {} does not exist", port);
  fdb_.flush(port);
  // Static entries pointing at the port go too.
  for (auto& e : fdb_.entries(TimePoint{})) {
    if (e.is_static && e.port == port) fdb_.remove(e.vlan, e.mac);
  }
  ports_[port].reset();
  rebuild_flood_lists();
  return {};
}

Status Bridge::check_vlans_exist(const PortConfig& config) const {
  for (VlanId v : config.members()) {
    if (!vlan_exists(v))
      return make_error(ENXIO, "VLAN {} does not exist: create it first (vlan/create {})", v, v);
  }
  return {};
}

Status Bridge::configure_port(PortNo port, PortConfig config) {
  if (!has_port(port)) return make_error(ENXIO, "port {} does not exist", port);
  if (auto s = check_vlans_exist(config); !s) return s;
  ports_[port]->config = std::move(config);
  fdb_.flush(port);
  rebuild_flood_lists();
  return {};
}

Status Bridge::set_active(PortNo port, bool active) {
  if (!has_port(port)) return make_error(ENXIO, "port {} does not exist", port);
  ports_[port]->active = active;
  if (!active) fdb_.flush(port);
  rebuild_flood_lists();
  return {};
}

void Bridge::reset_counters(PortNo port) {
  if (has_port(port)) ports_[port]->counters = {};
}

void Bridge::count_drop(PortNo port, DropReason reason, uint64_t n) {
  if (has_port(port)) ports_[port]->counters.drops[static_cast<size_t>(reason)] += n;
}

std::vector<PortNo> Bridge::port_numbers() const {
  std::vector<PortNo> out;
  for (PortNo p = 0; p < ports_.size(); ++p) {
    if (ports_[p]) out.push_back(p);
  }
  return out;
}

Status Bridge::create_vlan(VlanId vlan) {
  if (vlan < 1 || vlan > packet::kVidMax)
    return make_error(EINVAL, "VLAN {} out of range: expected 1..4094", vlan);
  if (vlans_.test(vlan)) return make_error(EEXIST, "VLAN {} already exists", vlan);
  vlans_.set(vlan);
  return {};
}

Status Bridge::remove_vlan(VlanId vlan) {
  if (!vlan_exists(vlan)) return make_error(ENXIO, "VLAN {} does not exist", vlan);
  if (vlan == kDefaultVlan)
    return make_error(EPERM, "VLAN 1 is the default VLAN and cannot be removed");
  if (!vlan_ports(vlan).empty())
    return make_error(EADDRINUSE, "VLAN {} still has member ports", vlan);
  vlans_.reset(vlan);
  fdb_.flush(std::nullopt, vlan);
  return {};
}

std::vector<VlanId> Bridge::vlan_ids() const {
  std::vector<VlanId> out;
  for (VlanId v = 1; v <= packet::kVidMax; ++v) {
    if (vlans_.test(v)) out.push_back(v);
  }
  return out;
}

std::vector<PortNo> Bridge::vlan_ports(VlanId vlan) const {
  std::vector<PortNo> out;
  for (PortNo p = 0; p < ports_.size(); ++p) {
    if (ports_[p] && ports_[p]->config.is_member(vlan)) out.push_back(p);
  }
  return out;
}

void Bridge::rebuild_flood_lists() {
  for (auto& l : flood_) l.clear();
  for (PortNo p = 0; p < ports_.size(); ++p) {
    if (!ports_[p] || !ports_[p]->active) continue;
    const auto& c = ports_[p]->config;
    if (c.mode == PortConfig::Mode::kAccess) {
      flood_[c.access_vlan].push_back(p);
    } else {
      for (VlanId v : c.members()) flood_[v].push_back(p);
    }
  }
}

void Bridge::ingress(PortNo in, std::span<Frame> frames, TimePoint now) {
  if (!has_port(in)) return;
  Port& port = *ports_[in];
  for (Frame& f : frames) {
    ++port.counters.rx_frames;
    port.counters.rx_bytes += f.size();
    if (!port.active) {
      drop(port, DropReason::kPortInactive);
      continue;
    }
    process(in, port, f, now);
  }
}

// Removes the 802.1Q tag at offset 12 in place.
static void strip_tag(Frame& f) {
  uint8_t* d = f.data();
  std::memmove(d + 4, d, 12);
  f.pull_front(4);
  if (f.offload.flags & packet::OffloadInfo::kNeedsCsum) f.offload.csum_start -= 4;
}

void Bridge::process(PortNo in, Port& port, Frame& f, TimePoint now) {
  if (f.size() < packet::EthernetHeader::kWireSize) return drop(port, DropReason::kMalformed);
  const uint8_t* d = f.data();
  if (d[6] & 1) return drop(port, DropReason::kSourceMulticast);
  const PortConfig& cfg = port.config;
  VlanId vid;
  uint8_t pcp = 0;
  if (load_be16(d + 12) == static_cast<uint16_t>(packet::EtherType::kVlan)) {
    if (f.size() < packet::EthernetHeader::kWireSize + packet::VlanTag::kWireSize) {
      return drop(port, DropReason::kMalformed);
    }
    uint16_t tci = load_be16(d + 14);
    VlanId tagged = tci & 0xfff;
    pcp = static_cast<uint8_t>(tci >> 13);
    if (tagged == packet::kVidReserved) return drop(port, DropReason::kReservedVid);
    if (tagged == 0) {  // priority-tagged: the PVID applies
      auto pvid = cfg.pvid();
      if (!pvid) return drop(port, DropReason::kUntaggedNotAllowed);
      vid = *pvid;
    } else {
      if (!cfg.is_member(tagged)) return drop(port, DropReason::kVlanNotMember);
      vid = tagged;
    }
    strip_tag(f);
    d = f.data();
  } else {
    auto pvid = cfg.pvid();
    if (!pvid) return drop(port, DropReason::kUntaggedNotAllowed);
    vid = *pvid;
  }

  packet::MacAddress src, dst;
  std::memcpy(dst.bytes.data(), d, 6);
  std::memcpy(src.bytes.data(), d + 6, 6);
  switch (fdb_.learn(vid, src, in, now, cfg.mac_limit)) {
    case Fdb::LearnResult::kLimitReached:
      return drop(port, DropReason::kMacLimit);
    case Fdb::LearnResult::kStaticConflict:
      return drop(port, DropReason::kStaticMacConflict);
    default:
      break;
  }

  if (!dst.is_multicast()) {
    if (auto out = fdb_.lookup(vid, dst, now)) {
      if (*out == in) return drop(port, DropReason::kSamePort);
      if (has_port(*out) && ports_[*out]->active && ports_[*out]->config.is_member(vid)) {
        return emit(*out, std::move(f), vid, pcp);
      }
    }
  }
  // Flood within the VLAN: clone for all but the last receiver.
  const auto& members = flood_[vid];
  PortNo last = 0;
  bool have_last = false;
  for (PortNo p : members) {
    if (p == in) continue;
    if (have_last) emit(last, f.clone(), vid, pcp);
    last = p;
    have_last = true;
  }
  if (have_last) emit(last, std::move(f), vid, pcp);
}

void Bridge::emit(PortNo out, Frame&& f, VlanId vid, uint8_t pcp) {
  Port& port = *ports_[out];
  if (port.config.egress_tagged(vid)) {
    uint8_t* d = f.push_front(4);
    if (!d) {  // no headroom (cannot happen for our frames, but never write out of bounds)
      Frame copy = Frame::make(f.size() + 4);
      std::memcpy(copy.data() + 16, f.data() + 12, f.size() - 12);
      std::memcpy(copy.data(), f.data(), 12);
      copy.offload = f.offload;
      f = std::move(copy);
      d = f.data();
    } else {
      std::memmove(d, d + 4, 12);
    }
    store_be16(d + 12, static_cast<uint16_t>(packet::EtherType::kVlan));
    store_be16(d + 14, static_cast<uint16_t>(pcp << 13 | vid));
    if (f.offload.flags & packet::OffloadInfo::kNeedsCsum) f.offload.csum_start += 4;
  }
  ++port.counters.tx_frames;
  port.counters.tx_bytes += f.size();
  port.out.push_back(std::move(f));
  if (!port.queued) {
    port.queued = true;
    dirty_.push_back(out);
  }
}

}  // namespace vnet::bridge
